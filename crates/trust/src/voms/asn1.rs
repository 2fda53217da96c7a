//! The RFC 5755 structures VOMS uses, and only those, for `der`.

use der::asn1::Utf8StringRef;
use der::asn1::{AnyRef, BitString, GeneralizedTime, ObjectIdentifier as Oid, OctetString};
use der::{Choice, Sequence};
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralNames;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

/// `AttributeCertificate`; `acinfo` kept raw for the signature check.
#[derive(Sequence)]
pub(super) struct AcDer<'a> {
    pub(super) acinfo: AnyRef<'a>,
    pub(super) signature_algorithm: AlgorithmIdentifierOwned,
    pub(super) signature_value: BitString,
}

#[derive(Sequence)]
pub(super) struct IssuerSerial {
    pub(super) issuer: GeneralNames,
    pub(super) serial: SerialNumber,
    #[asn1(optional = "true")]
    pub(super) issuer_uid: Option<BitString>,
}

#[derive(Sequence)]
pub(super) struct Holder {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(super) base_certificate_id: Option<IssuerSerial>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(super) entity_name: Option<GeneralNames>,
}

#[derive(Sequence)]
pub(super) struct V2Form {
    #[asn1(optional = "true")]
    pub(super) issuer_name: Option<GeneralNames>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(super) base_certificate_id: Option<IssuerSerial>,
}

#[derive(Choice)]
pub(super) enum AttCertIssuer {
    V1Form(GeneralNames),
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    V2Form(V2Form),
}

#[derive(Sequence)]
pub(super) struct Validity {
    pub(super) not_before: GeneralizedTime,
    pub(super) not_after: GeneralizedTime,
}

#[derive(Sequence)]
pub(super) struct Attribute<'a> {
    pub(super) oid: Oid,
    /// SET OF AttributeValue, kept raw (see [`super::ac`], which reads it).
    pub(super) values: AnyRef<'a>,
}

#[derive(Sequence)]
pub(super) struct AcInfo<'a> {
    pub(super) version: u8,
    pub(super) holder: Holder,
    pub(super) issuer: AttCertIssuer,
    pub(super) signature: AlgorithmIdentifierOwned,
    pub(super) serial_number: SerialNumber,
    pub(super) validity: Validity,
    pub(super) attributes: Vec<Attribute<'a>>,
    #[asn1(optional = "true")]
    pub(super) issuer_unique_id: Option<BitString>,
    #[asn1(optional = "true")]
    pub(super) extensions: Option<Extensions>,
}

#[derive(Choice)]
pub(super) enum IetfValue<'a> {
    Octets(OctetString),
    Oid(Oid),
    String(Utf8StringRef<'a>),
}

#[derive(Sequence)]
pub(super) struct IetfAttrSyntax<'a> {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(super) policy_authority: Option<GeneralNames>,
    pub(super) values: Vec<IetfValue<'a>>,
}
