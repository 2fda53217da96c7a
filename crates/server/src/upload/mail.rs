//! Outgoing mail over SMTP (lettre on tokio with rustls): the settings
//! (`smtp_*`, `mail_from`), a [`Secret`] that never prints, and sending one
//! plain-text message.
//!
//! One connection is opened per message (confirmation mails are rare); the
//! whole exchange is bounded by [`SEND_TIMEOUT`]. Message bodies are never
//! logged (they carry confirmation links).

use crate::runtime::config::ServerConfig;
use crate::upload::smtp::{Secret, SmtpTls};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Longest time one SMTP exchange (connect, TLS, authenticate, send) may take.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything needed to send a mail.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MailSettings {
    /// SMTP server host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Connection protection.
    pub tls: SmtpTls,
    /// User to authenticate as (no authentication when absent).
    pub user: Option<String>,
    /// Its password.
    pub password: Option<Secret>,
    /// The sender address (the marketplace administrator).
    pub from: String,
}

impl MailSettings {
    /// The settings of a configuration; `None` when `smtp_host` or
    /// `mail_from` is missing.
    pub(crate) fn from_config(config: &ServerConfig) -> Option<Self> {
        Some(MailSettings {
            host: config.smtp_host.clone()?,
            port: config
                .smtp_port
                .unwrap_or_else(|| config.smtp_tls.default_port()),
            tls: config.smtp_tls,
            user: config.smtp_user.clone(),
            password: config.smtp_password.clone(),
            from: config.mail_from.clone()?,
        })
    }
}

/// One plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line (control characters are replaced by spaces).
    pub subject: String,
    /// Body, plain UTF-8 text.
    pub body: String,
}

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MailError {
    /// The recipient is not a usable address.
    #[error("the address '{0}' cannot receive mail")]
    Recipient(String),
    /// The configured sender is not a usable address.
    #[error("the sender address (mail_from) is not usable: {0}")]
    Sender(String),
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP exchange failed (connection, TLS, authentication, refusal).
    #[error("the mail server did not accept the message: {0}")]
    Transport(String),
    /// The SMTP exchange took longer than [`SEND_TIMEOUT`].
    #[error("the mail server did not answer in time")]
    Timeout,
}

/// `text` on one line: control characters (CR, LF, …) become spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The message `mail` from `settings.from`.
fn message(settings: &MailSettings, mail: &Mail) -> Result<Message, MailError> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Sender(e.to_string()))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| MailError::Recipient(mail.to.clone()))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(one_line(&mail.subject))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| MailError::Build(e.to_string()))
}

/// The transport `settings` describe.
fn transport(settings: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        .port(settings.port)
        .timeout(Some(SEND_TIMEOUT));
    let tls = |host: &str| {
        TlsParameters::new(host.to_string()).map_err(|e| MailError::Transport(e.to_string()))
    };
    builder = match settings.tls {
        SmtpTls::None => builder.tls(Tls::None),
        SmtpTls::Starttls => builder.tls(Tls::Required(tls(&settings.host)?)),
        SmtpTls::Tls => builder.tls(Tls::Wrapper(tls(&settings.host)?)),
    };
    if let Some(user) = &settings.user {
        let password = settings
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// Checks that `mail` can be built (addresses usable) without sending it.
pub(crate) fn check(settings: &MailSettings, mail: &Mail) -> Result<(), MailError> {
    message(settings, mail).map(|_| ())
}

/// Sends `mail` through the server `settings` name.
pub(crate) async fn send(settings: &MailSettings, mail: &Mail) -> Result<(), MailError> {
    let message = message(settings, mail)?;
    let transport = transport(settings)?;
    match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(MailError::Transport(e.to_string())),
        Err(_) => Err(MailError::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            host: "127.0.0.1".into(),
            port: 25,
            tls: SmtpTls::None,
            user: Some("u".into()),
            password: Some(Secret::new("hunter2")),
            from: "admin@example.org".into(),
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = settings();
        let text = format!("{s:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("***"));
    }

    #[test]
    fn tls_modes() {
        assert_eq!("STARTTLS".parse::<SmtpTls>().unwrap(), SmtpTls::Starttls);
        assert_eq!("none".parse::<SmtpTls>().unwrap().default_port(), 25);
        assert_eq!("tls".parse::<SmtpTls>().unwrap().default_port(), 465);
        assert!("ssl".parse::<SmtpTls>().is_err());
    }

    #[test]
    fn headers_cannot_be_injected() {
        let mail = Mail {
            to: "jane@example.org".into(),
            subject: "a\r\nBcc: victim@example.org".into(),
            body: "hello".into(),
        };
        let text = String::from_utf8(message(&settings(), &mail).unwrap().formatted()).unwrap();
        assert!(!text.contains("\r\nBcc:"), "{text}");
        let bad = Mail {
            to: "not an address\r\n".into(),
            ..mail
        };
        assert!(matches!(
            check(&settings(), &bad),
            Err(MailError::Recipient(_))
        ));
    }
}
