//! The plan of a bootstrap: each item of the manifest, whether this machine already has it,
//! and the typed [`Action`] that converges it (the strap command it stands for, as values).
//! Deciding needs no network: installed versions, virtualenvs and Boost builds are
//! directories, the global version is a file; recipes are asked by the caller (their checks
//! run commands).

use std::path::{Path, PathBuf};

use serde::Serialize;

use toml::Spanned;

use crate::config::PrebuiltMode;

use super::manifest::{
    BoostItem, Loaded, ManifestError, ManifestSettings, RecipeItem, VirtualenvItem,
};
use crate::boost::catalog::{BoostCatalog, BoostVersion};
use crate::boost::plan::{
    self as boost_plan, Libraries, Link, PlanError as BoostPlanError, Variant,
};
use crate::error::{Explain, EXIT_USAGE};
use crate::layout::Layout;
use crate::python::catalog::{Catalog, CatalogError};
use crate::python::plan::PrebuiltReleases;
use crate::python::platform::Machine;
use crate::python::prebuilt::Catalog as PrebuiltCatalog;
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

impl State {
    /// Invalid for `why`, followed by its next step when there is one (`why; hint`).
    pub fn invalid(why: impl std::fmt::Display, hint: Option<String>) -> State {
        State::Invalid(match hint {
            Some(hint) => format!("{why}; {hint}"),
            None => why.to_string(),
        })
    }

    /// Invalid for the `error`, with its hint.
    pub fn invalid_for(error: &dyn Explain) -> State {
        State::invalid(error, error.hint())
    }
}

/// The settings a manifest's `[settings]` gives the installs it makes (each replaces what the
/// environment and the config say, as the flags of `strap install` do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildSettings {
    /// Source mirror templates (`--mirror`); empty: the usual ones.
    pub mirrors: Vec<String>,
    /// Binary mirrors (`--binary-mirror`).
    pub binary_mirrors: Vec<String>,
    /// Parallel build jobs (`--jobs`).
    pub jobs: Option<usize>,
}

/// What converges an item: a strap command as typed values. The CLI runs it through the
/// handler of that command and shows it as the command a user would type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `strap install REQUEST [--prebuilt=MODE]`.
    InstallPython {
        request: String,
        options: BuildSettings,
        /// `[settings] prebuilt`.
        prebuilt: Option<PrebuiltMode>,
    },
    /// `strap global VERSION`.
    SetGlobal { version: String },
    /// `strap virtualenv PYTHON NAME [--requirements FILE]`.
    CreateVirtualenv {
        python: String,
        name: String,
        requirements: Option<PathBuf>,
    },
    /// `strap boost install REQUEST [--python X.Y] [--with …] [--variant …] [--link …]`.
    InstallBoost {
        request: String,
        python: Option<String>,
        libraries: Vec<String>,
        /// Empty: the command's default.
        variants: Vec<Variant>,
        /// Empty: the command's default.
        links: Vec<Link>,
        options: BuildSettings,
    },
    /// `strap recipe run RECIPE [--set NAME=VALUE …] [--sysroot DIR] --yes`.
    ApplyRecipe {
        /// A recipe name or a recipe file's path.
        recipe: String,
        /// `NAME=VALUE` pairs as `--set` takes them.
        vars: Vec<(String, String)>,
        sysroot: Option<PathBuf>,
    },
}

impl Action {
    /// The Python request this action needs installed first (virtualenvs, Boost.Python, a
    /// global version other than `system`).
    pub fn needs_python(&self) -> Option<&str> {
        match self {
            Action::SetGlobal { version } => (version != "system").then_some(version.as_str()),
            Action::CreateVirtualenv { python, .. } => Some(python),
            Action::InstallBoost { python, .. } => python.as_deref(),
            Action::InstallPython { .. } | Action::ApplyRecipe { .. } => None,
        }
    }
}

