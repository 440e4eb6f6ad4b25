//! `shell` (the default kind): `check` is a command that exits 0 when the system is as desired,
//! `run` the commands that make it so. A step with only `check` verifies; with only `run`, it
//! always runs. A verification may `wait`: a run retries its check once a second for up to that
//! many seconds (a literal or a `"{{ variable }}"`) before the step fails.

use std::time::Duration;

use serde::Deserialize;

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::host::StepCtx;
use crate::recipe::vars::referenced;

/// One command or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Commands {
    One(String),
    Many(Vec<String>),
}

impl Commands {
    /// The commands as a list.
    fn into_vec(self) -> Vec<String> {
        match self {
            Commands::One(c) => vec![c],
            Commands::Many(c) => c,
        }
    }
}

#[derive(Debug)]
struct Shell {
    check: Option<String>,
    run: Vec<String>,
    /// Seconds a verification waits for its check to pass (text: a literal or a template).
    wait: Option<String>,
}

/// What `wait` accepts.
const WAIT_EXPECTED: &str = "a whole number of seconds";

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    let check = fields.take("check")?;
    let run = fields
        .take::<Commands>("run")?
        .map(Commands::into_vec)
        .unwrap_or_default();
    if check.is_none() && run.is_empty() {
        return Err(fields.missing("`check`, `run` or both"));
    }
    let wait = match fields.take::<toml::Value>("wait")? {
        None => None,
        Some(_) if check.is_none() || !run.is_empty() => {
            let problem = "is for a verification: a `check` without `run`";
            return Err(fields.invalid("wait", problem));
        }
        Some(toml::Value::Integer(n)) if n >= 0 => Some(n.to_string()),
        Some(toml::Value::String(text))
            if referenced(&text).next().is_some() || text.trim().parse::<u64>().is_ok() =>
        {
            Some(text)
        }
        Some(other) => {
            let problem =
                format!("must be {WAIT_EXPECTED} or a \"{{{{ variable }}}}\", not {other}");
            return Err(fields.invalid("wait", problem));
        }
    };
    Ok(Box::new(Shell { check, run, wait }))
}

impl StepKind for Shell {
    fn templates(&self) -> Vec<&str> {
        self.check
            .iter()
            .chain(&self.run)
            .chain(&self.wait)
            .map(String::as_str)
            .collect()
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let Some(check) = &self.check else {
            return Ok(State::Unchecked);
        };
        let script = ctx.cmd(check);
        Ok(if ctx.succeeds(&script)? {
            State::Ok
        } else if self.run.is_empty() {
            State::Unmet(script)
        } else {
            State::Differs(None)
        })
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let mut output = String::new();
        for command in &self.run {
            output.push_str(&ctx.must(&ctx.cmd(command))?);
        }
        Ok(output)
    }

    fn commands(&self, ctx: &StepCtx<'_>) -> Vec<String> {
        self.run.iter().map(|command| ctx.cmd(command)).collect()
    }

    fn verifies_only(&self) -> bool {
        self.run.is_empty()
    }

    fn wait(&self, ctx: &StepCtx<'_>) -> Result<Option<Duration>, StepError> {
        let Some(wait) = &self.wait else {
            return Ok(None);
        };
        let text = ctx.raw(wait);
        match text.trim().parse::<u64>() {
            Ok(seconds) => Ok(Some(Duration::from_secs(seconds))),
            Err(_) => Err(StepError::BadValue {
                field: "wait".to_owned(),
                value: text,
                expected: WAIT_EXPECTED,
            }),
        }
    }
}
