//! Before anything runs: a recipe and the recipes it `requires` (depth first, each once), every
//! variable's value (default, then `--vars` file, then `--set`) checked against its declaration,
//! and the supported systems checked against the target's facts.

use std::fmt;
use std::path::{Path, PathBuf};

use super::model::{Recipe, RecipeError};
use super::service_manager::{self, ServiceManager};
use super::vars::{Value, Values, VarError};
use crate::error::{Explain, EXIT_USAGE};
use crate::os_release::OsRelease;
use crate::sysdeps::PackageManager;

/// A recipe ready to run, with its checked values.
pub(crate) struct Planned {
    pub(crate) recipe: Recipe,
    pub(crate) values: Values,
}

/// Values given for the run.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    /// `--set NAME=VALUE`, in order (the last one of a name wins).
    pub(crate) set: Vec<(String, String)>,
    /// `--vars FILE`, parsed.
    pub(crate) file: Option<(PathBuf, toml::Table)>,
}

/// Where a value came from.
#[derive(Debug)]
pub(crate) enum Origin {
    Default,
    /// `--set NAME=VALUE` (the argument).
    Set(String),
    /// A `--vars` file.
    VarsFile(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Set(given) => write!(f, "--set {given}"),
            Origin::VarsFile(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why a recipe cannot run as asked. Nothing has run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    #[error("recipes require each other in a cycle: {0}")]
    Cycle(String),
    #[error("recipe '{recipe}' supports {supported}; this system is {distribution} ({family})")]
    Unsupported {
        recipe: String,
        supported: String,
        distribution: String,
        family: String,
    },
    #[error("{origin}: recipe '{recipe}' has no variable '{name}' (its variables: {known})")]
    UnknownVariable {
        origin: Origin,
        recipe: String,
        name: String,
        known: String,
    },
    #[error("{origin}: variable '{name}' of recipe '{recipe}': {source}")]
    BadValue {
        origin: Origin,
        recipe: String,
        name: String,
        source: Box<VarError>,
    },
}

impl Explain for PlanError {
    fn hint(&self) -> Option<String> {
        match self {
            PlanError::Recipe(e) => e.hint(),
            _ => None,
        }
    }

    /// A value given on the command line or in a `--vars` file is a usage error.
    fn exit_code(&self) -> i32 {
        match self {
            PlanError::UnknownVariable { .. }
            | PlanError::BadValue {
                origin: Origin::Set(_) | Origin::VarsFile(_),
                ..
            } => EXIT_USAGE,
            _ => crate::error::EXIT_FAILURE,
        }
    }
}

/// Resolves `recipe` and its `requires` with `overrides` applied to every recipe that declares
/// them; validates every value and the supported systems.
pub(crate) fn plan(
    recipe: Recipe,
    overrides: &Overrides,
    sysroot: &Path,
    find: &dyn Fn(&str) -> Result<Recipe, RecipeError>,
) -> Result<Vec<Planned>, PlanError> {
    let facts = facts(sysroot);
    let main = recipe.name.clone();
    let mut planner = Planner {
        overrides,
        facts: &facts,
        find,
        planned: Vec::new(),
        stack: Vec::new(),
    };
    planner.add(recipe)?;
    let planned = planner.planned;
    let declared = |name: &str| planned.iter().any(|p| p.recipe.vars.contains_key(name));
    let unknown = |origin: Origin, name: &str| {
        let mut known: Vec<&str> = planned
            .iter()
            .flat_map(|p| p.recipe.vars.keys().map(String::as_str))
            .collect();
        known.sort_unstable();
        known.dedup();
        PlanError::UnknownVariable {
            origin,
            recipe: main.clone(),
            name: name.to_owned(),
            known: if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            },
        }
    };
    if let Some((name, value)) = overrides.set.iter().find(|(name, _)| !declared(name)) {
        return Err(unknown(Origin::Set(format!("{name}={value}")), name));
    }
    if let Some((path, table)) = &overrides.file {
        if let Some(name) = table.keys().find(|name| !declared(name)) {
            return Err(unknown(Origin::VarsFile(path.clone()), name));
        }
    }
    Ok(planned)
}

struct Planner<'a> {
    overrides: &'a Overrides,
    facts: &'a Values,
    find: &'a dyn Fn(&str) -> Result<Recipe, RecipeError>,
    planned: Vec<Planned>,
    /// The recipes being resolved, outermost first.
    stack: Vec<String>,
}

