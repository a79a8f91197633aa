//! Where the server key comes from: `HALLPASS_SECRET_KEY` when it is set;
//! otherwise, on SQLite, a key file beside the database (`hallpass.db.key`),
//! generated from the OS's random source on first run and read on every later
//! one. On PostgreSQL the key must be configured: several instances share the
//! database and must all hash under the same key, and there is no one place
//! beside the database to keep a file.
//!
//! Promises: the key file is created with mode 0600 from its first byte (the
//! key is written to a new 0600 file, which is then hard-linked into place, so
//! there is no moment with wider permissions and no moment where a second
//! process can read a half-written key); an existing file is never overwritten;
//! errors name the file and never carry the key.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;

use super::secret_key::SecretKey;

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "HALLPASS_SECRET_KEY is not set, and it is required with PostgreSQL: several instances share the database and must hash link codes and reset tokens under the same key. Generate one with `openssl rand -hex 32` and give every instance the same value."
    )]
    Required,
    #[error("Failed to read the key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("Failed to create the key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "The key file {path} does not hold a key (64 hex digits); restore it from a backup, or delete it to start with a new key (outstanding link codes and reset links then stop working)"
    )]
    Invalid { path: String },
}

/// Where the key in use came from (for the start-up log line; never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `HALLPASS_SECRET_KEY`.
    Configured,
    /// The key file beside the SQLite database; `created` on first run.
    File { path: PathBuf, created: bool },
    /// An in-memory SQLite database: a key for this process, which the data does not outlive.
    Ephemeral,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Configured => f.write_str("HALLPASS_SECRET_KEY"),
            Self::File {
                path,
                created: true,
            } => write!(f, "the new key file {}", path.display()),
            Self::File { path, .. } => write!(f, "the key file {}", path.display()),
            Self::Ephemeral => f.write_str("a key for this process (in-memory database)"),
        }
    }
}

/// The key to hash one-time secrets under, for the database at `database_url`.
pub fn resolve_secret_key(
    configured: Option<&SecretKey>,
    database_url: &str,
) -> Result<(SecretKey, KeySource), KeyError> {
    if let Some(key) = configured {
        return Ok((key.clone(), KeySource::Configured));
    }
    match sqlite_file(database_url) {
        SqliteFile::NotSqlite => Err(KeyError::Required),
        SqliteFile::InMemory => Ok((SecretKey::generate(&mut OsRng).0, KeySource::Ephemeral)),
        SqliteFile::Path(database) => {
            let mut name = database.into_os_string();
            name.push(".key");
            let path = PathBuf::from(name);
            let (key, created) = load_or_create(&path)?;
            Ok((key, KeySource::File { path, created }))
        }
    }
}

enum SqliteFile {
    NotSqlite,
    InMemory,
    Path(PathBuf),
}

/// The database file of a `sqlite:` URL, read as sqlx reads it (prefix
/// stripped, query cut off, percent-decoded).
fn sqlite_file(url: &str) -> SqliteFile {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return SqliteFile::NotSqlite;
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = database == ":memory:"
        || url::form_urlencoded::parse(params.as_bytes())
            .any(|(key, value)| key == "mode" && value == "memory");
    if in_memory {
        return SqliteFile::InMemory;
    }
    let decoded = percent_encoding::percent_decode_str(database).decode_utf8_lossy();
    SqliteFile::Path(PathBuf::from(decoded.into_owned()))
}

