//! The plan of a bootstrap: each item of the manifest, whether this machine already has it,
//! and the strap command that converges it. Deciding needs no network: installed versions,
//! virtualenvs and Boost builds are directories, the global version is a file; recipes are
//! asked by the caller (their checks run commands).

use std::path::Path;

use serde::Serialize;

use toml::Spanned;

use super::manifest::{BoostItem, Loaded, ManifestError, ManifestSettings, VirtualenvItem};
use crate::boost::catalog::{BoostCatalog, BoostVersion};
use crate::boost::plan::{self as boost_plan, b2_value, Libraries, PlanError as BoostPlanError};
use crate::error::{Explain, EXIT_USAGE};
use crate::layout::Layout;
use crate::python::catalog::{Catalog, CatalogError};
use crate::version::{self, Origin, Resolved};

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Python,
    Global,
    Virtualenv,
    Boost,
    Recipe,
}

/// Where an item stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "state", content = "detail")]
pub enum State {
    /// Present as the manifest says.
    Ok,
    /// To be done: what will happen.
    Pending(String),
    /// Cannot be planned (e.g. an unknown version): why.
    Invalid(String),
}

/// One item of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: Kind,
    /// What it is (`3.12.7`, `proj (from 3.12)`, `1.86.0-py3.12`, `can`).
    pub name: String,
    #[serde(flatten)]
    pub state: State,
    /// The strap command that converges it.
    pub command: Vec<String>,
    /// The Python request this item needs first (virtualenvs, Boost.Python).
    #[serde(skip)]
    pub needs_python: Option<String>,
}

/// Why a manifest cannot be planned: an entry that the strap command it stands for would
/// refuse as a usage error, or a catalog (`STRAP_PYTHON_CATALOG`, `STRAP_BOOST_CATALOG`) that
/// cannot be used. Exit code 2, as for those commands.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl Explain for PlanError {
    fn hint(&self) -> Option<String> {
        match self {
            PlanError::Manifest(e) => e.hint(),
            PlanError::Catalog(e) => e.hint(),
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            PlanError::Manifest(e) => e.exit_code(),
            PlanError::Catalog(e) => e.exit_code(),
        }
    }
}

/// The items of `loaded` for the kinds in `only` (all when empty), recipes excluded (the caller
/// checks them with their own dry run and adds them). Every `[python]` and `[[boost]]` entry is
/// checked first, whatever `only` says, as `strap install` and `strap boost install` check
/// their arguments: what they refuse as a usage error is an error here, naming the line; what
/// they would fail (an unknown release) is an invalid item.
pub fn plan(layout: &Layout, loaded: &Loaded, only: &[Kind]) -> Result<Vec<Item>, PlanError> {
    let wanted = |kind: Kind| only.is_empty() || only.contains(&kind);
    let manifest = &loaded.manifest;
    let settings = &manifest.settings;
    let catalog = (!manifest.python.versions.is_empty())
        .then(Catalog::from_env)
        .transpose()?;
    let boost_catalog = (!manifest.boost.is_empty())
        .then(BoostCatalog::from_env)
        .transpose()?;
    let mut pythons = Vec::new();
    if let Some(catalog) = &catalog {
        for request in &manifest.python.versions {
            pythons.push(python_item(layout, loaded, catalog, request)?);
        }
    }
    if let Some(catalog) = &boost_catalog {
        for boost in &manifest.boost {
            check_boost(loaded, catalog, boost)?;
        }
    }
    let mut items = Vec::new();
    if wanted(Kind::Python) {
        items.extend(pythons);
    }
    if wanted(Kind::Global) {
        if let Some(global) = &manifest.python.global {
            items.push(global_item(layout, global.get_ref()));
        }
    }
    if wanted(Kind::Virtualenv) {
        for env in &manifest.virtualenv {
            items.push(virtualenv_item(layout, env, loaded.dir()));
        }
    }
    if let (true, Some(catalog)) = (wanted(Kind::Boost), &boost_catalog) {
        for boost in &manifest.boost {
            items.push(boost_item(layout, catalog, boost, settings));
        }
    }
    Ok(items)
}

