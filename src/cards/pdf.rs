//! The card sheet: US Letter pages of 8 cards (2 columns by 4 rows) with dashed
//! cut lines and a page header.
//!
//! The promise: each card's text stays inside its card (see `text`), its QR code
//! is at least 2.5 cm wide with a four-module quiet zone, and the document holds
//! exactly one embedded font, DejaVu Sans Mono.

use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use secrecy::ExposeSecret;
use unicode_normalization::UnicodeNormalization;

use super::font::{CardFont, FontRefs};
use super::qr::Symbol;
use super::text::{Fit, Rule, fit};
use super::{Card, CardsError};

const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const MARGIN_SIDE: f32 = 36.0;
const MARGIN_BOTTOM: f32 = 36.0;
/// Room above the grid for the page header.
const MARGIN_TOP: f32 = 48.0;
const COLUMNS: usize = 2;
const ROWS: usize = 4;
pub const CARDS_PER_PAGE: usize = COLUMNS * ROWS;
const CARD_WIDTH: f32 = (PAGE_WIDTH - 2.0 * MARGIN_SIDE) / COLUMNS as f32;
const CARD_HEIGHT: f32 = (PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) / ROWS as f32;
const PADDING: f32 = 14.0;
const INNER_WIDTH: f32 = CARD_WIDTH - 2.0 * PADDING;
/// 84 pt is 2.96 cm: above the 2.5 cm a phone camera needs from arm's length.
const QR_SIDE: f32 = 84.0;
/// Between the QR code and the text: at least four modules for any URL that
/// fits a version 3 code or larger (every sign-in URL with tenant and login).
const QR_GAP: f32 = 12.0;
const LEFT_COLUMN: f32 = INNER_WIDTH - QR_SIDE - QR_GAP;
const FONT: Name<'static> = Name(b"F1");

