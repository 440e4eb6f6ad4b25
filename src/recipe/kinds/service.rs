//! `service`: a service enabled and started — or, with `restarted = true` (a handler's job),
//! restarted — with the service manager that runs the machine ([`ServiceManager`]):
//!
//! - systemd: `systemctl is-enabled`/`is-active`; `systemctl enable --now`, `enable`, `start`,
//!   `restart` (after `systemctl daemon-reload` with `daemon_reload = true`);
//! - OpenRC: `rc-update show default`, `rc-service NAME status`; `rc-update add NAME default`,
//!   `rc-service NAME start|restart`;
//! - SysV init: enabled is an `S??NAME` link in `/etc/rc[2-5].d`, running is `service NAME
//!   status`; `update-rc.d NAME defaults` (or `chkconfig NAME on` where there is no
//!   `update-rc.d`), `service NAME start|restart`.
//!
//! Where no service manager runs (a container), or the service belongs to managers (`managers`)
//! other than the machine's, or systemd has no such unit, the step is unavailable: it says why,
//! and what to do instead (`instead`, else a generic hint).

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::host::StepCtx;
use crate::recipe::service_manager::ServiceManager;
use crate::shell::quote_posix;

/// The `managers` a service may name.
const MANAGERS: &[&str] = &["systemd", "openrc", "sysv"];

#[derive(Debug)]
struct Service {
    /// The service's name (a template).
    service: String,
    /// Enabled at boot.
    enabled: bool,
    /// Running.
    started: bool,
    /// Restart every time the step runs (instead of enabling and starting).
    restarted: bool,
    /// systemd: `systemctl daemon-reload` before changing anything (unit files were edited).
    daemon_reload: bool,
    /// The managers under which the service exists (empty: any).
    managers: Vec<String>,
    /// What to do where the service cannot be managed (a template).
    instead: Option<String>,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    let service: String = fields.need("service")?;
    if service.trim().is_empty() {
        return Err(fields.invalid("service", "is empty; name the service"));
    }
    let enabled = fields.take::<bool>("enabled")?;
    let started = fields.take::<bool>("started")?;
    let restarted = fields.take("restarted")?.unwrap_or(false);
    if restarted && (enabled.is_some() || started.is_some()) {
        let problem = "restarts the service each time the step runs; leave out `enabled` and \
                       `started` (they are for a step that converges)";
        return Err(fields.invalid("restarted", problem));
    }
    let (enabled, started) = if restarted {
        (false, false)
    } else {
        (enabled.unwrap_or(true), started.unwrap_or(true))
    };
    if !(enabled || started || restarted) {
        return Err(fields.missing("something to do: `enabled`, `started` or `restarted`"));
    }
    let managers: Vec<String> = fields.take("managers")?.unwrap_or_default();
    if let Some(bad) = managers.iter().find(|m| !MANAGERS.contains(&m.as_str())) {
        let problem = format!("names '{bad}'; the managers are {}", MANAGERS.join(", "));
        return Err(fields.invalid("managers", problem));
    }
    let daemon_reload = fields.take("daemon_reload")?.unwrap_or(false);
    if daemon_reload && !(managers.is_empty() || managers.iter().any(|m| m == "systemd")) {
        let problem = format!(
            "is for systemd, and `managers` names only {}",
            managers.join(", ")
        );
        return Err(fields.invalid("daemon_reload", problem));
    }
    Ok(Box::new(Service {
        service,
        enabled,
        started,
        restarted,
        daemon_reload,
        managers,
        instead: fields.take("instead")?,
    }))
}

/// A change the step makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Start the service at boot.
    Enable,
    /// Start it now.
    Start,
    /// Restart it now.
    Restart,
}

