//! X.509 certificates generated in the test process: the one generator the
//! tests, benchmarks and examples share when a file-based PKI
//! ([`crate::generate`]) is more than they need — a second endorser, a key
//! of a given size, a renewal under the same subject, a CA of their own.
//!
//! Built on the `openssl` crate, which the trust core verifies with: the
//! certificates are exactly what OpenSSL writes, and `rcgen` (ring-based)
//! would add a second X.509 writer without covering what these tests need
//! beyond it (RSA keys of any size, proxies are `make-test-pki.sh`'s).
//!
//! ```no_run
//! use marketplace_test_pki::certs::CertificateBuilder;
//! let ca = CertificateBuilder::new(&[("CN", "Test CA")]).ca().self_signed();
//! let alice = CertificateBuilder::new(&[("CN", "Alice")])
//!     .email("alice@example.org")
//!     .issued_by(&ca);
//! ```

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Name, X509NameBuilder};

/// A generated certificate with its private key.
#[derive(Clone)]
pub struct Issued {
    /// The private key.
    pub key: PKey<Private>,
    /// The certificate.
    pub cert: X509,
}

/// What a certificate should say; [`CertificateBuilder::self_signed`] or
/// [`CertificateBuilder::issued_by`] makes it.
pub struct CertificateBuilder {
    subject: X509Name,
    email: Option<String>,
    key: Option<PKey<Private>>,
    rsa_bits: u32,
    not_before: Asn1Time,
    not_after: Asn1Time,
    serial: Option<u32>,
    profile: Profile,
}

/// Which extensions beside the e-mail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// None (an end-entity certificate as simple tools write it).
    Bare,
    /// A CA: basicConstraints CA, keyCertSign and cRLSign, the key
    /// identifiers.
    Ca,
    /// An end entity: basicConstraints without CA, digitalSignature and
    /// nonRepudiation, the key identifiers.
    EndEntity,
}

impl CertificateBuilder {
    /// A certificate for the subject `entries` (attribute, value), in order;
    /// by default a fresh RSA-2048 key, a random serial, valid from 2014 to
    /// 2033, no extensions.
    pub fn new(entries: &[(&str, &str)]) -> Self {
        let mut name = X509NameBuilder::new().expect("a name builder");
        for (attribute, value) in entries {
            name.append_entry_by_text(attribute, value)
                .expect("a subject attribute OpenSSL knows");
        }
        CertificateBuilder::named(name.build())
    }

    /// A certificate for the subject `name`, with [`Self::new`]'s defaults.
    pub fn named(name: X509Name) -> Self {
        CertificateBuilder {
            subject: name,
            email: None,
            key: None,
            rsa_bits: 2048,
            not_before: Asn1Time::from_unix(1_400_000_000).expect("a time"),
            not_after: Asn1Time::from_unix(2_000_000_000).expect("a time"),
            serial: None,
            profile: Profile::Bare,
        }
    }

    /// An rfc822Name subjectAltName.
    pub fn email(mut self, email: &str) -> Self {
        self.email = Some(email.to_string());
        self
    }

    /// This key instead of a fresh one.
    pub fn key(mut self, key: PKey<Private>) -> Self {
        self.key = Some(key);
        self
    }

    /// A fresh RSA key of `bits` (2048 unless said).
    pub fn rsa_bits(mut self, bits: u32) -> Self {
        self.rsa_bits = bits;
        self
    }

    /// Valid between these Unix times.
    pub fn valid_unix(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = Asn1Time::from_unix(not_before).expect("a time");
        self.not_after = Asn1Time::from_unix(not_after).expect("a time");
        self
    }

    /// Valid from a day ago (clock skew never matters) for `days`.
    pub fn valid_from_yesterday_for(mut self, days: u32) -> Self {
        let yesterday = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs() as i64
            - 86_400;
        self.not_before = Asn1Time::from_unix(yesterday).expect("a time");
        self.not_after = Asn1Time::days_from_now(days).expect("a time");
        self
    }

    /// This serial number instead of a random one.
    pub fn serial(mut self, serial: u32) -> Self {
        self.serial = Some(serial);
        self
    }

    /// A CA certificate (basicConstraints CA, keyCertSign and cRLSign, key
    /// identifiers).
    pub fn ca(mut self) -> Self {
        self.profile = Profile::Ca;
        self
    }

    /// An end-entity certificate with the extensions a grid CA writes
    /// (basicConstraints, digitalSignature and nonRepudiation, key
    /// identifiers).
    pub fn end_entity(mut self) -> Self {
        self.profile = Profile::EndEntity;
        self
    }