/// Checks a `[[boost]]` entry with the checks of `strap boost install` that need nothing of
/// this machine; what it refuses as a usage error is an error naming the line of the entry's
/// field (an unknown release is left to the item, which shows it as invalid).
fn check_boost(
    loaded: &Loaded,
    catalog: &BoostCatalog,
    boost: &BoostItem,
) -> Result<(), ManifestError> {
    let names: Vec<String> = boost.with.iter().map(|w| w.get_ref().clone()).collect();
    let checked = boost_plan::check(
        catalog,
        boost.version.get_ref(),
        &Libraries::Listed(names),
        boost.python.is_some(),
    );
    let error = match checked {
        Err(e) if e.exit_code() == EXIT_USAGE => e,
        _ => return Ok(()),
    };
    let line_of_with = |name: &str| {
        boost
            .with
            .iter()
            .find(|w| w.get_ref() == name)
            .map_or(boost.version.span().start, |w| w.span().start)
    };
    let version = boost.version.get_ref();
    let (at, message) = match &error {
        BoostPlanError::Library(unknown) => (
            line_of_with(&unknown.name),
            format!("boost {version}: {unknown}"),
        ),
        BoostPlanError::PythonNotChosen => (
            line_of_with("python"),
            format!(
                "boost {version}: with = [\"python\"] needs python = \"X.Y\", the Python \
                 (of [python] versions) to build Boost.Python against"
            ),
        ),
        other => (boost.version.span().start, format!("boost: {other}")),
    };
    Err(loaded.invalid_at(at, message))
}

/// The installed version `request` resolves to, if any.
pub fn installed(layout: &Layout, request: &str) -> Option<String> {
    match version::resolve(layout, request, &Origin::Argument) {
        Ok(Resolved::Installed { name, .. }) => Some(name),
        _ => None,
    }
}

/// A `[python] versions` entry, planned as `strap install` plans it unless a version it
/// serves is installed: what `strap install` refuses as a usage error (a malformed version) is
/// an error naming the line, what it would fail (an unknown release) an invalid item.
fn python_item(
    layout: &Layout,
    loaded: &Loaded,
    catalog: &Catalog,
    request: &Spanned<String>,
) -> Result<Item, ManifestError> {
    let settings = &loaded.manifest.settings;
    let (at, request) = (request.span().start, request.get_ref());
    let mut command = vec!["install".to_owned(), request.to_owned()];
    for mirror in &settings.python_mirrors {
        command.extend(["--mirror".to_owned(), mirror.get_ref().clone()]);
    }
    build_settings(&mut command, settings);
    let found = installed(layout, request);
    let state = match (
        &found,
        crate::python::plan::plan(catalog, request, false, None),
    ) {
        (Some(_), _) => State::Ok,
        (None, Ok(plan)) if plan.name == *request => State::Pending("install".to_owned()),
        (None, Ok(plan)) => State::Pending(format!("install {}", plan.name)),
        (None, Err(e)) if e.exit_code() == EXIT_USAGE => {
            return Err(loaded.invalid_at(at, format!("[python] versions: {e}")))
        }
        (None, Err(e)) => State::Invalid(e.to_string()),
    };
    Ok(Item {
        kind: Kind::Python,
        name: found.unwrap_or_else(|| request.to_owned()),
        state,
        command,
        needs_python: None,
    })
}

fn global_item(layout: &Layout, global: &str) -> Item {
    let current = version::read_version_file(&layout.global_version_file()).unwrap_or_default();
    let state = if current == [global.to_owned()] {
        State::Ok
    } else if current.is_empty() {
        State::Pending("set".to_owned())
    } else {
        State::Pending(format!("set (now {})", current.join(" ")))
    };
    Item {
        kind: Kind::Global,
        name: global.to_owned(),
        state,
        command: vec!["global".to_owned(), global.to_owned()],
        needs_python: (global != "system").then(|| global.to_owned()),
    }
}