impl Service {
    /// The machine's manager, or why the service cannot be managed here.
    fn manager<'c>(&self, ctx: &StepCtx<'c>) -> Result<&'c ServiceManager, StepError> {
        let name = ctx.raw(&self.service);
        let why = match ctx.host.service_manager() {
            Err(none) => format!("{none} (`{name}` cannot be managed here)"),
            Ok(other)
                if !self.managers.is_empty()
                    && !self.managers.iter().any(|m| m == other.fact()) =>
            {
                format!(
                    "`{name}` is a service of {}; this machine runs {other}",
                    self.managers.join(" or ")
                )
            }
            Ok(manager) => return Ok(manager),
        };
        Err(self.unavailable(why, &name, ctx))
    }

    /// The step cannot run here for `why`: with what to do instead (the recipe's `instead`, else
    /// a generic hint).
    fn unavailable(&self, why: String, name: &str, ctx: &StepCtx<'_>) -> StepError {
        let instead = self.instead.as_ref().map_or_else(
            || {
                format!(
                    "start `{name}` yourself where this runs (in a CI job: in its script), or \
                     use a service the CI provides"
                )
            },
            |text| ctx.raw(text),
        );
        StepError::Unavailable(format!("{why}\ninstead: {instead}"))
    }

    /// Everything the step asks for.
    fn desired(&self) -> Vec<Action> {
        let wanted = [
            (self.enabled, Action::Enable),
            (self.started, Action::Start),
            (self.restarted, Action::Restart),
        ];
        wanted
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, a)| a)
            .collect()
    }

    /// What of it the step would change now (a restart always).
    fn pending(
        &self,
        manager: &ServiceManager,
        name: &str,
        ctx: &StepCtx<'_>,
    ) -> Result<Vec<Action>, StepError> {
        let mut pending = Vec::new();
        for action in self.desired() {
            let done = match action {
                Action::Enable => self.is_enabled(manager, name, ctx)?,
                Action::Start => is_running(manager, name, ctx)?,
                Action::Restart => false,
            };
            if !done {
                pending.push(action);
            }
        }
        Ok(pending)
    }

    /// Whether the service starts at boot, as `manager` tells (queries run without `become`).
    fn is_enabled(
        &self,
        manager: &ServiceManager,
        name: &str,
        ctx: &StepCtx<'_>,
    ) -> Result<bool, StepError> {
        let quoted = quote_posix(name);
        match manager {
            ServiceManager::Systemd => {
                let state = ctx.query(&format!("systemctl is-enabled {quoted}"))?.output;
                let state = state.trim();
                if state == "not-found" || state.contains("No such file or directory") {
                    let why = format!("systemd has no unit `{name}` (is its package installed?)");
                    return Err(self.unavailable(why, name, ctx));
                }
                Ok(state == "enabled")
            }
            ServiceManager::OpenRc => {
                let shown = ctx.query("rc-update show default")?.output;
                Ok(shown
                    .lines()
                    .any(|line| line.split('|').next().map(str::trim) == Some(name)))
            }
            ServiceManager::SysV => Ok(sysv_start_link(ctx.sysroot, name)),
        }
    }

    /// The commands that make `actions`, for `manager`.
    fn commands_for(
        &self,
        manager: &ServiceManager,
        name: &str,
        actions: &[Action],
    ) -> Vec<String> {
        let quoted = quote_posix(name);
        let mut commands = Vec::new();
        match manager {
            ServiceManager::Systemd => {
                if self.daemon_reload && !actions.is_empty() {
                    commands.push("systemctl daemon-reload".to_owned());
                }
                let verb = match actions {
                    [Action::Enable, Action::Start] => "enable --now",
                    [Action::Enable] => "enable",
                    [Action::Start] => "start",
                    [Action::Restart] => "restart",
                    _ => return commands,
                };
                commands.push(format!("systemctl {verb} {quoted}"));
            }
            ServiceManager::OpenRc => commands.extend(actions.iter().map(|action| match action {
                Action::Enable => format!("rc-update add {quoted} default"),
                Action::Start => format!("rc-service {quoted} start"),
                Action::Restart => format!("rc-service {quoted} restart"),
            })),
            ServiceManager::SysV => commands.extend(actions.iter().map(|action| match action {
                Action::Enable
                    if crate::which::find_on_path("update-rc.d").is_none()
                        && crate::which::find_on_path("chkconfig").is_some() =>
                {
                    format!("chkconfig {quoted} on")
                }
                Action::Enable => format!("update-rc.d {quoted} defaults"),
                Action::Start => format!("service {quoted} start"),
                Action::Restart => format!("service {quoted} restart"),
            })),
        }
        commands
    }
}

/// Whether the service runs, as its manager tells (queries run without `become`).
fn is_running(manager: &ServiceManager, name: &str, ctx: &StepCtx<'_>) -> Result<bool, StepError> {
    let quoted = quote_posix(name);
    match manager {
        ServiceManager::Systemd => {
            let state = ctx.query(&format!("systemctl is-active {quoted}"))?.output;
            Ok(state.trim() == "active")
        }
        ServiceManager::OpenRc => ctx.query_succeeds(&format!("rc-service {quoted} status")),
        ServiceManager::SysV => ctx.query_succeeds(&format!("service {quoted} status")),
    }
}

