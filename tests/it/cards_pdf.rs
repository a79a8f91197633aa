//! Login-card PDFs read back with poppler (pdftotext, pdfinfo, pdffonts,
//! pdftoppm) and their QR codes decoded from a rendered page. A missing poppler
//! tool fails these tests: it never skips them.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use hallpass::cards::{Card, qr_url, render};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

const CLASS: &str = "Science 7B (SCI-7B)";
const SCHOOL: &str = "Lincoln Middle School";
const SIGN_IN: &str = "https://hallpass.example.org/signin";
const EXPIRY: &str = "Expires 3 Dec 2026, 15:04 UTC";

/// Ten students whose logins and passwords are not substrings of one another,
/// with the confusable characters (l, 1, I, 0, O) among them.
const STUDENTS: [(&str, &str, &str); 10] = [
    ("Ada Lovelace", "ada.lovelace", "maple-river-quiet-472"),
    ("Grace Hopper", "grace.hopper", "cobalt-meadow-swift-108"),
    ("Alan Turing", "alan.turing", "pebble-orbit-lantern-915"),
    ("Olivia Il1ing", "olivia.i11ing0", "violin-harbor-oval-301"),
    ("Zoë Núñez", "zoe.nunez", "tundra-ember-willow-660"),
    ("Kwame Mensah", "kwame.mensah", "glacier-honey-north-274"),
    ("Mei Lin", "mei.lin", "canyon-lily-rocket-839"),
    ("Oscar O'Neill", "oscar.oneill", "shadow-island-piano-010"),
    (
        "Priya Natarajan",
        "priya.natarajan",
        "thunder-olive-bridge-527",
    ),
    ("Lars Øberg", "lars.oberg", "garden-silver-eagle-746"),
];

fn cards() -> Vec<Card> {
    let sign_in = Url::parse(SIGN_IN).unwrap();
    STUDENTS
        .iter()
        .map(|(name, login, password)| Card {
            name: (*name).into(),
            school: SCHOOL.into(),
            class: CLASS.into(),
            login: (*login).into(),
            password: SecretString::from(*password),
            expires: Utc.with_ymd_and_hms(2026, 12, 3, 15, 4, 0).unwrap(),
            sign_in_url: sign_in.clone(),
            qr_url: qr_url(&sign_in, "lincoln-usd", login),
        })
        .collect()
}

/// Runs a poppler tool; a missing tool fails the test with the package to install.
fn poppler(tool: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian poppler-utils) is required: {e}"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write_pdf(dir: &Path, cards: &[Card]) -> PathBuf {
    let pdf = render(CLASS, cards).unwrap();
    let path = dir.join("cards.pdf");
    std::fs::write(&path, pdf).unwrap();
    path
}

#[test]
fn a_ten_card_pdf_reads_back_with_every_name_login_password_school_class_expiry_and_url() {
    let dir = tempfile::tempdir().unwrap();
    let text = poppler("pdftotext", &["-layout"], &write_pdf(dir.path(), &cards()));
    for (name, login, password) in STUDENTS {
        assert!(text.contains(name), "{name} missing from:\n{text}");
        assert_eq!(text.matches(login).count(), 1, "{login} once in:\n{text}");
        assert_eq!(text.matches(password).count(), 1, "{password} once");
    }
    assert_eq!(text.matches(SCHOOL).count(), 10);
    assert_eq!(
        text.matches(CLASS).count(),
        10 + 2,
        "each card and each page header"
    );
    assert_eq!(text.matches(EXPIRY).count(), 10);
    assert_eq!(text.matches(SIGN_IN).count(), 10);
    assert!(text.contains("Science 7B (SCI-7B) — page 1 of 2"), "{text}");
    assert!(text.contains("Science 7B (SCI-7B) — page 2 of 2"), "{text}");
}

#[test]
fn a_ten_card_pdf_has_two_us_letter_pages_and_the_class_as_its_title() {
    let dir = tempfile::tempdir().unwrap();
    let info = poppler("pdfinfo", &[], &write_pdf(dir.path(), &cards()));
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no {name} in:\n{info}"))
    };
    assert_eq!(field("Pages:"), "2");
    assert_eq!(field("Title:"), CLASS);
    assert!(field("Page size:").starts_with("612 x 792 pts"), "{info}");
}

#[test]
fn eight_cards_fill_one_page_and_a_ninth_starts_another() {
    let dir = tempfile::tempdir().unwrap();
    let pages = |n: usize| {
        let info = poppler("pdfinfo", &[], &write_pdf(dir.path(), &cards()[..n]));
        let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
        line["Pages:".len()..].trim().to_owned()
    };
    assert_eq!(pages(8), "1");
    assert_eq!(pages(9), "2");
}

#[test]
fn the_logins_and_passwords_are_set_in_embedded_dejavu_sans_mono() {
    let dir = tempfile::tempdir().unwrap();
    let fonts = poppler("pdffonts", &[], &write_pdf(dir.path(), &cards()));
    // name, type, encoding, emb, sub, uni, object id
    let rows: Vec<Vec<&str>> = fonts
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 1, "one font, and it is embedded:\n{fonts}");
    let row = &rows[0];
    assert!(
        row[0].ends_with("+DejaVuSansMono"),
        "a DejaVu Sans Mono subset:\n{fonts}"
    );
    assert_eq!(
        &row[1..=4],
        &["CID", "TrueType", "Identity-H", "yes"],
        "{fonts}"
    );
    assert_eq!(row[5], "yes", "a subset:\n{fonts}");
    assert_eq!(row[6], "yes", "with a ToUnicode map:\n{fonts}");
}

