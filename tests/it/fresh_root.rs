//! A fresh Debian machine, as a CI container is one: `.ci/run` builds a `debootstrap
//! --variant=minbase` root of this machine's Debian release (what the `debian:bookworm` image is)
//! with the `policy-rc.d` Debian's container images carry, and names it in
//! `STRAP_TEST_FRESH_ROOT`. Each test copies that root, puts the strap just built in it and runs
//! it inside through `unshare --pid --fork --mount-proc` and `chroot`, with `/dev` bound: PID 1
//! inside is a shell, not the host's init, and apt really installs from the distribution. The
//! stub-tool tests (tests/it/recipes.rs) stay for what a sandbox cannot do: CAN hardware, systemd
//! as PID 1, Jenkins' apt repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{shim_bin, stderr_of, stdout_of, strap_bin};

/// The root `.ci/run` built, or a panic saying how to get one.
fn built_root() -> PathBuf {
    match std::env::var_os("STRAP_TEST_FRESH_ROOT") {
        Some(root) => PathBuf::from(root),
        None => panic!(
            "set STRAP_TEST_FRESH_ROOT to a `debootstrap --variant=minbase bookworm` root (.ci/run builds one)"
        ),
    }
}

/// A copy of the fresh root with strap in `/usr/local/bin`, deleted when dropped.
struct FreshMachine {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl FreshMachine {
    fn new() -> FreshMachine {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(built_root())
            .arg(&root)
            .status()
            .unwrap();
        assert!(copied.success(), "cannot copy the fresh root");
        for (binary, name) in [(strap_bin(), "strap"), (shim_bin(), "strap-shim")] {
            fs::copy(binary, root.join("usr/local/bin").join(name)).unwrap();
        }
        // apt inside resolves names as the host does.
        fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf")).unwrap();
        FreshMachine { _dir: dir, root }
    }

    /// A path inside the machine.
    fn path(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
    }

    /// Runs `script` with `/bin/sh` inside the machine as root, with a clean environment plus
    /// `env`. PID 1 is the shell that chroots, as in a CI job's container.
    fn sh(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let mut inner = vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
            "HOME=/root".to_owned(),
            "LANG=C.UTF-8".to_owned(),
        ];
        inner.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        Command::new("unshare")
            .args(["--mount", "--pid", "--fork"])
            .arg(format!("--mount-proc={}", self.path("/proc").display()))
            .args([
                "--",
                "/bin/sh",
                "-c",
                r#"root=$1; shift; mount --rbind /dev "$root/dev" && chroot "$root" /usr/bin/env -i "$@"; status=$?; exit $status"#,
                "sh",
            ])
            .arg(&self.root)
            .args(inner)
            .args(["/bin/sh", "-c", script])
            .output()
            .unwrap()
    }

    /// [`FreshMachine::sh`], failing the test unless it succeeds; its stdout.
    fn sh_ok(&self, script: &str, env: &[(&str, &str)]) -> String {
        let out = self.sh(script, env);
        assert!(out.status.success(), "`{script}` failed:\n{}", both(&out));
        stdout_of(&out)
    }

    /// Whether dpkg inside knows `package` as installed.
    fn has_package(&self, package: &str) -> bool {
        let status = fs::read_to_string(self.path("/var/lib/dpkg/status")).unwrap();
        status.split("\n\n").any(|stanza| {
            stanza.lines().any(|l| l == format!("Package: {package}"))
                && stanza.contains("Status: install ok installed")
        })
    }
}

fn both(out: &Output) -> String {
    format!("{}{}", stdout_of(out), stderr_of(out))
}

/// The `ok=… changed=… failed=…` line of a recipe run.
fn summary(text: &str) -> &str {
    text.lines()
        .find(|l| l.starts_with("ok=") && l.contains("failed="))
        .unwrap_or_else(|| panic!("no summary in:\n{text}"))
}

