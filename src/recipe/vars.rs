//! Recipe variables: declared types, defaults, validation rules, values from `--set`/`--vars`,
//! and substitution of `{{ name }}` into commands (shell-quoted) and file content (as is).

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::Deserialize;

use crate::shell::quote_posix;

/// A variable's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum VarType {
    String,
    Int,
    Bool,
    List,
}

impl VarType {
    /// The type's name as recipes write it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Int => "int",
            VarType::Bool => "bool",
            VarType::List => "list",
        }
    }
}

/// A typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    /// Truthiness for `when`: true, non-zero, non-empty.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Int(i) => *i != 0,
            Value::Bool(b) => *b,
            Value::List(l) => !l.is_empty(),
        }
    }

    /// The value as JSON (for `json` steps).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Str(s) => s.clone().into(),
            Value::Int(i) => (*i).into(),
            Value::Bool(b) => (*b).into(),
            Value::List(l) => l.clone().into(),
        }
    }

    /// The value as words for a shell command, each quoted.
    fn shell_words(&self) -> String {
        match self {
            Value::List(items) => items
                .iter()
                .map(|i| quote_posix(i))
                .collect::<Vec<_>>()
                .join(" "),
            other => quote_posix(&other.to_string()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(l) => f.write_str(&l.join(",")),
        }
    }
}

/// Why a value does not fit its variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VarError {
    #[error("'{0}' is not an integer")]
    NotInteger(String),
    #[error("'{0}' is not true or false (nor yes/no, on/off, 1/0)")]
    NotBool(String),
    #[error("expected {expected}, got {found}")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    #[error("list items must be strings, not {0}")]
    ListItem(&'static str),
    #[error("'{value}' is not a valid value for {name}: it must match /{pattern}/")]
    NoMatch {
        value: String,
        name: String,
        pattern: String,
    },
    #[error("'{value}' is not a valid value for {name}: choose one of {choices}")]
    NotAChoice {
        value: String,
        name: String,
        choices: String,
    },
    #[error("variable '{name}' has an invalid pattern: {reason}")]
    BadPattern { name: String, reason: String },
}

/// Text as a bool: true/false, yes/no, on/off, 1/0.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// One `[vars.NAME]` declaration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VarDecl {
    #[serde(rename = "type")]
    pub(crate) kind: VarType,
    pub(crate) default: Option<toml::Value>,
    pub(crate) pattern: Option<String>,
    pub(crate) choices: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) description: String,
    /// What to set it to in a CI job, and why (`strap recipe show`'s "In CI" section).
    #[serde(default)]
    pub(crate) ci: String,
}

impl VarDecl {
    /// Parses a value given as text (`--set k=v`): ints in decimal, bools as true/false/yes/no,
    /// lists comma-separated.
    pub(crate) fn parse_text(&self, text: &str) -> Result<Value, VarError> {
        Ok(match self.kind {
            VarType::String => Value::Str(text.to_owned()),
            VarType::Int => Value::Int(
                text.trim()
                    .parse()
                    .map_err(|_| VarError::NotInteger(text.to_owned()))?,
            ),
            VarType::Bool => {
                Value::Bool(parse_bool(text).ok_or_else(|| VarError::NotBool(text.to_owned()))?)
            }
            VarType::List => Value::List(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
        })
    }

    /// Converts a TOML value (a default or `--vars` file entry) to this variable's type.
    pub(crate) fn parse_toml(&self, value: &toml::Value) -> Result<Value, VarError> {
        match (self.kind, value) {
            (VarType::String, toml::Value::String(s)) => Ok(Value::Str(s.clone())),
            (VarType::Int, toml::Value::Integer(i)) => Ok(Value::Int(*i)),
            (VarType::Bool, toml::Value::Boolean(b)) => Ok(Value::Bool(*b)),
            (VarType::List, toml::Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(n) => Ok(n.to_string()),
                    other => Err(VarError::ListItem(other.type_str())),
                })
                .collect::<Result<_, _>>()
                .map(Value::List),
            (_, toml::Value::String(s)) => self.parse_text(s),
            (kind, other) => Err(VarError::WrongType {
                expected: kind.name(),
                found: other.type_str(),
            }),
        }
    }

    /// Checks `value` against the pattern (anchored, applied to each list item) and choices.
    pub(crate) fn validate(&self, name: &str, value: &Value) -> Result<(), VarError> {
        let items: Vec<String> = match value {
            Value::List(items) => items.clone(),
            other => vec![other.to_string()],
        };
        if let Some(pattern) = &self.pattern {
            let re = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| VarError::BadPattern {
                name: name.to_owned(),
                reason: e.to_string(),
            })?;
            if let Some(bad) = items.iter().find(|i| !re.is_match(i)) {
                return Err(VarError::NoMatch {
                    value: bad.clone(),
                    name: name.to_owned(),
                    pattern: pattern.clone(),
                });
            }
        }
        if let Some(choices) = &self.choices {
            if let Some(bad) = items.iter().find(|i| !choices.contains(i)) {
                return Err(VarError::NotAChoice {
                    value: bad.clone(),
                    name: name.to_owned(),
                    choices: choices.join(", "),
                });
            }
        }
        Ok(())
    }
}

