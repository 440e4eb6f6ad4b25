//! `service`: a systemd unit enabled and/or started.

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::host::StepCtx;
use crate::shell::quote_posix;

#[derive(Debug)]
struct Service {
    service: String,
    enabled: bool,
    started: bool,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    Ok(Box::new(Service {
        service: fields.need("service")?,
        enabled: fields.take("enabled")?.unwrap_or(true),
        started: fields.take("started")?.unwrap_or(true),
    }))
}

impl StepKind for Service {
    fn templates(&self) -> Vec<&str> {
        vec![&self.service]
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let service = ctx.raw(&self.service);
        let quoted = quote_posix(&service);
        let mut changes = Vec::new();
        let state = |verb: &str| -> Result<String, StepError> {
            Ok(ctx
                .sh(&format!("systemctl {verb} {quoted}"))?
                .output
                .trim()
                .to_owned())
        };
        if self.enabled && state("is-enabled")? != "enabled" {
            changes.push(format!("enable {service}"));
        }
        if self.started && state("is-active")? != "active" {
            changes.push(format!("start {service}"));
        }
        Ok(State::from_changes(changes, |c| c.join(", ")))
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let service = quote_posix(&ctx.raw(&self.service));
        match (self.enabled, self.started) {
            (true, true) => ctx.must(&format!("systemctl enable --now {service}")),
            (true, false) => ctx.must(&format!("systemctl enable {service}")),
            (false, true) => ctx.must(&format!("systemctl start {service}")),
            (false, false) => Ok(String::new()),
        }
    }
}