/// Reads the key file, or creates it with a fresh key; `true` when created.
fn load_or_create(path: &Path) -> Result<(SecretKey, bool), KeyError> {
    match read_key(path) {
        Ok(key) => return Ok((key, false)),
        Err(KeyError::Read { source, .. }) if source.kind() == ErrorKind::NotFound => {}
        Err(other) => return Err(other),
    }
    let (key, text) = SecretKey::generate(&mut OsRng);
    let shown = path.display().to_string();
    let write_error = |source| KeyError::Write {
        path: shown.clone(),
        source,
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hallpass.key".into());
    let staging = path.with_file_name(format!(".{file_name}.{}.new", uuid::Uuid::new_v4()));
    let written = write_new_private(&staging, format!("{}\n", text.as_str()).as_bytes());
    let linked = written.and_then(|()| std::fs::hard_link(&staging, path));
    let _ = std::fs::remove_file(&staging);
    match linked {
        Ok(()) => Ok((key, true)),
        // Another process started at the same moment and won: use its key.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok((read_key(path)?, false)),
        Err(e) => Err(write_error(e)),
    }
}

/// Creates `path` (which must not exist) readable and writable by its owner
/// only, writes `contents` and flushes it to disk.
fn write_new_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn read_key(path: &Path) -> Result<SecretKey, KeyError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: shown.clone(),
        source,
    })?;
    warn_if_shared(path);
    SecretKey::parse(&text).map_err(|_| KeyError::Invalid { path: shown })
}

/// A key file others can read is still used (refusing would stop the service
/// over a `chmod`), but the operator is told.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the key file can be read by other users; run chmod 600 on it"
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::credentials::secret_key::SecretKind;

    fn same(a: &SecretKey, b: &SecretKey) -> bool {
        a.hash(SecretKind::LinkCode, ["probe"]) == b.hash(SecretKind::LinkCode, ["probe"])
    }

    #[test]
    fn the_key_file_sits_beside_the_sqlite_database() {
        let cases = [
            ("sqlite://hallpass.db", "hallpass.db"),
            (
                "sqlite:///var/lib/hallpass/h.db?mode=rwc",
                "/var/lib/hallpass/h.db",
            ),
            ("sqlite:data/my%20school.db", "data/my school.db"),
        ];
        for (url, file) in cases {
            match sqlite_file(url) {
                SqliteFile::Path(path) => assert_eq!(path, PathBuf::from(file), "{url}"),
                _ => unreachable!("{url} is a file"),
            }
        }
        assert!(matches!(
            sqlite_file("sqlite::memory:"),
            SqliteFile::InMemory
        ));
        assert!(matches!(
            sqlite_file("sqlite://x.db?mode=memory"),
            SqliteFile::InMemory
        ));
        assert!(matches!(
            sqlite_file("postgres://db/hallpass"),
            SqliteFile::NotSqlite
        ));
    }

    #[test]
    fn a_key_file_is_created_0600_on_first_run_and_reused_on_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hallpass.db").display());
        let (first, source) = resolve_secret_key(None, &url).unwrap();
        let path = dir.path().join("hallpass.db.key");
        assert_eq!(
            source,
            KeySource::File {
                path: path.clone(),
                created: true
            }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        let (second, source) = resolve_secret_key(None, &url).unwrap();
        assert_eq!(
            source,
            KeySource::File {
                path: path.clone(),
                created: false
            }
        );
        assert!(same(&first, &second), "the next run reads the same key");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "not rewritten"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            vec!["hallpass.db.key".to_owned()],
            "no staging file left"
        );
    }

    #[test]
    fn a_configured_key_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let configured = SecretKey::parse(&"cd".repeat(32)).unwrap();
        let (key, source) = resolve_secret_key(Some(&configured), &url).unwrap();
        assert_eq!(source, KeySource::Configured);
        assert!(same(&key, &configured));
        assert!(!dir.path().join("h.db.key").exists(), "no file is made");
    }

    #[test]
    fn postgres_without_a_key_is_refused_saying_the_key_is_required() {
        let err = resolve_secret_key(None, "postgres://postgres@127.0.0.1/hallpass")
            .err()
            .unwrap();
        let message = err.to_string();
        assert!(
            message.starts_with("HALLPASS_SECRET_KEY is not set"),
            "{message}"
        );
        assert!(message.contains("several instances"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn a_damaged_key_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("h.db.key"), "not a key\n").unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let err = resolve_secret_key(None, &url).err().unwrap();
        assert!(matches!(err, KeyError::Invalid { .. }), "{err}");
        assert!(err.to_string().contains("h.db.key"));
    }
}
