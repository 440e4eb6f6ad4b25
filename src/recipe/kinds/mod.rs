//! Step kinds. Each kind is one file: it reads its own fields from the recipe and implements
//! [`StepKind`] (its templates, its check, its change). [`KINDS`] maps the names recipes write in
//! `kind = "…"` to the kinds' parse functions; adding a kind adds a file and a line there.

mod apt_repository;
mod can_interface;
mod file;
mod group_member;
mod json;
mod message;
mod packages;
mod service;
mod shell;

use std::fmt;

use serde::de::DeserializeOwned;

use super::error::StepError;
use super::host::StepCtx;

/// The result of a check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Already as desired.
    Ok,
    /// Differs; with a description of the change when the kind can tell. After the change, the
    /// check must pass.
    Differs(Option<String>),
    /// The kind cannot tell (a command without a check): the change always runs.
    Unchecked,
    /// A condition the step verifies but cannot bring about (a check without a command); holds
    /// the check that failed.
    Unmet(String),
    /// The kind can neither check nor bring about the desired state on this machine (a service
    /// where no service manager runs); holds why and what to do instead. A dry run reports the
    /// step `unknown`, a run fails it.
    Unavailable(String),
}

/// What a step kind does. Checks change nothing; `apply` brings the system to the desired state
/// (it runs only after a check said it differs).
pub(crate) trait StepKind: fmt::Debug + Send + Sync {
    /// Every text that may hold `{{ placeholders }}` (checked when the recipe is loaded).
    fn templates(&self) -> Vec<&str>;

    /// Whether the desired state holds.
    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError>;

    /// Makes the change; returns output worth showing.
    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError>;

    /// Text reported with the step even when nothing changed.
    fn message(&self, _ctx: &StepCtx<'_>) -> Option<String> {
        None
    }

    /// The commands `apply` runs as the recipe wrote them (values filled in), shown by a dry run;
    /// empty for kinds whose check describes the change itself.
    fn commands(&self, _ctx: &StepCtx<'_>) -> Vec<String> {
        Vec::new()
    }

    /// True for a verification: a check with nothing to run.
    fn verifies_only(&self) -> bool {
        false
    }

    /// True for a step that tells about the system as the other steps leave it (a message): a
    /// dry run with pending changes does not show it.
    fn reports_on_result(&self) -> bool {
        false
    }

    /// How long a verification waits for its check to pass (a real run; a dry run checks once).
    fn wait(&self, _ctx: &StepCtx<'_>) -> Result<Option<std::time::Duration>, StepError> {
        Ok(None)
    }
}

/// Reads a kind's fields.
type Parse = fn(&mut Fields) -> Result<Box<dyn StepKind>, FieldError>;

/// Every step kind, by the name recipes use.
const KINDS: &[(&str, Parse)] = &[
    ("shell", shell::parse),
    ("packages", packages::parse),
    ("service", service::parse),
    ("file", file::parse),
    ("json", json::parse),
    ("apt_repository", apt_repository::parse),
    ("group_member", group_member::parse),
    ("can_interface", can_interface::parse),
    ("message", message::parse),
];

/// The kind of a step that names none.
pub(crate) const DEFAULT_KIND: &str = "shell";

/// A step's kind-specific fields that cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FieldError {
    #[error("unknown step kind '{name}' ({known})")]
    UnknownKind { name: String, known: String },
    #[error("step '{step}' ({kind}) needs {what}")]
    Missing {
        step: String,
        kind: &'static str,
        what: String,
    },
    #[error("step '{step}' ({kind}): `{field}` {problem}")]
    Invalid {
        step: String,
        kind: &'static str,
        field: String,
        problem: String,
    },
    #[error("step '{step}' ({kind}) has no field `{field}` (its own fields: {known})")]
    Unknown {
        step: String,
        kind: &'static str,
        field: String,
        known: String,
    },
}

/// The fields of one step besides the common ones, taken one by one by its kind.
pub(crate) struct Fields {
    step: String,
    kind: &'static str,
    table: toml::Table,
    taken: Vec<&'static str>,
}

