//! Snapshots of the main failure messages (stderr and exit code), so that every change of their
//! wording is reviewed. Temporary paths, ports, times and checksums are replaced by placeholders.

use crate::fake_source::raw_tgz;
use crate::mirror::Behavior;
use crate::support::Setup;
use crate::support::{stderr_of, write_script, TestEnv};

/// `exit <code>` and the stderr of `cmd` (the run-specific parts are filtered by [`settings`]).
fn shown(mut cmd: assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    format!(
        "exit {}\n{}",
        out.status.code().unwrap_or(-1),
        stderr_of(&out)
    )
}

/// The snapshot settings: temporary paths, ports, times and checksums become placeholders.
fn settings() -> insta::Settings {
    crate::support::snapshot::settings(&[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\b[0-9a-f]{64}\b", "[SHA256]"),
        (r"-\d{10}-\d+\.log", "-[TIME]-[PID].log"),
        (r"(tmp/[a-z]+-[^/ ]+)\.\d+", "$1.[PID]"),
        (r"\d+\.\ds\b", "[SECS]"),
        (r"make -j\d+", "make -j[JOBS]"),
        (r"# strap \d+\.\d+\.\d+", "# strap [VERSION]"),
    ])
}

#[test]
fn unknown_and_malformed_versions() {
    let env = TestEnv::new();
    settings().bind(|| {
        insta::assert_snapshot!("unknown_version", shown(env.strap(&["install", "3.11.99"])));
        insta::assert_snapshot!(
            "malformed_version",
            shown(env.strap(&["install", "../../etc"]))
        );
        insta::assert_snapshot!(
            "local_outside_versions",
            shown(env.strap(&["local", "../x"]))
        );
        insta::assert_snapshot!("unsupported_shell", shown(env.strap(&["init", "tcsh"])));
        insta::assert_snapshot!(
            "unsupported_login_shell",
            shown({
                let mut cmd = env.strap(&["init"]);
                cmd.env("SHELL", "/bin/tcsh");
                cmd
            })
        );
    });
}

#[test]
fn broken_and_unbuildable_versions_through_a_shim() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    let python3 = env.root().join("versions/3.12.7/bin/python3");
    std::fs::remove_file(&python3).unwrap();
    std::os::unix::fs::symlink("/nonexistent/python3.12", &python3).unwrap();
    env.write("root/version", "3.12.7\n");
    env.rehash();
    settings().bind(|| {
        insta::assert_snapshot!(
            "broken_version",
            shown(env.command(env.shims().join("python3")))
        );
        // A release line the catalog will not grow (its nearest releases stay the same).
        env.write("work/.python-version", "2.7.99\n");
        insta::assert_snapshot!(
            "unknown_pinned_version_through_a_shim",
            shown(env.command(env.shims().join("python3")))
        );
    });
}

#[test]
fn bad_settings() {
    let env = TestEnv::new();
    let mut timeout = env.strap(&["install", "3.11.2"]);
    timeout.env("STRAP_DOWNLOAD_TIMEOUT", "inf");
    let mut template = env.strap(&["install", "3.11.2"]);
    template.env("STRAP_PYTHON_MIRRORS", "{file}");
    settings().bind(|| {
        insta::assert_snapshot!("download_timeout_inf", shown(timeout));
        insta::assert_snapshot!("mirror_template_without_scheme", shown(template));
    });
}

#[test]
fn every_mirror_failed() {
    let s = Setup::new();
    s.mirror
        .route("/err/Python-3.99.1.tgz", Behavior::Status(503));
    let cmd = s.install(&["err", "missing"], &[]);
    settings().bind(|| insta::assert_snapshot!("every_mirror_failed", shown(cmd)));
}