fn virtualenv_item(layout: &Layout, env: &VirtualenvItem, manifest_dir: &Path) -> Item {
    let (name, python) = (env.name.get_ref(), env.python.get_ref());
    let mut command = vec!["virtualenv".to_owned(), python.clone(), name.clone()];
    if let Some(file) = &env.requirements {
        command.extend([
            "--requirements".to_owned(),
            manifest_dir.join(file).display().to_string(),
        ]);
    }
    let link = layout.version_dir(name);
    let state = if link.is_symlink() && link.join("bin/python").exists() {
        State::Ok
    } else if link.exists() || link.is_symlink() {
        State::Invalid(format!(
            "{} exists and is not a working virtualenv (strap virtualenv-delete {name})",
            link.display()
        ))
    } else {
        State::Pending("create".to_owned())
    };
    Item {
        kind: Kind::Virtualenv,
        name: format!("{name} (from {python})"),
        state,
        command,
        needs_python: Some(python.clone()),
    }
}

fn boost_item(
    layout: &Layout,
    catalog: &BoostCatalog,
    boost: &BoostItem,
    settings: &ManifestSettings,
) -> Item {
    let request = boost.version.get_ref();
    let mut command = vec!["boost".to_owned(), "install".to_owned(), request.clone()];
    if let Some(python) = &boost.python {
        command.extend(["--python".to_owned(), python.get_ref().clone()]);
    }
    let with: Vec<String> = boost.with.iter().map(|w| w.get_ref().clone()).collect();
    let variants: Vec<String> = boost.variant.iter().map(b2_value).collect();
    let links: Vec<String> = boost.link.iter().map(b2_value).collect();
    for (flag, values) in [("--with", with), ("--variant", variants), ("--link", links)] {
        if !values.is_empty() {
            command.extend([flag.to_owned(), values.join(",")]);
        }
    }
    for mirror in &settings.boost_mirrors {
        command.extend(["--mirror".to_owned(), mirror.get_ref().clone()]);
    }
    build_settings(&mut command, settings);
    let python = boost.python.as_ref().map(|p| p.get_ref().clone());
    let (name, state) = match catalog.resolve(request) {
        Ok(resolved) => boost_state(layout, catalog, resolved.version(), python.as_deref()),
        Err(why) => (request.clone(), State::Invalid(why.to_string())),
    };
    Item {
        kind: Kind::Boost,
        name,
        state,
        command,
        needs_python: python,
    }
}

/// A Boost build's install name (`1.86.0-py3.12`) and state: there, to build, or refused for
/// a Python `X.Y` it is known not to work with.
fn boost_state(
    layout: &Layout,
    catalog: &BoostCatalog,
    version: BoostVersion,
    python: Option<&str>,
) -> (String, State) {
    let python_xy = python.map(|request| {
        let name = installed(layout, request).unwrap_or_else(|| request.to_owned());
        name.split('.').take(2).collect::<Vec<_>>().join(".")
    });
    let name = match &python_xy {
        Some(xy) => format!("{version}-py{xy}"),
        None => version.to_string(),
    };
    let refused = python_xy.as_deref().and_then(|xy| {
        let (major, minor) = xy.split_once('.')?;
        let pair = (major.parse().ok()?, minor.parse().ok()?);
        boost_plan::check_pair(catalog, version, xy, pair).err()
    });
    let state = if let Some(refused) = refused {
        State::Invalid(match refused.hint() {
            Some(hint) => format!("{refused}; {hint}"),
            None => refused.to_string(),
        })
    } else if layout.boost_dir(&name).is_dir() {
        State::Ok
    } else {
        State::Pending("build".to_owned())
    };
    (name, state)
}

/// `--binary-mirror` and `--jobs` from `[settings]`.
fn build_settings(command: &mut Vec<String>, settings: &ManifestSettings) {
    for mirror in &settings.binary {
        command.extend(["--binary-mirror".to_owned(), mirror.get_ref().clone()]);
    }
    if let Some(jobs) = &settings.jobs {
        command.extend(["--jobs".to_owned(), jobs.get_ref().to_string()]);
    }
}
