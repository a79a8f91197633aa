//! The one font on the cards, DejaVu Sans Mono, embedded as a subset.
//!
//! The promise: every glyph the content uses is in the embedded subset, and the
//! PDF says which character each glyph is (a ToUnicode map), so the text can be
//! searched and read back (`pdftotext`) exactly as it was given.
//!
//! Why by hand with `pdf-writer` + `subsetter` + `ttf-parser` rather than
//! `printpdf` or `krilla`: the three are small, dependency-light crates from the
//! Typst project that compile in seconds, and `subsetter` embeds only the glyphs
//! used (about 20 KB instead of the font's 340 KB). A monospace font needs no
//! shaping, so what the bigger crates add (layout, shaping engines) is not needed.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::CardsError;

/// DejaVu Sans Mono 2.37 (Bitstream Vera licence, see assets/fonts/): its
/// `0` is dotted, `l` has a tail, `1` a flag and foot, `I` serifs, `O` is round.
static FONT_FILE: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// The PostScript name, which `pdffonts` shows after the subset tag.
pub const FONT_NAME: &str = "DejaVuSansMono";

const SYSTEM_INFO: SystemInfo = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// The font while a document is written: it measures text, encodes it as the
/// subset's glyph ids, and remembers which glyphs (and characters) were used.
pub struct CardFont {
    face: Face<'static>,
    remapper: GlyphRemapper,
    /// New glyph id -> the character it was first used for (for ToUnicode).
    chars: BTreeMap<u16, char>,
}

/// The PDF objects that make up the embedded font.
pub struct FontRefs {
    pub type0: Ref,
    pub cid: Ref,
    pub descriptor: Ref,
    pub file: Ref,
    pub to_unicode: Ref,
}

impl CardFont {
    pub fn load() -> Result<Self, CardsError> {
        let face = Face::parse(FONT_FILE, 0)
            .map_err(|e| CardsError::Font(format!("cannot parse the font: {e}")))?;
        Ok(Self {
            face,
            remapper: GlyphRemapper::new(),
            chars: BTreeMap::new(),
        })
    }

