//! The fixture most tests share: a test machine plus a loopback mirror serving a generated
//! CPython-shaped source archive (a build of seconds), with the `strap install` commands for it.

use std::fs;
use std::process::{Child, Stdio};
use std::time::Duration;

use assert_cmd::Command;

use super::{stderr_of, stdout_of, TestEnv};
use crate::fake_source::{fake_python_tgz, sha256_hex};
use crate::mirror::{Behavior, Mirror};

/// The version of the generated source.
pub const VERSION: &str = "3.99.1";
/// Its archive's name.
pub const FILE: &str = "Python-3.99.1.tgz";

/// A test machine plus a mirror serving the fake source archive under `/a/`.
pub struct Setup {
    pub env: TestEnv,
    pub mirror: Mirror,
    pub archive: Vec<u8>,
    pub sha: String,
}

impl Setup {
    /// A fresh machine and a mirror serving the archive under `/a/`.
    pub fn new() -> Setup {
        let archive = fake_python_tgz(VERSION);
        let sha = sha256_hex(&archive);
        let mirror = Mirror::start();
        mirror.route(&format!("/a/{FILE}"), Behavior::Serve(archive.clone()));
        Setup {
            env: TestEnv::new(),
            mirror,
            archive,
            sha,
        }
    }

    /// `strap install` of the fake version with the checksum, from the given mirror dirs.
    pub fn install(&self, mirror_dirs: &[&str], extra: &[&str]) -> Command {
        let mut cmd = self
            .env
            .strap(&["install", "--skip-preflight", "--sha256", &self.sha]);
        for dir in mirror_dirs {
            cmd.args(["--mirror", &self.mirror.template(dir)]);
        }
        cmd.args(extra)
            .arg(VERSION)
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// `strap install` of the fake version from a mirror serving `archive` (under `/x/`).
    pub fn install_archive(&self, archive: Vec<u8>) -> Command {
        let sha = sha256_hex(&archive);
        self.mirror
            .route(&format!("/x/{FILE}"), Behavior::Serve(archive));
        let mut cmd = self
            .env
            .strap(&["install", "--skip-preflight", "--sha256", &sha]);
        cmd.args(["--mirror", &self.mirror.template("x"), VERSION]);
        cmd
    }

    /// Starts `strap install` of the fake version from mirror dir `dir` in the background, with
    /// extra environment (the build knobs) and stderr piped.
    pub fn spawn_install(&self, dir: &str, env: &[(&str, &str)]) -> Child {
        self.env
            .strap_process(&[])
            .envs(env.iter().copied())
            .args(["install", "--skip-preflight", "--sha256", &self.sha])
            .args(["--mirror", &self.mirror.template(dir), VERSION])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `strap install REQUEST` from mirror dir `a` with a catalog of our own.
    pub fn install_from_catalog(&self, catalog: &std::path::Path, request: &str) -> Command {
        let mut cmd = self.env.strap(&["install", "--skip-preflight"]);
        cmd.args(["--mirror", &self.mirror.template("a"), request])
            .env("STRAP_PYTHON_CATALOG", catalog);
        cmd
    }

    /// Where the fake version is installed.
    pub fn prefix(&self) -> std::path::PathBuf {
        self.env.root().join("versions").join(VERSION)
    }

    /// Asserts that no version and no build tree was left behind.
    pub fn assert_nothing_installed(&self) {
        assert!(!self.prefix().exists(), "a version was left behind");
        let leftovers = super::tmp_entries(&self.env.root());
        assert!(
            leftovers.is_empty(),
            "build trees left behind: {leftovers:?}"
        );
    }

    /// Starts an install whose compile step takes a while, and waits until it is compiling.
    pub fn start_slow_install(&self) -> Child {
        let child = self.spawn_install("a", &[("FAKE_BUILD_SECONDS", "30")]);
        self.wait_until_compiling(child)
    }

    /// Waits until `child` (an install or bootstrap of the fake build) is compiling, and returns
    /// it.
    pub fn wait_until_compiling(&self, mut child: Child) -> Child {
        let logs = self.env.root().join("logs");
        super::wait_while_running(&mut child, "the build compiling", || {
            fs::read_dir(&logs)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter_map(|e| fs::read_to_string(e.path()).ok())
                .any(|log| log.contains("compiling the fake interpreter"))
        });
        child
    }
}

/// Installs the fake version from source in `s` and pushes it to `to`; returns stdout.
pub fn build_and_push(s: &Setup, to: &str, env: &[(&str, &str)]) -> String {
    let out = s.install(&["a"], &[]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = push(s, to, env);
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out)
}

/// `strap push` of the installed fake version to `to`, with extra environment.
pub fn push(s: &Setup, to: &str, env: &[(&str, &str)]) -> std::process::Output {
    s.env
        .strap(&["push", VERSION, "--to", to])
        .envs(env.iter().copied())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// `strap install` of the fake version on another machine, whose only source mirror is empty.
pub fn install_elsewhere(other: &TestEnv, s: &Setup, flags: &[&str]) -> Command {
    install_on(other, s, "empty", flags)
}

/// `strap install` of the fake version on another machine that can build it from source.
pub fn install_or_build_elsewhere(other: &TestEnv, s: &Setup, flags: &[&str]) -> Command {
    install_on(other, s, "a", flags)
}

fn install_on(other: &TestEnv, s: &Setup, source_dir: &str, flags: &[&str]) -> Command {
    let mut cmd = other.strap(&["install", "--skip-preflight", "--sha256", &s.sha]);
    cmd.args(["--mirror", &s.mirror.template(source_dir)])
        .args(flags)
        .arg(VERSION)
        .timeout(Duration::from_secs(60));
    cmd
}

/// The `file://` URL of `dir`.
pub fn file_url(dir: &std::path::Path) -> String {
    format!("file://{}", dir.display())
}
