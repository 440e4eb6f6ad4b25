//! Reading and writing version files exactly as pyenv does.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::{Error, Result};
use crate::atomic_file::AtomicFile;
use crate::bounded;
use crate::error::{Io, IoContext};

/// Reads the version names in a version file: the first word of each line; blank lines and words
/// starting with `#` are skipped; `\r` counts as whitespace. Files that are not regular, binary
/// or larger than [`crate::bounded::SMALL_FILE_LIMIT`] are refused.
pub fn read_version_file(path: &Path) -> Result<Vec<String>> {
    let bad = |reason: &str| Error::BadVersionFile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let bytes =
        bounded::read(path, bounded::SMALL_FILE_LIMIT).map_err(|e| match bounded::refusal(&e) {
            Some(refusal) => bad(&refusal.to_string()),
            None => Io::new("read version file", path, e).into(),
        })?;
    if bytes.contains(&0) {
        return Err(bad("it contains binary data, not version names"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("it is not valid UTF-8 text"))?;
    Ok(parse_version_names(text))
}

fn parse_version_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| !word.starts_with('#'))
        // `3.12:2.7` on one line is two names, as pyenv reads it.
        .flat_map(|word| word.split(':'))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Writes `names` one per line, replacing the file atomically (a new temporary file, synced,
/// then a rename that replaces a link at `path` rather than writing through it).
pub fn write_version_file(path: &Path, names: &[String]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).io_context("create directory", dir)?;
    let text: String = names.iter().map(|name| format!("{name}\n")).collect();
    let write = || -> std::io::Result<()> {
        let mut file = AtomicFile::create(path)?;
        file.file().write_all(text.as_bytes())?;
        file.replace()
    };
    Ok(write().io_context("write version file", path)?)
}

#[cfg(test)]
mod tests {
    use super::parse_version_names;

    #[test]
    fn first_word_per_line_comments_and_blank_lines_skipped() {
        let text = "3.12.7 extra words\n\n# a comment\n  2.7.18\n#3.9\n";
        assert_eq!(parse_version_names(text), ["3.12.7", "2.7.18"]);
    }

    #[test]
    fn colons_separate_names_as_in_pyenv() {
        assert_eq!(
            parse_version_names("3.12:2.7\n3.11\n"),
            ["3.12", "2.7", "3.11"]
        );
    }

    #[test]
    fn crlf_is_tolerated() {
        assert_eq!(parse_version_names("3.11\r\n3.10\r\n"), ["3.11", "3.10"]);
        assert_eq!(parse_version_names("3.11\r"), ["3.11"]);
    }

    #[test]
    fn empty_text_selects_nothing() {
        assert!(parse_version_names("\n  \n# only a comment\n").is_empty());
    }
}
