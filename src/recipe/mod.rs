//! Recipes: idempotent setup described as ordered steps that each check before they change
//! anything. `model` is the file format, `vars` and `when` its variables and conditions, `kinds`
//! what each step kind does (one file each), `host` and `files` the helpers they share, `plan`
//! resolves a recipe with its requirements and values, `run` executes it and reports.

mod error;
mod files;
mod host;
mod kinds;
pub(crate) mod model;
pub(crate) mod plan;
pub(crate) mod run;
mod vars;
mod when;

use std::path::{Path, PathBuf};

pub(crate) use model::{Recipe, RecipeError};

/// The recipes compiled into strap, from `recipes/`.
const BUILT_IN: &[(&str, &str)] = &[
    ("can", include_str!("../../recipes/can.toml")),
    ("docker", include_str!("../../recipes/docker.toml")),
    ("jenkins", include_str!("../../recipes/jenkins.toml")),
];

/// Where users keep their own recipes: `$XDG_CONFIG_HOME/strap/recipes/`.
fn user_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("strap/recipes"))
}

/// Finds a recipe by name or path: a path (contains `/` or ends in `.toml`), else the user's
/// recipe directory, else a built-in.
pub(crate) fn find(name: &str) -> Result<Recipe, RecipeError> {
    if name.contains('/') || name.ends_with(".toml") {
        return Recipe::load(Path::new(name));
    }
    if let Some(path) = user_dir()
        .map(|d| d.join(format!("{name}.toml")))
        .filter(|p| p.is_file())
    {
        return Recipe::load(&path);
    }
    match BUILT_IN.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => Recipe::parse(&format!("built-in recipe {n}"), text),
        None => Err(RecipeError {
            source_name: name.to_owned(),
            line: 0,
            message: format!(
                "no such recipe; `strap recipe list` shows the available ones{}",
                {
                    let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                    format!(" (built-in: {})", names.join(", "))
                }
            ),
        }),
    }
}

/// Every available recipe: the user's (overriding built-ins of the same name), then built-ins.
pub(crate) fn list() -> Vec<Result<Recipe, RecipeError>> {
    let mut recipes: Vec<Result<Recipe, RecipeError>> = Vec::new();
    let mut names = Vec::new();
    if let Some(dir) = user_dir() {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(Result::ok).map(|e| e.path()).collect();
            paths.sort();
            for path in paths
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            {
                names.push(
                    path.file_stem()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                );
                recipes.push(Recipe::load(&path));
            }
        }
    }
    for (name, text) in BUILT_IN {
        if !names.iter().any(|n| n == name) {
            recipes.push(Recipe::parse(&format!("built-in recipe {name}"), text));
        }
    }
    recipes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_recipes_parse() {
        for (name, text) in BUILT_IN {
            let recipe = Recipe::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(recipe.name, *name);
            assert!(!recipe.steps.is_empty());
        }
    }

    #[test]
    fn malformed_recipes_name_file_and_line() {
        let cases = [
            (
                "name = \"x\"\n[[step]]\nname = \"a\"\nkind = \"nope\"\n",
                2,
                "unknown step kind",
            ),
            (
                "name = \"x\"\n\n[[step]]\nname = \"a\"\nrun = \"echo {{ missing }}\"\n",
                3,
                "unknown variable",
            ),
            (
                "name = \"x\"\n[vars.port]\ntype = \"int\"\ndefault = \"eighty\"\n",
                2,
                "not an integer",
            ),
            (
                "name = \"x\"\n[[step]]\nname = \"a\"\nrun = \"x\"\nnotify = [\"h\"]\n",
                2,
                "no handler",
            ),
            (
                "name = \"x\"\n[[step]]\nname = \"a\"\nrun = \"x\"\nwhen = \"a ==\"\n",
                2,
                "bad `when`",
            ),
            ("name = \"x\"\nsteps = 3\n", 2, "unknown field"),
            (
                "name = \"x\"\n[[step]]\nname = \"a\"\n",
                2,
                "needs `check`, `run`",
            ),
        ];
        for (text, line, message) in cases {
            let err = Recipe::parse("r.toml", text).unwrap_err();
            assert_eq!(
                (err.line, err.message.contains(message)),
                (line, true),
                "{err}"
            );
            assert!(err.to_string().starts_with(&format!("r.toml:{line}: ")));
        }
    }
}
