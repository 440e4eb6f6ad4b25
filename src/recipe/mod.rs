//! Recipes: idempotent setup described as ordered steps that each check before they change
//! anything. `model` is the file format, `vars` and `when` its variables and conditions, `kinds`
//! what each step kind does (one file each), `host` and `files` the helpers they share, `plan`
//! resolves a recipe with its requirements and values, `run` executes it and reports.

mod error;
mod files;
mod host;
mod kinds;
mod missing;
pub(crate) mod model;
pub(crate) mod plan;
pub(crate) mod run;
mod service_manager;
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

/// The user's recipe files, by the name that runs them (the file name without `.toml`), sorted.
fn user_files() -> Vec<(String, PathBuf)> {
    let Some(Ok(entries)) = user_dir().map(std::fs::read_dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_owned(), p)))
        .collect();
    files.sort();
    files
}

/// Finds a recipe by name or path: a path (contains `/` or ends in `.toml`), else the user's
/// recipe directory, else a built-in.
pub(crate) fn find(name: &str) -> Result<Recipe, RecipeError> {
    if name.contains('/') || name.ends_with(".toml") {
        return Recipe::load(Path::new(name));
    }
    if let Some((_, path)) = user_files().into_iter().find(|(n, _)| n == name) {
        return Recipe::load(&path);
    }
    match BUILT_IN.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => Recipe::parse(&format!("built-in recipe {n}"), text),
        None => Err(RecipeError::NotFound {
            name: name.to_owned(),
            available: available(),
            required_by: None,
        }),
    }
}

/// "built-in: …; yours (in DIR): …".
fn available() -> String {
    let built_in: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
    let yours: Vec<String> = user_files().into_iter().map(|(n, _)| n).collect();
    let dir = user_dir().map_or_else(
        || "$XDG_CONFIG_HOME/strap/recipes".to_owned(),
        |d| d.display().to_string(),
    );
    let yours = if yours.is_empty() {
        format!("none of yours in {dir}")
    } else {
        format!("yours (in {dir}): {}", yours.join(", "))
    };
    format!("built-in: {}; {yours}", built_in.join(", "))
}

/// The names `strap recipe run NAME` accepts: the user's recipes, then the built-ins they do not
/// override. Nothing is parsed.
pub(crate) fn names() -> Vec<String> {
    let mut names: Vec<String> = user_files().into_iter().map(|(n, _)| n).collect();
    for (name, _) in BUILT_IN {
        if !names.iter().any(|n| n == name) {
            names.push((*name).to_owned());
        }
    }
    names
}

/// Every available recipe by the name that runs it: the user's (overriding built-ins of the same
/// name), then built-ins.
pub(crate) fn list() -> Vec<(String, Result<Recipe, RecipeError>)> {
    let mut recipes: Vec<(String, Result<Recipe, RecipeError>)> = user_files()
        .into_iter()
        .map(|(name, path)| (name, Recipe::load(&path)))
        .collect();
    for (name, text) in BUILT_IN {
        if !recipes.iter().any(|(n, _)| n == name) {
            let recipe = Recipe::parse(&format!("built-in recipe {name}"), text);
            recipes.push(((*name).to_owned(), recipe));
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
    fn an_error_without_a_line_or_a_file_does_not_make_one_up() {
        let err = |source_name: &str, line| RecipeError::Invalid {
            source_name: source_name.to_owned(),
            line,
            message: "what is wrong".to_owned(),
        };
        assert_eq!(err("r.toml", 3).to_string(), "r.toml:3: what is wrong");
        assert_eq!(err("r.toml", 0).to_string(), "r.toml: what is wrong");
        assert_eq!(err("", 0).to_string(), "what is wrong");
        let message = find("nosuch-recipe-for-strap").unwrap_err().to_string();
        assert!(
            message.starts_with(
                "no recipe named 'nosuch-recipe-for-strap'; built-in: can, docker, jenkins; "
            ),
            "{message}"
        );
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
            (
                "name = \"x\"\n[[handler]]\nname = \"h\"\nrun = \"x\"\nwhen = \"a\"\n",
                2,
                "step 'h' (shell) has no field `when`",
            ),
            (
                "name = \"x\"\n\n[[handler]]\nname = \"h\"\nkind = \"service\"\nservice = \"s\"\nrestarted = true\nstarted = true\n",
                3,
                "`restarted` restarts the service each time",
            ),
        ];
        for (text, line, message) in cases {
            let err = Recipe::parse("r.toml", text).unwrap_err();
            let RecipeError::Invalid {
                line: found,
                message: ref text,
                ..
            } = err
            else {
                panic!("{err}");
            };
            assert_eq!((found, text.contains(message)), (line, true), "{err}");
            assert!(err.to_string().starts_with(&format!("r.toml:{line}: ")));
        }
    }
}
