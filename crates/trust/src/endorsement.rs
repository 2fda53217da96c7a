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

/// Checks that `identity` is the certificate the endorsement names: same
/// subject and issuer DN, and, when the certificate carries e-mail
/// addresses, the endorser's address is one of them.
pub fn check_binding(metadata: &Metadata, identity: &X509Ref) -> Result<EmailBinding, String> {
    let Some(e) = &metadata.endorsement else {
        return Err("the document has no endorsement".into());
    };
    let subject = dn::rfc2253(identity.subject_name());
    let issuer = dn::rfc2253(identity.issuer_name());
    if e.endorser.subject != subject {
        return Err(format!(
            "endorser inconsistency: subject '{subject}' of the certificate != '{}' in the document",
            e.endorser.subject
        ));
    }
    if !e.endorser.issuers.contains(&issuer) {
        return Err(format!(
            "endorser inconsistency: issuer '{issuer}' of the certificate != '{}' in the document",
            e.endorser.issuers.join("; ")
        ));
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
        Err(format!(
            "endorser inconsistency: e-mail '{}' of the certificate != '{}' in the document",
            emails.join(", "),
            e.endorser.email
        ))
    }
}