/// The texts of the QR codes found in each card's cell (in card order) of the
/// pages rendered at 150 dpi, for a PDF of `cards` cards.
fn decode_qr_codes(pdf: &Path, dir: &Path, cards: usize) -> Vec<Vec<String>> {
    let mut found = qr_cells(pdf, dir);
    assert_eq!(found.len(), cards.div_ceil(8) * 8, "pages of 8 cells");
    found.truncate(cards);
    found
}

/// The texts of the QR codes in every card cell (8 a page, in card order) of
/// the pages rendered at 150 dpi, with vector anti-aliasing off as on a
/// printer; an empty cell has none. Each cell is decoded on its own: rqrr,
/// given a whole page of aligned codes, pairs finder patterns of neighbouring
/// codes.
pub fn qr_cells(pdf: &Path, dir: &Path) -> Vec<Vec<String>> {
    let prefix = dir.join("page");
    let out = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-aaVector", "no"])
        .arg(pdf)
        .arg(&prefix)
        .output()
        .unwrap_or_else(|e| panic!("pdftoppm (Debian poppler-utils) is required: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pages.sort();
    let px = |pt: f32| (pt * 150.0 / 72.0) as usize;
    let mut found = Vec::new();
    for page in &pages {
        let img = image::open(page).unwrap().to_luma8();
        assert_eq!(
            (img.width(), img.height()),
            (1275, 1650),
            "Letter at 150 dpi"
        );
        for slot in 0..8 {
            let (x0, y0) = (
                px(38.0 + (slot % 2) as f32 * 270.0),
                px(50.0 + (slot / 2) as f32 * 177.0),
            );
            let mut prepared =
                rqrr::PreparedImage::prepare_from_greyscale(px(266.0), px(173.0), |x, y| {
                    img.get_pixel((x0 + x) as u32, (y0 + y) as u32).0[0]
                });
            let texts = prepared
                .detect_grids()
                .into_iter()
                .map(|grid| {
                    grid.decode()
                        .map(|(_, text)| text)
                        .unwrap_or_else(|e| format!("{e:?}"))
                })
                .collect();
            found.push(texts);
        }
    }
    found
}

#[test]
fn the_qr_codes_on_the_rendered_pages_decode_to_each_cards_qr_url_and_never_hold_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let cards = cards();
    let pdf = write_pdf(dir.path(), &cards);
    let decoded = decode_qr_codes(&pdf, dir.path(), cards.len());
    let expected: Vec<Vec<String>> = cards.iter().map(|c| vec![c.qr_url.to_string()]).collect();
    assert_eq!(
        decoded, expected,
        "each card's cell holds one code, of its own qr_url"
    );
    assert_eq!(
        expected[0][0],
        "https://hallpass.example.org/signin?tenant=lincoln-usd&login=ada.lovelace"
    );
    for card in &cards {
        let password = card.password.expose_secret();
        assert!(
            decoded.iter().flatten().all(|t| !t.contains(password)),
            "{password} in a QR code"
        );
    }
}

/// Every word pdftotext finds below the header, with its box (points, y down).
fn word_boxes(pdf: &Path) -> Vec<(String, [f32; 4])> {
    let html = poppler("pdftotext", &["-bbox"], pdf);
    let attr = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    html.split("<word ")
        .skip(1)
        .map(|chunk| {
            let (tag, rest) = chunk.split_once('>').unwrap();
            let word = rest.split("</word>").next().unwrap().to_owned();
            let b = [
                attr(tag, "xMin"),
                attr(tag, "yMin"),
                attr(tag, "xMax"),
                attr(tag, "yMax"),
            ];
            (word, b)
        })
        .collect()
}

#[test]
fn long_names_urls_and_credentials_stay_inside_their_cards() {
    let sign_in = Url::parse(&format!(
        "https://sign-in.a-very-long-district-domain-name.k12.example.org/{}/signin?from=cards",
        "deep/path".repeat(6)
    ))
    .unwrap();
    let mut long = cards();
    long[0].name =
        "Maria Guadalupe Fernanda de la Concepción Rodríguez-Villanueva y Montenegro".into();
    long[0].school =
        "The Extraordinarily Long-Named Lincoln Memorial Science and Arts Magnet School".into();
    long[1].login = "maria.guadalupe.fernanda.rodriguez-villanueva".into();
    long[1].password = SecretString::from("elephant-umbrella-whisper-472-elephant-umbrella");
    long[1].sign_in_url = sign_in.clone();
    long[1].qr_url = qr_url(&sign_in, "lincoln-usd", &long[1].login);

    let dir = tempfile::tempdir().unwrap();
    let pdf = write_pdf(dir.path(), &long);
    let (columns, rows) = ([36.0, 306.0, 576.0], [48.0, 225.0, 402.0, 579.0, 756.0]);
    let cell = |v: f32, edges: &[f32]| edges.windows(2).position(|w| v >= w[0] && v <= w[1]);
    for (word, [x0, y0, x1, y1]) in word_boxes(&pdf).into_iter().filter(|(_, b)| b[1] > 40.0) {
        let (c0, c1) = (cell(x0, &columns), cell(x1, &columns));
        let (r0, r1) = (cell(y0, &rows), cell(y1, &rows));
        assert!(
            c0.is_some() && c0 == c1 && r0.is_some() && r0 == r1,
            "{word:?} crosses a card edge"
        );
    }
    let text = poppler("pdftotext", &["-raw"], &pdf);
    assert!(
        text.contains(&long[1].login),
        "a long login is printed whole:\n{text}"
    );
    assert!(
        text.contains(long[1].password.expose_secret()),
        "a long password is printed whole"
    );
}
