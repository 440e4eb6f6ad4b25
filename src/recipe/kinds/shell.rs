//! `shell` (the default kind): `check` is a command that exits 0 when the system is as desired,
//! `run` the commands that make it so. A step with only `check` verifies; with only `run`, it
//! always runs.

use serde::Deserialize;

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::host::StepCtx;

/// One command or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Commands {
    One(String),
    Many(Vec<String>),
}

impl Commands {
    /// The commands as a list.
    pub(crate) fn into_vec(self) -> Vec<String> {
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
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    let check = fields.take("check")?;
    let run = fields
        .take::<Commands>("run")?
        .map(Commands::into_vec)
        .unwrap_or_default();
    if check.is_none() && run.is_empty() {
        return Err(fields.missing("`check`, `run` or both"));
    }
    Ok(Box::new(Shell { check, run }))
}

impl StepKind for Shell {
    fn templates(&self) -> Vec<&str> {
        self.check
            .iter()
            .chain(&self.run)
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
}
