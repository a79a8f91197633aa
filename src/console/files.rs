//! Attachments the console writes to disk: readable by their owner only
//! (mode 0600, since a class's cards hold passwords), under the name the
//! command gave, and never over an existing file (`cards.pdf`, then
//! `cards-1.pdf`, `cards-2.pdf`, ...).

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use crate::commands::Attachment;

/// How many numbered names are tried before giving up.
const MAX_TRIES: u32 = 1000;

/// Writes `file` into `dir` under a name no file has yet; answers its path.
pub fn write_new(dir: &Path, file: &Attachment) -> std::io::Result<PathBuf> {
    let name = safe_name(&file.filename);
    for n in 0..MAX_TRIES {
        let path = dir.join(numbered(&name, n));
        // `create_new` refuses an existing file (or link) atomically.
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        match opened {
            Ok(mut out) => {
                out.write_all(file.bytes.expose_secret())?;
                out.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        ErrorKind::AlreadyExists,
        "every numbered name is taken",
    ))
}

/// The last component of `filename` only: a name from a command never
/// leaves the folder.
fn safe_name(filename: &str) -> String {
    Path::new(filename)
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.starts_with('.'))
        .unwrap_or("attachment")
        .to_owned()
}

/// `name` with `-n` before its extension (none for 0).
fn numbered(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{n}.{ext}"),
        _ => format!("{name}-{n}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn an_attachment_is_written_owner_only_and_never_over_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = Attachment::new("cards.pdf", "application/pdf", b"%PDF-1.7 one".to_vec());
        let first = write_new(dir.path(), &file).unwrap();
        let second = write_new(dir.path(), &file).unwrap();
        let third = write_new(dir.path(), &file).unwrap();
        assert_eq!(first, dir.path().join("cards.pdf"));
        assert_eq!(second, dir.path().join("cards-1.pdf"));
        assert_eq!(third, dir.path().join("cards-2.pdf"));
        assert_eq!(std::fs::read(&second).unwrap(), b"%PDF-1.7 one");
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_name_with_a_path_stays_in_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("/tmp/x.pdf"), "x.pdf");
        assert_eq!(safe_name(".."), "attachment");
        assert_eq!(safe_name(".hidden"), "attachment");
        assert_eq!(numbered("cards", 2), "cards-2");
    }
}
