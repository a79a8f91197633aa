//! The QR code on a card: which URL it holds, and drawing it as vector squares.
//!
//! The promise: the code holds the sign-in URL with `tenant` and `login` set and
//! nothing else of the card (the password is never an input here); its dark
//! modules are filled rectangles, so it prints crisp at any resolution.

use pdf_writer::Content;
use qrcode::{Color, EcLevel, QrCode};
use url::Url;

/// The URL a card's QR code holds: `sign_in_url` with `tenant` and `login` set.
/// Other query parameters and the fragment are kept; an existing `tenant` or
/// `login` is replaced rather than repeated.
pub fn qr_url(sign_in_url: &Url, tenant: &str, login: &str) -> Url {
    let mut url = sign_in_url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "tenant" && k != "login")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("tenant", tenant)
        .append_pair("login", login);
    url
}

/// A QR symbol ready to draw: its modules, row by row.
pub struct Symbol {
    code: QrCode,
}

impl Symbol {
    /// Error correction level M (15%): the usual choice for print, and it keeps
    /// the modules larger than Q or H would at the same printed size.
    pub fn new(url: &Url) -> Result<Self, qrcode::types::QrError> {
        QrCode::with_error_correction_level(url.as_str().as_bytes(), EcLevel::M)
            .map(|code| Self { code })
    }

    /// Draws the symbol with its top-left corner at (`left`, `top`) in PDF
    /// coordinates (y up), `side` points wide. The caller keeps four modules
    /// around it free (the quiet zone). Each row's runs of dark modules become
    /// one rectangle, and all are filled at once so no seams show between them.
    pub fn draw(&self, content: &mut Content, left: f32, top: f32, side: f32) {
        let n = self.code.width();
        let module = side / n as f32;
        let colors = self.code.to_colors();
        content.save_state();
        content.set_fill_gray(0.0);
        for (row, cells) in colors.chunks(n).enumerate() {
            let y = top - (row + 1) as f32 * module;
            let mut col = 0;
            while col < n {
                if cells[col] == Color::Dark {
                    let run = cells[col..]
                        .iter()
                        .take_while(|c| **c == Color::Dark)
                        .count();
                    content.rect(left + col as f32 * module, y, run as f32 * module, module);
                    col += run;
                } else {
                    col += 1;
                }
            }
        }
        content.fill_nonzero();
        content.restore_state();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_qr_url_adds_tenant_and_login_to_the_sign_in_url() {
        let got = qr_url(&url("https://school.example/signin"), "lincoln", "ada.l");
        assert_eq!(
            got.as_str(),
            "https://school.example/signin?tenant=lincoln&login=ada.l"
        );
    }

    #[test]
    fn the_qr_url_keeps_other_query_parameters_and_replaces_old_tenant_and_login() {
        let base = url("https://idp.example/login?app=hallpass&tenant=old&login=old#top");
        let got = qr_url(&base, "lincoln usd", "o'brien&co");
        let pairs: Vec<(String, String)> = got.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("app".into(), "hallpass".into()),
                ("tenant".into(), "lincoln usd".into()),
                ("login".into(), "o'brien&co".into()),
            ]
        );
        assert_eq!(got.fragment(), Some("top"));
        assert_eq!(got.path(), "/login");
    }
}
