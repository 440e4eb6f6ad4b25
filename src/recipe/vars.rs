//! Recipe variables: declared types, defaults, validation rules, values from `--set`/`--vars`,
//! and substitution of `{{ name }}` into commands (shell-quoted) and file content (as is).

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::Deserialize;

/// A variable's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VarType {
    String,
    Int,
    Bool,
    List,
}

/// A typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    /// Truthiness for `when`: true, non-zero, non-empty.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Int(i) => *i != 0,
            Value::Bool(b) => *b,
            Value::List(l) => !l.is_empty(),
        }
    }

    /// The value as JSON (for `json` steps).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Str(s) => s.clone().into(),
            Value::Int(i) => (*i).into(),
            Value::Bool(b) => (*b).into(),
            Value::List(l) => l.clone().into(),
        }
    }

    /// The value as words for a shell command, each single-quoted.
    pub fn shell_words(&self) -> String {
        match self {
            Value::List(items) => items
                .iter()
                .map(|i| shell_quote(i))
                .collect::<Vec<_>>()
                .join(" "),
            other => shell_quote(&other.to_string()),
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

/// One `[vars.NAME]` declaration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarDecl {
    #[serde(rename = "type")]
    pub kind: VarType,
    pub default: Option<toml::Value>,
    pub pattern: Option<String>,
    pub choices: Option<Vec<String>>,
    #[serde(default)]
    pub description: String,
}

impl VarDecl {
    /// Parses a value given as text (`--set k=v`): ints in decimal, bools as true/false/yes/no,
    /// lists comma-separated.
    pub fn parse_text(&self, text: &str) -> Result<Value, String> {
        Ok(match self.kind {
            VarType::String => Value::Str(text.to_owned()),
            VarType::Int => Value::Int(
                text.trim()
                    .parse()
                    .map_err(|_| format!("'{text}' is not an integer"))?,
            ),
            VarType::Bool => Value::Bool(match text.trim() {
                "true" | "yes" | "on" | "1" => true,
                "false" | "no" | "off" | "0" => false,
                _ => return Err(format!("'{text}' is not true or false")),
            }),
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
    pub fn from_toml(&self, value: &toml::Value) -> Result<Value, String> {
        match (self.kind, value) {
            (VarType::String, toml::Value::String(s)) => Ok(Value::Str(s.clone())),
            (VarType::Int, toml::Value::Integer(i)) => Ok(Value::Int(*i)),
            (VarType::Bool, toml::Value::Boolean(b)) => Ok(Value::Bool(*b)),
            (VarType::List, toml::Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(n) => Ok(n.to_string()),
                    other => Err(format!(
                        "list items must be strings, not {}",
                        other.type_str()
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Value::List),
            (VarType::List, toml::Value::String(s)) | (_, toml::Value::String(s)) => {
                self.parse_text(s)
            }
            (kind, other) => {
                Err(format!("expected {kind:?}, got {}", other.type_str()).to_lowercase())
            }
        }
    }

    /// Checks `value` against the pattern (anchored, applied to each list item) and choices.
    pub fn validate(&self, name: &str, value: &Value) -> Result<(), String> {
        let items: Vec<String> = match value {
            Value::List(items) => items.clone(),
            other => vec![other.to_string()],
        };
        if let Some(pattern) = &self.pattern {
            let re = Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|e| format!("variable '{name}' has an invalid pattern: {e}"))?;
            if let Some(bad) = items.iter().find(|i| !re.is_match(i)) {
                return Err(format!(
                    "'{bad}' is not a valid {name}: it must match /{pattern}/"
                ));
            }
        }
        if let Some(choices) = &self.choices {
            if let Some(bad) = items.iter().find(|i| !choices.contains(i)) {
                return Err(format!(
                    "'{bad}' is not a valid {name}: choose one of {}",
                    choices.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// Values by name (variables and facts).
pub type Values = BTreeMap<String, Value>;

/// `value` as one single-quoted shell word.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn placeholder() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}").expect("valid regex"))
}

/// The variable names a template refers to (`{{ name }}`; `{{.Go}}` templates are left alone).
pub fn referenced(template: &str) -> impl Iterator<Item = &str> {
    placeholder()
        .captures_iter(template)
        .map(|c| c.get(1).map_or("", |m| m.as_str()))
}

/// How values are written into a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// Shell-quoted words (commands): a value can never become code.
    Shell,
    /// As is (file content, paths, JSON strings).
    Raw,
}

/// Fills `{{ name }}` placeholders. Unknown names are a load-time error, so here they stay as is.
pub fn substitute(template: &str, values: &Values, quoting: Quoting) -> String {
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
            r"ip link show 'can0; rm -rf / $(reboot) `id` '\''q'\'''"
        );
        assert_eq!(
            substitute("x {{l}}", &values, Quoting::Shell),
            r"x 'a b' 'c'\''d'"
        );
        assert_eq!(substitute("{{ l }}", &values, Quoting::Raw), "a b,c'd");
        assert_eq!(
            substitute("{{.State.Running}}", &values, Quoting::Shell),
            "{{.State.Running}}"
        );
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
            err.contains("'can0; rm -rf /' is not a valid interfaces"),
            "{err}"
        );
    }

    #[test]
    fn text_values_parse_by_type() {
        assert_eq!(
            decl(VarType::Int, None).parse_text("500000"),
            Ok(Value::Int(500000))
        );
        assert!(decl(VarType::Int, None).parse_text("5e5").is_err());
        assert_eq!(
            decl(VarType::Bool, None).parse_text("yes"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            decl(VarType::List, None).parse_text("can0, can1"),
            Ok(Value::List(vec!["can0".into(), "can1".into()]))
        );
    }
}
