//! The fixtures the test modules share. Here: the test environment (a temporary root, home and
//! working directory, a clean process environment with no `PYENV_*` or `STRAP_*` from the
//! machine) and helpers to fake versions; in [`setup`] the fake-CPython install fixture; in
//! [`process`] signals and polling; in [`snapshot`] the settings of every snapshot.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

mod process;
mod setup;
pub mod snapshot;

pub use process::*;
pub use setup::{
    build_and_push, file_url, install_elsewhere, install_or_build_elsewhere, push, Setup, FILE,
    VERSION,
};

/// The strap binary under test.
pub fn strap_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_strap"))
}

/// The lean shim binary that `rehash` links shims to.
pub fn shim_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_strap-shim"))
}

/// A throwaway machine: `root/` (STRAP_ROOT), `home/`, `work/` (the current directory) and
/// `sysbin/` (a fake system directory on PATH).
pub struct TestEnv {
    pub dir: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        TestEnv::at(tempfile::tempdir().expect("tempdir"))
    }

    /// A machine in `dir` (removed when the machine is dropped).
    pub fn at(dir: TempDir) -> Self {
        for sub in ["root", "home", "work", "sysbin"] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        TestEnv { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }
    pub fn sysbin(&self) -> PathBuf {
        self.dir.path().join("sysbin")
    }
    pub fn shims(&self) -> PathBuf {
        self.root().join("shims")
    }

    /// PATH for commands: the shims, the fake system dir, then the basic system dirs.
    pub fn path_var(&self) -> String {
        format!(
            "{}:{}:/usr/bin:/bin",
            self.shims().display(),
            self.sysbin().display()
        )
    }

    /// A clean environment every command starts from (with the include path of
    /// [`TestEnv::provide_build_headers`] once called).
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("HOME".into(), self.home().display().to_string()),
            ("STRAP_ROOT".into(), self.root().display().to_string()),
            ("PATH".into(), self.path_var()),
            ("LANG".into(), "C.UTF-8".into()),
        ];
        if self.include().is_dir() {
            for var in ["C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH"] {
                pairs.push((var.into(), self.include().display().to_string()));
            }
        }
        pairs
    }

    /// Gives this machine every header a CPython build requires, as empty files in `include/`
    /// on the compilers' include path of every command started from now on, so the preflight
    /// of a real `strap install`, `bootstrap` or `doctor` passes whether or not the machine has
    /// the -dev packages (the fake builds include none of them).
    pub fn provide_build_headers(&self) {
        for header in REQUIRED_HEADERS {
            self.write(&format!("include/{header}"), "");
        }
    }

    fn include(&self) -> PathBuf {
        self.dir.path().join("include")
    }

    /// `strap ARGS` run in `work/`.
    pub fn strap(&self, args: &[&str]) -> Command {
        Command::from_std(self.strap_process(args))
    }

    /// [`TestEnv::strap`] as a plain command, for tests that signal or watch it while it runs.
    pub fn strap_process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(strap_bin());
        cmd.env_clear()
            .envs(self.env_pairs())
            .current_dir(self.work())
            .args(args);
        cmd
    }

    /// `strap ARGS` run in `work/` as the unprivileged user 65534 (see [`can_drop_privileges`]);
    /// the temporary directories must be made accessible to it.
    pub fn strap_as_nobody(&self, args: &[&str]) -> Command {
        let mut cmd = self.command("/usr/bin/setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(strap_bin())
            .args(args);
        cmd
    }

    /// A program run in `work/` with the test environment (for shims and shells).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(self.env_pairs())
            .current_dir(self.work());
        cmd
    }

    /// Creates `versions/<name>/bin/<cmd>` for each cmd: a script that prints
    /// `<name> <cmd> <args>`.
    pub fn fake_version(&self, name: &str, commands: &[&str]) -> PathBuf {
        let bin = self.root().join("versions").join(name).join("bin");
        for cmd in commands {
            write_script(&bin.join(cmd), &format!("echo \"{name} {cmd} $*\""));
        }
        self.root().join("versions").join(name)
    }

    /// A `sudo` in `sysbin/` that runs its command (after `-n`, `--`) as the test's own user, so
    /// the steps that `become` root run the same whether the tests run as root (strap then
    /// uses no sudo) or not.
    pub fn fake_sudo(&self) {
        write_script(
            &self.sysbin().join("sudo"),
            "while [ \"$1\" = -n ] || [ \"$1\" = -- ]; do shift; done\nexec \"$@\"",
        );
    }

    /// A fake system executable in `sysbin/`.
    pub fn fake_system(&self, cmd: &str) {
        write_script(
            &self.sysbin().join(cmd),
            &format!("echo \"system {cmd} $*\""),
        );
    }

    pub fn write(&self, relative: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        path
    }

    /// Runs `strap rehash` and asserts it succeeded.
    pub fn rehash(&self) {
        self.strap(&["rehash"]).assert().success();
    }
}

