//! VOMS attribute certificates (RFC 5755 ACs inside RFC 3820 proxies).
//!
//! A VOMS proxy carries, in extension `1.3.6.1.4.1.8005.100.100.5`, a
//! `SEQUENCE OF SEQUENCE OF AttributeCertificate`. Each AC names its holder (issuer and serial
//! of the certificate that asked for it), its VO and FQANs (attribute
//! `1.3.6.1.4.1.8005.100.100.4`, an `IetfAttrSyntax` whose policyAuthority is
//! `<vo>://<host>:<port>`), and embeds the attribute authority's (AA) certificate in AC extension
//! `1.3.6.1.4.1.8005.100.100.10`.
//!
//! Verification ([`VomsDir::verify`]) follows the grid `vomsdir` convention: the embedded AA
//! certificate must match `<vomsdir>/<vo>/<host>.lsc` (first line the AA subject, then its
//! issuer, in OpenSSL oneline form), its chain must verify against the CA directory, the AC
//! signature must verify with its key, the holder must be a certificate of the verified proxy
//! chain, and the AC must be valid at the injected instant.
//!
//! Not supported: AA certificates configured as `<vomsdir>/<vo>/*.pem` instead of `.lsc`,
//! targeted ACs (critical targetInformation extension; refused), and generic attributes
//! (`...100.100.11`, ignored). Unlike the VOMS C API there is no 5-minute clock-skew allowance:
//! the caller injects the instant.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use der::asn1::Utf8StringRef;
use der::asn1::{AnyRef, BitString, GeneralizedTime, ObjectIdentifier as Oid, OctetString};
use der::{Choice, Decode, Encode, Reader, Sequence, SliceReader};
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use openssl::x509::{X509, X509Name, X509NameRef, X509Ref};
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::chain::{CaDirectory, ChainError, VerifiedChain, is_proxy};
use crate::dn::{openssl_oneline, rfc2253};

/// Environment variable that overrides the vomsdir (grid convention).
pub const VOMS_DIR_ENV: &str = "X509_VOMS_DIR";

/// vomsdir used when `X509_VOMS_DIR` is not set.
pub const DEFAULT_VOMS_DIR: &str = "/etc/grid-security/vomsdir";

/// Proxy extension holding the ACs.
const VOMS_EXT: Oid = Oid::new_unwrap("1.3.6.1.4.1.8005.100.100.5");
/// AC attribute holding the FQANs.
const VOMS_FQANS: Oid = Oid::new_unwrap("1.3.6.1.4.1.8005.100.100.4");
/// AC extension embedding the AA certificate chain.
const VOMS_AA_CERTS: Oid = Oid::new_unwrap("1.3.6.1.4.1.8005.100.100.10");
/// AC extension with VOMS generic attributes (ignored).
const VOMS_GENERIC_ATTRS: Oid = Oid::new_unwrap("1.3.6.1.4.1.8005.100.100.11");
/// noRevAvail, authorityKeyIdentifier: understood (nothing to check).
const NO_REV_AVAIL: Oid = Oid::new_unwrap("2.5.29.56");
const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");

/// The vomsdir to use by default: `$X509_VOMS_DIR` if set and not empty, otherwise
/// `/etc/grid-security/vomsdir`.
pub fn default_vomsdir() -> PathBuf {
    match std::env::var_os(VOMS_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_VOMS_DIR),
    }
}

