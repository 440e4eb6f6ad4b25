//! The bootstrap manifest, `strap.toml`: what a machine should have. Parsed strictly — an
//! unknown key, a wrong type or a reference to something the file does not define is an error
//! naming the file and line, before anything runs. Its JSON Schema is derived from the same
//! types (`strap bootstrap --schema`).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::boost::plan::{Link, Variant};
use crate::config::{line_of, PrebuiltMode};
use crate::fetch::mirror::Archives;

/// The manifest's file name, looked for in the current directory and above.
pub const MANIFEST_FILE: &str = "strap.toml";

/// `strap.toml`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "strap.toml",
    description = "What `strap bootstrap` installs and sets up"
)]
pub struct Manifest {
    /// Settings for this manifest's installs, over the user's config.
    #[serde(default)]
    pub settings: ManifestSettings,
    /// The Python versions to install and the global one.
    #[serde(default)]
    pub python: PythonSection,
    /// Virtualenvs to create (pyenv-virtualenv layout).
    #[serde(default)]
    pub virtualenv: Vec<VirtualenvItem>,
    /// Boost builds.
    #[serde(default)]
    pub boost: Vec<BoostItem>,
    /// Recipes to run, in order.
    #[serde(default)]
    pub recipe: Vec<RecipeItem>,
}

/// `[settings]`: mirrors and jobs for this manifest (they replace the config's and the
/// environment's).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestSettings {
    /// CPython mirror URL templates (`{version}`, `{file}`, `{sha256}`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub python_mirrors: Vec<Spanned<String>>,
    /// Boost mirror URL templates.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub boost_mirrors: Vec<Spanned<String>>,
    /// Binary mirrors looked up for packed builds first: `file:///DIR`, `https://HOST/DIR`,
    /// `oci://REGISTRY/REPO`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub binary: Vec<Spanned<String>>,
    /// Build parallelism (1 to 1024).
    #[schemars(with = "Option<usize>")]
    pub jobs: Option<Spanned<usize>>,
    /// Prebuilt CPython: `never`, `prefer` or `only` (as the config's `[python] prebuilt`).
    #[schemars(with = "Option<String>")]
    pub prebuilt: Option<PrebuiltMode>,
}

/// `[python]`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonSection {
    /// Versions to install: exact (`3.12.7`) or a prefix (`3.12`: the newest known).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub versions: Vec<Spanned<String>>,
    /// The global version (one of `versions`).
    #[schemars(with = "Option<String>")]
    pub global: Option<Spanned<String>>,
}

/// `[[virtualenv]]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirtualenvItem {
    /// Its name (`strap local NAME` selects it).
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The Python it is made from (one of `[python] versions`).
    #[schemars(with = "String")]
    pub python: Spanned<String>,
    /// A requirements file installed into it, relative to the manifest.
    pub requirements: Option<PathBuf>,
}

/// `[[boost]]`: what `strap boost install` takes, checked the same way before anything runs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoostItem {
    /// A release (`1.86.0`, `1.86`, `latest`).
    #[schemars(with = "String")]
    pub version: Spanned<String>,
    /// The Python Boost.Python is built against (one of `[python] versions`).
    #[schemars(with = "Option<String>")]
    pub python: Option<Spanned<String>>,
    /// Libraries to build (none: headers only; `python` needs `python`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub with: Vec<Spanned<String>>,
    /// Build variants (default: release).
    #[serde(default)]
    pub variant: Vec<Variant>,
    /// Linkage (default: shared).
    #[serde(default)]
    pub link: Vec<Link>,
}

/// `[[recipe]]`: a built-in recipe by `name`, or a recipe file by `path` (relative to the
/// manifest).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeItem {
    pub name: Option<String>,
    pub path: Option<PathBuf>,
    /// The recipe's variables.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, serde_json::Value>")]
    pub vars: toml::Table,
    /// Run before the items of that kind (`before = "python"`: e.g. a recipe that installs
    /// CPython's build prerequisites); recipes run last otherwise.
    pub before: Option<Before>,
}

/// What a recipe can run before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Before {
    /// The `[python] versions` installs (and all that follows them).
    Python,
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("no {MANIFEST_FILE} in {} or above (or name one with -f FILE)", .0.display())]
    NotFound(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{} declares nothing to set up: no [python] versions or global, [[virtualenv]], [[boost]] or [[recipe]]", .0.display())]
    Empty(PathBuf),
}

impl crate::error::Explain for ManifestError {
    fn exit_code(&self) -> i32 {
        crate::error::EXIT_USAGE
    }