/// SysV init starts `name` in a multi-user runlevel: `/etc/rc[2-5].d/S??name` exists (what
/// `update-rc.d` and `chkconfig` make).
fn sysv_start_link(sysroot: &Path, name: &str) -> bool {
    (2..=5).any(|level| {
        let Ok(entries) = std::fs::read_dir(sysroot.join(format!("etc/rc{level}.d"))) else {
            return false;
        };
        entries.filter_map(Result::ok).any(|entry| {
            let file = entry.file_name();
            let file = file.as_bytes();
            file.len() == name.len() + 3
                && file[0] == b'S'
                && file[1..3].iter().all(u8::is_ascii_digit)
                && &file[3..] == name.as_bytes()
        })
    })
}

impl StepKind for Service {
    fn templates(&self) -> Vec<&str> {
        let mut texts = vec![self.service.as_str()];
        texts.extend(self.instead.as_deref());
        texts
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let name = ctx.raw(&self.service);
        let pending = self
            .manager(ctx)
            .and_then(|manager| self.pending(manager, &name, ctx));
        match pending {
            Err(StepError::Unavailable(why)) => Ok(State::Unavailable(why)),
            Err(e) => Err(e),
            // A restart has nothing to compare: it runs each time.
            Ok(_) if self.restarted => Ok(State::Unchecked),
            Ok(actions) => {
                let words = actions.iter().map(|action| match action {
                    Action::Enable => format!("enable {name}"),
                    Action::Start => format!("start {name}"),
                    Action::Restart => format!("restart {name}"),
                });
                Ok(State::from_changes(words.collect(), |w| w.join(", ")))
            }
        }
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let name = ctx.raw(&self.service);
        let manager = self.manager(ctx)?;
        // A query tool that is missing: make every change; the check afterwards tells.
        let actions = match self.pending(manager, &name, ctx) {
            Err(StepError::MissingCommand(_)) => self.desired(),
            pending => pending?,
        };
        let mut output = String::new();
        for command in self.commands_for(manager, &name, &actions) {
            output.push_str(&ctx.must(&command)?);
        }
        Ok(output)
    }

    /// A restart's commands (a converging step's change is described by its check).
    fn commands(&self, ctx: &StepCtx<'_>) -> Vec<String> {
        let name = ctx.raw(&self.service);
        match self.manager(ctx) {
            Ok(manager) if self.restarted => self.commands_for(manager, &name, &self.desired()),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_fields(text: &str) -> Result<Box<dyn StepKind>, FieldError> {
        super::super::parse("service", "s", text.parse().unwrap()).map(|(_, kind)| kind)
    }

    #[test]
    fn fields_that_contradict_each_other_are_refused() {
        for (text, message) in [
            (
                "service = 'x'\nrestarted = true\nenabled = true",
                "step 's' (service): `restarted` restarts the service each time the step runs",
            ),
            (
                "service = 'x'\nenabled = false\nstarted = false",
                "step 's' (service) needs something to do",
            ),
            (
                "service = 'x'\nmanagers = ['upstart']",
                "step 's' (service): `managers` names 'upstart'; the managers are systemd, \
                 openrc, sysv",
            ),
        ] {
            let err = parse_fields(text).unwrap_err().to_string();
            assert!(err.starts_with(message), "{err}");
        }
        for (text, message) in [
            (
                "service = ''",
                "step 's' (service): `service` is empty; name the service",
            ),
            (
                "service = 'x'\ndaemon_reload = true\nmanagers = ['openrc', 'sysv']",
                "step 's' (service): `daemon_reload` is for systemd, and `managers` names only \
                 openrc, sysv",
            ),
        ] {
            assert_eq!(parse_fields(text).unwrap_err().to_string(), message);
        }
        parse_fields("service = 'x'\nrestarted = true\ndaemon_reload = true").unwrap();
        parse_fields("service = 'x'\ndaemon_reload = true\nmanagers = ['systemd', 'sysv']")
            .unwrap();
        parse_fields("service = 'x'\nmanagers = ['systemd']\ninstead = 'do y'").unwrap();
    }

    #[test]
    fn sysv_counts_only_start_links_in_multi_user_runlevels() {
        let root = tempfile::tempdir().unwrap();
        let link = |dir: &str, file: &str| {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
            std::fs::write(root.path().join(dir).join(file), "").unwrap();
        };
        link("etc/rc1.d", "S01docker");
        link("etc/rc2.d", "K01docker");
        link("etc/rc3.d", "S01dockerd");
        assert!(!sysv_start_link(root.path(), "docker"));
        link("etc/rc5.d", "S02docker");
        assert!(sysv_start_link(root.path(), "docker"));
    }
}
