//! The SMTP client (lettre over rustls), built from `SMTP_URL` in lettre's URL
//! format: `smtps://user:pass@host:465` (implicit TLS),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS), or `smtp://host:port`
//! (no TLS: only for a relay on the same machine, or the stand-in).

use std::fmt;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// How long connecting, and each step of the conversation, may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a message was not sent. No variant holds the SMTP URL or a body.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL is invalid: {0}")]
    InvalidUrl(String),
    #[error("Failed to set up TLS for the mail server: {0}")]
    Tls(String),
    #[error("{0:?} is not an email address hallpass can send to")]
    BadAddress(String),
    #[error("Failed to build the message: {0}")]
    Build(String),
    #[error("The mail server did not take the message: {0}")]
    Send(String),
}

/// One plain-text message. The body holds a reset link, so it is a secret.
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub body: SecretString,
}

impl fmt::Debug for OutgoingEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingEmail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body", &"<redacted>")
            .finish()
    }
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The server, for logs: scheme, host and port only.
    server: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A client for `smtp_url`, sending as `hallpass@<host of public_url>`.
    pub fn new(smtp_url: &SecretString, public_url: &Url) -> Result<Self, MailError> {
        Self::build(smtp_url, public_url, None)
    }

    /// [`Mailer::new`], also trusting the PEM certificate `root_pem` as a root
    /// for the server's TLS certificate (a private or test authority), beside
    /// the usual public roots. The TLS mode is still the URL's: `smtps://`
    /// (implicit), `?tls=required` or `?tls=opportunistic` (STARTTLS); a plain
    /// `smtp://` URL uses no TLS and so no root.
    pub fn with_root_certificate(
        smtp_url: &SecretString,
        public_url: &Url,
        root_pem: &[u8],
    ) -> Result<Self, MailError> {
        Self::build(smtp_url, public_url, Some(root_pem))
    }

    fn build(
        smtp_url: &SecretString,
        public_url: &Url,
        root_pem: Option<&[u8]>,
    ) -> Result<Self, MailError> {
        let parsed = Url::parse(smtp_url.expose_secret()).map_err(|e| {
            MailError::InvalidUrl(format!(
                "{e} (expected smtp://host:port or smtps://user:pass@host:port)"
            ))
        })?;
        let server = format!(
            "{}://{}:{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or(""),
            parsed.port().map(|p| p.to_string()).unwrap_or_default()
        );
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url.expose_secret())
            // lettre's message names the scheme and tls parameter, never the credentials.
            .map_err(|e| MailError::InvalidUrl(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT));
        let tls = match root_pem {
            Some(pem) => tls_trusting(&parsed, pem)?,
            None => None,
        };
        if let Some(tls) = tls {
            builder = builder.tls(tls);
        }
        let transport = builder.build();
        // lettre takes no address literals, so a public URL on a bare IP
        // (a local setup) sends as hallpass@localhost.
        let domain = match public_url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            _ => "localhost".to_owned(),
        };
        let from = format!("hallpass <hallpass@{domain}>")
            .parse::<Mailbox>()
            .map_err(|_| MailError::BadAddress(format!("hallpass@{domain}")))?;
        Ok(Self {
            transport,
            from,
            server,
        })
    }

    /// The From address.
    pub fn from_address(&self) -> String {
        self.from.email.to_string()
    }

    /// Sends one message and waits until the server has accepted it.
    #[tracing::instrument(skip(self, email), fields(server = %self.server, to = %email.to))]
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let to = email
            .to
            .parse::<Mailbox>()
            .map_err(|_| MailError::BadAddress(email.to.clone()))?;
        let text = email.body.expose_secret().to_owned();
        // Plain 7-bit text keeps the link readable in any client; a body that
        // is not ASCII gets whichever encoding lettre finds shortest.
        let body = Body::new_with_encoding(text.clone(), ContentTransferEncoding::SevenBit)
            .unwrap_or_else(|_| Body::new(text));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}

/// The URL's TLS mode with `pem` added to the trusted roots; `None` for a
/// URL without TLS.
fn tls_trusting(url: &Url, pem: &[u8]) -> Result<Option<Tls>, MailError> {
    let host = url.host_str().unwrap_or_default().to_owned();
    let mode = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let root = Certificate::from_pem(pem)
        .map_err(|e| MailError::Tls(format!("the extra root certificate: {e}")))?;
    let parameters = || {
        TlsParameters::builder(host.clone())
            .add_root_certificate(root.clone())
            .build_rustls()
            .map_err(|e| MailError::Tls(e.to_string()))
    };
    Ok(match (url.scheme(), mode.as_deref()) {
        ("smtps", _) => Some(Tls::Wrapper(parameters()?)),
        ("smtp", Some("required")) => Some(Tls::Required(parameters()?)),
        ("smtp", Some("opportunistic")) => Some(Tls::Opportunistic(parameters()?)),
        _ => None,
    })
}

/// A warning for an `SMTP_URL` that would send reset links (and the SMTP
/// password) unencrypted to another machine: `smtp://` without
/// `tls=required` (no TLS, or STARTTLS that a network attacker can strip) to
/// a host that is not this one. `None` for TLS, or for a relay on loopback.
/// The warning names the host, never the credentials.
pub fn plaintext_warning(smtp_url: &SecretString) -> Option<String> {
    let parsed = Url::parse(smtp_url.expose_secret()).ok()?;
    if parsed.scheme() != "smtp" {
        return None;
    }
    let tls_required = parsed
        .query_pairs()
        .any(|(key, value)| key == "tls" && value == "required");
    let loopback = match parsed.host()? {
        // `smtp:` is not a special scheme to the URL parser, so an IPv4
        // address arrives as a domain.
        url::Host::Domain(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if tls_required || loopback {
        return None;
    }
    Some(format!(
        "SMTP_URL sends mail to {} without required TLS: reset links (and any SMTP password) \
         cross the network in plain text. Use smtps://…:465 or smtp://…:587?tls=required.",
        parsed.host_str().unwrap_or("?")
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plain_smtp_to_another_host_is_warned_about_and_tls_or_loopback_is_not() {
        let warned = |url: &str| plaintext_warning(&SecretString::from(url.to_owned()));
        let warning = warned("smtp://mailer:mail-pass@mail.example.org:25").unwrap();
        assert!(warning.contains("mail.example.org"), "{warning}");
        assert!(!warning.contains("mail-pass"), "{warning}");
        assert!(warned("smtp://10.0.0.5:25?tls=opportunistic").is_some());
        for quiet in [
            "smtps://mailer:pw@mail.example.org:465",
            "smtp://mailer:pw@mail.example.org:587?tls=required",
            "smtp://127.0.0.1:2525",
            "smtp://localhost:25",
            "smtp://[::1]:25",
        ] {
            assert_eq!(warned(quiet), None, "{quiet}");
        }
    }

    #[test]
    fn the_smtp_password_never_shows_in_debug_or_errors() {
        let public = Url::parse("http://127.0.0.1:8080").unwrap();
        let mailer = Mailer::new(
            &SecretString::from("smtps://mailer:mail-pass@smtp.example:465"),
            &public,
        )
        .unwrap();
        let shown = format!("{mailer:?}");
        assert!(!shown.contains("mail-pass"), "{shown}");
        assert_eq!(mailer.from_address(), "hallpass@localhost");
        let err = Mailer::new(
            &SecretString::from("ftp://mailer:mail-pass@smtp.example"),
            &public,
        )
        .err()
        .unwrap();
        assert!(!err.to_string().contains("mail-pass"), "{err}");
    }
}