    fn glyph(&self, c: char) -> GlyphId {
        // A character the font lacks shows as the .notdef box rather than vanishing.
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// The width of `text` at size 1, in points per point of font size.
    pub fn measure(&self, text: &str) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| u32::from(self.face.glyph_hor_advance(self.glyph(c)).unwrap_or(0)))
            .sum();
        units as f32 / f32::from(self.face.units_per_em())
    }

    /// `text` as two-byte glyph ids of the subset (the Identity-H encoding).
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let new = self.remapper.remap(self.glyph(c).0);
            self.chars.entry(new).or_insert(c);
            bytes.extend_from_slice(&new.to_be_bytes());
        }
        bytes
    }

    /// Writes the font (Type0 over a CIDFontType2, its descriptor, the subset
    /// program and the ToUnicode map) under `refs`.
    pub fn write(self, pdf: &mut Pdf, refs: &FontRefs) -> Result<(), CardsError> {
        let subset = subsetter::subset(FONT_FILE, 0, &self.remapper)
            .map_err(|e| CardsError::Font(format!("cannot subset the font: {e:?}")))?;
        let base = format!("{}+{FONT_NAME}", self.subset_tag());
        let base = Name(base.as_bytes());
        let per_unit = 1000.0 / f32::from(self.face.units_per_em());

        pdf.type0_font(refs.type0)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(refs.cid)
            .to_unicode(refs.to_unicode);

        let widths: Vec<f32> = self
            .remapper
            .remapped_gids()
            .map(|old| f32::from(self.face.glyph_hor_advance(GlyphId(old)).unwrap_or(0)) * per_unit)
            .collect();
        let mut cid = pdf.cid_font(refs.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(SYSTEM_INFO)
            .font_descriptor(refs.descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let bbox = self.face.global_bounding_box();
        let scaled = |v: i16| f32::from(v) * per_unit;
        pdf.font_descriptor(refs.descriptor)
            .name(base)
            .flags(FontFlags::FIXED_PITCH | FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                scaled(bbox.x_min),
                scaled(bbox.y_min),
                scaled(bbox.x_max),
                scaled(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(scaled(self.face.ascender()))
            .descent(scaled(self.face.descender()))
            .cap_height(scaled(
                self.face.capital_height().unwrap_or(self.face.ascender()),
            ))
            .stem_v(80.0)
            .font_file2(refs.file);

        let compressed = super::pdf::deflate(&subset);
        pdf.stream(refs.file, &compressed)
            .filter(Filter::FlateDecode)
            .pair(
                Name(b"Length1"),
                i32::try_from(subset.len()).unwrap_or(i32::MAX),
            );

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
        for (gid, c) in &self.chars {
            cmap.pair(*gid, *c);
        }
        pdf.cmap(refs.to_unicode, &cmap.finish());
        Ok(())
    }

    /// Six capital letters derived from the glyph set, as PDF subset names require.
    fn subset_tag(&self) -> String {
        let mut hash = Sha256::new();
        for gid in self.remapper.remapped_gids() {
            hash.update(gid.to_be_bytes());
        }
        hash.finalize()
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// An outline's points and contour ends, to tell glyph shapes apart.
    #[derive(Default, PartialEq, Debug)]
    struct Shape {
        contours: usize,
        points: Vec<(i32, i32)>,
    }

    impl Shape {
        fn point(&mut self, x: f32, y: f32) {
            self.points.push((x as i32, y as i32));
        }
    }

    impl ttf_parser::OutlineBuilder for Shape {
        fn move_to(&mut self, x: f32, y: f32) {
            self.point(x, y);
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.point(x, y);
        }
        fn quad_to(&mut self, _: f32, _: f32, x: f32, y: f32) {
            self.point(x, y);
        }
        fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, x: f32, y: f32) {
            self.point(x, y);
        }
        fn close(&mut self) {
            self.contours += 1;
        }
    }

    fn shape(font: &CardFont, c: char) -> Shape {
        let mut shape = Shape::default();
        font.face.outline_glyph(font.glyph(c), &mut shape).unwrap();
        shape
    }

    #[test]
    fn the_embedded_font_is_dejavu_sans_mono() {
        let font = CardFont::load().unwrap();
        let names: Vec<String> = font
            .face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .filter_map(|n| n.to_string())
            .collect();
        assert!(names.iter().any(|n| n == FONT_NAME), "{names:?}");
        assert!(font.face.is_monospaced());
    }

    #[test]
    fn the_zero_carries_a_mark_that_the_letter_o_does_not() {
        let font = CardFont::load().unwrap();
        // O is a ring (two contours); the zero adds a third, its dot.
        assert_eq!(shape(&font, 'O').contours, 2);
        assert_eq!(shape(&font, 'o').contours, 2);
        assert!(
            shape(&font, '0').contours >= 3,
            "{:?}",
            shape(&font, '0').contours
        );
    }

    #[test]
    fn l_one_and_capital_i_are_three_different_shapes() {
        let font = CardFont::load().unwrap();
        let (l, one, i) = (shape(&font, 'l'), shape(&font, '1'), shape(&font, 'I'));
        assert!(l != one && one != i && l != i, "{l:?} {one:?} {i:?}");
        assert_ne!(font.glyph('l'), font.glyph('1'));
        assert_ne!(font.glyph('1'), font.glyph('I'));
    }

    #[test]
    fn every_glyph_is_as_wide_as_every_other() {
        let font = CardFont::load().unwrap();
        let widths: Vec<f32> = "lI1O0o-mW"
            .chars()
            .map(|c| font.measure(&c.to_string()))
            .collect();
        assert!(
            widths.iter().all(|w| (w - widths[0]).abs() < 1e-6),
            "{widths:?}"
        );
    }
}
