//! The conda family (Miniforge here; Anaconda, Miniconda and Mambaforge install the same way):
//! a generated conda-style `.sh` installer served by the loopback mirror through a catalog line,
//! run at the final prefix while its files land in the staging area, then verified, renamed,
//! and cleaned up after on failure, Ctrl-C, SIGTERM and `kill -9`.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::fake_source::sha256_hex;
use crate::mirror::{Behavior, Mirror};
use crate::support::{
    processes_in, signal, signal_group, stderr_of, stdout_of, tmp_entries,
    wait_for_no_processes_in, with_default_sigint, TestEnv,
};

const NAME: &str = "miniforge3-24.11.3-0";
const FILE: &str = "Miniforge3-24.11.3-0-Linux-x86_64.sh";

/// A conda-style installer: honours `-b -f -p PREFIX` as conda's do (an existing prefix is an
/// error without `-f`), writes `PREFIX` into `etc/prefix.txt` and `bin/conda`'s `#!`, as conda
/// embeds its prefix. `FAKE_CONDA_RUNS` names a file it appends a line to, `FAKE_CONDA_STARTED`
/// one it creates before `FAKE_CONDA_SLEEP` seconds of work; `FAKE_CONDA_FAIL` makes it fail,
/// `FAKE_CONDA_RESOLVE` resolve the links in the prefix it is given before writing it.
const INSTALLER: &str = r#"#!/bin/bash
set -e
batch= force= prefix=
while [ $# -gt 0 ]; do
    case "$1" in
        -b) batch=1 ;;
        -f) force=1 ;;
        -p) prefix="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$batch" ] || { echo "not in batch mode: would ask questions" >&2; exit 2; }
[ -n "$prefix" ] || { echo "no -p PREFIX" >&2; exit 2; }
if [ -e "$prefix" ] && [ -z "$force" ]; then
    echo "ERROR: File or directory already exists: '$prefix'" >&2; exit 1
fi
echo "PREFIX=$prefix"
[ -z "$FAKE_CONDA_RUNS" ] || echo run >> "$FAKE_CONDA_RUNS"
mkdir -p "$prefix/bin" "$prefix/etc"
[ -z "$FAKE_CONDA_RESOLVE" ] || prefix=$(cd "$prefix"; pwd -P)
[ -z "$FAKE_CONDA_STARTED" ] || : > "$FAKE_CONDA_STARTED"
[ -z "$FAKE_CONDA_SLEEP" ] || sleep "$FAKE_CONDA_SLEEP"
if [ -n "$FAKE_CONDA_FAIL" ]; then echo "installation failed" >&2; exit 1; fi
printf '%s\n' "$prefix" > "$prefix/etc/prefix.txt"
printf '#!/bin/sh\nexec /usr/bin/python3 "$@"\n' > "$prefix/bin/python"
printf '#!%s/bin/python\nprint("conda 24.11.3")\n' "$prefix" > "$prefix/bin/conda"
chmod +x "$prefix/bin/python" "$prefix/bin/conda"
echo "installation finished."
"#;

/// A machine, a mirror serving the installer, and a catalog naming it (`STRAP_ARCH=x86_64`,
/// whatever this machine is).
struct Conda {
    env: TestEnv,
    mirror: Mirror,
    sha: String,
    catalog: PathBuf,
}

impl Conda {
    fn new() -> Conda {
        let env = TestEnv::new();
        let mirror = Mirror::start();
        let sha = sha256_hex(INSTALLER.as_bytes());
        mirror.route(
            &format!("/{FILE}"),
            Behavior::Serve(INSTALLER.as_bytes().to_vec()),
        );
        mirror.route(
            "/Miniforge3-Linux-x86_64.sh",
            Behavior::Serve(INSTALLER.as_bytes().to_vec()),
        );
        let url = |file: &str| format!("http://127.0.0.1:{}/{file}", mirror.port);
        let catalog = env.write(
            "catalog.txt",
            &format!(
                "{NAME} miniforge py=3.12 x86_64={}#{sha}\n\
                 miniforge3-latest miniforge py=3.12 x86_64={}\n",
                url(FILE),
                url("Miniforge3-Linux-x86_64.sh")
            ),
        );
        Conda {
            env,
            mirror,
            sha,
            catalog,
        }
    }

