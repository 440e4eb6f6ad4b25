//! Which service manager runs the target machine, decided as Ansible's `service_mgr` fact does
//! and read through the sysroot: systemd when `/run/systemd/system` exists or PID 1 is `systemd`;
//! OpenRC when PID 1 is `openrc-init`, or `init` with OpenRC installed; SysV init when PID 1 is
//! any other `init`; otherwise none — a container whose PID 1 is a shell, `tini`, `dumb-init`,
//! `docker-init`, … (a Debian image has `/etc/init.d` and `service`, but nothing runs them).

use std::fmt;
use std::path::Path;

/// The service manager of a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServiceManager {
    Systemd,
    OpenRc,
    SysV,
    /// Nothing manages services; PID 1's name when it can be read.
    None {
        pid1: Option<String>,
    },
}

impl ServiceManager {
    /// The machine's service manager, from `<sysroot>/run/systemd/system`,
    /// `<sysroot>/proc/1/comm` and where OpenRC lives.
    pub(crate) fn detect(sysroot: &Path) -> ServiceManager {
        let pid1 = std::fs::read_to_string(sysroot.join("proc/1/comm"))
            .ok()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        if sysroot.join("run/systemd/system").is_dir() || pid1.as_deref() == Some("systemd") {
            return ServiceManager::Systemd;
        }
        let openrc = ["run/openrc", "sbin/openrc"]
            .iter()
            .any(|p| sysroot.join(p).exists());
        match pid1.as_deref() {
            Some("openrc-init") => ServiceManager::OpenRc,
            Some("init") if openrc => ServiceManager::OpenRc,
            Some("init") => ServiceManager::SysV,
            _ => ServiceManager::None { pid1 },
        }
    }

    /// The value of the `service_manager` fact: `systemd`, `openrc`, `sysv` or `none`.
    pub(crate) fn fact(&self) -> &'static str {
        match self {
            ServiceManager::Systemd => "systemd",
            ServiceManager::OpenRc => "openrc",
            ServiceManager::SysV => "sysv",
            ServiceManager::None { .. } => "none",
        }
    }
}

/// As messages name it: "systemd", "OpenRC", "SysV init", or what stands in PID 1's place.
impl fmt::Display for ServiceManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceManager::Systemd => f.write_str("systemd"),
            ServiceManager::OpenRc => f.write_str("OpenRC"),
            ServiceManager::SysV => f.write_str("SysV init"),
            ServiceManager::None { pid1: Some(name) } => {
                write!(
                    f,
                    "no service manager on this machine — PID 1 is `{name}`, a container?"
                )
            }
            ServiceManager::None { pid1: None } => f.write_str(
                "no service manager on this machine — PID 1 cannot be read (/proc/1/comm), a \
                 container?",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sysroot holding `files` (paths ending in `/` are directories), PID 1 named `pid1`.
    fn machine(pid1: Option<&str>, files: &[&str]) -> ServiceManager {
        let root = tempfile::tempdir().unwrap();
        if let Some(name) = pid1 {
            std::fs::create_dir_all(root.path().join("proc/1")).unwrap();
            std::fs::write(root.path().join("proc/1/comm"), format!("{name}\n")).unwrap();
        }
        for path in files {
            let full = root.path().join(path);
            if path.ends_with('/') {
                std::fs::create_dir_all(full).unwrap();
            } else {
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(full, "").unwrap();
            }
        }
        ServiceManager::detect(root.path())
    }

    fn none(pid1: Option<&str>) -> ServiceManager {
        ServiceManager::None {
            pid1: pid1.map(str::to_owned),
        }
    }

    #[test]
    fn systemd_when_it_runs() {
        assert_eq!(machine(Some("systemd"), &[]), ServiceManager::Systemd);
        assert_eq!(
            machine(None, &["run/systemd/system/"]),
            ServiceManager::Systemd
        );
        // Installed but not running (a container with the systemd package) is not systemd.
        assert_eq!(
            machine(Some("bash"), &["lib/systemd/systemd", "bin/systemctl"]),
            none(Some("bash"))
        );
    }

    #[test]
    fn openrc_and_sysv_by_pid_1_and_what_is_installed() {
        assert_eq!(machine(Some("openrc-init"), &[]), ServiceManager::OpenRc);
        assert_eq!(
            machine(Some("init"), &["run/openrc/"]),
            ServiceManager::OpenRc
        );
        assert_eq!(
            machine(Some("init"), &["sbin/openrc"]),
            ServiceManager::OpenRc
        );
        assert_eq!(
            machine(Some("init"), &["etc/init.d/docker", "etc/rc2.d/"]),
            ServiceManager::SysV
        );
    }

    #[test]
    fn a_container_has_none_and_says_what_pid_1_is() {
        for pid1 in [
            "sh",
            "bash",
            "tini",
            "dumb-init",
            "docker-init",
            "sleep",
            "strap",
        ] {
            // Debian images have /etc/init.d and `service`: nothing runs them.
            let found = machine(Some(pid1), &["etc/init.d/docker", "usr/sbin/service"]);
            assert_eq!(found, none(Some(pid1)));
            assert_eq!(found.fact(), "none");
        }
        assert_eq!(
            machine(Some("tini"), &[]).to_string(),
            "no service manager on this machine — PID 1 is `tini`, a container?"
        );
        let unreadable = machine(None, &[]);
        assert_eq!(unreadable, none(None));
        assert!(unreadable.to_string().contains("PID 1 cannot be read"));
    }

    #[test]
    fn facts_are_the_names_recipes_compare_with() {
        let names = [
            ServiceManager::Systemd,
            ServiceManager::OpenRc,
            ServiceManager::SysV,
            none(None),
        ]
        .map(|m| m.fact());
        assert_eq!(names, ["systemd", "openrc", "sysv", "none"]);
    }
}