/// Why VOMS attributes were refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VomsError {
    /// The vomsdir cannot be used.
    #[error("vomsdir {path}: {reason}")]
    VomsDir {
        /// Directory that was given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The proxy extension or an AC in it cannot be decoded.
    #[error("malformed VOMS attribute certificate: {0}")]
    Malformed(Malformation),
    /// No `.lsc` file for the AC's VO and AA host.
    #[error("no .lsc for VO {vo} host {host} (looked for {path})")]
    NoLsc {
        /// VO named by the AC.
        vo: String,
        /// AA host named by the AC.
        host: String,
        /// File that does not exist.
        path: PathBuf,
    },
    /// The embedded AA certificate does not match the `.lsc` file.
    #[error("AA certificate {subject} (issuer {issuer}) does not match {path}")]
    LscMismatch {
        /// AA certificate subject (oneline).
        subject: String,
        /// AA certificate issuer (oneline).
        issuer: String,
        /// The `.lsc` file.
        path: PathBuf,
    },
    /// The AC embeds no AA certificate.
    #[error("attribute certificate of VO {vo} embeds no AA certificate")]
    NoAaCertificate {
        /// VO named by the AC.
        vo: String,
    },
    /// The AA certificate's chain does not verify against the CA directory.
    #[error("AA certificate {subject} not trusted: {source}")]
    UntrustedAa {
        /// AA certificate subject (RFC 2253).
        subject: String,
        /// Why its chain failed.
        #[source]
        source: ChainError,
    },
    /// The AC signature does not verify with the AA certificate's key.
    #[error("forged attribute certificate: signature does not verify with the key of AA {aa}")]
    ForgedSignature {
        /// AA certificate subject (RFC 2253).
        aa: String,
    },
    /// The AC is signed with an algorithm we do not accept.
    #[error("unsupported AC signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The AC's issuer name is not the AA certificate's subject.
    #[error("AC issuer {ac_issuer} is not the AA certificate subject {aa}")]
    IssuerMismatch {
        /// Issuer named in the AC (RFC 2253).
        ac_issuer: String,
        /// AA certificate subject (RFC 2253).
        aa: String,
    },
    /// The AC's holder is not a certificate of the proxy chain.
    #[error("AC holder does not match: the AC names {holder}, the proxy chain offers {offered}")]
    HolderMismatch {
        /// Holder named in the AC.
        holder: String,
        /// Certificates that could have been the holder.
        offered: String,
    },
    /// The AC's notAfter is before the verification instant.
    #[error("AC expired: AC of VO {vo} valid until {not_after}, checked at {at}")]
    Expired {
        /// VO of the AC.
        vo: String,
        /// notAfter of the AC.
        not_after: DateTime<Utc>,
        /// Verification instant.
        at: DateTime<Utc>,
    },
    /// The AC's notBefore is after the verification instant.
    #[error("AC not yet valid: AC of VO {vo} valid from {not_before}, checked at {at}")]
    NotYetValid {
        /// VO of the AC.
        vo: String,
        /// notBefore of the AC.
        not_before: DateTime<Utc>,
        /// Verification instant.
        at: DateTime<Utc>,
    },
    /// The AC has a critical extension we do not understand (e.g. targeting).
    #[error("unsupported critical AC extension {0}")]
    UnsupportedCriticalExtension(String),
    /// OpenSSL failed.
    #[error("VOMS check failed: {0}")]
    OpenSsl(#[from] ErrorStack),
}

/// What is wrong with the VOMS extension of a proxy or an attribute
/// certificate in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformation {
    /// A DER structure does not decode.
    #[error("{what}: {error}")]
    Der {
        /// What was being decoded (`attribute certificate`, `AC info`, ...).
        what: &'static str,
        /// Why it does not decode.
        error: der::Error,
    },
    /// The AC is not a version 2 attribute certificate.
    #[error("AC version {version} (expected v2)")]
    Version {
        /// The version it has.
        version: u32,
    },
    /// The policyAuthority is not `<vo>://<host:port>`.
    #[error("policyAuthority {authority:?}")]
    PolicyAuthority {
        /// The policyAuthority it has.
        authority: String,
    },
    /// The AC carries no FQAN attribute.
    #[error("no VOMS FQAN attribute")]
    NoFqanAttribute,
    /// The FQAN attribute names no policyAuthority.
    #[error("FQAN attribute without policyAuthority")]
    NoPolicyAuthority,
    /// The holder's issuer is not a directory name.
    #[error("holder issuer is not a DN")]
    HolderIssuerNotDn,
    /// The holder names no certificate.
    #[error("holder names no certificate")]
    NoHolder,
    /// The AC's validity does not fit a date.
    #[error("AC validity out of range")]
    ValidityOutOfRange,
    /// The VO or the AA host cannot name a file of the vomsdir.
    #[error("unusable VO {vo:?} or AA host {host:?}")]
    UnusableVoOrHost {
        /// The VO.
        vo: String,
        /// The AA host.
        host: String,
    },
    /// The outer signature algorithm is not the one signed inside the AC.
    #[error("signature algorithm differs from the one inside the AC")]
    SignatureAlgorithmMismatch,
}

