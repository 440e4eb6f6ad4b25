//! Which service manager runs the target machine, decided as Ansible's `service_mgr` fact does
//! and read through the sysroot: systemd when `/run/systemd/system` exists or PID 1 is `systemd`;
//! OpenRC when PID 1 is `openrc-init`, or `init` with OpenRC installed; SysV init when PID 1 is
//! any other `init`; otherwise none — a container whose PID 1 is a shell, `tini`, `dumb-init`,
//! `docker-init`, … (a Debian image has `/etc/init.d` and `service`, but nothing runs them).

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The most bytes read from `proc/1/comm` (the kernel keeps 16).
const COMM_LIMIT: u64 = 256;

/// The service manager of a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServiceManager {
    /// systemd runs the machine (`/run/systemd/system` exists, or PID 1 is `systemd`).
    Systemd,
    /// OpenRC: PID 1 is `openrc-init`, or `init` with OpenRC installed.
    OpenRc,
    /// SysV init: PID 1 is another `init`.
    SysV,
}

/// Nothing manages services on the machine (a container): what PID 1 is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoServiceManager {
    pub(crate) pid1: Pid1,
}

/// What [`ServiceManager::detect`] finds.
pub(crate) type Detected = Result<ServiceManager, NoServiceManager>;

/// The value of the `service_manager` fact: `systemd`, `openrc`, `sysv` or `none`.
pub(crate) fn fact(detected: &Detected) -> &'static str {
    detected.as_ref().map_or("none", ServiceManager::fact)
}

/// What is known of PID 1 where no service manager runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pid1 {
    /// Its name, from `proc/1/comm`.
    Named(String),
    /// `proc/1/comm` could not be read, or held no name: where it is and why.
    Unreadable(String),
}

/// PID 1's name from `<sysroot>/proc/1/comm`, read bounded: a regular file only (a FIFO is not
/// waited on, a device not read), at most [`COMM_LIMIT`] bytes, a symbolic link not followed
/// (it could lead out of the sysroot); the name must be UTF-8 and not empty.
fn read_pid1(sysroot: &Path) -> Pid1 {
    let path = sysroot.join("proc/1/comm");
    let read = || -> io::Result<Vec<u8>> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)?;
        crate::bounded::regular_len(&file)?;
        let mut bytes = Vec::new();
        crate::bounded::read_at_most(file, COMM_LIMIT, &mut bytes)?;
        Ok(bytes)
    };
    let why = match read() {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(name) if !name.trim().is_empty() => return Pid1::Named(name.trim().to_owned()),
            Ok(_) => "it is empty".to_owned(),
            Err(_) => "it is not UTF-8 text".to_owned(),
        },
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => "it is a symbolic link".to_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => "it does not exist".to_owned(),
        Err(e) => e.to_string(),
    };
    Pid1::Unreadable(format!("{}: {why}", path.display()))
}

impl ServiceManager {
    /// The machine's service manager, from `<sysroot>/run/systemd/system`,
    /// `<sysroot>/proc/1/comm` and where OpenRC lives.
    pub(crate) fn detect(sysroot: &Path) -> Detected {
        let pid1 = read_pid1(sysroot);
        let name = match &pid1 {
            Pid1::Named(name) => Some(name.as_str()),
            Pid1::Unreadable(_) => None,
        };
        if sysroot.join("run/systemd/system").is_dir() || name == Some("systemd") {
            return Ok(ServiceManager::Systemd);
        }
        let openrc = ["run/openrc", "sbin/openrc"]
            .iter()
            .any(|p| sysroot.join(p).exists());
        match name {
            Some("openrc-init") => Ok(ServiceManager::OpenRc),
            Some("init") if openrc => Ok(ServiceManager::OpenRc),
            Some("init") => Ok(ServiceManager::SysV),
            _ => Err(NoServiceManager { pid1 }),
        }
    }

    /// Its value of the `service_manager` fact: `systemd`, `openrc` or `sysv`.
    pub(crate) fn fact(&self) -> &'static str {
        match self {
            ServiceManager::Systemd => "systemd",
            ServiceManager::OpenRc => "openrc",
            ServiceManager::SysV => "sysv",
        }
    }
}

/// As messages name it: "systemd", "OpenRC", "SysV init".
impl fmt::Display for ServiceManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceManager::Systemd => "systemd",
            ServiceManager::OpenRc => "OpenRC",
            ServiceManager::SysV => "SysV init",
        })
    }
}

