//! Parsing the VOMS attribute certificates a proxy carries, before any
//! verification: what each claims, who it names as holder, and the AA
//! certificates it embeds.

use super::asn1::{AcDer, AcInfo, AttCertIssuer, Holder, IetfAttrSyntax, IetfValue};
use super::{Fqan, Malformation, VomsAttributes, VomsError};
use crate::chain::is_proxy;
use crate::dn::{openssl_oneline, rfc2253};
use chrono::{DateTime, Utc};
use der::asn1::{AnyRef, GeneralizedTime, ObjectIdentifier as Oid};
use der::{Decode, Encode, Reader, SliceReader};
use openssl::bn::BigNum;
use openssl::x509::{X509, X509Name, X509NameRef, X509Ref};
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::name::Name;

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

/// A parsed, not yet verified, VOMS attribute certificate.
#[derive(Debug, Clone)]
pub struct AttributeCertificate {
    pub(super) carrier: usize,
    pub(super) claimed: VomsAttributes,
    pub(super) info_der: Vec<u8>,
    pub(super) signature_algorithm: Oid,
    pub(super) inner_signature_algorithm: Oid,
    pub(super) signature: Vec<u8>,
    /// DER of the AC issuer DN.
    pub(super) issuer_name: Option<Vec<u8>>,
    pub(super) holder: HolderId,
    pub(super) aa_certs: Vec<X509>,
    pub(super) unknown_critical: Vec<String>,
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
pub(super) enum HolderId {
    /// baseCertificateID: issuer DN (or, in old-format VOMS ACs, subject DN) and serial
    /// (big-endian magnitude) of the holder certificate.
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    /// entityName: subject DN of the holder certificate.
    Subject(Vec<u8>),
}

impl HolderId {
    pub(super) fn describe(&self) -> String {
        match self {
            HolderId::IssuerSerial { issuer, serial } => {
                format!("serial {} of {}", hex_upper(serial), der_rfc2253(issuer))
            }
            HolderId::Subject(subject) => der_rfc2253(subject),
        }
    }

    pub(super) fn matches(&self, cert: &X509Ref) -> bool {
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
pub(super) fn same_name(der: &[u8], name: &X509NameRef) -> bool {
    if name.to_der().is_ok_and(|d| d == der) {
        return true;
    }
    X509Name::from_der(der).is_ok_and(|n| openssl_oneline(&n) == openssl_oneline(name))
}

/// RFC 2253 form of a DER-encoded DN (empty if it cannot be parsed).
pub(super) fn der_rfc2253(der: &[u8]) -> String {
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
                let text = String::from_utf8_lossy(o.as_bytes());
                fqans.push(Fqan::normalise(&text).to_owned());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqan_normalisation() {
        let normalise_fqan = Fqan::normalise;
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
}