impl Fields {
    /// An optional field.
    pub(crate) fn take<T: DeserializeOwned>(
        &mut self,
        field: &'static str,
    ) -> Result<Option<T>, FieldError> {
        self.taken.push(field);
        self.table
            .remove(field)
            .map(|value| {
                value
                    .try_into()
                    .map_err(|e: toml::de::Error| self.invalid(field, e.message()))
            })
            .transpose()
    }

    /// A required field.
    pub(crate) fn need<T: DeserializeOwned>(
        &mut self,
        field: &'static str,
    ) -> Result<T, FieldError> {
        self.take(field)?
            .ok_or_else(|| self.missing(format!("`{field}`")))
    }

    /// The step lacks `what`.
    pub(crate) fn missing(&self, what: impl Into<String>) -> FieldError {
        FieldError::Missing {
            step: self.step.clone(),
            kind: self.kind,
            what: what.into(),
        }
    }

    /// `field` has an unusable value.
    pub(crate) fn invalid(&self, field: &str, problem: impl fmt::Display) -> FieldError {
        FieldError::Invalid {
            step: self.step.clone(),
            kind: self.kind,
            field: field.to_owned(),
            problem: problem.to_string(),
        }
    }

    /// Fails on a field the kind did not take.
    fn finish(self) -> Result<(), FieldError> {
        match self.table.into_iter().next() {
            None => Ok(()),
            Some((field, _)) => Err(FieldError::Unknown {
                step: self.step,
                kind: self.kind,
                field,
                known: self.taken.join(", "),
            }),
        }
    }
}

/// Reads a step of kind `kind` from its own `fields`; returns the kind's registered name and the
/// step.
pub(crate) fn parse(
    kind: &str,
    step: &str,
    fields: toml::Table,
) -> Result<(&'static str, Box<dyn StepKind>), FieldError> {
    let Some(&(name, parse)) = KINDS.iter().find(|(name, _)| *name == kind) else {
        return Err(FieldError::UnknownKind {
            name: kind.to_owned(),
            known: KINDS
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let mut fields = Fields {
        step: step.to_owned(),
        kind: name,
        table: fields,
        taken: Vec::new(),
    };
    let parsed = parse(&mut fields)?;
    fields.finish()?;
    Ok((name, parsed))
}

impl State {
    /// `Ok` when there is nothing to change, else the changes as `describe` tells them.
    fn from_changes(changes: Vec<String>, describe: impl FnOnce(Vec<String>) -> String) -> State {
        if changes.is_empty() {
            State::Ok
        } else {
            State::Differs(Some(describe(changes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn an_unknown_kind_lists_the_known_ones() {
        let err = parse("teleport", "x", toml::Table::new()).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("unknown step kind 'teleport' ("), "{text}");
        for (name, _) in KINDS {
            assert!(text.contains(name), "{name} not listed: {text}");
        }
    }

    #[test]
    fn each_kind_is_found_by_its_name_and_refuses_fields_it_does_not_have() {
        let (name, _) = parse("message", "m", table("text = 'hello'")).unwrap();
        assert_eq!(name, "message");
        let err = parse("message", "m", table("text = 'hi'\ninterface = 'can0'"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "step 'm' (message) has no field `interface` (its own fields: text)"
        );
        let err = parse("service", "s", toml::Table::new()).unwrap_err();
        assert_eq!(err.to_string(), "step 's' (service) needs `service`");
        for (fields, problem) in [
            (
                "check = 'true'\nrun = 'true'\nwait = 5",
                "`wait` is for a verification: a `check` without `run`",
            ),
            (
                "check = 'true'\nwait = 'soon'",
                "`wait` must be a whole number of seconds or a \"{{ variable }}\", not \"soon\"",
            ),
            (
                "check = 'true'\nwait = -1",
                "`wait` must be a whole number of seconds or a \"{{ variable }}\", not -1",
            ),
        ] {
            let err = parse("shell", "s", table(fields)).unwrap_err().to_string();
            assert_eq!(err, format!("step 's' (shell): {problem}"));
        }
        for fields in [
            "check = 'true'\nwait = 30",
            "check = 'true'\nwait = '{{ n }}'",
        ] {
            parse("shell", "s", table(fields)).unwrap();
        }
        let err = parse("packages", "p", table("packages = 'curl'")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("step 'p' (packages): `packages` invalid type"),
            "{err}"
        );
    }
}
