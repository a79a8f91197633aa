//! One SMTP conversation (RFC 5321), over plain TCP or TLS alike, with
//! STARTTLS (RFC 3207) and AUTH PLAIN / LOGIN (RFC 4954, 4616) that check the
//! credentials the stand-in was started with.

use std::sync::atomic::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::{ReceivedMail, Shared};

/// Where the conversation stands with respect to encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No TLS, and none offered.
    Plain,
    /// No TLS yet; STARTTLS is offered and required before AUTH or MAIL.
    BeforeStartTls,
    /// Inside TLS (implicit, or after STARTTLS).
    Secure,
}

/// How a conversation ended.
pub enum Ended<S> {
    Closed,
    /// The client asked for STARTTLS and was told to go ahead: the stream,
    /// ready for the TLS handshake.
    StartTls(S),
}

struct State {
    from: String,
    recipients: Vec<String>,
    authenticated_as: Option<String>,
}

/// Converses on `stream` until the client quits, hangs up or starts TLS.
/// `greet` is false after STARTTLS, where the client speaks first.
pub async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    shared: &Shared,
    phase: Phase,
    greet: bool,
) -> std::io::Result<Ended<S>> {
    let mut io = BufReader::new(stream);
    if greet {
        io.write_all(b"220 hallpass SMTP stand-in ready\r\n")
            .await?;
    }
    let mut state = State {
        from: String::new(),
        recipients: Vec::new(),
        authenticated_as: None,
    };
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(Ended::Closed);
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let needs_auth = shared.credentials.is_some() && state.authenticated_as.is_none();
        let answer: String = match verb.as_str() {
            "EHLO" => ehlo(shared, phase),
            "HELO" => "250 hallpass stand-in\r\n".into(),
            "STARTTLS" if phase == Phase::BeforeStartTls => {
                io.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                return Ok(Ended::StartTls(io.into_inner()));
            }
            "STARTTLS" => "503 5.5.1 TLS is not available here\r\n".into(),
            "AUTH" | "MAIL" if phase == Phase::BeforeStartTls => {
                "530 5.7.0 Must issue a STARTTLS command first\r\n".into()
            }
            "AUTH" => authenticate(&mut io, shared, &command, &mut state).await?,
            "MAIL" if needs_auth => "530 5.7.0 Authentication required\r\n".into(),
            "MAIL" if shared.refusing.load(Ordering::SeqCst) => {
                "550 5.7.1 The stand-in is refusing mail\r\n".into()
            }
            "MAIL" => {
                state.from = address(&command);
                state.recipients.clear();
                "250 OK\r\n".into()
            }
            "RCPT" => {
                state.recipients.push(address(&command));
                "250 OK\r\n".into()
            }
            "DATA" if state.from.is_empty() || state.recipients.is_empty() => {
                "503 5.5.1 MAIL and RCPT first\r\n".into()
            }
            "DATA" => receive(&mut io, shared, phase, &mut state).await?,
            "RSET" => {
                state.from.clear();
                state.recipients.clear();
                "250 OK\r\n".into()
            }
            "NOOP" => "250 OK\r\n".into(),
            "QUIT" => {
                io.write_all(b"221 Bye\r\n").await?;
                return Ok(Ended::Closed);
            }
            _ => "502 Command not implemented\r\n".into(),
        };
        io.write_all(answer.as_bytes()).await?;
    }
}

/// `DATA`: reads the message up to the lone dot and keeps it.
async fn receive<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    shared: &Shared,
    phase: Phase,
    state: &mut State,
) -> std::io::Result<String> {
    io.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        .await?;
    let data = read_data(io).await?;
    if let Ok(mut received) = shared.received.lock() {
        received.push(ReceivedMail {
            from: std::mem::take(&mut state.from),
            recipients: std::mem::take(&mut state.recipients),
            data,
            over_tls: phase == Phase::Secure,
            authenticated_as: state.authenticated_as.clone(),
        });
    }
    Ok("250 OK: queued\r\n".into())
}

fn ehlo(shared: &Shared, phase: Phase) -> String {
    let mut lines = vec!["hallpass stand-in".to_owned()];
    match phase {
        Phase::BeforeStartTls => lines.push("STARTTLS".into()),
        Phase::Plain | Phase::Secure if shared.credentials.is_some() => {
            lines.push(format!("AUTH {}", shared.mechanisms.join(" ")));
        }
        Phase::Plain | Phase::Secure => {}
    }
    lines.push("8BITMIME".into());
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
        .collect()
}

/// `AUTH PLAIN [initial]` or `AUTH LOGIN`: 235 for the configured user and
/// password, 535 for anything else.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    shared: &Shared,
    command: &str,
    state: &mut State,
) -> std::io::Result<String> {
    let Some((user, password)) = &shared.credentials else {
        return Ok("503 5.5.1 AUTH is not offered here\r\n".into());
    };
    let mut words = command.split_whitespace().skip(1);
    let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
    if !shared.mechanisms.iter().any(|m| *m == mechanism) {
        return Ok("504 5.5.4 Unrecognised authentication mechanism\r\n".into());
    }
    let (given_user, given_password) = if mechanism == "PLAIN" {
        let initial = match words.next() {
            Some(initial) => initial.to_owned(),
            None => challenge(io, "").await?,
        };
        let decoded = decode(&initial);
        // authzid NUL authcid NUL password
        let mut parts = decoded.splitn(3, '\0').skip(1);
        (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        )
    } else {
        let user = decode(&challenge(io, &BASE64.encode("Username:")).await?);
        let password = decode(&challenge(io, &BASE64.encode("Password:")).await?);
        (user, password)
    };
    if given_user == *user && given_password == *password {
        state.authenticated_as = Some(given_user);
        Ok("235 2.7.0 Authentication successful\r\n".into())
    } else {
        Ok("535 5.7.8 Authentication credentials invalid\r\n".into())
    }
}

/// Sends `334 prompt` and reads the client's base64 answer.
async fn challenge<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    prompt: &str,
) -> std::io::Result<String> {
    io.write_all(format!("334 {prompt}\r\n").as_bytes()).await?;
    let mut answer = String::new();
    io.read_line(&mut answer).await?;
    Ok(answer.trim_end().to_owned())
}

fn decode(b64: &str) -> String {
    BASE64
        .decode(b64.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// The address between `<` and `>` of `MAIL FROM:<a@b> ...`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(addr, _)| addr.to_owned())
        .unwrap_or_default()
}

async fn read_data<S: AsyncRead + Unpin>(lines: &mut BufReader<S>) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(data);
        }
        if line == ".\r\n" || line == ".\n" {
            return Ok(data);
        }
        let unstuffed = line.strip_prefix('.').unwrap_or(&line);
        data.push_str(unstuffed);
    }
}
