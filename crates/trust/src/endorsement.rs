//! The endorsement: who vouches for an image, filled from a certificate when
//! signing, and bound to the signature's certificate when verifying.

use crate::dn;
use marketplace_format::{Endorsement, Endorser, Metadata, datetime};
use openssl::nid::Nid;
use openssl::x509::X509Ref;

/// The e-mail addresses a certificate vouches for: rfc822Name
/// subjectAltNames, then emailAddress attributes of the subject.
pub fn certificate_emails(cert: &X509Ref) -> Vec<String> {
    let mut out: Vec<String> = cert
        .subject_alt_names()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.email().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for entry in cert.subject_name().entries_by_nid(Nid::PKCS9_EMAILADDRESS) {
        if let Ok(s) = std::str::from_utf8(entry.data().as_slice()) {
            out.push(s.to_string());
        }
    }
    out
}

/// How the endorser's e-mail relates to the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmailBinding {
    /// The certificate carries this address.
    Certified,
    /// The certificate carries no address; the e-mail is only claimed.
    Unverified,
}

/// Builds the endorsement for `identity` (the user certificate, never a proxy).
/// `email` is used only when the certificate carries no address; it is then
/// marked unverified. Returns the endorsement and how its e-mail is bound.
pub fn endorsement_for(
    identity: &X509Ref,
    email: Option<&str>,
    created: chrono::DateTime<chrono::Utc>,
) -> Result<(Endorsement, EmailBinding), String> {
    let emails = certificate_emails(identity);
    let (email, binding) = match (emails.first(), email) {
        (Some(cert_email), Some(given))
            if !emails.iter().any(|e| e.eq_ignore_ascii_case(given)) =>
        {
            return Err(format!(
                "--email {given} differs from the address in the certificate ({cert_email}); \
                 the certificate's address is used, so leave --email out"
            ));
        }
        (Some(cert_email), _) => (cert_email.clone(), EmailBinding::Certified),
        (None, Some(given)) => (given.to_string(), EmailBinding::Unverified),
        (None, None) => {
            return Err(
                "the certificate carries no e-mail address: give one with --email".to_string(),
            );
        }
    };
    if !marketplace_format::is_valid_email(&email) {
        return Err(format!("'{email}' is not a valid e-mail address"));
    }
    Ok((
        Endorsement {
            created: datetime::format_utc(created),
            endorser: Endorser {
                email,
                subject: dn::rfc2253(identity.subject_name()),
                issuers: vec![dn::rfc2253(identity.issuer_name())],
                email_unverified: binding == EmailBinding::Unverified,
            },
        },
        binding,
    ))
}

/// Why a signature's certificate is not the endorser the document names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// The document names no endorser at all.
    #[error("the document has no endorsement")]
    NoEndorsement,
    /// The certificate's subject is not the endorser's.
    #[error(
        "endorser inconsistency: subject '{certificate}' of the certificate != '{document}' in the document"
    )]
    Subject {
        /// The certificate's subject (RFC 2253).
        certificate: String,
        /// The subject the document names.
        document: String,
    },
    /// The certificate's issuer is none of the endorser's issuers.
    #[error("endorser inconsistency: issuer '{certificate}' of the certificate != '{}' in the document", .document.join("; "))]
    Issuer {
        /// The certificate's issuer (RFC 2253).
        certificate: String,
        /// The issuers the document names.
        document: Vec<String>,
    },
    /// The certificate carries e-mail addresses, none of them the endorser's.
    #[error("endorser inconsistency: e-mail '{}' of the certificate != '{document}' in the document", .certificate.join(", "))]
    Email {
        /// The addresses the certificate carries.
        certificate: Vec<String>,
        /// The address the document names.
        document: String,
    },
}

/// Checks that `identity` is the certificate the endorsement names: same
/// subject and issuer DN, and, when the certificate carries e-mail
/// addresses, the endorser's address is one of them.
pub fn check_binding(
    metadata: &Metadata,
    identity: &X509Ref,
) -> Result<EmailBinding, BindingError> {
    let Some(e) = &metadata.endorsement else {
        return Err(BindingError::NoEndorsement);
    };
    let subject = dn::rfc2253(identity.subject_name());
    let issuer = dn::rfc2253(identity.issuer_name());
    if e.endorser.subject != subject {
        return Err(BindingError::Subject {
            certificate: subject,
            document: e.endorser.subject.clone(),
        });
    }
    if !e.endorser.issuers.contains(&issuer) {
        return Err(BindingError::Issuer {
            certificate: issuer,
            document: e.endorser.issuers.clone(),
        });
    }
    let emails = certificate_emails(identity);
    if emails.is_empty() {
        return Ok(EmailBinding::Unverified);
    }
    if emails
        .iter()
        .any(|m| m.eq_ignore_ascii_case(&e.endorser.email))
    {
        Ok(EmailBinding::Certified)
    } else {
        Err(BindingError::Email {
            certificate: emails,
            document: e.endorser.email.clone(),
        })
    }
}
