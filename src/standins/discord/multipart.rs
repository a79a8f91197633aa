//! Discord's upload format, read back: a `multipart/form-data` body whose
//! `payload_json` part holds the message's JSON and whose `files[n]` parts
//! hold the files (see Discord's "Uploading Files").

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde_json::Value;

use super::Upload;
use super::routes::Answer;

/// A request's JSON and files.
#[derive(Debug, Default)]
pub(super) struct Body {
    pub json: Option<Value>,
    pub files: Vec<Upload>,
}

/// Reads a multipart body; Discord's refusal when it is not one it takes.
pub(super) async fn parse(content_type: &str, body: Bytes) -> Result<Body, Answer> {
    let request = axum::http::Request::builder()
        .header(CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body))
        .map_err(|_| malformed())?;
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|_| malformed())?;
    let mut parsed = Body::default();
    while let Some(field) = form.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "payload_json" {
            let text = field.bytes().await.map_err(|_| malformed())?;
            let json = serde_json::from_slice(&text).map_err(|_| {
                Answer::error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                )
            })?;
            parsed.json = Some(json);
            continue;
        }
        let Some(index) = file_index(&name) else {
            continue;
        };
        let filename = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|_| malformed())?.to_vec();
        parsed.files.push(Upload {
            index,
            filename,
            content_type,
            bytes,
        });
    }
    if parsed.json.is_none() && parsed.files.is_empty() {
        return Err(Answer::error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        ));
    }
    Ok(parsed)
}

/// `n` of a part named `files[n]`.
fn file_index(name: &str) -> Option<u64> {
    name.strip_prefix("files[")?.strip_suffix(']')?.parse().ok()
}

fn malformed() -> Answer {
    Answer::error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_parts_named_files_n_are_files() {
        assert_eq!(file_index("files[0]"), Some(0));
        assert_eq!(file_index("files[12]"), Some(12));
        assert_eq!(file_index("file"), None);
        assert_eq!(file_index("files[x]"), None);
    }
}
