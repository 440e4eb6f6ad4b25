//! The recipe file format (TOML) and its validation. Every error names the file and line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::vars::{self, VarDecl};
use super::when::Condition;
use crate::config::line_of;

/// A parsed, validated recipe.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: String,
    pub description: String,
    /// Distributions or OS families it supports (empty: any).
    pub supported: Vec<String>,
    pub requires: Vec<Requirement>,
    pub vars: BTreeMap<String, VarDecl>,
    pub steps: Vec<Step>,
    pub handlers: Vec<Handler>,
    /// Where it came from (a path, or `built-in`).
    pub source: String,
}

/// Another recipe to run first.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub recipe: String,
    pub when: Option<Condition>,
}

/// One step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
    pub when: Option<Condition>,
    pub become_root: bool,
    pub timeout: Option<u64>,
    pub notify: Vec<String>,
    /// A list variable: the step runs once per item, with `{{ item }}`.
    pub for_each: Option<String>,
    /// Shown when the step changed something (e.g. "log in again for the group to apply").
    pub warn: Option<String>,
    pub line: usize,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    Shell {
        check: Option<String>,
        run: Vec<String>,
    },
    Packages {
        packages: Vec<String>,
        update: bool,
    },
    Service {
        service: String,
        enabled: bool,
        started: bool,
    },
    File {
        path: String,
        content: String,
        mode: Option<u32>,
        owner: Option<String>,
    },
    Json {
        path: String,
        merge: serde_json::Map<String, serde_json::Value>,
    },
    AptRepository {
        key_url: String,
        fingerprint: String,
        keyring: String,
        source: String,
        list_file: String,
    },
    GroupMember {
        group: String,
        users: String,
    },
    CanInterface {
        interface: String,
    },
    Message {
        text: String,
    },
}

/// A handler run once at the end when a notifying step changed something.
#[derive(Debug, Clone)]
pub struct Handler {
    pub name: String,
    pub run: Vec<String>,
    pub become_root: bool,
}

