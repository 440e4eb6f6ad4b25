//! Prebuilt CPython installs go through everything any install does: the build cache and
//! binary mirrors (under a key of their own), Ctrl-C and SIGTERM, `--offline`, and bootstrap's
//! concurrent downloads. The PBS-shaped archives are [`Fixture`]'s.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;

use crate::prebuilt::{both, in_versions, Fixture, BUILD};
use crate::support::{
    file_url, signal, signal_group, stderr_of, tmp_entries, wait_until, wait_while_running,
    with_default_sigint, TestEnv, PATIENCE,
};

/// The machine the tests install on, and the build that serves it.
const HERE: &str = "x86_64_v3-linux-gnu";
const BUILT_FOR: &str = "x86_64_v3-gnu";

/// The plan line of the prebuilt of `name`.
fn plan_line(name: &str) -> String {
    format!(
        "CPython {name} (prebuilt, python-build-standalone {BUILD}, {BUILT_FOR}, install_only_stripped)"
    )
}

/// The receipt's `details.source` of the install `name` in `f`'s root.
fn recorded_source(f: &Fixture, name: &str) -> serde_json::Value {
    let receipt: serde_json::Value =
        serde_json::from_str(&f.read(name, "strap-receipt.json")).unwrap();
    receipt["details"]["source"].clone()
}

#[test]
fn a_pushed_prebuilt_installs_from_a_binary_mirror_or_the_build_cache_never_as_the_source_build() {
    let f = Fixture::new();
    f.publish(BUILT_FOR, "default", false, None);
    let name = f.host.version.clone();
    let out = f.install(HERE, &["--prebuilt"]);
    assert!(out.status.success(), "{}", both(&out));
    let store = file_url(&f.env.work().join("shared-builds"));
    let out = f
        .strap(HERE, &["push", &name, "--to", &store])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let pbs = f.downloads();
    assert_eq!(pbs.len(), 1, "{pbs:?}");

    // Another machine, its cache empty, installs the pack from the binary mirror: the prebuilt,
    // relocated and verified, with nothing downloaded from python-build-standalone's mirror.
    let other = TestEnv::new();
    let binary = ["--binary-only", "--binary-mirror", &store];
    let out = f.install_on(&other, HERE, &[&["--prebuilt"][..], &binary].concat());
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("==> {} from {store}/ (key ", plan_line(&name))),
        "{text}"
    );
    assert!(text.contains("==> relocate:"), "{text}");
    assert!(text.contains("builds a C extension that imports"), "{text}");
    assert_eq!(f.downloads(), pbs, "a download from the PBS mirror");
    let (line, source) = in_versions(&other, &name);
    assert!(line.contains(&format!("{name} (prebuilt)")), "{line}");
    assert_eq!(source, "prebuilt");

    // A source build of the same version is not served the prebuilt's pack, from the binary
    // mirror nor from the build cache (where the push put it).
    f.env.strap(&["uninstall", "-f", &name]).assert().success();
    let out = f.install(HERE, &[&["--no-prebuilt"][..], &binary].concat());
    let text = both(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("no packed build of CPython {name}")),
        "{text}"
    );
    assert!(!text.contains("==> configure"), "{text}");
    assert!(!f.prefix(&name).exists());

    // The prebuilt install finds its own pack in the build cache: nothing is downloaded.
    let out = f.install(HERE, &["--prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "==> {} from the build cache (key ",
            plan_line(&name)
        )),
        "{text}"
    );
    assert_eq!(f.downloads(), pbs, "a second download from the PBS mirror");
    assert_eq!(recorded_source(&f, &name), "prebuilt");
}

