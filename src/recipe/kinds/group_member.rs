//! `group_member`: users in a group (`usermod -aG`). `users` is a list variable (`{{ users }}`)
//! or comma- or space-separated names.

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::host::StepCtx;
use crate::recipe::vars::{whole_placeholder, Value};
use crate::shell::quote_posix;

#[derive(Debug)]
struct GroupMember {
    group: String,
    users: String,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    Ok(Box::new(GroupMember {
        group: fields.need("group")?,
        users: fields.need("users")?,
    }))
}

impl GroupMember {
    fn users(&self, ctx: &StepCtx<'_>) -> Vec<String> {
        match whole_placeholder(&self.users).and_then(|name| ctx.var(name)) {
            Some(Value::List(items)) => items.clone(),
            _ => ctx
                .raw(&self.users)
                .split([',', ' '])
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The users not yet in `group`.
    fn missing(&self, group: &str, ctx: &StepCtx<'_>) -> Result<Vec<String>, StepError> {
        let mut missing = Vec::new();
        for user in self.users(ctx) {
            let groups = ctx.sh(&format!("id -nG {}", quote_posix(&user)))?;
            if !groups.success() {
                return Err(StepError::NoSuchUser(user));
            }
            if !groups.output.split_whitespace().any(|g| g == group) {
                missing.push(user);
            }
        }
        Ok(missing)
    }
}

impl StepKind for GroupMember {
    fn templates(&self) -> Vec<&str> {
        vec![&self.group, &self.users]
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let group = ctx.raw(&self.group);
        let missing = self.missing(&group, ctx)?;
        Ok(State::from_changes(missing, |m| {
            format!("add {} to group {group}", m.join(", "))
        }))
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let group = ctx.raw(&self.group);
        let mut output = String::new();
        for user in self.missing(&group, ctx)? {
            output.push_str(&ctx.must(&format!(
                "usermod -aG {} {}",
                quote_posix(&group),
                quote_posix(&user)
            ))?);
        }
        Ok(output)
    }
}