    /// `strap ARGS` with the catalog, for this machine as x86_64.
    fn strap(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.env.strap_process(args);
        cmd.env("STRAP_PYTHON_CATALOG", &self.catalog)
            .env("STRAP_ARCH", "x86_64");
        cmd
    }

    /// `strap install ARGS`, run to its end.
    fn install(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        self.strap(&["install"])
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// Starts `strap install NAME ARGS` (its own process group, SIGINT as from a terminal)
    /// with an installer that works for 300 s, and waits until the installer runs.
    fn start_slow(&self, args: &[&str]) -> Child {
        let started = self.env.dir.path().join("installer-started");
        let _ = fs::remove_file(&started);
        let mut cmd = with_default_sigint(self.strap(&["install"]));
        let mut child = cmd
            .args(args)
            .arg(NAME)
            .env("FAKE_CONDA_SLEEP", "300")
            .env("FAKE_CONDA_STARTED", &started)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        crate::support::wait_while_running(&mut child, "the installer running", || {
            started.exists()
        });
        child
    }

    fn prefix(&self) -> PathBuf {
        self.env.root().join("versions").join(NAME)
    }

    /// The prefix the installed conda embeds.
    fn embedded_prefix(&self) -> String {
        fs::read_to_string(self.prefix().join("etc/prefix.txt")).unwrap()
    }

    /// Asserts the prefix is a link into strap's work directory (an install running at it).
    fn assert_linked_into_tmp(&self) {
        let target = fs::read_link(self.prefix()).expect("the prefix is a link meanwhile");
        assert!(
            target.starts_with(self.env.root().join("tmp")),
            "{target:?} is not in tmp/"
        );
    }

    /// Asserts no version, link, work directory nor installer process was left.
    fn assert_nothing_left(&self) {
        assert!(
            fs::symlink_metadata(self.prefix()).is_err(),
            "{:?} was left",
            self.prefix()
        );
        assert_eq!(tmp_entries(&self.env.root()), Vec::<PathBuf>::new());
        assert_eq!(
            wait_for_no_processes_in(&self.env.root()),
            Vec::<u32>::new(),
            "the installer outlived strap"
        );
    }
}

fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

#[test]
fn the_installer_runs_at_the_final_prefix_and_its_files_are_renamed_there() {
    let c = Conda::new();
    let out = c.install(&[NAME], &[]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Miniforge miniforge3-24.11.3-0"), "{err}");
    assert!(err.contains(&format!("bash {FILE} -f -b -p")), "{err}");
    assert!(is_real_dir(&c.prefix()), "the prefix is not a directory");
    // What conda writes into scripts and binaries names the final prefix, not the staging area.
    assert_eq!(c.embedded_prefix(), format!("{}\n", c.prefix().display()));
    let conda = fs::read_to_string(c.prefix().join("bin/conda")).unwrap();
    assert!(
        conda.starts_with(&format!("#!{}/bin/python\n", c.prefix().display())),
        "{conda}"
    );
    assert_eq!(tmp_entries(&c.env.root()), Vec::<PathBuf>::new());
    let receipt: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(c.prefix().join("strap-receipt.json")).unwrap())
            .unwrap();
    assert_eq!(receipt["name"], NAME);
    assert_eq!(receipt["sources"][0]["sha256"], c.sha.as_str());
    let options = receipt["options"].to_string();
    assert!(options.contains("--embedded-prefix="), "{options}");
    // Through the shims, selected like any version.
    for (shim, prints) in [("conda", "conda 24.11.3"), ("python", "the conda python")] {
        let mut cmd = std::process::Command::new(c.env.shims().join(shim));
        cmd.env_clear()
            .envs(c.env.env_pairs())
            .env("STRAP_PYTHON_VERSION", NAME)
            .current_dir(c.env.work());
        if shim == "python" {
            cmd.args(["-c", "import ssl; print('the conda python')"]);
        } else {
            cmd.arg("--version");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{shim}: {}", stderr_of(&out));
        assert_eq!(stdout_of(&out).trim(), prints, "{shim}");
    }
}

#[test]
fn a_download_without_checksum_is_refused_unless_sha256_names_it() {
    let c = Conda::new();
    let out = c.install(&["miniforge3-latest"], &[]);
    let err = stderr_of(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("miniforge3-latest"), "{err}");
    assert!(err.contains("without a checksum"), "{err}");
    assert!(err.contains("--sha256"), "{err}");
    assert!(c.mirror.requests().is_empty(), "it downloaded anyway");
    // The embedded catalog's moving downloads alike, before any network.
    for latest in ["miniconda3-latest", "miniforge3-latest"] {
        let out = c
            .env
            .strap_process(&["install", latest])
            .env("STRAP_ARCH", "x86_64")
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(!out.status.success(), "{latest}: {err}");
        assert!(err.contains("without a checksum"), "{latest}: {err}");
    }
    let out = c.install(&["--sha256", &c.sha, "miniforge3-latest"], &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let prefix = c.env.root().join("versions/miniforge3-latest");
    assert_eq!(
        fs::read_to_string(prefix.join("etc/prefix.txt")).unwrap(),
        format!("{}\n", prefix.display())
    );
}

#[test]
fn a_failing_installer_leaves_nothing() {
    let c = Conda::new();
    let out = c.install(&[NAME], &[("FAKE_CONDA_FAIL", "1")]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("building {NAME} failed")), "{err}");
    assert!(err.contains("installation failed"), "{err}");
    c.assert_nothing_left();
}

#[test]
fn an_installer_that_embeds_the_staging_area_is_refused() {
    let c = Conda::new();
    let out = c.install(&[NAME], &[("FAKE_CONDA_RESOLVE", "1")]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the installer wrote the staging area"),
        "{err}"
    );
    assert!(err.contains("into bin/conda, not the prefix"), "{err}");
    c.assert_nothing_left();
}

#[test]
fn ctrl_c_during_the_installer_leaves_nothing() {
    let c = Conda::new();
    let child = c.start_slow(&[]);
    c.assert_linked_into_tmp();
    assert!(
        !processes_in(&c.env.root()).is_empty(),
        "no installer running"
    );
    // As the terminal sends it: to the whole process group.
    signal_group(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: nothing was installed"), "{err}");
    c.assert_nothing_left();
}

#[test]
fn sigterm_during_the_installer_leaves_nothing() {
    let c = Conda::new();
    let child = c.start_slow(&[]);
    signal(child.id(), libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("install interrupted after"), "{err}");
    c.assert_nothing_left();
}

#[test]
fn after_kill_9_the_link_left_is_no_install_and_the_next_install_succeeds() {
    let c = Conda::new();
    let mut child = c.start_slow(&[]);
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    assert_eq!(
        wait_for_no_processes_in(&c.env.root()),
        Vec::<u32>::new(),
        "the installer outlived a killed strap"
    );
    c.assert_linked_into_tmp();
    // The link left is no installed version, in either mode's list.
    for arg0 in ["strap", "pyenv"] {
        let listed = c
            .env
            .strap(&["versions", "--bare"])
            .env("STRAP_FORCE_ARG0", arg0)
            .output()
            .unwrap();
        assert!(!stdout_of(&listed).contains(NAME), "{arg0}: {listed:?}");
    }
    let out = c.install(&[NAME], &[]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("installed {NAME} in")), "{err}");
    assert!(!err.contains("already installed"), "{err}");
    assert!(is_real_dir(&c.prefix()), "the prefix is not a directory");
    assert_eq!(c.embedded_prefix(), format!("{}\n", c.prefix().display()));
    assert_eq!(tmp_entries(&c.env.root()), Vec::<PathBuf>::new());
}

/// Installs, and puts a virtualenv marker in `envs/`; returns the runs file.
fn installed_with_an_env(c: &Conda) -> PathBuf {
    let runs = c.env.dir.path().join("runs");
    let runs_var = runs.display().to_string();
    let out = c.install(&[NAME], &[("FAKE_CONDA_RUNS", &runs_var)]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    fs::create_dir_all(c.prefix().join("envs/mine")).unwrap();
    fs::write(c.prefix().join("envs/mine/marker"), "mine").unwrap();
    runs
}

fn runs(file: &Path) -> usize {
    fs::read_to_string(file).map_or(0, |text| text.lines().count())
}

#[test]
fn a_reinstall_comes_from_the_build_cache_or_runs_the_installer_again_in_place() {
    let c = Conda::new();
    let runs_file = installed_with_an_env(&c);
    let runs_var = runs_file.display().to_string();
    let env = [("FAKE_CONDA_RUNS", runs_var.as_str())];
    // From the build cache: same prefix, nothing to relocate, no installer run.
    let out = c.install(&["-f", NAME], &env);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("from the build cache"), "{err}");
    assert_eq!(runs(&runs_file), 1, "the installer ran again");
    // From the installer again, at the prefix the old install occupies meanwhile.
    let out = c.install(&["-f", "--no-binary", NAME], &env);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(runs(&runs_file), 2);
    assert_intact(&c, "a reinstall by the installer");
    // A failed reinstall keeps the old install as it was.
    let out = c.install(&["-f", "--no-binary", NAME], &[("FAKE_CONDA_FAIL", "1")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_intact(&c, "a failed reinstall");
}

/// Asserts that the install is in place, whole, with the user's virtualenv, after `what`.
fn assert_intact(c: &Conda, what: &str) {
    assert!(is_real_dir(&c.prefix()), "after {what}");
    assert_eq!(
        c.embedded_prefix(),
        format!("{}\n", c.prefix().display()),
        "after {what}"
    );
    assert_eq!(
        fs::read_to_string(c.prefix().join("envs/mine/marker")).unwrap(),
        "mine",
        "after {what}"
    );
    assert_eq!(tmp_entries(&c.env.root()), Vec::<PathBuf>::new());
}

#[test]
fn a_reinstall_killed_during_the_installer_gives_the_old_install_back() {
    let c = Conda::new();
    installed_with_an_env(&c);
    let receipt = fs::read_to_string(c.prefix().join("strap-receipt.json")).unwrap();
    let mut child = c.start_slow(&["-f", "--no-binary"]);
    c.assert_linked_into_tmp();
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    assert_eq!(wait_for_no_processes_in(&c.env.root()), Vec::<u32>::new());
    // A cleanup meanwhile (another install's) leaves the old install alone.
    let other = c.install(&["--sha256", &c.sha, "miniforge3-latest"], &[]);
    assert!(other.status.success(), "{}", stderr_of(&other));
    let out = c.install(&[NAME], &[]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("already installed"), "{err}");
    assert_eq!(
        fs::read_to_string(c.prefix().join("strap-receipt.json")).unwrap(),
        receipt
    );
    assert_intact(&c, "the next install");
}

#[test]
fn a_pack_serves_only_its_own_prefix_and_is_verified_there() {
    let c = Conda::new();
    let out = c.install(&[NAME], &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = c.strap(&["uninstall", "-f", NAME]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    // The installer would fail: the install comes from the pack, checked through its prefix.
    let out = c.install(&[NAME], &[("FAKE_CONDA_FAIL", "1")]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("from the build cache"), "{err}");
    assert!(err.contains("verify done"), "{err}");
    assert!(is_real_dir(&c.prefix()));
    assert_eq!(tmp_entries(&c.env.root()), Vec::<PathBuf>::new());
    // Another root sharing the build cache: the pack embeds the first prefix, so it is not
    // used there (it would need relocating); the installer runs for the new prefix.
    let other = c.env.dir.path().join("other-root");
    let out = c
        .strap(&["install", NAME])
        .env("STRAP_ROOT", &other)
        .env("STRAP_CACHE_DIR", c.env.root().join("cache"))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("from the build cache"), "{err}");
    let prefix = other.join("versions").join(NAME);
    assert_eq!(
        fs::read_to_string(prefix.join("etc/prefix.txt")).unwrap(),
        format!("{}\n", prefix.display())
    );
}

#[test]
fn anaconda_miniconda_and_mambaforge_install_the_same_way() {
    let c = Conda::new();
    let url = format!("http://127.0.0.1:{}/{FILE}#{}", c.mirror.port, c.sha);
    let names = [
        ("anaconda3-2024.10-1", "anaconda"),
        ("miniconda3-3.12-24.11.1-0", "miniconda"),
        ("mambaforge-24.11.0-1", "mambaforge"),
    ];
    let lines: String = names
        .iter()
        .map(|(name, family)| format!("{name} {family} py=3.12 x86_64={url}\n"))
        .collect();
    fs::write(&c.catalog, lines).unwrap();
    for (name, _) in names {
        let out = c.install(&[name], &[]);
        assert!(out.status.success(), "{name}: {}", stderr_of(&out));
        let prefix = c.env.root().join("versions").join(name);
        assert_eq!(
            fs::read_to_string(prefix.join("etc/prefix.txt")).unwrap(),
            format!("{}\n", prefix.display()),
            "{name}"
        );
    }
}