#[test]
#[ignore = "needs STRAP_TEST_FRESH_ROOT (a debootstrap root .ci/run builds), root for unshare and chroot, and the distribution's apt mirror"]
fn the_docker_recipe_in_a_ci_container_installs_the_cli_without_a_daemon() {
    let m = FreshMachine::new();
    assert_eq!(
        m.sh_ok("cat /proc/1/comm", &[]).trim(),
        "sh",
        "PID 1 is the job's shell"
    );
    assert!(!m.has_package("docker.io"));

    let run = "strap recipe run docker --set source=distro --set daemon=false --yes";
    let first = m.sh_ok(run, &[]);
    assert!(m.has_package("docker.io"), "{first}");
    assert!(m.has_package("docker-compose"), "{first}");
    assert!(summary(&first).starts_with("ok=1 changed=2 "), "{first}");
    // One line per step (and the summary): apt's output stays in the log.
    let steps = first.lines().filter(|l| l.contains(" docker › ")).count();
    assert_eq!(first.lines().count(), steps + 1, "{first}");
    assert!(
        !first.contains("Setting up"),
        "apt's output is not printed: {first}"
    );

    let second = m.sh_ok(run, &[]);
    assert!(summary(&second).contains(" changed=0 "), "{second}");
    assert!(summary(&second).contains(" failed=0"), "{second}");

    // With the daemon asked for: no service manager in a container, said plainly with what to do.
    let dry = m.sh("strap recipe run docker --set source=distro --dry-run", &[]);
    let dry_text = both(&dry);
    let service = dry_text
        .lines()
        .find(|l| l.contains("docker service"))
        .unwrap_or_else(|| panic!("no service step in:\n{dry_text}"));
    assert!(service.starts_with("unknown"), "{dry_text}");
    assert!(
        dry_text.contains("no service manager on this machine"),
        "{dry_text}"
    );
    assert!(dry_text.contains("PID 1 is `sh`"), "{dry_text}");

    let real = m.sh("strap recipe run docker --set source=distro --yes", &[]);
    let real_text = both(&real);
    assert_eq!(real.status.code(), Some(1), "{real_text}");
    assert!(
        real_text.contains("no service manager on this machine"),
        "{real_text}"
    );
    assert!(
        real_text.contains("daemon=false") || real_text.contains("daemon = false"),
        "{real_text}"
    );
    assert!(m.has_package("docker.io"), "nothing was undone");
}

#[test]
#[ignore = "builds the real CPython 3.11.2 inside a fresh root (minutes); needs STRAP_TEST_FRESH_ROOT and STRAP_FIXTURES (.ci/run sets both), root, and the distribution's apt mirror"]
fn a_fresh_debian_container_bootstraps_cpython_from_nothing() {
    let fixtures = PathBuf::from(
        std::env::var_os("STRAP_FIXTURES").expect("STRAP_FIXTURES names ../shared/fixtures"),
    );
    let m = FreshMachine::new();
    // The job's checkout: the CI guide's manifest and recipe; the source on a file:// mirror.
    let project = m.path("/builds/project");
    fs::create_dir_all(&project).unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
    for file in ["strap.toml", "python-build-deps.toml"] {
        fs::copy(examples.join(file), project.join(file)).unwrap();
    }
    fs::create_dir_all(m.path("/srv/mirror")).unwrap();
    fs::copy(
        fixtures.join("Python-3.11.2.tgz"),
        m.path("/srv/mirror/Python-3.11.2.tgz"),
    )
    .unwrap();
    assert!(!m.has_package("libssl-dev"));

    let env = [
        ("STRAP_ROOT", "/opt/strap"),
        ("STRAP_PYTHON_MIRRORS", "file:///srv/mirror/{file}"),
        ("STRAP_JOBS", "2"),
    ];
    let out = m.sh("cd /builds/project && strap bootstrap --yes", &env);
    let text = both(&out);
    assert!(out.status.success(), "bootstrap failed:\n{text}");
    assert!(m.has_package("libssl-dev"), "{text}");
    // The recipe ran first, its step shown under it.
    let recipe_at = text.find("python-build-deps").expect("the recipe item");
    let python_at = text.find("3.11.2").expect("the python item");
    assert!(
        recipe_at < python_at,
        "the recipe runs before the Python:\n{text}"
    );
    assert!(
        text.contains("compilers and CPython's build headers"),
        "{text}"
    );

    let python = m.sh_ok(
        "PATH=/opt/strap/shims:$PATH; cd /builds/project && python3 -c 'import ssl, sqlite3, sys; print(sys.version.split()[0], ssl.OPENSSL_VERSION.split()[0])'",
        &env,
    );
    assert_eq!(python.trim(), "3.11.2 OpenSSL", "{python}");

    let again = m.sh("cd /builds/project && strap bootstrap --yes", &env);
    assert!(again.status.success(), "{}", both(&again));
}