/// A virtualenv as pyenv-virtualenv lays it out, without running `venv`:
/// `versions/<python>/envs/<name>/bin/python` and the absolute link `versions/<name>` to it.
/// Returns the virtualenv's directory.
pub fn fake_virtualenv(env: &TestEnv, python: &str, name: &str) -> PathBuf {
    let dir = env.fake_version(&format!("{python}/envs/{name}"), &["python"]);
    std::os::unix::fs::symlink(&dir, env.root().join("versions").join(name)).unwrap();
    dir
}

/// `versions/<name>` whose `bin/python3` is a link to the system's Python: a version `venv`
/// works with, without building one.
pub fn linked_system_python(env: &TestEnv, name: &str) {
    let bin = env.root().join("versions").join(name).join("bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink("/usr/bin/python3", bin.join("python3")).unwrap();
}

/// The headers of the libraries a CPython build requires (`src/python/preflight.rs`).
const REQUIRED_HEADERS: &[&str] = &[
    "openssl/ssl.h",
    "zlib.h",
    "ffi.h",
    "bzlib.h",
    "lzma.h",
    "sqlite3.h",
];

/// Writes an executable `/bin/sh` script.
pub fn write_script(path: &Path, body: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// stdout of a finished command as a string.
pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of a finished command as a string.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Permission tests run strap as an unprivileged user, since root ignores permission bits. That
/// needs the tests to run as root and `setpriv`: such tests are `#[ignore]`d and assert this.
pub fn can_drop_privileges() -> bool {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    let ok = is_root && Path::new("/usr/bin/setpriv").exists();
    if !ok {
        eprintln!("permission tests need to run as root with /usr/bin/setpriv");
    }
    ok
}

/// A tmpfs of `size` mounted on `dir`, unmounted when dropped.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot mount a tmpfs on {} (this test needs root and a sandbox that allows mount): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Bytes that do not compress (a simple LCG), so a file of them stays large once unpacked and
/// its archive stays large too.
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as u8
        })
        .collect()
}

/// Types `input` into `child` (a program in a pseudo-terminal made by `script`, with stdin and
/// stdout piped), then reads everything the terminal showed until it ends; returns its exit
/// code and the screen.
pub fn type_into(mut child: std::process::Child, input: &[u8]) -> (Option<i32>, String) {
    use std::io::{Read, Write};
    let mut stdin = child.stdin.take().expect("stdin piped");
    stdin.write_all(input).unwrap();
    stdin.flush().unwrap();
    let mut screen = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout piped")
        .read_to_end(&mut screen)
        .unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    (status.code(), String::from_utf8_lossy(&screen).into_owned())
}

/// True when `program` is on the test process's PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The entries of `<root>/tmp` once the background removal of finished installs' build trees
/// (`tmp/.discard-*`, removed by a detached `rm -rf`) is over; fails when it never ends.
pub fn tmp_entries(root: &Path) -> Vec<PathBuf> {
    let entries = || -> Vec<PathBuf> {
        fs::read_dir(root.join("tmp"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    let discarding = |entries: &[PathBuf]| {
        entries.iter().any(|e| {
            e.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".discard-"))
        })
    };
    assert!(
        wait_until(PATIENCE, || !discarding(&entries())),
        "the background removal of {:?} did not finish",
        entries()
    );
    entries()
}

/// The system tools `stub_tools.py` stands in for (see there).
pub const STUB_TOOLS: &[&str] = &[
    "apt-get",
    "dpkg-query",
    "rpm",
    "zypper",
    "pacman",
    "apk",
    "systemctl",
    "rc-update",
    "rc-service",
    "service",
    "update-rc.d",
    "chkconfig",
    "ip",
    "modprobe",
    "lsmod",
    "docker",
    "id",
    "usermod",
    "curl",
    "gpg",
];

/// Creates `dir` holding `stub_tools.py` and one link to it per name in [`STUB_TOOLS`], to put
/// first on PATH; the stubs keep their state under `$STUB_STATE`.
pub fn install_stub_tools(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let script = dir.join("stub_tools.py");
    fs::write(&script, include_str!("stub_tools.py")).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    for tool in STUB_TOOLS {
        std::os::unix::fs::symlink(&script, dir.join(tool)).unwrap();
    }
}