/// What an attribute certificate says: VO, FQANs, issuing AA, validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VomsAttributes {
    /// VO name (from the policyAuthority `<vo>://<host>:<port>`).
    pub vo: String,
    /// AA endpoint `<host>:<port>` (from the policyAuthority).
    pub uri: String,
    /// FQANs in AC order, with trailing `/Role=NULL` and `/Capability=NULL` removed
    /// (`/testvo/Role=NULL/Capability=NULL` becomes `/testvo`).
    pub fqans: Vec<String>,
    /// Issuer of the AC (the AA), RFC 2253 as Java writes it.
    pub issuer: String,
    /// AC serial number, upper-case hex.
    pub serial: String,
    /// Start of the AC validity.
    pub not_before: DateTime<Utc>,
    /// End of the AC validity.
    pub not_after: DateTime<Utc>,
}

impl VomsAttributes {
    /// AA host name (the `uri` without its port).
    pub fn host(&self) -> &str {
        self.uri.split(':').next().unwrap_or_default()
    }
}

/// A parsed, not yet verified, VOMS attribute certificate.
#[derive(Debug, Clone)]
pub struct AttributeCertificate {
    carrier: usize,
    claimed: VomsAttributes,
    info_der: Vec<u8>,
    signature_algorithm: Oid,
    inner_signature_algorithm: Oid,
    signature: Vec<u8>,
    /// DER of the AC issuer DN.
    issuer_name: Option<Vec<u8>>,
    holder: HolderId,
    aa_certs: Vec<X509>,
    unknown_critical: Vec<String>,
}

impl AttributeCertificate {
    /// What the AC claims, before any verification.
    pub fn claimed(&self) -> &VomsAttributes {
        &self.claimed
    }

    /// Index, in the chain it was parsed from, of the certificate carrying the AC.
    pub fn carrier_index(&self) -> usize {
        self.carrier
    }
}

/// Who the AC was issued to (DNs kept as DER).
#[derive(Debug, Clone)]
enum HolderId {
    /// baseCertificateID: issuer DN (or, in old-format VOMS ACs, subject DN) and serial
    /// (big-endian magnitude) of the holder certificate.
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    /// entityName: subject DN of the holder certificate.
    Subject(Vec<u8>),
}

impl HolderId {
    fn describe(&self) -> String {
        match self {
            HolderId::IssuerSerial { issuer, serial } => {
                format!("serial {} of {}", hex_upper(serial), der_rfc2253(issuer))
            }
            HolderId::Subject(subject) => der_rfc2253(subject),
        }
    }

    fn matches(&self, cert: &X509Ref) -> bool {
        match self {
            // Like VOMS itself, accept the holder's subject in place of its issuer: the
            // "old format" ACs VOMS still writes by default put the subject there.
            HolderId::IssuerSerial { issuer, serial } => {
                serial_matches(serial, cert)
                    && (same_name(issuer, cert.issuer_name())
                        || same_name(issuer, cert.subject_name()))
            }
            HolderId::Subject(subject) => same_name(subject, cert.subject_name()),
        }
    }
}

/// Whether `cert` has the serial number `serial` (big-endian bytes).
fn serial_matches(serial: &[u8], cert: &X509Ref) -> bool {
    match (BigNum::from_slice(serial), cert.serial_number().to_bn()) {
        (Ok(a), Ok(b)) => a.ucmp(&b).is_eq(),
        _ => false,
    }
}

/// DN equality: identical DER, or identical OpenSSL oneline form (string types may differ).
fn same_name(der: &[u8], name: &X509NameRef) -> bool {
    if name.to_der().is_ok_and(|d| d == der) {
        return true;
    }
    X509Name::from_der(der).is_ok_and(|n| openssl_oneline(&n) == openssl_oneline(name))
}

/// RFC 2253 form of a DER-encoded DN (empty if it cannot be parsed).
fn der_rfc2253(der: &[u8]) -> String {
    X509Name::from_der(der)
        .map(|n| rfc2253(&n))
        .unwrap_or_default()
}

