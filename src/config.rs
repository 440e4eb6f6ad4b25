//! The user's config file (`$XDG_CONFIG_HOME/strap/config.toml`, or `STRAP_CONFIG`).
//!
//! ```toml
//! [python]
//! mirrors = ["https://mirror.example/python/{version}/{file}"]
//! configure_opts = ["--enable-optimizations"]
//! jobs = 4
//! prebuilt = "prefer"   # never (default), prefer or only: python-build-standalone's builds
//! prebuilt_mirrors = ["https://mirror.example/pbs/{build}/{file}"]
//!
//! [boost]
//! mirrors = ["https://mirror.example/boost/{version}/source/{file}"]
//! jobs = 2
//!
//! [cache]
//! builds = false   # do not pack builds into <cache>/builds/ nor install from there
//! binary = ["oci://registry.example/team/strap-builds", "file:///srv/builds"]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env_vars;

/// The parsed config; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub python: PythonConfig,
    #[serde(default)]
    pub boost: BoostConfig,
    #[serde(default)]
    pub cache: CacheConfig,
    /// The file it was read from (for messages); empty when there was none.
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[python]`: settings for CPython installs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonConfig {
    /// Mirror URL templates tried in order (after `STRAP_PYTHON_MIRRORS` and `--mirror`).
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Extra `configure` options.
    #[serde(default)]
    pub configure_opts: Vec<String>,
    /// Build parallelism.
    pub jobs: Option<usize>,
    /// Whether installs use python-build-standalone's prebuilt CPython (after
    /// `STRAP_PYTHON_PREBUILT`, `--prebuilt` and `--no-prebuilt`).
    pub prebuilt: Option<PrebuiltMode>,
    /// Mirror URL templates (`{build}`, `{file}`) for prebuilt CPython archives (after
    /// `STRAP_PREBUILT_MIRRORS` and `--prebuilt-mirror`).
    #[serde(default)]
    pub prebuilt_mirrors: Vec<String>,
}

/// Whether CPython installs use python-build-standalone's prebuilt builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum PrebuiltMode {
    /// Always build from source (the default: a pyenv drop-in keeps compiling).
    #[default]
    Never,
    /// The prebuilt build where there is one that installs and verifies, else from source.
    Prefer,
    /// The prebuilt build or fail.
    Only,
}

impl TryFrom<String> for PrebuiltMode {
    type Error = String;

    fn try_from(name: String) -> Result<PrebuiltMode, String> {
        PrebuiltMode::named(&name)
            .ok_or_else(|| format!("expected never, prefer or only, not '{name}'"))
    }
}

impl PrebuiltMode {
    /// Every mode, by its name.
    pub const ALL: [(&'static str, PrebuiltMode); 3] = [
        ("never", PrebuiltMode::Never),
        ("prefer", PrebuiltMode::Prefer),
        ("only", PrebuiltMode::Only),
    ];

    /// The mode called `name`.
    pub fn named(name: &str) -> Option<PrebuiltMode> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, mode)| *mode)
    }

    /// This mode's name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .expect("every mode is named")
    }
}

/// `[boost]`: settings for Boost builds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoostConfig {
    /// Mirror URL templates tried in order (after `STRAP_BOOST_MIRRORS` and `--mirror`).
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Build parallelism.
    pub jobs: Option<usize>,
}

/// `[cache]`: the build cache.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Pack every source build into `<cache>/builds/` and install from there when the same
    /// build is asked for again (default: true).
    #[serde(default = "yes")]
    pub builds: bool,
    /// Binary mirrors that packed builds are looked up in (after `STRAP_BINARY_MIRRORS` and
    /// `--binary-mirror`).
    #[serde(default)]
    pub binary: Vec<String>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            builds: true,
            binary: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}{}: {source}", path.display(), if *.named { " (named by STRAP_CONFIG)" } else { "" })]
    Read {
        path: PathBuf,
        source: std::io::Error,
        /// Named by `STRAP_CONFIG` (a usage error when missing).
        named: bool,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl crate::error::Explain for ConfigError {
    fn exit_code(&self) -> i32 {
        match self {
            // The default file that cannot be read (its permissions, say) is a failure; one
            // that is no regular file or too large is a bad config, wherever it is.
            ConfigError::Read {
                named: false,
                source,
                ..
            } if crate::bounded::refusal(source).is_none() => crate::error::EXIT_FAILURE,
            ConfigError::Read { .. } | ConfigError::Parse { .. } => crate::error::EXIT_USAGE,
        }
    }
}

impl Config {
    /// Where a setting of this file came from, as error messages name it.
    pub fn origin(&self, key: &str) -> String {
        format!("{} key {key}", self.path.display())
    }

    /// Loads the config from `STRAP_CONFIG` or the default path; a missing file is an empty config.
    pub fn load() -> Result<Config, ConfigError> {
        let (path, named) = match std::env::var_os(env_vars::STRAP_CONFIG).filter(|p| !p.is_empty())
        {
            Some(path) => (PathBuf::from(path), true),
            None => match dirs::config_dir() {
                Some(dir) => (dir.join("strap/config.toml"), false),
                None => return Ok(Config::default()),
            },
        };
        match crate::bounded::read_text(&path) {
            Ok(text) => Config::parse(&path, &text).map(|config| Config { path, ..config }),
            // The default file is optional; one named by STRAP_CONFIG must exist.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read {
                path,
                source,
                named,
            }),
        }
    }

    /// Parses config text; errors name the file and line.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            line: e.span().map_or(1, |span| line_of(text, span.start)),
            message: explain(text, &e),
        })
    }
}

/// A TOML error in words. A value of the wrong type names its key, the value given and what is
/// expected (`python.jobs = "four": expected a whole number`); other errors keep toml's message.
fn explain(text: &str, e: &toml::de::Error) -> String {
    let message = e.message();
    let expected = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "))
        .map(|(_, expected)| expected);
    let setting = e.span().and_then(|span| setting_at(text, span.start));
    match (expected, setting) {
        (Some(expected), Some(setting)) => {
            let expected = match expected {
                "usize" | "u8" | "u16" | "u32" | "u64" | "i64" | "an integer" => "a whole number",
                "a boolean" => "true or false",
                "a sequence" => "a list in brackets",
                "a string" => "a string in quotes",
                other => other,
            };
            format!("{setting}: expected {expected}")
        }
        _ => message.to_owned(),
    }
}

/// The `key = value` line around byte `offset`, its key prefixed with the `[table]` it is in.
fn setting_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let (key, value) = text[start..end].split_once('=')?;
    let table = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|line| line.strip_prefix('[')?.strip_suffix(']'));
    let key = match table {
        Some(table) => format!("{}.{}", table.trim(), key.trim()),
        None => key.trim().to_owned(),
    };
    Some(format!("{key} = {}", value.trim()))
}

/// The 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_settings() {
        let text = "[python]\nmirrors = [\"file:///m/{file}\"]\njobs = 3\n";
        let config = Config::parse(Path::new("c.toml"), text).unwrap();
        assert_eq!(config.python.mirrors, ["file:///m/{file}"]);
        assert_eq!(config.python.jobs, Some(3));
        let text = "[python]\nprebuilt = \"only\"\n";
        let config = Config::parse(Path::new("c.toml"), text).unwrap();
        assert_eq!(config.python.prebuilt, Some(PrebuiltMode::Only));
        let err = Config::parse(Path::new("c.toml"), "[python]\nprebuilt = \"always\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("never") && err.contains("only"), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key_and_what_is_expected() {
        let err = Config::parse(Path::new("c.toml"), "[python]\njobs = \"four\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.toml:2: python.jobs = \"four\": expected a whole number"
        );
        let err = Config::parse(Path::new("c.toml"), "[cache]\nbuilds = \"no\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.toml:2: cache.builds = \"no\": expected true or false"
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = "[python]\njobs = 2\nmirrors = \"not a list\"\n";
        let err = Config::parse(Path::new("/etc/c.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/etc/c.toml:3: "), "{err}");
        let err = Config::parse(Path::new("c.toml"), "[python]\nmirors = []\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c.toml:2: ") && err.contains("mirors"),
            "{err}"
        );
    }
}
