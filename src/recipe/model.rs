//! The recipe file format (TOML) and its validation. Every error names the file and line.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::kinds::{self, FieldError, StepKind};
use super::vars::{self, VarDecl};
use super::when::Condition;
use crate::config::line_of;

/// A parsed, validated recipe.
#[derive(Debug)]
pub(crate) struct Recipe {
    pub(crate) name: String,
    pub(crate) description: String,
    /// Distributions or OS families it supports (empty: any).
    pub(crate) supported: Vec<String>,
    pub(crate) requires: Vec<Requirement>,
    pub(crate) vars: BTreeMap<String, VarDecl>,
    pub(crate) steps: Vec<Step>,
    /// Steps run once at the end when a notifying step changed something: `run` commands, or
    /// any kind (`kind = "service"` with `restarted = true`); no `when`, `notify` or `for_each`.
    pub(crate) handlers: Vec<Step>,
    /// Where it came from (a path, or `built-in recipe NAME`).
    pub(crate) source: String,
}

/// Another recipe to run first.
#[derive(Debug)]
pub(crate) struct Requirement {
    pub(crate) recipe: String,
    pub(crate) when: Option<Condition>,
}

/// One step: the fields every step has, and what its kind does.
#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) name: String,
    /// The kind's name (`shell`, `packages`, …).
    pub(crate) kind_name: &'static str,
    pub(crate) kind: Box<dyn StepKind>,
    pub(crate) when: Option<Condition>,
    pub(crate) become_root: bool,
    /// Bound for each command (default: [`super::host::DEFAULT_TIMEOUT`]).
    pub(crate) timeout: Option<Duration>,
    pub(crate) notify: Vec<String>,
    /// A list variable: the step runs once per item, with `{{ item }}`.
    pub(crate) for_each: Option<String>,
    /// Shown when the step changed something (e.g. "log in again for the group to apply").
    pub(crate) warn: Option<String>,
}

/// Why a recipe cannot be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecipeError {
    /// A recipe file that cannot be used: `file:line: message`, `file: message` without a line
    /// (0), the message alone without a file (empty).
    #[error("{}{message}", location(.source_name, .line))]
    Invalid {
        source_name: String,
        line: usize,
        message: String,
    },
    /// No recipe has this name; `available` lists those that exist, `required_by` is the recipe
    /// whose `requires` names it.
    #[error("{}no recipe named '{name}'; {available}", requirer(.name, .required_by))]
    NotFound {
        name: String,
        available: String,
        required_by: Option<String>,
    },
}

impl crate::error::Explain for RecipeError {
    fn hint(&self) -> Option<String> {
        match self {
            RecipeError::NotFound { .. } => Some(
                "`strap recipe list` shows what each recipe does; a recipe file of your own is \
                 named by its path (./NAME.toml)"
                    .to_owned(),
            ),
            RecipeError::Invalid { .. } => None,
        }
    }
}

fn requirer(name: &str, recipe: &Option<String>) -> String {
    recipe.as_ref().map_or(String::new(), |source| {
        format!("{source}: requires '{name}': ")
    })
}