/// Finds the VOMS ACs of a chain (leaf first): those of the proxy closest to the leaf that
/// carries the VOMS extension. Returns an empty list when no proxy carries one.
pub fn parse_chain(chain: &[X509]) -> Result<Vec<AttributeCertificate>, VomsError> {
    for (index, cert) in chain.iter().enumerate() {
        if !is_proxy(cert) {
            break;
        }
        let der = cert.to_der()?;
        if !contains_oid(&der, VOMS_EXT) {
            continue;
        }
        let cert = Certificate::from_der(&der).map_err(malformed("proxy certificate"))?;
        let Some(ext) = cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .find(|e| e.extn_id == VOMS_EXT)
        else {
            continue;
        };
        return parse_extension(ext.extn_value.as_bytes(), index);
    }
    Ok(Vec::new())
}

/// Whether the DER-encoded OID occurs in `der` (cheap pre-check before a full parse).
fn contains_oid(der: &[u8], oid: Oid) -> bool {
    let Ok(encoded) = oid.to_der() else {
        return false;
    };
    der.windows(encoded.len()).any(|w| w == encoded.as_slice())
}

/// Parses the value of the VOMS proxy extension.
fn parse_extension(value: &[u8], carrier: usize) -> Result<Vec<AttributeCertificate>, VomsError> {
    let outer: Vec<Vec<AnyRef>> = Vec::from_der(value).map_err(malformed("VOMS extension"))?;
    outer
        .iter()
        .flatten()
        .map(|ac| parse_ac(ac, carrier))
        .collect()
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> VomsError {
    move |error| VomsError::Malformed(Malformation::Der { what, error })
}

/// Parses one `AttributeCertificate`.
fn parse_ac(any: &AnyRef, carrier: usize) -> Result<AttributeCertificate, VomsError> {
    let ac_der = any.to_der().map_err(malformed("attribute certificate"))?;
    let ac = AcDer::from_der(&ac_der).map_err(malformed("attribute certificate"))?;
    let info_der = ac.acinfo.to_der().map_err(malformed("AC info"))?;
    let info = AcInfo::from_der(&info_der).map_err(malformed("AC info"))?;
    if info.version != 1 {
        return Err(VomsError::Malformed(Malformation::Version {
            version: u32::from(info.version) + 1,
        }));
    }
    let (authority, fqans) = fqans(&info)?;
    let (vo, uri) = authority
        .split_once("://")
        .map(|(vo, uri)| (vo.to_owned(), uri.to_owned()))
        .ok_or_else(|| {
            VomsError::Malformed(Malformation::PolicyAuthority {
                authority: authority.clone(),
            })
        })?;
    let issuer_name = issuer_name(&info.issuer)?;
    let claimed = VomsAttributes {
        vo,
        uri,
        fqans,
        issuer: issuer_name.as_deref().map(der_rfc2253).unwrap_or_default(),
        serial: hex_upper(info.serial_number.as_bytes()),
        not_before: to_utc(&info.validity.not_before)?,
        not_after: to_utc(&info.validity.not_after)?,
    };
    let (aa_certs, unknown_critical) = extensions(info.extensions.as_ref())?;
    Ok(AttributeCertificate {
        carrier,
        claimed,
        signature_algorithm: ac.signature_algorithm.oid,
        inner_signature_algorithm: info.signature.oid,
        signature: ac.signature_value.raw_bytes().to_vec(),
        issuer_name,
        holder: holder(&info.holder)?,
        aa_certs,
        unknown_critical,
        info_der,
    })
}

/// The policyAuthority and normalised FQANs of the VOMS attribute.
fn fqans(info: &AcInfo) -> Result<(String, Vec<String>), VomsError> {
    let attr = info
        .attributes
        .iter()
        .find(|a| a.oid == VOMS_FQANS)
        .ok_or(VomsError::Malformed(Malformation::NoFqanAttribute))?;
    let values = set_elements(&attr.values).map_err(malformed("FQAN attribute"))?;
    let mut authority = None;
    let mut fqans = Vec::new();
    for value in values {
        let der = value.to_der().map_err(malformed("FQAN attribute"))?;
        let ietf = IetfAttrSyntax::from_der(&der).map_err(malformed("FQAN attribute"))?;
        if authority.is_none() {
            authority = ietf.policy_authority.as_ref().and_then(first_uri);
        }
        for v in &ietf.values {
            if let IetfValue::Octets(o) = v {
                fqans.push(normalise_fqan(&String::from_utf8_lossy(o.as_bytes())));
            }
        }
    }
    let authority = authority.ok_or(VomsError::Malformed(Malformation::NoPolicyAuthority))?;
    Ok((authority, fqans))
}

/// Elements of a DER SET, in encoded order (no DER ordering check, unlike `SetOfVec`).
fn set_elements<'a>(set: &AnyRef<'a>) -> der::Result<Vec<AnyRef<'a>>> {
    let mut reader = SliceReader::new(set.value())?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(AnyRef::decode(&mut reader)?);
    }
    Ok(out)
}