impl Planner<'_> {
    fn add(&mut self, recipe: Recipe) -> Result<(), PlanError> {
        if self.planned.iter().any(|p| p.recipe.name == recipe.name) {
            return Ok(());
        }
        if self.stack.contains(&recipe.name) {
            return Err(PlanError::Cycle(format!(
                "{} -> {}",
                self.stack.join(" -> "),
                recipe.name
            )));
        }
        let values = self.values_for(&recipe)?;
        if !recipe.supported.is_empty() {
            let system =
                [&self.facts["distribution"], &self.facts["os_family"]].map(Value::to_string);
            if !recipe.supported.iter().any(|s| system.contains(s)) {
                let [distribution, family] = system;
                return Err(PlanError::Unsupported {
                    recipe: recipe.name,
                    supported: recipe.supported.join(", "),
                    distribution,
                    family,
                });
            }
        }
        self.stack.push(recipe.name.clone());
        for requirement in &recipe.requires {
            if requirement.when.as_ref().is_none_or(|c| c.eval(&values)) {
                let required = (self.find)(&requirement.recipe).map_err(|e| match e {
                    // A recipe that is not found: say which recipe requires it.
                    RecipeError::NotFound {
                        name, available, ..
                    } => RecipeError::NotFound {
                        name,
                        available,
                        required_by: Some(recipe.source.clone()),
                    },
                    e => e,
                })?;
                self.add(required)?;
            }
        }
        self.stack.pop();
        self.planned.push(Planned { recipe, values });
        Ok(())
    }

    /// The facts, then for each variable its default, the vars file's value, `--set`'s value,
    /// each converted to the declared type and validated.
    fn values_for(&self, recipe: &Recipe) -> Result<Values, PlanError> {
        let mut values = self.facts.clone();
        for (name, decl) in &recipe.vars {
            let default = decl.default.as_ref().expect("checked at load");
            let (mut value, mut origin) = (decl.parse_toml(default), Origin::Default);
            if let Some((path, table)) = &self.overrides.file {
                if let Some(v) = table.get(name) {
                    (value, origin) = (decl.parse_toml(v), Origin::VarsFile(path.clone()));
                }
            }
            if let Some((_, text)) = self.overrides.set.iter().rev().find(|(k, _)| k == name) {
                let given = Origin::Set(format!("{name}={text}"));
                (value, origin) = (decl.parse_text(text), given);
            }
            let checked = value.and_then(|v| decl.validate(name, &v).map(|()| v));
            let value = checked.map_err(|source| PlanError::BadValue {
                origin,
                recipe: recipe.name.clone(),
                name: name.clone(),
                source: Box::new(source),
            })?;
            values.insert(name.clone(), value);
        }
        Ok(values)
    }
}

/// Facts about the target system: from `<sysroot>/etc/os-release` (else `/etc/os-release`), and
/// the service manager that runs it ([`ServiceManager::detect`]).
pub(crate) fn facts(sysroot: &Path) -> Values {
    let os = OsRelease::read(sysroot);
    let family = match PackageManager::for_os(&os) {
        Some(manager) => manager.os_family().to_owned(),
        None => os.ids().last().cloned().unwrap_or_default(),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let mut facts = Values::new();
    facts.insert("distribution".into(), Value::Str(os.field("ID")));
    facts.insert("os_family".into(), Value::Str(family));
    facts.insert("codename".into(), Value::Str(os.field("VERSION_CODENAME")));
    facts.insert("arch".into(), Value::Str(arch.to_owned()));
    facts.insert("sysroot".into(), Value::Str(sysroot.display().to_string()));
    let manager = service_manager::fact(&ServiceManager::detect(sysroot));
    facts.insert("service_manager".into(), Value::Str(manager.to_owned()));
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = r#"
name = "r"
[vars.port]
type = "int"
default = 80
pattern = '[1-9][0-9]{0,4}'
[vars.mode]
type = "string"
default = "a"
choices = ["a", "b"]
[[step]]
name = "x"
run = "true"
"#;

    fn plan_with(set: &[(&str, &str)], file: Option<&str>) -> Result<Vec<Planned>, PlanError> {
        let recipe = Recipe::parse("r.toml", RECIPE).unwrap();
        let overrides = Overrides {
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            file: file.map(|t| (PathBuf::from("v.toml"), t.parse().unwrap())),
        };
        plan(recipe, &overrides, Path::new("/nonexistent"), &|name| {
            panic!("no requirement expected: {name}")
        })
    }

    #[test]
    fn values_given_by_the_user_are_checked_and_bad_ones_are_usage_errors() {
        let planned = plan_with(&[("port", "8080"), ("port", "8081")], Some("mode = 'b'")).unwrap();
        assert_eq!(planned[0].values["port"], Value::Int(8081));
        assert_eq!(planned[0].values["mode"], Value::Str("b".into()));
        let cases = [
            (
                plan_with(&[("port", "eighty")], None),
                "--set port=eighty: variable 'port' of recipe 'r': 'eighty' is not an integer",
            ),
            (
                plan_with(&[("port", "0")], None),
                "--set port=0: variable 'port' of recipe 'r': '0' is not a valid value for port: it must match /[1-9][0-9]{0,4}/",
            ),
            (
                plan_with(&[("mode", "c")], None),
                "--set mode=c: variable 'mode' of recipe 'r': 'c' is not a valid value for mode: choose one of a, b",
            ),
            (
                plan_with(&[("nosuch", "1")], None),
                "--set nosuch=1: recipe 'r' has no variable 'nosuch' (its variables: mode, port)",
            ),
            (
                plan_with(&[], Some("port = true")),
                "v.toml: variable 'port' of recipe 'r': expected int, got boolean",
            ),
            (
                plan_with(&[], Some("other = 1")),
                "v.toml: recipe 'r' has no variable 'other' (its variables: mode, port)",
            ),
        ];
        for (result, message) in cases {
            let Err(err) = result else {
                panic!("accepted; expected: {message}")
            };
            assert_eq!(
                (err.to_string().as_str(), err.exit_code()),
                (message, EXIT_USAGE)
            );
        }
    }
}
