//! Fitting a line of text into a box on a card: shrink, then wrap, then cut.
//!
//! The promise: the lines returned, at the size returned, are no wider than the
//! box. Text that may not be cut (a login, a password) only shrinks, on one line,
//! so it is always printed whole and in one piece.

/// How a piece of text may be fitted.
#[derive(Clone, Copy, Debug)]
pub struct Fit {
    /// The box's width in points.
    pub width: f32,
    /// The size used when the text fits as it is.
    pub size: f32,
    /// The smallest size before wrapping (or, for `Whole`, the size is not bounded).
    pub min_size: f32,
    pub rule: Rule,
}

/// What may happen to text that is too long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// One line, shrunk as far as needed: never wrapped or cut.
    Whole,
    /// Shrunk to `min_size`, then wrapped onto up to this many lines, then cut short with "…".
    Wrap(usize),
}

/// Text laid out to fit: every line is at most [`Fit::width`] wide at `size`.
#[derive(Debug, PartialEq)]
pub struct Fitted {
    pub size: f32,
    pub lines: Vec<String>,
}

const ELLIPSIS: char = '…';

/// Fits `text` by `fit`; `measure` gives a string's width at size 1.
pub fn fit(text: &str, fit: Fit, measure: &dyn Fn(&str) -> f32) -> Fitted {
    let natural = measure(text);
    if natural * fit.size <= fit.width || natural <= 0.0 {
        return one_line(fit.size, text);
    }
    let shrunk = fit.width / natural;
    match fit.rule {
        Rule::Whole => one_line(shrunk, text),
        Rule::Wrap(_) if shrunk >= fit.min_size => one_line(shrunk, text),
        Rule::Wrap(max_lines) => {
            let size = fit.min_size;
            let limit = fit.width / size;
            let mut lines = wrap(text, limit, measure);
            if lines.len() > max_lines.max(1) {
                lines.truncate(max_lines.max(1));
                if let Some(last) = lines.last_mut() {
                    *last = cut(last, limit, measure);
                }
            }
            Fitted { size, lines }
        }
    }
}

fn one_line(size: f32, text: &str) -> Fitted {
    Fitted {
        size,
        lines: vec![text.to_owned()],
    }
}

/// Greedy wrapping at `limit` (a width at size 1): each line takes as much as
/// fits, broken after the last space or URL/name punctuation when there is one.
fn wrap(text: &str, limit: f32, measure: &dyn Fn(&str) -> f32) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let end = longest_fitting(&chars[start..], limit, measure) + start;
        let end = if end < chars.len() {
            last_break(&chars[start..end]).map_or(end, |b| start + b)
        } else {
            end
        };
        let line: String = chars[start..end].iter().collect();
        lines.push(line.trim_end().to_owned());
        start = end;
        while chars.get(start) == Some(&' ') {
            start += 1;
        }
    }
    lines
}

/// How many leading characters fit in `limit`; at least one, so wrapping advances.
fn longest_fitting(chars: &[char], limit: f32, measure: &dyn Fn(&str) -> f32) -> usize {
    let mut line = String::new();
    for (i, c) in chars.iter().enumerate() {
        line.push(*c);
        if measure(&line) > limit {
            return i.max(1);
        }
    }
    chars.len()
}

/// The position just after the last good place to break, if it is not the very start.
fn last_break(chars: &[char]) -> Option<usize> {
    chars
        .iter()
        .rposition(|c| matches!(c, ' ' | '-' | '/' | '?' | '&' | '.' | '_' | '='))
        .map(|i| i + 1)
        .filter(|&b| b > 0 && b < chars.len())
}

/// `line` shortened until it and an ellipsis fit in `limit`.
fn cut(line: &str, limit: f32, measure: &dyn Fn(&str) -> f32) -> String {
    let mut chars: Vec<char> = line.chars().collect();
    loop {
        let candidate: String = chars.iter().chain(std::iter::once(&ELLIPSIS)).collect();
        if measure(&candidate) <= limit || chars.is_empty() {
            return candidate;
        }
        chars.pop();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A monospace measure: every character is 0.6 wide at size 1.
    fn mono(s: &str) -> f32 {
        s.chars().count() as f32 * 0.6
    }

    fn width_of(f: &Fitted) -> f32 {
        f.lines.iter().map(|l| mono(l)).fold(0.0, f32::max) * f.size
    }

    #[test]
    fn text_that_fits_keeps_its_size_on_one_line() {
        let f = fit("Ada Lovelace", wrap_box(100.0, 2), &mono);
        assert_eq!(f, one_line(12.0, "Ada Lovelace"));
    }

    fn wrap_box(width: f32, lines: usize) -> Fit {
        Fit {
            width,
            size: 12.0,
            min_size: 8.0,
            rule: Rule::Wrap(lines),
        }
    }

    #[test]
    fn slightly_long_text_shrinks_but_stays_on_one_line() {
        let text = "Augusta Ada King Lovelace";
        let f = fit(text, wrap_box(150.0, 2), &mono);
        assert_eq!(f.lines, vec![text.to_owned()]);
        assert!(f.size < 12.0 && f.size >= 8.0);
        assert!(width_of(&f) <= 150.0 + 1e-3);
    }

    #[test]
    fn long_text_wraps_at_a_space_and_every_line_fits() {
        let text = "Maria Guadalupe Fernanda de la Concepcion Rodriguez";
        let f = fit(text, wrap_box(100.0, 3), &mono);
        assert_eq!(f.size, 8.0);
        assert!(f.lines.len() > 1 && f.lines.len() <= 3);
        assert!(width_of(&f) <= 100.0 + 1e-3);
        assert_eq!(f.lines.join(" "), text);
    }

    #[test]
    fn text_too_long_for_its_lines_is_cut_with_an_ellipsis_and_fits() {
        let text = "x".repeat(500);
        let f = fit(&text, wrap_box(100.0, 2), &mono);
        assert_eq!(f.lines.len(), 2);
        assert!(f.lines[1].ends_with('…'));
        assert!(width_of(&f) <= 100.0 + 1e-3);
    }

    #[test]
    fn a_password_is_never_wrapped_or_cut_only_shrunk() {
        let password = "elephant-umbrella-whisper-472-elephant-umbrella";
        let whole = Fit {
            rule: Rule::Whole,
            ..wrap_box(100.0, 1)
        };
        let f = fit(password, whole, &mono);
        assert_eq!(f.lines, vec![password.to_owned()]);
        assert!(width_of(&f) <= 100.0 + 1e-3);
    }
}