/// Removes the `/Role=NULL` and `/Capability=NULL` suffixes VOMS servers add.
fn normalise_fqan(fqan: &str) -> String {
    let f = fqan.strip_suffix("/Capability=NULL").unwrap_or(fqan);
    f.strip_suffix("/Role=NULL").unwrap_or(f).to_owned()
}

fn first_uri(names: &GeneralNames) -> Option<String> {
    names.iter().find_map(|n| match n {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
        _ => None,
    })
}

/// DER of the first directory name among `names`.
fn first_dn(names: &GeneralNames) -> Result<Option<Vec<u8>>, VomsError> {
    names
        .iter()
        .find_map(|n| match n {
            GeneralName::DirectoryName(name) => Some(name),
            _ => None,
        })
        .map(|name: &Name| name.to_der().map_err(malformed("name")))
        .transpose()
}

fn issuer_name(issuer: &AttCertIssuer) -> Result<Option<Vec<u8>>, VomsError> {
    match issuer {
        AttCertIssuer::V1Form(names) => first_dn(names),
        AttCertIssuer::V2Form(v2) => match &v2.issuer_name {
            Some(names) => first_dn(names),
            None => Ok(None),
        },
    }
}

fn holder(holder: &Holder) -> Result<HolderId, VomsError> {
    if let Some(base) = &holder.base_certificate_id {
        let issuer =
            first_dn(&base.issuer)?.ok_or(VomsError::Malformed(Malformation::HolderIssuerNotDn))?;
        let serial = base.serial.as_bytes().to_vec();
        return Ok(HolderId::IssuerSerial { issuer, serial });
    }
    if let Some(names) = &holder.entity_name
        && let Some(subject) = first_dn(names)?
    {
        return Ok(HolderId::Subject(subject));
    }
    Err(VomsError::Malformed(Malformation::NoHolder))
}

/// The embedded AA certificates and the unknown critical extensions.
fn extensions(exts: Option<&Extensions>) -> Result<(Vec<X509>, Vec<String>), VomsError> {
    let mut certs = Vec::new();
    let mut unknown_critical = Vec::new();
    for ext in exts.into_iter().flatten() {
        if ext.extn_id == VOMS_AA_CERTS {
            let lists: Vec<Vec<AnyRef>> =
                Vec::from_der(ext.extn_value.as_bytes()).map_err(malformed("AA certificates"))?;
            for any in lists.iter().flatten() {
                let der = any.to_der().map_err(malformed("AA certificate"))?;
                certs.push(X509::from_der(&der)?);
            }
        } else if ext.critical
            && ![VOMS_GENERIC_ATTRS, NO_REV_AVAIL, AUTHORITY_KEY_ID].contains(&ext.extn_id)
        {
            unknown_critical.push(ext.extn_id.to_string());
        }
    }
    Ok((certs, unknown_critical))
}

fn to_utc(t: &GeneralizedTime) -> Result<DateTime<Utc>, VomsError> {
    let d = t.to_unix_duration();
    i64::try_from(d.as_secs())
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or(VomsError::Malformed(Malformation::ValidityOutOfRange))
}