/// What stands in PID 1's place, as messages say it.
impl fmt::Display for NoServiceManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pid1 {
            Pid1::Named(name) => write!(
                f,
                "no service manager on this machine — PID 1 is `{name}`, a container?"
            ),
            Pid1::Unreadable(why) => write!(
                f,
                "no service manager on this machine — PID 1's name cannot be read ({why}), a \
                 container?"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sysroot holding `files` (paths ending in `/` are directories), PID 1 named `pid1`.
    fn machine(pid1: Option<&str>, files: &[&str]) -> Detected {
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

    fn none(pid1: &str) -> Detected {
        Err(NoServiceManager {
            pid1: Pid1::Named(pid1.to_owned()),
        })
    }

    #[test]
    fn systemd_when_it_runs() {
        assert_eq!(machine(Some("systemd"), &[]), Ok(ServiceManager::Systemd));
        assert_eq!(
            machine(None, &["run/systemd/system/"]),
            Ok(ServiceManager::Systemd)
        );
        // Installed but not running (a container with the systemd package) is not systemd.
        assert_eq!(
            machine(Some("bash"), &["lib/systemd/systemd", "bin/systemctl"]),
            none("bash")
        );
    }

    #[test]
    fn openrc_and_sysv_by_pid_1_and_what_is_installed() {
        assert_eq!(
            machine(Some("openrc-init"), &[]),
            Ok(ServiceManager::OpenRc)
        );
        assert_eq!(
            machine(Some("init"), &["run/openrc/"]),
            Ok(ServiceManager::OpenRc)
        );
        assert_eq!(
            machine(Some("init"), &["sbin/openrc"]),
            Ok(ServiceManager::OpenRc)
        );
        assert_eq!(
            machine(Some("init"), &["etc/init.d/docker", "etc/rc2.d/"]),
            Ok(ServiceManager::SysV)
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
            assert_eq!(found, none(pid1));
            assert_eq!(fact(&found), "none");
        }
        assert_eq!(
            machine(Some("tini"), &[]).unwrap_err().to_string(),
            "no service manager on this machine — PID 1 is `tini`, a container?"
        );
    }

    /// The message for a sysroot whose `proc/1/comm` is made by `make`.
    fn unreadable(make: impl FnOnce(&Path)) -> String {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("proc/1")).unwrap();
        make(&root.path().join("proc/1/comm"));
        let found = ServiceManager::detect(root.path());
        assert_eq!(fact(&found), "none");
        let text = found.unwrap_err().to_string();
        let comm = root.path().join("proc/1/comm");
        let prefix = format!(
            "no service manager on this machine — PID 1's name cannot be read ({}: ",
            comm.display()
        );
        let why = text
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{text}"));
        why.strip_suffix("), a container?")
            .unwrap_or_else(|| panic!("{text}"))
            .to_owned()
    }

    #[test]
    fn pid_1_is_read_bounded_and_never_through_a_link_or_a_fifo() {
        assert_eq!(unreadable(|_| {}), "it does not exist");
        assert_eq!(
            unreadable(|comm| std::fs::write(comm, "\n").unwrap()),
            "it is empty"
        );
        assert_eq!(
            unreadable(|comm| std::fs::write(comm, b"\xff\xfe\n").unwrap()),
            "it is not UTF-8 text"
        );
        // A FIFO without a writer: refused at once, never waited on.
        let fifo = |comm: &Path| {
            let c = std::ffi::CString::new(comm.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: `c` is a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        };
        assert_eq!(unreadable(fifo), "it is a FIFO, not a regular file");
        // A link to the host's PID 1 (or anything outside the sysroot) is not followed.
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "systemd\n").unwrap();
        let link = |comm: &Path| std::os::unix::fs::symlink(outside.path(), comm).unwrap();
        assert_eq!(unreadable(link), "it is a symbolic link");
        let to_zero = |comm: &Path| std::os::unix::fs::symlink("/dev/zero", comm).unwrap();
        assert_eq!(unreadable(to_zero), "it is a symbolic link");
        // A huge file is not read whole.
        let huge = |comm: &Path| std::fs::write(comm, "x".repeat(1 << 20)).unwrap();
        assert_eq!(unreadable(huge), "it is larger than 256 bytes");
        let dir = |comm: &Path| std::fs::create_dir(comm).unwrap();
        assert_eq!(unreadable(dir), "it is a directory, not a regular file");
    }

    #[test]
    fn facts_are_the_names_recipes_compare_with() {
        let names = [
            Ok(ServiceManager::Systemd),
            Ok(ServiceManager::OpenRc),
            Ok(ServiceManager::SysV),
            none("tini"),
        ]
        .map(|m| fact(&m));
        assert_eq!(names, ["systemd", "openrc", "sysv", "none"]);
    }
}