#[test]
fn preflight_hostile_archive_failed_build_and_missing_module() {
    let s = Setup::new();
    let (s2, s3, s4) = (Setup::new(), Setup::new(), Setup::new());
    let cc = s.env.dir.path().join("fakecc");
    write_script(&cc, "if grep -q lzma.h; then exit 1; fi; exit 0");
    let mut preflight = s.env.strap(&[
        "install",
        "--sha256",
        &s.sha,
        "--mirror",
        &s.mirror.template("a"),
        "3.99.1",
    ]);
    preflight.env("CC", &cc);
    let hostile = s2.install_archive(raw_tgz(&[(
        "Python-3.99.1/link",
        tar::EntryType::Symlink,
        "../../../etc",
    )]));
    let mut failed = s3.install(&["a"], &[]);
    failed.env("FAKE_CONFIGURE_FAIL", "1");
    let missing = s4.install(&["a"], &["--configure-opts", "--simulate-missing=lzma"]);
    settings().bind(|| {
        insta::assert_snapshot!("preflight", shown(preflight));
        insta::assert_snapshot!("hostile_archive", shown(hostile));
        insta::assert_snapshot!("failed_build", shown(failed));
        insta::assert_snapshot!("missing_required_module", shown(missing));
    });
}

#[test]
fn a_pinned_version_that_is_not_installed() {
    let env = TestEnv::new();
    env.write("work/.python-version", "3.11\n");
    env.rehash();
    let cmd = env.strap(&["which", "python3"]);
    settings().bind(|| insta::assert_snapshot!("pinned_not_installed", shown(cmd)));
}

#[test]
fn boost_refusals() {
    let env = TestEnv::new();
    let json = r#"{"version": "3.12", "include": "/nowhere", "libdir": "/usr/lib", "ldlibrary": "libpython3.12.so", "shared": true, "ext_suffix": ".so", "abiflags": "", "numpy_include": null}"#;
    write_script(
        &env.root().join("versions/3.12.1/bin/python3"),
        &format!("echo 'strap-python: {json}'"),
    );
    settings().bind(|| {
        insta::assert_snapshot!(
            "boost_known_broken_pair",
            shown(env.strap(&["boost", "install", "1.80", "--python", "3.12"]))
        );
        insta::assert_snapshot!(
            "boost_unknown_library",
            shown(env.strap(&["boost", "install", "1.86", "--with", "filesytem"]))
        );
        insta::assert_snapshot!(
            "boost_python_not_installed",
            shown(env.strap(&["boost", "install", "1.86", "--python", "3.9"]))
        );
        insta::assert_snapshot!(
            "boost_unlisted_without_checksum",
            shown(env.strap(&[
                "boost",
                "install",
                "1.99.0",
                "--mirror",
                "file:///nowhere/{file}"
            ]))
        );
    });
}

#[test]
fn bootstrap_plan_and_manifest_errors() {
    let s = Setup::new();
    s.env.write(
        "catalog.txt",
        &format!(
            "dep openssl11 o.tgz http://127.0.0.1:9/o.tgz {}\n3.99.1 Python-3.99.1.tgz:{}\n",
            "0".repeat(64),
            s.sha
        ),
    );
    s.env.write(
        "work/strap.toml",
        &format!(
            "[settings]\npython_mirrors = [\"{}\"]\n\n[python]\nversions = [\"3.99.1\"]\nglobal = \"3.99.1\"\n\n[[virtualenv]]\nname = \"proj\"\npython = \"3.99\"\n",
            s.mirror.template("a")
        ),
    );
    let mut plan = s
        .env
        .strap(&["bootstrap", "--dry-run", "--detailed-exitcode"]);
    plan.env("STRAP_PYTHON_CATALOG", s.env.dir.path().join("catalog.txt"));
    s.env.write(
        "work/bad/strap.toml",
        "[python]\nversions = [\"3.12\"]\n\n[[boost]]\nversion = \"1.86\"\npython = \"3.11\"\n",
    );
    let mut bad = s.env.strap(&["bootstrap"]);
    bad.current_dir(s.env.work().join("bad"));
    let mut json = s.env.strap(&[
        "bootstrap",
        "--dry-run",
        "--json",
        "--only",
        "python,global,virtualenv",
    ]);
    json.env("STRAP_PYTHON_CATALOG", s.env.dir.path().join("catalog.txt"));
    let json_text = crate::support::stdout_of(&json.output().unwrap());
    settings().bind(|| {
        insta::assert_snapshot!("bootstrap_plan", shown(plan));
        insta::assert_snapshot!("bootstrap_plan_json", json_text);
        insta::assert_snapshot!("bootstrap_bad_reference", shown(bad));
    });
}