fn location(source_name: &str, line: &usize) -> String {
    match (source_name, line) {
        ("", _) => String::new(),
        (name, 0) => format!("{name}: "),
        (name, line) => format!("{name}:{line}: "),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    supported: Vec<String>,
    #[serde(default)]
    requires: Vec<RawRequirement>,
    #[serde(default)]
    vars: BTreeMap<String, Spanned<VarDecl>>,
    #[serde(default, rename = "step")]
    steps: Vec<Spanned<RawStep>>,
    #[serde(default, rename = "handler")]
    handlers: Vec<Spanned<RawHandler>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRequirement {
    Name(String),
    Conditional {
        recipe: String,
        when: Option<String>,
    },
}

/// A step: the common fields; the rest belong to its kind.
#[derive(Deserialize)]
struct RawStep {
    name: String,
    kind: Option<String>,
    when: Option<String>,
    #[serde(default, rename = "become")]
    become_root: bool,
    timeout: Option<u64>,
    #[serde(default)]
    notify: Vec<String>,
    for_each: Option<String>,
    warn: Option<String>,
    #[serde(flatten)]
    fields: toml::Table,
}

/// A handler: the fields every handler has; the rest belong to its kind (`shell`: `run`).
#[derive(Deserialize)]
struct RawHandler {
    name: String,
    kind: Option<String>,
    #[serde(default, rename = "become")]
    become_root: bool,
    timeout: Option<u64>,
    #[serde(flatten)]
    fields: toml::Table,
}

/// Facts every recipe can use besides its variables.
pub(crate) const FACTS: &[&str] = &[
    "os_family",
    "distribution",
    "codename",
    "arch",
    "sysroot",
    "service_manager",
    "item",
];

impl Recipe {
    /// Parses and validates recipe text; `source_name` names it in errors.
    pub(crate) fn parse(source_name: &str, text: &str) -> Result<Recipe, RecipeError> {
        let err = |offset: usize, message: String| RecipeError::Invalid {
            source_name: source_name.to_owned(),
            line: line_of(text, offset),
            message,
        };
        let raw: RawRecipe = toml::from_str(text)
            .map_err(|e| err(e.span().map_or(0, |s| s.start), e.message().to_owned()))?;
        let mut vars = BTreeMap::new();
        for (name, decl) in raw.vars {
            let offset = decl.span().start;
            let decl = decl.into_inner();
            if FACTS.contains(&name.as_str()) {
                return Err(err(
                    offset,
                    format!("variable '{name}' would hide the fact of the same name"),
                ));
            }
            if let Some(default) = &decl.default {
                decl.parse_toml(default)
                    .and_then(|value| decl.validate(&name, &value))
                    .map_err(|e| err(offset, format!("default of '{name}': {e}")))?;
            } else {
                return Err(err(offset, format!("variable '{name}' needs a default")));
            }
            vars.insert(name, decl);
        }
        let known = |name: &str| vars.contains_key(name) || FACTS.contains(&name);
        let check_refs = |offset: usize, texts: &[&str]| -> Result<(), RecipeError> {
            for text in texts {
                if let Some(unknown) = vars::referenced(text).find(|n| !known(n)) {
                    return Err(err(
                        offset,
                        format!("unknown variable '{{{{ {unknown} }}}}'"),
                    ));
                }
            }
            Ok(())
        };
        let parse_when =
            |offset: usize, when: Option<String>| -> Result<Option<Condition>, RecipeError> {
                when.map(|w| {
                    let condition = Condition::parse(&w)
                        .map_err(|e| err(offset, format!("bad `when`: {e}")))?;
                    if let Some(unknown) = condition.names().into_iter().find(|n| !known(n)) {
                        return Err(err(
                            offset,
                            format!("`when` uses unknown variable '{unknown}'"),
                        ));
                    }
                    Ok(condition)
                })
                .transpose()
            };
        let mut requires = Vec::new();
        for r in raw.requires {
            let (recipe, when) = match r {
                RawRequirement::Name(n) => (n, None),
                RawRequirement::Conditional { recipe, when } => (recipe, when),
            };
            requires.push(Requirement {
                recipe,
                when: parse_when(0, when)?,
            });
        }
        let handler_names: Vec<String> = raw
            .handlers
            .iter()
            .map(|h| h.get_ref().name.clone())
            .collect();
        let mut steps = Vec::new();
        for spanned in raw.steps {
            let offset = spanned.span().start;
            let raw_step = spanned.into_inner();
            if let Some(missing) = raw_step.notify.iter().find(|n| !handler_names.contains(n)) {
                return Err(err(
                    offset,
                    format!(
                        "step '{}' notifies '{missing}', but no handler has that name",
                        raw_step.name
                    ),
                ));
            }
            if let Some(list) = &raw_step.for_each {
                if !matches!(vars.get(list), Some(d) if d.kind == vars::VarType::List) {
                    return Err(err(
                        offset,
                        format!("for_each = '{list}' must name a list variable"),
                    ));
                }
            }
            let when = parse_when(offset, raw_step.when.clone())?;
            let step = build_step(raw_step, when).map_err(|e| err(offset, e.to_string()))?;
            check_refs(offset, &step.templates())?;
            steps.push(step);
        }
        let mut handlers = Vec::new();
        for spanned in raw.handlers {
            let offset = spanned.span().start;
            let handler =
                build_handler(spanned.into_inner()).map_err(|e| err(offset, e.to_string()))?;
            check_refs(offset, &handler.templates())?;
            handlers.push(handler);
        }
        Ok(Recipe {
            name: raw.name,
            description: raw.description,
            supported: raw.supported,
            requires,
            vars,
            steps,
            handlers,
            source: source_name.to_owned(),
        })
    }

    /// Loads a recipe file.
    pub(crate) fn load(path: &Path) -> Result<Recipe, RecipeError> {
        let text = crate::bounded::read_text(path).map_err(|e| RecipeError::Invalid {
            source_name: path.display().to_string(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Recipe::parse(&path.display().to_string(), &text)
    }
}

impl Step {
    /// Every text of the step that may hold `{{ placeholders }}`.
    fn templates(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = vec![&self.name];
        texts.extend(self.warn.as_deref());
        texts.extend(self.kind.templates());
        texts
    }
}

/// A handler is a step without a condition, notifications, a loop or a warning.
fn build_handler(raw: RawHandler) -> Result<Step, FieldError> {
    let step = RawStep {
        name: raw.name,
        kind: raw.kind,
        when: None,
        become_root: raw.become_root,
        timeout: raw.timeout,
        notify: Vec::new(),
        for_each: None,
        warn: None,
        fields: raw.fields,
    };
    build_step(step, None)
}

fn build_step(raw: RawStep, when: Option<Condition>) -> Result<Step, FieldError> {
    let kind = raw.kind.as_deref().unwrap_or(kinds::DEFAULT_KIND);
    let (kind_name, kind) = kinds::parse(kind, &raw.name, raw.fields)?;
    Ok(Step {
        name: raw.name,
        kind_name,
        kind,
        when,
        become_root: raw.become_root,
        timeout: raw.timeout.map(Duration::from_secs),
        notify: raw.notify,
        for_each: raw.for_each,
        warn: raw.warn,
    })
}
