//! The plan of a bootstrap: each item of the manifest, whether this machine already has it,
//! and the strap command that converges it. Deciding needs no network: installed versions,
//! virtualenvs and Boost builds are directories, the global version is a file; recipes are
//! asked by the caller (their checks run commands).

use std::path::Path;

use serde::Serialize;

use super::manifest::{BoostItem, Loaded, ManifestSettings, VirtualenvItem};
use crate::boost::catalog::BoostCatalog;
use crate::layout::Layout;
use crate::python::catalog::Catalog;
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

/// The items of `loaded` for the kinds in `only` (all when empty), recipes excluded (the caller
/// checks them with their own dry run and adds them).
pub fn plan(layout: &Layout, loaded: &Loaded, only: &[Kind]) -> Vec<Item> {
    let wanted = |kind: Kind| only.is_empty() || only.contains(&kind);
    let manifest = &loaded.manifest;
    let settings = &manifest.settings;
    let mut items = Vec::new();
    if wanted(Kind::Python) {
        for request in &manifest.python.versions {
            items.push(python_item(layout, request.get_ref(), settings));
        }
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
    if wanted(Kind::Boost) {
        for boost in &manifest.boost {
            items.push(boost_item(layout, boost, settings));
        }
    }
    items
}

/// The installed version `request` resolves to, if any.
pub fn installed(layout: &Layout, request: &str) -> Option<String> {
    match version::resolve(layout, request, &Origin::Argument) {
        Ok(Resolved::Installed { name, .. }) => Some(name),
        _ => None,
    }
}

fn python_item(layout: &Layout, request: &str, settings: &ManifestSettings) -> Item {
    let mut command = vec!["install".to_owned(), request.to_owned()];
    for mirror in &settings.python_mirrors {
        command.extend(["--mirror".to_owned(), mirror.get_ref().clone()]);
    }
    build_settings(&mut command, settings);
    let found = installed(layout, request);
    let state = match &found {
        Some(_) => State::Ok,
        None => match Catalog::from_env()
            .map_err(|e| e.to_string())
            .and_then(|catalog| {
                crate::python::plan::plan(&catalog, request, false, None).map_err(|e| e.to_string())
            }) {
            Ok(plan) if plan.name == request => State::Pending("install".to_owned()),
            Ok(plan) => State::Pending(format!("install {}", plan.name)),
            Err(why) => State::Invalid(why),
        },
    };
    Item {
        kind: Kind::Python,
        name: found.unwrap_or_else(|| request.to_owned()),
        state,
        command,
        needs_python: None,
    }
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

fn boost_item(layout: &Layout, boost: &BoostItem, settings: &ManifestSettings) -> Item {
    let mut command = vec![
        "boost".to_owned(),
        "install".to_owned(),
        boost.version.clone(),
    ];
    if let Some(python) = &boost.python {
        command.extend(["--python".to_owned(), python.get_ref().clone()]);
    }
    for (flag, values) in [
        ("--with", &boost.with),
        ("--variant", &boost.variant),
        ("--link", &boost.link),
    ] {
        if !values.is_empty() {
            command.extend([flag.to_owned(), values.join(",")]);
        }
    }
    for mirror in &settings.boost_mirrors {
        command.extend(["--mirror".to_owned(), mirror.get_ref().clone()]);
    }
    build_settings(&mut command, settings);
    let python = boost.python.as_ref().map(|p| p.get_ref().clone());
    let (name, state) = match BoostCatalog::from_env()
        .map_err(|e| e.to_string())
        .and_then(|catalog| {
            catalog
                .resolve(&boost.version)
                .map(|r| r.version().to_string())
                .map_err(|e| e.to_string())
        }) {
        Ok(version) => {
            let python_xy = python.as_ref().map(|request| {
                let name = installed(layout, request).unwrap_or_else(|| request.clone());
                name.split('.').take(2).collect::<Vec<_>>().join(".")
            });
            let name = match python_xy {
                Some(xy) => format!("{version}-py{xy}"),
                None => version,
            };
            let state = if layout.boost_dir(&name).is_dir() {
                State::Ok
            } else {
                State::Pending("build".to_owned())
            };
            (name, state)
        }
        Err(why) => (boost.version.clone(), State::Invalid(why)),
    };
    Item {
        kind: Kind::Boost,
        name,
        state,
        command,
        needs_python: python,
    }
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
