//! The checks of settings that depend on each other (e-mail confirmation,
//! TLS and the upload rules), and the normal form of `public_url`.

use super::{ConfigError, ConfigLayer};
use crate::auth::authn::{AddrRange, TlsClientAuth};
use crate::auth::authz::UploadRules;

/// Checks the e-mail confirmation settings: `validate_email` needs a mail
/// server and a sender, the whitelist needs a CA directory (only verified
/// chains are compared with it).
pub(super) fn check_mail_settings(layer: &ConfigLayer) -> Result<(), ConfigError> {
    if layer.smtp_port == Some(0) {
        return Err(ConfigError::Invalid("smtp_port must be 1-65535".into()));
    }
    if let Some(from) = &layer.mail_from
        && !marketplace_format::is_valid_email(from)
    {
        return Err(ConfigError::Invalid(format!(
            "mail_from '{from}' is not an e-mail address"
        )));
    }
    if let Some(host) = &layer.smtp_host
        && (host.trim().is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/'))
    {
        return Err(ConfigError::Invalid(format!(
            "smtp_host '{host}' is not a host name"
        )));
    }
    if layer.validate_email == Some(true)
        && (layer.smtp_host.is_none() || layer.mail_from.is_none())
    {
        return Err(ConfigError::Invalid(
            "validate_email needs smtp_host and mail_from (confirmation mails are sent over SMTP)"
                .into(),
        ));
    }
    if layer.endorser_whitelist.is_some() && layer.ca_dir.is_none() {
        return Err(ConfigError::Invalid(
            "endorser_whitelist needs ca_dir (only signers whose chain was verified are \
             compared with the whitelist)"
                .into(),
        ));
    }
    Ok(())
}

/// The resolved authentication and authorization settings.
pub(super) struct AuthSettings {
    /// Client certificates in the handshake.
    pub(super) tls_client_auth: TlsClientAuth,
    /// The header a TLS-terminating proxy passes chains in.
    pub(super) trusted_proxy_header: Option<String>,
    /// The proxies whose header is believed.
    pub(super) trusted_proxies: Vec<AddrRange>,
    /// Who may upload.
    pub(super) upload: UploadRules,
}

/// Checks TLS, client authentication and upload authorization: the files
/// come in pairs, client certificates need a CA directory, a trusted header
/// needs trusted proxies, and rules that need an identity need a way to
/// authenticate clients.
pub(super) fn check_auth_settings(layer: &ConfigLayer) -> Result<AuthSettings, ConfigError> {
    let invalid = |m: String| ConfigError::Invalid(m);
    let tls = match (&layer.tls_cert, &layer.tls_key) {
        (Some(_), Some(_)) => true,
        (None, None) => false,
        _ => {
            return Err(invalid(
                "tls_cert and tls_key go together (the server's certificate and its key)".into(),
            ));
        }
    };
    let tls_client_auth = match layer.tls_client_auth {
        Some(mode) if mode != TlsClientAuth::None && !tls => {
            return Err(invalid(format!(
                "tls_client_auth = {} needs tls_cert and tls_key (client certificates are \
                 asked for in the TLS handshake)",
                mode.as_str()
            )));
        }
        Some(mode) if mode != TlsClientAuth::None && layer.ca_dir.is_none() => {
            return Err(invalid(format!(
                "tls_client_auth = {} needs ca_dir (client certificates are verified against it)",
                mode.as_str()
            )));
        }
        Some(mode) => mode,
        None if tls && layer.ca_dir.is_some() => TlsClientAuth::Optional,
        None => TlsClientAuth::None,
    };
    let trusted_proxy_header = match &layer.trusted_proxy_header {
        Some(h) => {
            let h = h.trim().to_ascii_lowercase();
            if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() || h.is_empty() {
                return Err(invalid(format!(
                    "trusted_proxy_header '{h}' is not a header name"
                )));
            }
            Some(h)
        }
        None => None,
    };
    let trusted_proxies = layer
        .trusted_proxies
        .iter()
        .flatten()
        .map(|p| p.parse::<AddrRange>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("trusted_proxies: {e}")))?;
    match (&trusted_proxy_header, trusted_proxies.is_empty()) {
        (Some(_), true) => {
            return Err(invalid(
                "trusted_proxy_header needs trusted_proxies (the addresses whose header is \
                 believed)"
                    .into(),
            ));
        }
        (None, false) => {
            return Err(invalid(
                "trusted_proxies needs trusted_proxy_header (the header they pass the client \
                 certificate in)"
                    .into(),
            ));
        }
        (Some(_), false) if layer.ca_dir.is_none() => {
            return Err(invalid(
                "trusted_proxy_header needs ca_dir (the chains in the header are verified \
                 against it)"
                    .into(),
            ));
        }
        _ => {}
    }
    let empty = Vec::new();
    let upload = UploadRules::new(
        layer.upload_access,
        layer.upload_dns.as_ref().unwrap_or(&empty),
        layer.upload_vos.as_ref().unwrap_or(&empty),
        layer.upload_fqans.as_ref().unwrap_or(&empty),
        layer.upload_match_endorser.unwrap_or(false),
    )
    .map_err(invalid)?;
    let can_authenticate = tls_client_auth != TlsClientAuth::None || trusted_proxy_header.is_some();
    if upload.needs_identity() && !can_authenticate {
        return Err(invalid(
            "upload_access and upload_match_endorser need authenticated clients: set tls_cert, \
             tls_key and ca_dir (client certificates in the TLS handshake), or \
             trusted_proxy_header and trusted_proxies"
                .into(),
        ));
    }
    Ok(AuthSettings {
        tls_client_auth,
        trusted_proxy_header,
        trusted_proxies,
        upload,
    })
}

/// Checks an `http(s)://host[:port][/path]` URL and removes trailing slashes.
pub(super) fn normalise_public_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            ConfigError::Invalid(format!(
                "public_url must start with http:// or https://, not '{url}'"
            ))
        })?;
    let host = rest.split('/').next().unwrap_or("");
    let bad = |c: char| c.is_whitespace() || c.is_control() || "\"<>\\^`{|}?#".contains(c);
    if host.is_empty() || url.chars().any(bad) {
        return Err(ConfigError::Invalid(format!(
            "public_url '{url}' is not a plain http(s) URL with a host (no query or fragment)"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}