/// A recipe file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}:{line}: {message}")]
pub struct RecipeError {
    pub source_name: String,
    pub line: usize,
    pub message: String,
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

#[derive(Deserialize)]
#[serde(untagged)]
enum Commands {
    One(String),
    Many(Vec<String>),
}

impl Commands {
    fn into_vec(self) -> Vec<String> {
        match self {
            Commands::One(c) => vec![c],
            Commands::Many(c) => c,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
    // shell
    check: Option<String>,
    run: Option<Commands>,
    // packages
    packages: Option<Vec<String>>,
    update: Option<bool>,
    // service
    service: Option<String>,
    enabled: Option<bool>,
    started: Option<bool>,
    // file / json
    path: Option<String>,
    content: Option<String>,
    mode: Option<String>,
    owner: Option<String>,
    merge: Option<serde_json::Map<String, serde_json::Value>>,
    // apt_repository
    key_url: Option<String>,
    fingerprint: Option<String>,
    keyring: Option<String>,
    source: Option<String>,
    list_file: Option<String>,
    // group_member
    group: Option<String>,
    users: Option<String>,
    // can_interface
    interface: Option<String>,
    // message
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHandler {
    name: String,
    run: Commands,
    #[serde(default, rename = "become")]
    become_root: bool,
}

/// Facts every recipe can use besides its variables.
pub const FACTS: &[&str] = &[
    "os_family",
    "distribution",
    "codename",
    "arch",
    "sysroot",
    "item",
];

impl Recipe {
    /// Parses and validates recipe text; `source_name` names it in errors.
    pub fn parse(source_name: &str, text: &str) -> Result<Recipe, RecipeError> {
        let err = |offset: usize, message: String| RecipeError {
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
                let value = decl
                    .from_toml(default)
                    .map_err(|m| err(offset, format!("default of '{name}': {m}")))?;
                decl.validate(&name, &value)
                    .map_err(|m| err(offset, format!("default of '{name}': {m}")))?;
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
                        .map_err(|m| err(offset, format!("bad `when`: {m}")))?;
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
            let step =
                build_step(raw_step, when, line_of(text, offset)).map_err(|m| err(offset, m))?;
            check_refs(offset, &step.templates())?;
            steps.push(step);
        }
        let mut handlers = Vec::new();
        for spanned in raw.handlers {
            let offset = spanned.span().start;
            let h = spanned.into_inner();
            let run = h.run.into_vec();
            check_refs(offset, &run.iter().map(String::as_str).collect::<Vec<_>>())?;
            handlers.push(Handler {
                name: h.name,
                run,
                become_root: h.become_root,
            });
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
    pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|e| RecipeError {
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
        match &self.kind {
            StepKind::Shell { check, run } => {
                texts.extend(check.as_deref());
                texts.extend(run.iter().map(String::as_str));
            }
            StepKind::Packages { packages, .. } => {
                texts.extend(packages.iter().map(String::as_str))
            }
            StepKind::Service { service, .. } => texts.push(service),
            StepKind::File {
                path,
                content,
                owner,
                ..
            } => {
                texts.extend([path.as_str(), content.as_str()]);
                texts.extend(owner.as_deref());
            }
            StepKind::Json { path, .. } => texts.push(path),
            StepKind::AptRepository {
                key_url,
                fingerprint,
                keyring,
                source,
                list_file,
            } => {
                texts.extend([key_url.as_str(), fingerprint, keyring, source, list_file]);
            }
            StepKind::GroupMember { group, users } => texts.extend([group.as_str(), users]),
            StepKind::CanInterface { interface } => texts.push(interface),
            StepKind::Message { text } => texts.push(text),
        }
        texts
    }
}

fn build_step(raw: RawStep, when: Option<Condition>, line: usize) -> Result<Step, String> {
    let kind_name = raw.kind.clone().unwrap_or_else(|| "shell".to_owned());
    let need = |field: Option<String>, name: &str| {
        field.ok_or_else(|| format!("step '{}' ({kind_name}) needs `{name}`", raw.name))
    };
    let kind = match kind_name.as_str() {
        "shell" => {
            let run = raw.run.map(Commands::into_vec).unwrap_or_default();
            if raw.check.is_none() && run.is_empty() {
                return Err(format!("step '{}' needs `check`, `run` or both", raw.name));
            }
            StepKind::Shell { check: raw.check, run }
        }
        "packages" => StepKind::Packages {
            packages: raw.packages.filter(|p| !p.is_empty()).ok_or_else(|| format!("step '{}' needs `packages`", raw.name))?,
            update: raw.update.unwrap_or(false),
        },
        "service" => StepKind::Service {
            service: need(raw.service, "service")?,
            enabled: raw.enabled.unwrap_or(true),
            started: raw.started.unwrap_or(true),
        },
        "file" => StepKind::File {
            path: need(raw.path, "path")?,
            content: need(raw.content, "content")?,
            mode: raw
                .mode
                .map(|m| u32::from_str_radix(&m, 8).map_err(|_| format!("mode '{m}' is not octal (e.g. \"0644\")")))
                .transpose()?,
            owner: raw.owner,
        },
        "json" => StepKind::Json {
            path: need(raw.path, "path")?,
            merge: raw.merge.ok_or_else(|| format!("step '{}' needs `merge`", raw.name))?,
        },
        "apt_repository" => StepKind::AptRepository {
            key_url: need(raw.key_url, "key_url")?,
            fingerprint: need(raw.fingerprint, "fingerprint")?,
            keyring: need(raw.keyring, "keyring")?,
            source: need(raw.source, "source")?,
            list_file: need(raw.list_file, "list_file")?,
        },
        "group_member" => StepKind::GroupMember {
            group: need(raw.group, "group")?,
            users: need(raw.users, "users")?,
        },
        "can_interface" => StepKind::CanInterface { interface: need(raw.interface, "interface")? },
        "message" => StepKind::Message { text: need(raw.text, "text")? },
        other => {
            return Err(format!(
                "unknown step kind '{other}' (shell, packages, service, file, json, apt_repository, group_member, can_interface, message)"
            ))
        }
    };
    Ok(Step {
        name: raw.name,
        kind,
        when,
        become_root: raw.become_root,
        timeout: raw.timeout,
        notify: raw.notify,
        for_each: raw.for_each,
        warn: raw.warn,
        line,
    })
}
