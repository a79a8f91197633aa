//! A local SMTP server that speaks enough of RFC 5321 for lettre's client,
//! and keeps every message it accepts. Tests and the demo point `SMTP_URL` at
//! it; it never relays anything.
//!
//! It speaks the modes a real school's mail server does: plain SMTP
//! ([`SmtpStandIn::start`], `smtp://127.0.0.1:PORT`), implicit TLS (`smtps://`)
//! and STARTTLS (`smtp://…?tls=required`), with a certificate authority
//! generated at start that a client is told to trust
//! ([`SmtpStandIn::root_certificate_pem`]), and AUTH PLAIN / LOGIN that
//! accepts only the credentials it was started with (anything else gets 535).

mod session;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use session::{Ended, Phase, converse};
use tls::TestCertificate;

/// One accepted message, as it crossed the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    pub recipients: Vec<String>,
    /// Headers and body, dot-unstuffed, without the final `.` line.
    pub data: String,
    /// Whether the message came inside TLS (implicit or after STARTTLS).
    pub over_tls: bool,
    /// The user the client authenticated as, if it did.
    pub authenticated_as: Option<String>,
}

/// How clients reach the stand-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP; no TLS offered.
    Plain,
    /// TLS from the first byte (`smtps://`).
    ImplicitTls,
    /// Plain at first, STARTTLS required before AUTH or MAIL.
    StartTls,
}

/// What a TLS stand-in accepts.
#[derive(Debug, Clone)]
pub struct StandInOptions {
    pub security: Security,
    /// The one user and password AUTH accepts; `None`: no AUTH offered.
    pub credentials: Option<(String, String)>,
    /// The AUTH mechanisms offered, of `PLAIN` and `LOGIN`.
    pub mechanisms: Vec<&'static str>,
}

impl Default for StandInOptions {
    fn default() -> Self {
        Self {
            security: Security::Plain,
            credentials: None,
            mechanisms: vec!["PLAIN", "LOGIN"],
        }
    }
}

pub(crate) struct Shared {
    received: Mutex<Vec<ReceivedMail>>,
    refusing: AtomicBool,
    credentials: Option<(String, String)>,
    mechanisms: Vec<&'static str>,
}

/// The running stand-in; it stops when dropped.
pub struct SmtpStandIn {
    addr: SocketAddr,
    security: Security,
    root_pem: Option<String>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpStandIn {
    /// Plain SMTP on 127.0.0.1 on a free port, no credentials.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(StandInOptions::default()).await
    }

    /// Listens on 127.0.0.1 on a free port, as `options` say.
    pub async fn start_with(options: StandInOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let certificate = match options.security {
            Security::Plain => None,
            Security::ImplicitTls | Security::StartTls => Some(TestCertificate::generate()?),
        };
        let root_pem = certificate.as_ref().map(|c| c.root_pem().to_owned());
        let acceptor = certificate.map(|c| c.acceptor());
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            refusing: AtomicBool::new(false),
            credentials: options.credentials,
            mechanisms: options.mechanisms,
        });
        let serving = shared.clone();
        let security = options.security;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = serving.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Err(error) = serve(stream, &shared, security, acceptor).await {
                        tracing::debug!(%error, "SMTP stand-in session ended");
                    }
                });
            }
        });
        Ok(Self {
            addr,
            security,
            root_pem,
            shared,
            task,
        })
    }

    /// `smtp://127.0.0.1:PORT` (plain), `smtps://127.0.0.1:PORT` (implicit
    /// TLS) or `smtp://127.0.0.1:PORT?tls=required` (STARTTLS), without
    /// credentials.
    pub fn url(&self) -> String {
        match self.security {
            Security::Plain => format!("smtp://{}", self.addr),
            Security::ImplicitTls => format!("smtps://{}", self.addr),
            Security::StartTls => format!("smtp://{}?tls=required", self.addr),
        }
    }

    /// [`SmtpStandIn::url`] with a user and password in it.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        self.url()
            .replacen("://", &format!("://{user}:{password}@"), 1)
    }

    /// The PEM certificate of the authority that signed the stand-in's TLS
    /// certificate; `None` for plain SMTP.
    pub fn root_certificate_pem(&self) -> Option<&str> {
        self.root_pem.as_deref()
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// While set, every sender is refused with `550`.
    pub fn refuse_mail(&self, refusing: bool) {
        self.shared.refusing.store(refusing, Ordering::SeqCst);
    }
}

impl Drop for SmtpStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: TcpStream,
    shared: &Shared,
    security: Security,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) -> std::io::Result<()> {
    let no_certificate = || std::io::Error::other("a TLS stand-in without a certificate");
    match security {
        Security::Plain => {
            converse(stream, shared, Phase::Plain, true).await?;
        }
        Security::ImplicitTls => {
            let tls = acceptor.ok_or_else(no_certificate)?.accept(stream).await?;
            converse(tls, shared, Phase::Secure, true).await?;
        }
        Security::StartTls => {
            if let Ended::StartTls(stream) =
                converse(stream, shared, Phase::BeforeStartTls, true).await?
            {
                let tls = acceptor.ok_or_else(no_certificate)?.accept(stream).await?;
                converse(tls, shared, Phase::Secure, false).await?;
            }
        }
    }
    Ok(())
}