#[test]
fn a_prebuilt_install_is_packed_into_the_build_cache_and_reinstalls_from_it() {
    let f = Fixture::new();
    f.publish(BUILT_FOR, "default", false, None);
    let name = f.host.version.clone();
    let out = f.install(HERE, &["--prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("==> pack: into the build cache"), "{text}");
    f.env.strap(&["uninstall", "-f", &name]).assert().success();
    let out = f.install(HERE, &["--prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "==> {} from the build cache (key ",
            plan_line(&name)
        )),
        "{text}"
    );
    assert_eq!(f.downloads().len(), 1, "{:?}", f.downloads());
    assert_eq!(recorded_source(&f, &name), "prebuilt");
}

/// True while process `pid` runs (exists and is no zombie).
fn runs(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

#[test]
fn ctrl_c_or_sigterm_during_a_prebuilt_install_leaves_nothing_and_frees_the_lock() {
    for (sig, number) in [("INT", libc::SIGINT), ("TERM", libc::SIGTERM)] {
        let f = Fixture::new();
        f.publish(BUILT_FOR, "default", false, None);
        let name = f.host.version.clone();
        // The fake interpreter stops at its first run (the sysconfig phase) once unpacked.
        let started = f.env.dir.path().join("interpreter-started");
        let args = ["install", "--skip-preflight", "--prebuilt", &name];
        let mut child = with_default_sigint(f.strap_process(&f.env, HERE, &args))
            .env("FAKE_PBS_STALL", &started)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_while_running(&mut child, "the prebuilt's interpreter running", || {
            fs::read_to_string(&started).is_ok_and(|pid| pid.ends_with('\n'))
        });
        let interpreter: u32 = fs::read_to_string(&started)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            runs(interpreter),
            "SIG{sig}: the interpreter is not running"
        );
        if number == libc::SIGINT {
            // As the terminal sends it: to the whole process group.
            signal_group(child.id(), number);
        } else {
            signal(child.id(), number);
        }
        let out = child.wait_with_output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(130), "SIG{sig}: {err}");
        assert!(
            err.contains("interrupted: nothing was installed"),
            "SIG{sig}: {err}"
        );
        assert!(!err.contains("from source"), "SIG{sig}: {err}");
        assert!(
            fs::symlink_metadata(f.prefix(&name)).is_err(),
            "SIG{sig}: versions/{name} was left"
        );
        assert_eq!(
            tmp_entries(&f.env.root()),
            Vec::<PathBuf>::new(),
            "SIG{sig}"
        );
        assert!(
            wait_until(PATIENCE, || !runs(interpreter)),
            "SIG{sig}: the interpreter outlived strap"
        );
        // The lock is free: the next install runs at once, from the kept download.
        let out = f.install(HERE, &["--prebuilt"]);
        let text = both(&out);
        assert!(out.status.success(), "SIG{sig}: {text}");
        assert!(!text.contains("waiting for another"), "SIG{sig}: {text}");
        assert_eq!(recorded_source(&f, &name), "prebuilt");
    }
}

#[test]
fn offline_a_prebuilt_installs_from_a_file_mirror_and_never_connects_to_an_http_one() {
    let f = Fixture::new();
    let file = f.publish(BUILT_FOR, "default", false, None);
    let name = f.host.version.clone();
    let out = f.install(
        HERE,
        &[
            "--prebuilt=only",
            "--offline",
            "--prebuilt-mirror",
            &f.file_mirror(),
        ],
    );
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("==> {}", plan_line(&name))),
        "{text}"
    );
    assert_eq!(recorded_source(&f, &name), "prebuilt");
    assert_eq!(f.downloads(), Vec::<String>::new());

    // From an http mirror (the loopback one, which has the archive), --offline fails saying
    // so, before any connection.
    let other = TestEnv::new();
    let http = format!("http://127.0.0.1:{}/pbs/{{build}}/{{file}}", f.mirror.port);
    let out = f.install_on(
        &other,
        HERE,
        &["--prebuilt=only", "--offline", "--prebuilt-mirror", &http],
    );
    let text = both(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&file) && text.contains("--offline forbids downloading"),
        "{text}"
    );
    assert_eq!(f.downloads(), Vec::<String>::new(), "a connection was made");
    assert!(!other.root().join("versions").join(&name).exists());
}

#[test]
fn bootstrap_with_prebuilt_preferred_installs_two_prebuilts_each_downloaded_once() {
    let f = Fixture::new();
    let name = f.host.version.clone();
    // Another release of the same minor version (the fake interpreter says it is that one).
    let patch: u32 = name.rsplit('.').next().unwrap().parse().unwrap();
    let other = format!("{}.{}", f.host.minor, if patch > 0 { 0 } else { 1 });
    let files = [
        f.publish(BUILT_FOR, "default", false, None),
        f.publish_version(&other, BUILT_FOR, "default", false, None),
    ];
    let manifest = f.env.write(
        "strap.toml",
        &format!(
            "[settings]\nprebuilt = \"prefer\"\n\n[python]\nversions = [\"{name}\", \"{other}\"]\n"
        ),
    );
    let out = f
        .strap(HERE, &["bootstrap", "--yes", "-f"])
        .arg(&manifest)
        .output()
        .unwrap();
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("==> configure"), "{text}");
    for version in [&name, &other] {
        assert_eq!(
            recorded_source(&f, version),
            "prebuilt",
            "{version}: {text}"
        );
        let (line, _) = in_versions(&f.env, version);
        assert!(line.contains(&format!("{version} (prebuilt)")), "{line}");
    }
    let mut downloads = f.downloads();
    downloads.sort();
    let mut wanted: Vec<String> = files
        .iter()
        .map(|file| format!("/pbs/{BUILD}/{}", file.replace('+', "%2B")))
        .collect();
    wanted.sort();
    assert_eq!(downloads, wanted, "each archive downloaded once");
}