/// One item of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: Kind,
    /// What it is (`3.12.7`, `proj (from 3.12)`, `1.86.0-py3.12`, `can`).
    pub name: String,
    #[serde(flatten)]
    pub state: State,
    /// What converges it.
    #[serde(skip)]
    pub action: Action,
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
        let here = prebuilts_here(settings.prebuilt);
        let releases = here.as_ref().and_then(|(mode, prebuilts, machine)| {
            PrebuiltReleases::under(*mode, prebuilts, machine)
        });
        for request in &manifest.python.versions {
            pythons.push(python_item(
                layout,
                loaded,
                catalog,
                releases.as_ref(),
                request,
            )?);
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

/// The prebuilt mode of the manifest's installs (`[settings] prebuilt`, else
/// `STRAP_PYTHON_PREBUILT` or the config's, as they reach the installs), with the prebuilt
/// catalog and this machine when it is not `never`: their requests resolve as `strap install`
/// resolves them. A catalog or platform that cannot be read is left to the install to report.
fn prebuilts_here(
    setting: Option<PrebuiltMode>,
) -> Option<(
    PrebuiltMode,
    std::borrow::Cow<'static, PrebuiltCatalog>,
    Machine,
)> {
    let config = crate::config::Config::load().ok()?;
    let mode = crate::settings::prebuilt_mode(setting, &config).ok()?;
    if mode == PrebuiltMode::Never {
        return None;
    }
    Some((
        mode,
        PrebuiltCatalog::from_env().ok()?,
        Machine::current().ok()?,
    ))
}

/// A `[python] versions` entry, planned as `strap install` plans it unless a version it
/// serves is installed: what `strap install` refuses as a usage error (a malformed version) is
/// an error naming the line, what it would fail (an unknown release) an invalid item.
fn python_item(
    layout: &Layout,
    loaded: &Loaded,
    catalog: &Catalog,
    prebuilts: Option<&PrebuiltReleases<'_>>,
    request: &Spanned<String>,
) -> Result<Item, ManifestError> {
    let settings = &loaded.manifest.settings;
    let (at, request) = (request.span().start, request.get_ref());
    let found = installed(layout, request);
    let state = match (
        &found,
        crate::python::plan::plan_any(catalog, request, false, None, prebuilts),
    ) {
        (Some(_), _) => State::Ok,
        (None, Ok(plan)) if plan.name() == request => State::Pending("install".to_owned()),
        (None, Ok(plan)) => State::Pending(format!("install {}", plan.name())),
        (None, Err(e)) if e.exit_code() == EXIT_USAGE => {
            return Err(loaded.invalid_at(at, format!("[python] versions: {e}")))
        }
        (None, Err(e)) => State::invalid_for(&e),
    };
    Ok(Item {
        kind: Kind::Python,
        name: found.unwrap_or_else(|| request.to_owned()),
        state,
        action: Action::InstallPython {
            request: request.to_owned(),
            options: build_settings(settings, &settings.python_mirrors),
            prebuilt: settings.prebuilt,
        },
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
        action: Action::SetGlobal {
            version: global.to_owned(),
        },
    }
}

fn virtualenv_item(layout: &Layout, env: &VirtualenvItem, manifest_dir: &Path) -> Item {
    let (name, python) = (env.name.get_ref(), env.python.get_ref());
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
        action: Action::CreateVirtualenv {
            python: python.clone(),
            name: name.clone(),
            requirements: env
                .requirements
                .as_ref()
                .map(|file| manifest_dir.join(file)),
        },
    }
}

fn boost_item(
    layout: &Layout,
    catalog: &BoostCatalog,
    boost: &BoostItem,
    settings: &ManifestSettings,
) -> Item {
    let request = boost.version.get_ref();
    let python = boost.python.as_ref().map(|p| p.get_ref().clone());
    let (name, state) = match catalog.resolve(request) {
        Ok(resolved) => boost_state(layout, catalog, resolved.version(), python.as_deref()),
        Err(why) => (request.clone(), State::invalid_for(&why)),
    };
    Item {
        kind: Kind::Boost,
        name,
        state,
        action: Action::InstallBoost {
            request: request.clone(),
            libraries: boost.with.iter().map(|w| w.get_ref().clone()).collect(),
            variants: boost.variant.clone(),
            links: boost.link.clone(),
            options: build_settings(settings, &settings.boost_mirrors),
            python,
        },
    }
}

/// A Boost build's install name (`1.86.0-py3.12`, named as `strap boost install` names it) and
/// state: there, to build, or refused for a Python it is known not to work with (an `X.Y` of
/// a known-broken pair, or a free-threaded build). A Python that is not installed yet is the
/// release `strap install` would build for its request (`latest` → the newest `X.Y`).
fn boost_state(
    layout: &Layout,
    catalog: &BoostCatalog,
    version: BoostVersion,
    python: Option<&str>,
) -> (String, State) {
    let python = python.map(|request| python_for_boost(layout, request));
    let python_xy = python.as_ref().map(|p| match p {
        BoostPython::Known { xy, .. } => xy.clone(),
        BoostPython::Unplanned(request) => request.clone(),
    });
    let name = boost_plan::install_name(version, python_xy.as_deref());
    let refused = match python {
        Some(BoostPython::Known {
            free_threaded: true,
            xy,
            spec,
            ..
        }) => Some(boost_plan::PlanError::FreeThreaded { spec, version: xy }),
        Some(BoostPython::Known { xy, pair, .. }) => {
            boost_plan::check_pair(catalog, version, &xy, pair).err()
        }
        _ => None,
    };
    let state = if let Some(refused) = refused {
        State::invalid_for(&refused)
    } else if layout.boost_dir(&name).is_dir() {
        State::Ok
    } else {
        State::Pending("build".to_owned())
    };
    (name, state)
}

/// The Python a Boost item builds against, as far as the plan can know it.
enum BoostPython {
    /// Installed (asked of its interpreter), or planned as `strap install` plans its request.
    Known {
        spec: String,
        xy: String,
        pair: (u32, u32),
        free_threaded: bool,
    },
    /// A request `strap install` cannot plan (its own item says why).
    Unplanned(String),
}

fn python_for_boost(layout: &Layout, request: &str) -> BoostPython {
    if let Some(info) = boost_plan::python_info(layout, request) {
        return BoostPython::Known {
            spec: request.to_owned(),
            pair: info.major_minor(),
            free_threaded: info.abiflags.contains('t'),
            xy: info.version,
        };
    }
    let planned = crate::python::request::InstallRequest::of(request).plan();
    match planned
        .as_ref()
        .map(|p| (p.major_minor(), p.free_threaded()))
    {
        Ok((Some((major, minor)), free_threaded)) => BoostPython::Known {
            spec: request.to_owned(),
            xy: format!("{major}.{minor}"),
            pair: (major as u32, minor as u32),
            free_threaded,
        },
        _ => BoostPython::Unplanned(request.to_owned()),
    }
}

/// What `[settings]` gives an install whose source mirrors are `mirrors`.
fn build_settings(settings: &ManifestSettings, mirrors: &[Spanned<String>]) -> BuildSettings {
    let values = |list: &[Spanned<String>]| list.iter().map(|m| m.get_ref().clone()).collect();
    BuildSettings {
        mirrors: values(mirrors),
        binary_mirrors: values(&settings.binary),
        jobs: settings.jobs.as_ref().map(|jobs| *jobs.get_ref()),
    }
}

/// The action of a `[[recipe]]` entry: the built-in recipe it names, or its file (relative to
/// the manifest); its variables as `--set` takes them (lists comma-separated); `sysroot` for
/// the files it writes.
pub fn recipe_action(loaded: &Loaded, recipe: &RecipeItem, sysroot: Option<&Path>) -> Action {
    let target = match (&recipe.name, &recipe.path) {
        (Some(name), _) => name.clone(),
        (None, Some(path)) => loaded.dir().join(path).display().to_string(),
        (None, None) => String::new(),
    };
    Action::ApplyRecipe {
        recipe: target,
        vars: recipe
            .vars
            .iter()
            .map(|(name, value)| (name.clone(), set_value(value)))
            .collect(),
        sysroot: sysroot.map(Path::to_owned),
    }
}

/// A variable as `--set` takes it: lists comma-separated, the rest as written.
fn set_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Array(items) => items.iter().map(set_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}