/// A US Letter PDF of login cards, 8 to a page, with `title` (the class label)
/// in the document info and in each page's header ("Science 7B — page 1 of 4").
pub fn render(title: &str, cards: &[Card]) -> Result<Vec<u8>, CardsError> {
    if cards.is_empty() {
        return Err(CardsError::NoCards);
    }
    let symbols = cards
        .iter()
        .enumerate()
        .map(|(i, card)| {
            Symbol::new(&card.qr_url).map_err(|source| CardsError::QrCode {
                card: i + 1,
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut font = CardFont::load()?;
    let mut pdf = Pdf::new();
    let mut next = Ref::new(1);
    let mut alloc = || next.bump();
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let refs = FontRefs {
        type0: alloc(),
        cid: alloc(),
        descriptor: alloc(),
        file: alloc(),
        to_unicode: alloc(),
    };

    let title = title.nfc().collect::<String>();
    let pages: Vec<_> = cards
        .chunks(CARDS_PER_PAGE)
        .zip(symbols.chunks(CARDS_PER_PAGE))
        .collect();
    let mut page_refs = Vec::with_capacity(pages.len());
    for (index, (page_cards, page_symbols)) in pages.iter().enumerate() {
        let (page, contents) = (alloc(), alloc());
        page_refs.push(page);
        let mut sheet = Sheet {
            content: Content::new(),
            font: &mut font,
        };
        sheet.header(&format!("{title} — page {} of {}", index + 1, pages.len()));
        sheet.cut_lines(page_cards.len());
        for (slot, (card, symbol)) in page_cards.iter().zip(page_symbols.iter()).enumerate() {
            sheet.card(slot, card, symbol);
        }
        let raw = sheet.content.finish();
        pdf.stream(contents, &deflate(&raw))
            .filter(pdf_writer::Filter::FlateDecode);
        wipe(raw.into_vec());
        let mut page_writer = pdf.page(page);
        page_writer
            .parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(contents);
        page_writer.resources().fonts().pair(FONT, refs.type0);
        page_writer.finish();
    }

    pdf.catalog(catalog).pages(tree);
    let count = i32::try_from(page_refs.len()).unwrap_or(i32::MAX);
    pdf.pages(tree).kids(page_refs).count(count);
    pdf.document_info(info)
        .title(TextStr(&title))
        .creator(TextStr("hallpass"))
        .producer(TextStr("hallpass"));
    font.write(&mut pdf, &refs)?;
    Ok(pdf.finish())
}

/// zlib-compressed, as `/FlateDecode` expects.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The uncompressed page holds the passwords' glyph ids: clear it before freeing.
fn wipe(mut raw: Vec<u8>) {
    use secrecy::zeroize::Zeroize;
    raw.zeroize();
}

/// One page being drawn.
struct Sheet<'a> {
    content: Content,
    font: &'a mut CardFont,
}

impl Sheet<'_> {
    fn header(&mut self, header: &str) {
        let fit = Fit {
            width: PAGE_WIDTH - 2.0 * MARGIN_SIDE,
            size: 9.0,
            min_size: 7.0,
            rule: Rule::Wrap(1),
        };
        self.text(MARGIN_SIDE, PAGE_HEIGHT - 24.0, header, fit, 0.3);
    }

    /// Dashed lines along the grid of the rows in use, to cut the cards apart.
    fn cut_lines(&mut self, cards: usize) {
        let rows = cards.div_ceil(COLUMNS);
        let top = PAGE_HEIGHT - MARGIN_TOP;
        let bottom = top - rows as f32 * CARD_HEIGHT;
        let c = &mut self.content;
        c.save_state();
        c.set_stroke_gray(0.55);
        c.set_line_width(0.5);
        c.set_dash_pattern([4.0, 3.0], 0.0);
        for row in 0..=rows {
            let y = top - row as f32 * CARD_HEIGHT;
            c.move_to(MARGIN_SIDE, y);
            c.line_to(PAGE_WIDTH - MARGIN_SIDE, y);
        }
        for column in 0..=COLUMNS {
            let x = MARGIN_SIDE + column as f32 * CARD_WIDTH;
            c.move_to(x, top);
            c.line_to(x, bottom);
        }
        c.stroke();
        c.restore_state();
    }

    /// One card in grid position `slot` (row by row from the top left).
    fn card(&mut self, slot: usize, card: &Card, symbol: &Symbol) {
        let left = MARGIN_SIDE + (slot % COLUMNS) as f32 * CARD_WIDTH + PADDING;
        let top = PAGE_HEIGHT - MARGIN_TOP - (slot / COLUMNS) as f32 * CARD_HEIGHT - PADDING;
        symbol.draw(
            &mut self.content,
            left + INNER_WIDTH - QR_SIDE,
            top,
            QR_SIDE,
        );

        let column = |size, min_size, lines| Fit {
            width: LEFT_COLUMN,
            size,
            min_size,
            rule: Rule::Wrap(lines),
        };
        let name = card.name.nfc().collect::<String>();
        self.bold(true);
        self.text(left, top, &name, column(13.0, 9.0, 2), 0.0);
        self.bold(false);
        let school = card.school.nfc().collect::<String>();
        self.text(left, top - 24.0, &school, column(8.0, 6.0, 1), 0.15);
        let class = card.class.nfc().collect::<String>();
        self.text(left, top - 35.0, &class, column(8.0, 6.0, 1), 0.15);
        self.text(left, top - 50.0, "Sign in at", column(6.5, 6.5, 1), 0.4);
        self.text(
            left,
            top - 59.0,
            card.sign_in_url.as_str(),
            column(7.5, 5.5, 2),
            0.0,
        );

        self.credential(left, top - 97.0, "Login", &card.login);
        self.credential(left, top - 117.0, "Password", card.password.expose_secret());

        let expires = card
            .expires
            .format("Expires %-d %b %Y, %H:%M UTC")
            .to_string();
        let full = Fit {
            width: INNER_WIDTH,
            size: 8.0,
            min_size: 6.0,
            rule: Rule::Wrap(1),
        };
        self.text(left, top - 139.0, &expires, full, 0.15);
    }

    /// A small grey label and, on the same baseline, the value: large, emboldened,
    /// and only ever shrunk, never wrapped or cut.
    fn credential(&mut self, left: f32, top: f32, label: &str, value: &str) {
        const LABEL_WIDTH: f32 = 50.0;
        let value_size = 13.0;
        let baseline = top - value_size * 0.8;
        let label_fit = Fit {
            width: LABEL_WIDTH - 4.0,
            size: 7.0,
            min_size: 5.0,
            rule: Rule::Wrap(1),
        };
        let fitted = fit(label, label_fit, &|s| self.font.measure(s));
        self.line(left, baseline, fitted.size, &fitted.lines.concat(), 0.4);
        let value_fit = Fit {
            width: INNER_WIDTH - LABEL_WIDTH,
            size: value_size,
            min_size: value_size,
            rule: Rule::Whole,
        };
        let fitted = fit(value, value_fit, &|s| self.font.measure(s));
        self.bold(true);
        for line in &fitted.lines {
            self.line(left + LABEL_WIDTH, baseline, fitted.size, line, 0.0);
        }
        self.bold(false);
    }

    /// Fits `text` by `fit` and draws its lines downwards from `top`.
    fn text(&mut self, left: f32, top: f32, text: &str, fit_by: Fit, gray: f32) {
        let fitted = fit(text, fit_by, &|s| self.font.measure(s));
        let leading = fitted.size * 1.15;
        for (i, line) in fitted.lines.iter().enumerate() {
            let baseline = top - fitted.size * 0.8 - i as f32 * leading;
            self.line(left, baseline, fitted.size, line, gray);
        }
    }

    fn line(&mut self, left: f32, baseline: f32, size: f32, text: &str, gray: f32) {
        let mut glyphs = self.font.encode(text);
        let c = &mut self.content;
        c.begin_text();
        c.set_font(FONT, size);
        c.set_fill_gray(gray);
        c.set_text_matrix([1.0, 0.0, 0.0, 1.0, left, baseline]);
        c.show(Str(&glyphs));
        c.end_text();
        use secrecy::zeroize::Zeroize;
        glyphs.zeroize();
    }

    /// Faux bold (fill and a thin stroke of the outline): one font file stays
    /// enough, and the stroke keeps every glyph's distinguishing mark.
    fn bold(&mut self, on: bool) {
        let c = &mut self.content;
        if on {
            c.set_text_rendering_mode(TextRenderingMode::FillStroke);
            c.set_line_width(0.35);
            c.set_stroke_gray(0.0);
        } else {
            c.set_text_rendering_mode(TextRenderingMode::Fill);
        }
    }
}