    /// The certificate, signed with its own key.
    pub fn self_signed(self) -> Issued {
        self.build(None)
    }

    /// The certificate, issued by `issuer`.
    pub fn issued_by(self, issuer: &Issued) -> Issued {
        self.build(Some(issuer))
    }

    fn build(self, issuer: Option<&Issued>) -> Issued {
        let key = match self.key {
            Some(key) => key,
            None => {
                PKey::from_rsa(Rsa::generate(self.rsa_bits).expect("an RSA key")).expect("a key")
            }
        };
        let mut b = X509Builder::new().expect("a certificate builder");
        b.set_version(2).expect("version 3");
        b.set_serial_number(&serial(self.serial)).expect("a serial");
        b.set_subject_name(&self.subject).expect("a subject");
        let issuer_name = issuer.map_or(self.subject.as_ref(), |i| i.cert.subject_name());
        b.set_issuer_name(issuer_name).expect("an issuer");
        b.set_pubkey(&key).expect("a public key");
        b.set_not_before(&self.not_before).expect("notBefore");
        b.set_not_after(&self.not_after).expect("notAfter");
        let issuer_cert = issuer.map(|i| i.cert.as_ref());
        if self.profile != Profile::Bare {
            let constraints = if self.profile == Profile::Ca {
                BasicConstraints::new().critical().ca().build()
            } else {
                BasicConstraints::new().critical().build()
            };
            b.append_extension(constraints.expect("basicConstraints"))
                .expect("basicConstraints");
            let usage = if self.profile == Profile::Ca {
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
            } else {
                KeyUsage::new()
                    .critical()
                    .digital_signature()
                    .non_repudiation()
                    .build()
            };
            b.append_extension(usage.expect("keyUsage"))
                .expect("keyUsage");
            let ski = SubjectKeyIdentifier::new()
                .build(&b.x509v3_context(issuer_cert, None))
                .expect("subjectKeyIdentifier");
            b.append_extension(ski).expect("subjectKeyIdentifier");
            if let Some(issuer) = issuer_cert {
                let aki = AuthorityKeyIdentifier::new()
                    .keyid(true)
                    .build(&b.x509v3_context(Some(issuer), None))
                    .expect("authorityKeyIdentifier");
                b.append_extension(aki).expect("authorityKeyIdentifier");
            }
        }
        if let Some(email) = &self.email {
            let san = SubjectAlternativeName::new()
                .email(email)
                .build(&b.x509v3_context(issuer_cert, None))
                .expect("subjectAltName");
            b.append_extension(san).expect("subjectAltName");
        }
        let signer = issuer.map_or(&key, |i| &i.key);
        b.sign(signer, MessageDigest::sha256())
            .expect("a signature");
        Issued {
            key,
            cert: b.build(),
        }
    }
}

/// `serial`, or a random positive 63-bit one.
fn serial(serial: Option<u32>) -> Asn1Integer {
    let bn = match serial {
        Some(n) => BigNum::from_u32(n).expect("a number"),
        None => {
            let mut bn = BigNum::new().expect("a number");
            bn.rand(63, MsbOption::MAYBE_ZERO, false)
                .expect("random bits");
            bn
        }
    };
    bn.to_asn1_integer().expect("an integer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_chains_to_its_ca_with_the_extensions_asked() {
        let ca = CertificateBuilder::new(&[("CN", "Test CA")])
            .ca()
            .self_signed();
        let alice = CertificateBuilder::new(&[("O", "Grid"), ("CN", "Alice")])
            .email("alice@example.org")
            .end_entity()
            .issued_by(&ca);
        assert!(alice.cert.verify(&ca.key).unwrap());
        assert!(ca.cert.verify(&ca.key).unwrap());
        assert_eq!(
            alice.cert.issuer_name().to_der().unwrap(),
            ca.cert.subject_name().to_der().unwrap()
        );
        let emails: Vec<String> = alice
            .cert
            .subject_alt_names()
            .unwrap()
            .iter()
            .filter_map(|n| n.email().map(str::to_string))
            .collect();
        assert_eq!(emails, ["alice@example.org"]);
        assert!(alice.cert.authority_key_id().is_some());
        assert!(ca.cert.subject_key_id().is_some());
        let bare = CertificateBuilder::new(&[("CN", "Bare")])
            .rsa_bits(1024)
            .serial(7)
            .self_signed();
        assert_eq!(bare.key.bits(), 1024);
        assert!(bare.cert.subject_key_id().is_none());
        assert_eq!(
            bare.cert.serial_number().to_bn().unwrap(),
            BigNum::from_u32(7).unwrap()
        );
    }
}
