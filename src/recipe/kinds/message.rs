//! `message`: text shown with the step's result (e.g. where to find a generated password).

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::host::StepCtx;

#[derive(Debug)]
struct Message {
    text: String,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    Ok(Box::new(Message {
        text: fields.need("text")?,
    }))
}

impl StepKind for Message {
    fn templates(&self) -> Vec<&str> {
        vec![&self.text]
    }

    fn check(&self, _ctx: &StepCtx<'_>) -> Result<State, StepError> {
        Ok(State::Ok)
    }

    fn apply(&self, _ctx: &StepCtx<'_>) -> Result<String, StepError> {
        Ok(String::new())
    }

    fn message(&self, ctx: &StepCtx<'_>) -> Option<String> {
        Some(ctx.raw(&self.text))
    }

    fn reports_on_result(&self) -> bool {
        true
    }
}
