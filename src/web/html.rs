//! The house way of answering with an HTML page (the reset page, the sign-in
//! page): one small inline style, text escaped before it enters the markup,
//! and headers that keep the page out of caches, referrers and frames.
//!
//! Promise: a page made here loads nothing from anywhere (no script, no image,
//! no font), posts only to its own origin, and may not be framed.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const STYLE: &str = "body{font:1.1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#111}\
     label{display:block;margin-top:1rem;font-weight:600}\
     input{width:100%;font:inherit;padding:.5rem;box-sizing:border-box}\
     button{margin-top:1.5rem;font:inherit;padding:.5rem 1rem}\
     .problem{border-left:4px solid #b00020;padding-left:.75rem;color:#b00020}";

/// A whole page titled `title` (plain text) around `main` (markup).
pub fn page(status: StatusCode, title: &str, main: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title} · hallpass</title>\n\
         <style>{STYLE}</style>\n\
         </head>\n<body>\n<main>\n{main}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The page loads nothing but its own inline style and posts only to itself;
    // no other site may frame it (a framed form invites clickjacking).
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The error region above a form: announced by screen readers when it appears.
pub fn problem(text: Option<&str>) -> String {
    text.map(|p| format!("<p class=\"problem\" role=\"alert\">{}</p>\n", escape(p)))
        .unwrap_or_default()
}

/// `text` made safe for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">O'Neil & co</a>"#),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }
}
