//! `/etc/os-release`: which distribution a system runs.

use std::path::Path;

/// The parsed `KEY=value` lines of an os-release file.
#[derive(Debug, Default, Clone)]
pub struct OsRelease {
    text: String,
}

impl OsRelease {
    /// Parses os-release text.
    #[cfg(test)]
    pub fn parse(text: &str) -> OsRelease {
        OsRelease {
            text: text.to_owned(),
        }
    }

    /// `<root>/etc/os-release`, else `/etc/os-release`, else empty.
    pub fn read(root: &Path) -> OsRelease {
        let text = crate::bounded::read_text(&root.join("etc/os-release"))
            .or_else(|_| crate::bounded::read_text(Path::new("/etc/os-release")))
            .unwrap_or_default();
        OsRelease { text }
    }

    /// A field's value without quotes; empty when absent.
    pub fn field(&self, key: &str) -> String {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').trim_matches('\'').to_owned())
            .unwrap_or_default()
    }

    /// `ID` followed by the `ID_LIKE` entries, most specific first.
    pub fn ids(&self) -> Vec<String> {
        format!("{} {}", self.field("ID"), self.field("ID_LIKE"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}
