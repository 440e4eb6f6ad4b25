//! `file`: a file with exactly this content (and optionally mode and owner).

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::files::{self, Desired};
use crate::recipe::host::StepCtx;

#[derive(Debug)]
struct File {
    path: String,
    content: String,
    mode: Option<u32>,
    owner: Option<String>,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    let path = fields.need("path")?;
    let content = fields.need("content")?;
    let mode =
        match fields.take::<String>("mode")? {
            Some(m) => Some(u32::from_str_radix(&m, 8).map_err(|_| {
                fields.invalid("mode", format!("'{m}' is not octal (e.g. \"0644\")"))
            })?),
            None => None,
        };
    let owner = fields.take("owner")?;
    Ok(Box::new(File {
        path,
        content,
        mode,
        owner,
    }))
}

impl File {
    fn desired(&self, ctx: &StepCtx<'_>) -> Desired {
        Desired {
            content: ctx.raw(&self.content),
            mode: self.mode,
            owner: self.owner.as_ref().map(|o| ctx.raw(o)),
        }
    }
}

impl StepKind for File {
    fn templates(&self) -> Vec<&str> {
        [&self.path, &self.content]
            .into_iter()
            .chain(&self.owner)
            .map(String::as_str)
            .collect()
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let changes = files::changes(&ctx.path(&self.path), &self.desired(ctx), ctx)?;
        Ok(changes.map_or(State::Ok, |diff| State::Differs(Some(diff))))
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        files::write(&ctx.path(&self.path), &self.desired(ctx), ctx)?;
        Ok(String::new())
    }
}