    fn hint(&self) -> Option<String> {
        match self {
            ManifestError::Invalid { .. } => Some(
                "`strap bootstrap --schema` prints the manifest's JSON Schema for editors"
                    .to_owned(),
            ),
            ManifestError::Empty(_) => Some(
                "add what this machine needs, e.g. [python] versions = [\"3.12\"] \
                 (`strap bootstrap --schema` describes every section)"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// A parsed and checked manifest, where it is and its text.
#[derive(Debug)]
pub struct Loaded {
    pub manifest: Manifest,
    pub path: PathBuf,
    text: String,
}

impl Loaded {
    /// The manifest's directory (relative paths in it start there).
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// An error about what is at byte `offset` (a span of the manifest), naming file and line.
    pub fn invalid_at(&self, offset: usize, message: String) -> ManifestError {
        invalid(&self.path, &self.text, offset, message)
    }
}

/// An error about what is at byte `offset` of the manifest `text` at `path`.
fn invalid(path: &Path, text: &str, offset: usize, message: String) -> ManifestError {
    ManifestError::Invalid {
        path: path.to_owned(),
        line: line_of(text, offset),
        message,
    }
}

/// `strap.toml` in `start` or the nearest directory above it.
pub fn find(start: &Path) -> Result<PathBuf, ManifestError> {
    start
        .ancestors()
        .map(|dir| dir.join(MANIFEST_FILE))
        // Anything but a directory is the manifest: a FIFO or a device there is refused when
        // it is read, not passed over.
        .find(|path| std::fs::metadata(path).is_ok_and(|meta| !meta.is_dir()))
        .ok_or_else(|| ManifestError::NotFound(start.to_owned()))
}

/// Reads, parses and checks the manifest at `path`.
pub fn load(path: &Path) -> Result<Loaded, ManifestError> {
    let text = crate::bounded::read_text(path).map_err(|source| ManifestError::Read {
        path: path.to_owned(),
        source,
    })?;
    let manifest = parse(path, &text)?;
    Ok(Loaded {
        manifest,
        path: path.to_owned(),
        text,
    })
}

/// Parses and checks manifest text; errors name `path` and the line.
pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let invalid = |offset: usize, message: String| invalid(path, text, offset, message);
    let manifest: Manifest = toml::from_str(text)
        .map_err(|e| invalid(e.span().map_or(0, |s| s.start), e.message().to_owned()))?;
    if manifest.declares_nothing() {
        return Err(ManifestError::Empty(path.to_owned()));
    }
    let listed = |request: &Spanned<String>| {
        manifest
            .python
            .versions
            .iter()
            .any(|v| satisfies(v.get_ref(), request.get_ref()))
    };
    let versions: Vec<&str> = manifest
        .python
        .versions
        .iter()
        .map(|v| v.get_ref().as_str())
        .collect();
    let not_listed = |what: &str, request: &Spanned<String>| {
        invalid(
            request.span().start,
            format!(
                "{what} uses Python '{}', which [python] versions does not list ({})",
                request.get_ref(),
                if versions.is_empty() {
                    "it lists none".to_owned()
                } else {
                    versions.join(", ")
                }
            ),
        )
    };
    let settings = &manifest.settings;
    for template in settings
        .python_mirrors
        .iter()
        .chain(&settings.boost_mirrors)
    {
        crate::fetch::mirror::check(template.get_ref(), Archives::Sources, "[settings]")
            .map_err(|e| invalid(template.span().start, e.message))?;
    }
    for mirror in &settings.binary {
        crate::binary::BinaryMirror::parse(mirror.get_ref(), "[settings] binary")
            .map_err(|e| invalid(mirror.span().start, e.message))?;
    }
    if let Some(jobs) = &settings.jobs {
        crate::settings::check_jobs(*jobs.get_ref(), "[settings] jobs")
            .map_err(|e| invalid(jobs.span().start, e.message))?;
    }
    if let Some(global) = &manifest.python.global {
        if global.get_ref() != "system" && !listed(global) {
            return Err(not_listed("[python] global", global));
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for env in &manifest.virtualenv {
        if !listed(&env.python) {
            return Err(not_listed(
                &format!("virtualenv '{}'", env.name.get_ref()),
                &env.python,
            ));
        }
        if let Err(e) = crate::virtualenv::check_name(env.name.get_ref()) {
            return Err(invalid(env.name.span().start, e.to_string()));
        }
        if names.contains(&env.name.get_ref().as_str()) {
            return Err(invalid(
                env.name.span().start,
                format!("virtualenv '{}' is defined twice", env.name.get_ref()),
            ));
        }
        names.push(env.name.get_ref());
    }
    for boost in &manifest.boost {
        if let Some(python) = &boost.python {
            if !listed(python) {
                return Err(not_listed(
                    &format!("boost {}", boost.version.get_ref()),
                    python,
                ));
            }
        }
    }
    for (index, recipe) in manifest.recipe.iter().enumerate() {
        if recipe.name.is_some() == recipe.path.is_some() {
            let offset = nth_table_offset(text, "[[recipe]]", index);
            return Err(invalid(
                offset,
                "a [[recipe]] needs exactly one of name (a built-in recipe) or path (a recipe file)"
                    .to_owned(),
            ));
        }
    }
    Ok(manifest)
}

impl Manifest {
    /// True when it asks for nothing: no Python, global version, virtualenv, Boost or recipe
    /// (`[settings]` alone sets nothing up).
    fn declares_nothing(&self) -> bool {
        self.python.versions.is_empty()
            && self.python.global.is_none()
            && self.virtualenv.is_empty()
            && self.boost.is_empty()
            && self.recipe.is_empty()
    }
}

/// True when the manifest's `version` entry serves a reference to `request` (`3.12` serves
/// `3.12` and `3.12.7` serves `3.12`; `3.12` serves `3.12.7` too: it installs the newest 3.12).
pub fn satisfies(version: &str, request: &str) -> bool {
    crate::dotted::is_under(request, version, &['.'])
        || crate::dotted::is_under(version, request, &['.'])
}

/// The byte offset of the `index`-th `header` line (for errors about a table without a span).
fn nth_table_offset(text: &str, header: &str, index: usize) -> usize {
    text.match_indices(header)
        .nth(index)
        .map_or(0, |(at, _)| at)
}

/// The manifest's JSON Schema, for editors.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    serde_json::to_string_pretty(&schema).expect("a schema serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(Path::new("strap.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_full_manifest_parses() {
        let text = r#"
[settings]
python_mirrors = ["file:///m/{file}"]
jobs = 2

[python]
versions = ["3.12.7", "3.11"]
global = "3.12.7"

[[virtualenv]]
name = "proj"
python = "3.12"
requirements = "requirements.txt"

[[boost]]
version = "1.86.0"
python = "3.11"
with = ["python", "filesystem"]

[[recipe]]
name = "can"
vars = { interfaces = ["vcan0"], bitrate = 500000 }
"#;
        let manifest = parse(Path::new("strap.toml"), text).unwrap();
        assert_eq!(manifest.python.versions.len(), 2);
        assert_eq!(manifest.virtualenv[0].python.get_ref(), "3.12");
        let with: Vec<&str> = manifest.boost[0]
            .with
            .iter()
            .map(|w| w.get_ref().as_str())
            .collect();
        assert_eq!(with, ["python", "filesystem"]);
        assert_eq!(
            manifest.recipe[0].vars["bitrate"].as_integer(),
            Some(500000)
        );
        assert_eq!(manifest.settings.jobs.map(|j| *j.get_ref()), Some(2));
    }

    #[test]
    fn mistakes_are_reported_with_file_and_line() {
        assert_eq!(
            error("[python]\nversions = [\"3.12\"]\nglobel = \"3.12\"\n"),
            "strap.toml:3: unknown field `globel`, expected `versions` or `global`"
        );
        assert!(error("[python]\nversions = \"3.12\"\n").starts_with("strap.toml:2: invalid type"));
        assert_eq!(
            error("[python]\nversions = [\"3.12\"]\n\n[[virtualenv]]\nname = \"proj\"\npython = \"3.11\"\n"),
            "strap.toml:6: virtualenv 'proj' uses Python '3.11', which [python] versions does not list (3.12)"
        );
        assert_eq!(
            error("[[boost]]\nversion = \"1.86\"\npython = \"3.12\"\n"),
            "strap.toml:3: boost 1.86 uses Python '3.12', which [python] versions does not list (it lists none)"
        );
        assert_eq!(
            error("[python]\nversions = [\"3.12\"]\nglobal = \"3.13\"\n"),
            "strap.toml:3: [python] global uses Python '3.13', which [python] versions does not list (3.12)"
        );
        assert_eq!(
            error("[[recipe]]\nvars = {}\n\n[[recipe]]\nname = \"a\"\npath = \"b.toml\"\n"),
            "strap.toml:1: a [[recipe]] needs exactly one of name (a built-in recipe) or path (a recipe file)"
        );
        assert!(error(
            "[python]\nversions = [\"3.12\"]\n[[virtualenv]]\nname = \"../x\"\npython = \"3.12\"\n"
        )
        .starts_with("strap.toml:4: '../x' is not a virtualenv name"));
    }

    #[test]
    fn requests_and_versions_match_by_prefix() {
        assert!(satisfies("3.12.7", "3.12"));
        assert!(satisfies("3.12", "3.12.7"));
        assert!(satisfies("3.12", "3.12"));
        assert!(!satisfies("3.12", "3.1"));
        assert!(!satisfies("3.11.2", "3.12"));
    }

    #[test]
    fn the_schema_describes_every_section() {
        let schema: serde_json::Value = serde_json::from_str(&schema()).unwrap();
        let properties = &schema["properties"];
        for key in ["settings", "python", "virtualenv", "boost", "recipe"] {
            assert!(properties.get(key).is_some(), "{key}: {schema}");
        }
        assert_eq!(schema["additionalProperties"], false);
    }
}