fn hex_upper(bytes: &[u8]) -> String {
    let trimmed = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => bytes,
    };
    trimmed.iter().map(|b| format!("{b:02X}")).collect()
}

/// A vomsdir: `<dir>/<vo>/<host>.lsc` files naming the trusted AA of each VO.
#[derive(Debug, Clone)]
pub struct VomsDir {
    path: PathBuf,
}

impl VomsDir {
    /// Opens `path`, which must be a directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, VomsError> {
        let path = path.as_ref().to_path_buf();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Ok(Self { path }),
            Ok(_) => Err(VomsError::VomsDir {
                path,
                reason: "not a directory".into(),
            }),
            Err(e) => Err(VomsError::VomsDir {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Verifies every VOMS AC of a verified proxy chain (see [`parse_chain`]) at `at`, the
    /// AA certificates against `ca`. Returns the attributes of each AC, in order; an empty
    /// list when the chain carries none. Any AC that fails refuses the whole chain.
    pub fn verify(
        &self,
        chain: &VerifiedChain,
        ca: &CaDirectory,
        at: DateTime<Utc>,
    ) -> Result<Vec<VomsAttributes>, VomsError> {
        parse_chain(chain.certificates())?
            .iter()
            .map(|ac| self.verify_ac(ac, chain, ca, at))
            .collect()
    }

    /// Verifies one AC parsed from `chain`: AA certificate against the `.lsc` file and `ca`,
    /// AC signature, issuer, holder (a certificate of `chain` between the proxy carrying the
    /// AC and the end-entity certificate), critical extensions and validity at `at`.
    pub fn verify_ac(
        &self,
        ac: &AttributeCertificate,
        chain: &VerifiedChain,
        ca: &CaDirectory,
        at: DateTime<Utc>,
    ) -> Result<VomsAttributes, VomsError> {
        let claimed = &ac.claimed;
        let aa = ac
            .aa_certs
            .first()
            .ok_or_else(|| VomsError::NoAaCertificate {
                vo: claimed.vo.clone(),
            })?;
        self.check_lsc(claimed, &ac.aa_certs)?;
        let aa_subject = rfc2253(aa.subject_name());
        ca.verify_chain(aa, &ac.aa_certs[1..], at)
            .map_err(|source| VomsError::UntrustedAa {
                subject: aa_subject.clone(),
                source,
            })?;
        check_signature(ac, aa, &aa_subject)?;
        check_issuer(ac, aa, &aa_subject)?;
        check_holder(ac, chain)?;
        if let Some(oid) = ac.unknown_critical.first() {
            return Err(VomsError::UnsupportedCriticalExtension(oid.clone()));
        }
        check_validity(claimed, at)?;
        Ok(VomsAttributes {
            issuer: aa_subject,
            ..claimed.clone()
        })
    }

    /// Compares the embedded AA chain with `<vomsdir>/<vo>/<host>.lsc`.
    fn check_lsc(&self, claimed: &VomsAttributes, aa_certs: &[X509]) -> Result<(), VomsError> {
        let (vo, host) = (claimed.vo.as_str(), claimed.host());
        if !is_safe_component(vo) || !is_safe_component(host) {
            return Err(VomsError::Malformed(Malformation::UnusableVoOrHost {
                vo: vo.to_owned(),
                host: host.to_owned(),
            }));
        }
        let path = self.path.join(vo).join(format!("{host}.lsc"));
        let text = std::fs::read_to_string(&path).map_err(|_| VomsError::NoLsc {
            vo: vo.to_owned(),
            host: host.to_owned(),
            path: path.clone(),
        })?;
        if lsc_chains(&text)
            .iter()
            .any(|dns| lsc_matches(dns, aa_certs))
        {
            return Ok(());
        }
        Err(VomsError::LscMismatch {
            subject: openssl_oneline(aa_certs[0].subject_name()),
            issuer: openssl_oneline(aa_certs[0].issuer_name()),
            path,
        })
    }
}

/// A VO or host name usable as a path component.
fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// The DN chains of an `.lsc` file (several chains are separated by `------ NEW CHAIN ------`).
fn lsc_chains(text: &str) -> Vec<Vec<&str>> {
    let mut chains = vec![Vec::new()];
    for line in text.lines().map(str::trim) {
        if line.starts_with("---") {
            chains.push(Vec::new());
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some(chain) = chains.last_mut()
        {
            chain.push(line);
        }
    }
    chains.retain(|c| c.len() >= 2);
    chains
}

/// Certificate i must have subject `dns[i]` and issuer `dns[i + 1]`, for every embedded
/// certificate the file describes.
fn lsc_matches(dns: &[&str], certs: &[X509]) -> bool {
    certs.iter().zip(dns.windows(2)).all(|(cert, pair)| {
        openssl_oneline(cert.subject_name()) == pair[0]
            && openssl_oneline(cert.issuer_name()) == pair[1]
    })
}

/// The digest for an AC signature algorithm (RSA PKCS#1 v1.5 or ECDSA).
fn digest_for(alg: &Oid) -> Option<MessageDigest> {
    Some(match alg.to_string().as_str() {
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => MessageDigest::sha1(),
        "1.2.840.113549.1.1.14" | "1.2.840.10045.4.3.1" => MessageDigest::sha224(),
        "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => MessageDigest::sha256(),
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => MessageDigest::sha384(),
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => MessageDigest::sha512(),
        _ => return None,
    })
}

fn check_signature(
    ac: &AttributeCertificate,
    aa: &X509,
    aa_subject: &str,
) -> Result<(), VomsError> {
    if ac.signature_algorithm != ac.inner_signature_algorithm {
        return Err(VomsError::Malformed(
            Malformation::SignatureAlgorithmMismatch,
        ));
    }
    let digest = digest_for(&ac.signature_algorithm)
        .ok_or_else(|| VomsError::UnsupportedAlgorithm(ac.signature_algorithm.to_string()))?;
    let key = aa.public_key()?;
    let mut verifier = Verifier::new(digest, &key)?;
    verifier.update(&ac.info_der)?;
    if verifier.verify(&ac.signature).unwrap_or(false) {
        Ok(())
    } else {
        Err(VomsError::ForgedSignature {
            aa: aa_subject.to_owned(),
        })
    }
}

fn check_issuer(ac: &AttributeCertificate, aa: &X509, aa_subject: &str) -> Result<(), VomsError> {
    match &ac.issuer_name {
        Some(name) if same_name(name, aa.subject_name()) => Ok(()),
        other => Err(VomsError::IssuerMismatch {
            ac_issuer: other.as_deref().map(der_rfc2253).unwrap_or_default(),
            aa: aa_subject.to_owned(),
        }),
    }
}

/// The holder must be a certificate between the AC's carrier and the end entity.
fn check_holder(ac: &AttributeCertificate, chain: &VerifiedChain) -> Result<(), VomsError> {
    let certs = chain.certificates();
    let end = chain.end_entity_index().min(certs.len().saturating_sub(1));
    let candidates = certs.get(ac.carrier + 1..=end).unwrap_or_default();
    if candidates.iter().any(|c| ac.holder.matches(c)) {
        return Ok(());
    }
    let offered = candidates
        .iter()
        .map(|c| {
            let serial = c
                .serial_number()
                .to_bn()
                .ok()
                .and_then(|b| b.to_hex_str().ok());
            format!(
                "serial {} of {}",
                serial.map(|s| s.to_string()).unwrap_or_default(),
                rfc2253(c.issuer_name())
            )
        })
        .collect::<Vec<_>>();
    Err(VomsError::HolderMismatch {
        holder: ac.holder.describe(),
        offered: if offered.is_empty() {
            "no certificate".into()
        } else {
            offered.join("; ")
        },
    })
}

fn check_validity(claimed: &VomsAttributes, at: DateTime<Utc>) -> Result<(), VomsError> {
    if at < claimed.not_before {
        return Err(VomsError::NotYetValid {
            vo: claimed.vo.clone(),
            not_before: claimed.not_before,
            at,
        });
    }
    if at > claimed.not_after {
        return Err(VomsError::Expired {
            vo: claimed.vo.clone(),
            not_after: claimed.not_after,
            at,
        });
    }
    Ok(())
}

// --- RFC 5755 structures (only what VOMS uses) ------------------------------------------------

/// `AttributeCertificate`; `acinfo` kept raw for the signature check.
#[derive(Sequence)]
struct AcDer<'a> {
    acinfo: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature_value: BitString,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: GeneralNames,
    serial: SerialNumber,
    #[asn1(optional = "true")]
    issuer_uid: Option<BitString>,
}

#[derive(Sequence)]
struct Holder {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    base_certificate_id: Option<IssuerSerial>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    entity_name: Option<GeneralNames>,
}

#[derive(Sequence)]
struct V2Form {
    #[asn1(optional = "true")]
    issuer_name: Option<GeneralNames>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    base_certificate_id: Option<IssuerSerial>,
}

#[derive(Choice)]
enum AttCertIssuer {
    V1Form(GeneralNames),
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    V2Form(V2Form),
}

#[derive(Sequence)]
struct Validity {
    not_before: GeneralizedTime,
    not_after: GeneralizedTime,
}

#[derive(Sequence)]
struct Attribute<'a> {
    oid: Oid,
    /// SET OF AttributeValue, kept raw (see [`set_elements`]).
    values: AnyRef<'a>,
}

#[derive(Sequence)]
struct AcInfo<'a> {
    version: u8,
    holder: Holder,
    issuer: AttCertIssuer,
    signature: AlgorithmIdentifierOwned,
    serial_number: SerialNumber,
    validity: Validity,
    attributes: Vec<Attribute<'a>>,
    #[asn1(optional = "true")]
    issuer_unique_id: Option<BitString>,
    #[asn1(optional = "true")]
    extensions: Option<Extensions>,
}