/// Values by name (variables and facts).
pub(crate) type Values = BTreeMap<String, Value>;

fn placeholder() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}").expect("valid regex"))
}

/// The variable names a template refers to (`{{ name }}`; `{{.Go}}` templates are left alone).
pub(crate) fn referenced(template: &str) -> impl Iterator<Item = &str> {
    placeholder()
        .captures_iter(template)
        .map(|c| c.get(1).map_or("", |m| m.as_str()))
}

/// The variable a template consists of, when it is nothing but `{{ name }}`.
pub(crate) fn whole_placeholder(template: &str) -> Option<&str> {
    let caps = placeholder().captures(template.trim())?;
    (caps.get(0)?.as_str().len() == template.trim().len())
        .then(|| caps.get(1).map(|m| m.as_str()))
        .flatten()
}

/// How values are written into a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quoting {
    /// Shell-quoted words (commands): a value can never become code.
    Shell,
    /// As is (file content, paths, JSON strings).
    Raw,
}

/// Fills `{{ name }}` placeholders. Unknown names are a load-time error, so here they stay as is.
pub(crate) fn substitute(template: &str, values: &Values, quoting: Quoting) -> String {
    placeholder()
        .replace_all(template, |caps: &regex::Captures<'_>| {
            match values.get(&caps[1]) {
                Some(v) if quoting == Quoting::Shell => v.shell_words(),
                Some(v) => v.to_string(),
                None => caps[0].to_owned(),
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(kind: VarType, pattern: Option<&str>) -> VarDecl {
        VarDecl {
            kind,
            default: None,
            pattern: pattern.map(str::to_owned),
            choices: None,
            description: String::new(),
            ci: String::new(),
        }
    }

    #[test]
    fn hostile_values_are_quoted_never_executed() {
        let mut values = Values::new();
        values.insert(
            "x".into(),
            Value::Str("can0; rm -rf / $(reboot) `id` 'q'".into()),
        );
        values.insert("l".into(), Value::List(vec!["a b".into(), "c'd".into()]));
        assert_eq!(
            substitute("ip link show {{ x }}", &values, Quoting::Shell),
            r#"ip link show 'can0; rm -rf / $(reboot) `id` '"'q'""#
        );
        assert_eq!(
            substitute("x {{l}}", &values, Quoting::Shell),
            r#"x 'a b' "c'd""#
        );
        assert_eq!(substitute("{{ l }}", &values, Quoting::Raw), "a b,c'd");
        assert_eq!(
            substitute("{{.State.Running}}", &values, Quoting::Shell),
            "{{.State.Running}}"
        );
    }

    #[test]
    fn a_whole_placeholder_is_told_apart_from_text_around_one() {
        assert_eq!(whole_placeholder(" {{ users }} "), Some("users"));
        assert_eq!(whole_placeholder("{{users}}"), Some("users"));
        assert_eq!(whole_placeholder("{{ a }},{{ b }}"), None);
        assert_eq!(whole_placeholder("x {{ a }}"), None);
    }

    #[test]
    fn patterns_are_anchored_and_apply_to_each_item() {
        let d = decl(VarType::List, Some("[a-z]+[0-9]+"));
        assert!(d
            .validate(
                "interfaces",
                &Value::List(vec!["can0".into(), "vcan1".into()])
            )
            .is_ok());
        let err = d
            .validate("interfaces", &Value::List(vec!["can0; rm -rf /".into()]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("'can0; rm -rf /' is not a valid value for interfaces: it must match"),
            "{err}"
        );
    }

    #[test]
    fn text_values_parse_by_type() {
        assert_eq!(
            decl(VarType::Int, None).parse_text("500000"),
            Ok(Value::Int(500000))
        );
        assert_eq!(
            decl(VarType::Int, None).parse_text("5e5"),
            Err(VarError::NotInteger("5e5".into()))
        );
        assert_eq!(
            decl(VarType::Bool, None).parse_text("yes"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            decl(VarType::List, None).parse_text("can0, can1"),
            Ok(Value::List(vec!["can0".into(), "can1".into()]))
        );
        assert_eq!(
            decl(VarType::Bool, None).parse_toml(&toml::Value::Integer(1)),
            Err(VarError::WrongType {
                expected: "bool",
                found: "integer"
            })
        );
    }
}