#[derive(Choice)]
enum IetfValue<'a> {
    Octets(OctetString),
    Oid(Oid),
    String(Utf8StringRef<'a>),
}

#[derive(Sequence)]
struct IetfAttrSyntax<'a> {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    policy_authority: Option<GeneralNames>,
    values: Vec<IetfValue<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqan_normalisation() {
        assert_eq!(
            normalise_fqan("/testvo/Role=NULL/Capability=NULL"),
            "/testvo"
        );
        assert_eq!(
            normalise_fqan("/testvo/Role=endorser/Capability=NULL"),
            "/testvo/Role=endorser"
        );
        assert_eq!(normalise_fqan("/testvo/sub"), "/testvo/sub");
        assert_eq!(normalise_fqan("/testvo/Role=NULL"), "/testvo");
    }

    #[test]
    fn lsc_parsing() {
        let text =
            "# comment\n/C=EU/CN=aa\n/C=EU/CN=ca \n------ NEW CHAIN ------\n/CN=x\n/CN=y\n\n";
        assert_eq!(
            lsc_chains(text),
            vec![vec!["/C=EU/CN=aa", "/C=EU/CN=ca"], vec!["/CN=x", "/CN=y"]]
        );
        assert!(lsc_chains("/CN=only-one-line\n").is_empty());
    }

    #[test]
    fn path_components() {
        assert!(is_safe_component("testvo"));
        assert!(is_safe_component("vo.example-org_1"));
        assert!(!is_safe_component(".."));
        assert!(!is_safe_component("a/b"));
        assert!(!is_safe_component(""));
    }

    #[test]
    fn serial_hex() {
        assert_eq!(hex_upper(&[0x00, 0xab, 0x01]), "AB01");
        assert_eq!(hex_upper(&[0x00]), "00");
        assert_eq!(hex_upper(&[0x12]), "12");
    }

    #[test]
    fn garbage_extension_is_malformed() {
        let err = parse_extension(&[0x30, 0x03, 0x02, 0x01, 0x01], 0).unwrap_err();
        assert!(
            matches!(
                err,
                VomsError::Malformed(Malformation::Der {
                    what: "VOMS extension",
                    ..
                })
            ),
            "{err}"
        );
    }

    #[test]
    fn default_dirs() {
        // Only checks the fallback shape; the environment may set X509_VOMS_DIR.
        if std::env::var_os(VOMS_DIR_ENV).is_none() {
            assert_eq!(default_vomsdir(), PathBuf::from(DEFAULT_VOMS_DIR));
        }
    }
}
