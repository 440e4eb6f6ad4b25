//! `strap bootstrap`: a manifest converges in one run (a Python from a loopback mirror, the
//! global version, a virtualenv, a recipe), then a second run finds everything `ok` without a
//! network request; plans, `--json`, detailed exit codes, failures and malformed manifests.

use std::fs;
use std::time::Duration;

use crate::fake_source::OPENSSL_DEP_LINE as OPENSSL;
use crate::support::Setup;
use crate::support::{stderr_of, stdout_of};

const RECIPE: &str = r#"
name = "marker"
description = "writes a marker file"

[vars.text]
type = "string"
default = "unset"

[[step]]
name = "marker"
check = "grep -qx '{{ text }}' {{ sysroot }}/marker"
run = "echo '{{ text }}' > {{ sysroot }}/marker"
"#;

/// A project directory with `strap.toml` (the fake 3.99.1 from the Setup's mirror through a
/// catalog of our own, the global version, a virtualenv, a recipe file).
fn project(s: &Setup, extra: &str) -> std::path::PathBuf {
    s.env.write(
        "catalog.txt",
        &format!("{OPENSSL}3.99.1 Python-3.99.1.tgz:{}\n", s.sha),
    );
    s.env.write("work/proj/marker.toml", RECIPE);
    s.env.write("work/proj/requirements.txt", "# nothing yet\n");
    s.env.write(
        "work/proj/strap.toml",
        &format!(
            r#"[settings]
python_mirrors = ["{}"]

[python]
versions = ["3.99.1"]
global = "3.99.1"

[[virtualenv]]
name = "proj"
python = "3.99"
requirements = "requirements.txt"

[[recipe]]
path = "marker.toml"
vars = {{ text = "hello" }}
{extra}"#,
            s.mirror.template("a")
        ),
    );
    s.env.work().join("proj")
}

/// Runs `bootstrap` again: all `items` are ok and the mirror saw no request.
fn assert_second_run_is_all_ok(
    s: &Setup,
    bootstrap: impl Fn() -> std::process::Output,
    items: usize,
) {
    let requests = s.mirror.requests().len();
    let out = bootstrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "strap: bootstrap: all {items} items are ok; nothing to do, nothing downloaded"
        )),
        "{err}"
    );
    assert_eq!(
        s.mirror.requests().len(),
        requests,
        "no request on the second run"
    );
}

/// `strap bootstrap` in `dir` with recipes writing under `sysroot` and the test's catalog.
fn bootstrap_in(
    s: &Setup,
    dir: &std::path::Path,
    sysroot: &std::path::Path,
) -> assert_cmd::Command {
    fs::create_dir_all(sysroot).unwrap();
    let mut cmd = s.env.strap(&["bootstrap", "--sysroot"]);
    cmd.arg(sysroot)
        .current_dir(dir)
        .env("STRAP_PYTHON_CATALOG", s.env.dir.path().join("catalog.txt"))
        .timeout(Duration::from_secs(300));
    cmd
}

#[test]
fn a_manifest_converges_then_a_second_run_is_all_ok_without_the_network() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let dir = project(&s, "");
    let sysroot = s.env.work().join("sysroot");
    let run = || bootstrap_in(&s, &dir, &sysroot).output().unwrap();
    let out = run();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    for line in [
        "  install   python     3.99.1  (strap install 3.99.1 --mirror ",
        "  set       global     3.99.1  (strap global 3.99.1)",
        "  create    virtualenv proj (from 3.99)  (strap virtualenv 3.99 proj --requirements ",
        "  apply     recipe     ",
        "strap: bootstrap: 0 ok, 4 changed, 0 failed",
    ] {
        assert!(err.contains(line), "{line:?} in:\n{err}");
    }
    assert!(s.env.root().join("versions/3.99.1/bin/python3").exists());
    assert_eq!(
        fs::read_to_string(s.env.root().join("version"))
            .unwrap()
            .trim(),
        "3.99.1"
    );
    assert!(s.env.root().join("versions/proj/bin/python").exists());
    assert_eq!(
        fs::read_to_string(sysroot.join("marker")).unwrap(),
        "hello\n"
    );

    assert_second_run_is_all_ok(&s, run, 4);
}

#[test]
fn dry_run_shows_the_plan_as_json_with_detailed_exit_codes() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let dir = project(&s, "");
    let out = s
        .env
        .strap(&[
            "bootstrap",
            "--dry-run",
            "--detailed-exitcode",
            "--json",
            "--only",
            "python,global",
        ])
        .current_dir(&dir)
        .env("STRAP_PYTHON_CATALOG", s.env.dir.path().join("catalog.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let items = plan["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{plan}");
    assert_eq!(items[0]["kind"], "python");
    assert_eq!(items[0]["state"], "pending");
    assert_eq!(items[0]["command"][0], "install");
    assert_eq!(items[1]["kind"], "global");
    assert!(
        !s.env.root().join("versions/3.99.1").exists(),
        "a dry run changes nothing"
    );
}

#[test]
fn a_failed_python_skips_what_needs_it_and_the_rest_still_converges() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let dir = project(
        &s,
        "\n[[recipe]]\npath = \"marker.toml\"\nvars = { text = \"second\" }\n",
    );
    let sysroot = s.env.work().join("sysroot");
    // The catalog pins another checksum: the download is refused.
    s.env.write(
        "bad-catalog.txt",
        &format!("{OPENSSL}3.99.1 Python-3.99.1.tgz:{}\n", "0".repeat(64)),
    );
    let out = bootstrap_in(&s, &dir, &sysroot)
        .env(
            "STRAP_PYTHON_CATALOG",
            s.env.dir.path().join("bad-catalog.txt"),
        )
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("failed: python 3.99.1: ") && err.contains("checksum mismatch"),
        "{err}"
    );
    assert!(
        err.contains(
            "skipped: virtualenv proj (from 3.99): Python 3.99 is not installed: python 3.99.1 failed"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "skipped: global 3.99.1: Python 3.99.1 is not installed: python 3.99.1 failed"
        ),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(sysroot.join("marker")).unwrap(),
        "second\n",
        "the independent recipes ran"
    );
}

#[test]
fn a_malformed_manifest_is_reported_with_file_and_line_before_anything_runs() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let dir = s.env.work().join("bad");
    let manifest = s.env.write(
        "work/bad/strap.toml",
        "[python]\nversions = [\"3.12\"]\n\n[[virtualenv]]\nname = \"tools\"\npython = \"3.11\"\n",
    );
    let out = s
        .env
        .strap(&["bootstrap"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains(&format!(
            "{}:6: virtualenv 'tools' uses Python '3.11', which [python] versions does not list (3.12)",
            manifest.display()
        )),
        "{}",
        stderr_of(&out)
    );
    let out = s.env.strap(&["bootstrap"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("no strap.toml in"),
        "{}",
        stderr_of(&out)
    );

    let schema = s.env.strap(&["bootstrap", "--schema"]).output().unwrap();
    let schema: serde_json::Value = serde_json::from_str(&stdout_of(&schema)).unwrap();
    assert_eq!(schema["title"], "strap.toml");
}

#[test]
fn the_example_manifest_plans_every_kind_of_item() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/strap.toml");
    let out = s
        .env
        .strap(&["bootstrap", "--dry-run", "--json", "--only"])
        .arg("python,global,virtualenv,boost")
        .arg("-f")
        .arg(&example)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let items: Vec<(String, String, String)> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["name"].as_str().unwrap().to_owned(),
                i["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("python", "3.11.2"),
        ("global", "3.11.2"),
        ("virtualenv", "canproj (from 3.11)"),
        ("boost", "1.81.0-py3.11"),
    ];
    assert_eq!(items.len(), expected.len(), "{plan}");
    for ((kind, name, state), (want_kind, want_name)) in items.iter().zip(expected) {
        assert_eq!(
            (kind.as_str(), name.as_str(), state.as_str()),
            (want_kind, want_name, "pending")
        );
    }
    let boost = &plan["items"][3]["command"];
    assert_eq!(
        boost,
        &serde_json::json!([
            "boost",
            "install",
            "1.81.0",
            "--python",
            "3.11",
            "--with",
            "python,filesystem",
            "--variant",
            "release",
            "--link",
            "shared",
            "--jobs",
            "4"
        ])
    );
}

/// A project with the fake 3.99.1 and 3.98.1 (both slow to download), plus `extra_python`
/// (listed in the catalog, missing from the mirror) when given; the global version, a
/// virtualenv on `venv_python`, a headers-only fake Boost 1.99.0 and a recipe. Returns the
/// command that bootstraps it.
fn two_python_project(
    s: &Setup,
    extra_python: Option<&str>,
    venv_python: &str,
) -> assert_cmd::Command {
    use crate::fake_source::{fake_python_tgz, sha256_hex};
    use crate::mirror::Behavior;
    let second = fake_python_tgz("3.98.1");
    let second_sha = sha256_hex(&second);
    // Both archives take a while: downloaded one after the other, they would not overlap.
    let slow = Duration::from_millis(700);
    s.mirror
        .route("/a/Python-3.98.1.tgz", Behavior::Delayed(second, slow));
    s.mirror.route(
        "/a/Python-3.99.1.tgz",
        Behavior::Delayed(s.archive.clone(), slow),
    );
    let boost = crate::fake_boost::fake_boost_tgz("1.99.0", "1.99.0", &["headers"]);
    let boost_sha = sha256_hex(&boost);
    s.mirror
        .route("/b/boost_1_99_0.tar.gz", Behavior::Serve(boost));
    s.env.write(
        "catalog.txt",
        &format!(
            "{OPENSSL}3.97.1 Python-3.97.1.tgz:{}\n3.98.1 Python-3.98.1.tgz:{second_sha}\n3.99.1 Python-3.99.1.tgz:{}\n",
            "0".repeat(64),
            s.sha
        ),
    );
    s.env.write(
        "boost-catalog.txt",
        &format!("1.99.0 boost_1_99_0.tar.gz {boost_sha}\n"),
    );
    s.env.write("work/proj/marker.toml", RECIPE);
    let versions: Vec<String> = ["3.99.1", "3.98.1"]
        .into_iter()
        .chain(extra_python)
        .map(|v| format!("\"{v}\""))
        .collect();
    s.env.write(
        "work/proj/strap.toml",
        &format!(
            r#"[settings]
python_mirrors = ["{}"]
boost_mirrors = ["{}"]

[python]
versions = [{}]
global = "3.99.1"

[[virtualenv]]
name = "tools"
python = "{venv_python}"

[[boost]]
version = "1.99.0"

[[recipe]]
path = "marker.toml"
vars = {{ text = "converged" }}
"#,
            s.mirror.template("a"),
            s.mirror.template("b"),
            versions.join(", ")
        ),
    );
    let mut cmd = bootstrap_in(s, &s.env.work().join("proj"), &s.env.work().join("sysroot"));
    cmd.env(
        "STRAP_BOOST_CATALOG",
        s.env.dir.path().join("boost-catalog.txt"),
    );
    cmd
}

#[test]
fn two_pythons_a_virtualenv_a_boost_and_a_recipe_converge_downloading_at_once() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let out = two_python_project(&s, None, "3.98").output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("strap: bootstrap: 0 ok, 6 changed, 0 failed"),
        "{err}"
    );
    assert!(
        err.contains("strap: bootstrap: downloading for 3 installs at once"),
        "{err}"
    );
    assert!(
        s.mirror.most_at_once() >= 2,
        "the downloads overlapped: {:?}",
        s.mirror.requests()
    );
    for installed in [
        "versions/3.99.1",
        "versions/3.98.1",
        "versions/tools",
        "boost/1.99.0",
    ] {
        assert!(s.env.root().join(installed).is_dir(), "{installed}: {err}");
    }
    assert_eq!(
        fs::read_to_string(s.env.work().join("sysroot/marker")).unwrap(),
        "converged\n"
    );

    assert_second_run_is_all_ok(
        &s,
        || two_python_project(&s, None, "3.98").output().unwrap(),
        6,
    );
}

#[test]
fn a_python_missing_from_the_mirror_is_named_and_the_rest_converges() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let out = two_python_project(&s, Some("3.97.1"), "3.97")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("strap: bootstrap: 0 ok, 5 changed, 1 failed, 1 skipped"),
        "{err}"
    );
    assert!(
        err.contains("  failed: python 3.97.1: ") && err.contains("not found (HTTP 404)"),
        "{err}"
    );
    assert!(
        err.contains(
            "  skipped: virtualenv tools (from 3.97): Python 3.97 is not installed: python 3.97.1 failed"
        ),
        "{err}"
    );
    for installed in ["versions/3.99.1", "versions/3.98.1", "boost/1.99.0"] {
        assert!(s.env.root().join(installed).is_dir(), "{installed}: {err}");
    }
    // The second run finds what converged ok and tries only what failed.
    let out = two_python_project(&s, Some("3.97.1"), "3.97")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("strap: bootstrap: 5 ok, 0 changed, 1 failed, 1 skipped"),
        "{err}"
    );
}

#[test]
fn an_interrupted_bootstrap_stops_cleans_up_and_exits_130() {
    for (sig, number) in [
        ("INT", libc::SIGINT),
        ("TERM", libc::SIGTERM),
        ("HUP", libc::SIGHUP),
    ] {
        let s = Setup::new();
        s.env.provide_build_headers();
        let dir = project(&s, "");
        let sysroot = s.env.work().join("sysroot");
        fs::create_dir_all(&sysroot).unwrap();
        let child = s
            .env
            .strap_process(&[])
            .env("STRAP_PYTHON_CATALOG", s.env.dir.path().join("catalog.txt"))
            .env("FAKE_BUILD_SECONDS", "30")
            .current_dir(&dir)
            .arg("bootstrap")
            .arg("--sysroot")
            .arg(&sysroot)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let child = s.wait_until_compiling(child);
        crate::support::signal(child.id(), number);
        let out = child.wait_with_output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(130), "SIG{sig}: {err}");
        assert!(
            err.contains(
                "strap: bootstrap: interrupted; 0 ok, 0 changed, 0 failed, 4 left undone (run it again to finish)"
            ),
            "SIG{sig}: {err}"
        );
        s.assert_nothing_installed();
        assert_eq!(
            crate::support::wait_for_no_processes_in(&s.env.root()),
            Vec::<u32>::new(),
            "SIG{sig}: build processes outlived strap"
        );
        // Nothing after the interrupted install ran.
        assert!(!s.env.root().join("version").exists(), "SIG{sig}: {err}");
        assert!(!s.env.root().join("versions/proj").exists(), "SIG{sig}");
        assert!(!sysroot.join("marker").exists(), "SIG{sig}: {err}");
    }
}

#[test]
fn an_invalid_python_entry_is_named_and_blocks_only_what_nothing_else_serves() {
    let s = Setup::new();
    s.env.provide_build_headers();
    project(&s, "");
    let dir = s.env.work().join("proj");
    let sysroot = s.env.work().join("sysroot");
    // 3.99.7 is not in the catalog (invalid); 3.99.1 is, and serves the virtualenv's "3.99".
    let manifest = |versions: &str, venv: &str, venv_python: &str| {
        s.env.write(
            "work/proj/strap.toml",
            &format!(
                "[settings]\npython_mirrors = [\"{}\"]\n\n[python]\nversions = [{versions}]\n\n\
                 [[virtualenv]]\nname = \"{venv}\"\npython = \"{venv_python}\"\n",
                s.mirror.template("a")
            ),
        );
    };
    manifest("\"3.99.1\", \"3.99.7\"", "proj", "3.99");
    let out = bootstrap_in(&s, &dir, &sysroot).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("strap: bootstrap: 0 ok, 2 changed, 1 failed\n"),
        "{err}"
    );
    assert!(
        err.contains("  failed: python 3.99.7: unknown CPython version '3.99.7'"),
        "{err}"
    );
    assert!(
        s.env.root().join("versions/proj/bin/python").exists(),
        "{err}"
    );

    // Only the invalid entry serves the virtualenv's Python: the skip names it.
    manifest("\"3.99.7\"", "other", "3.99.7");
    let out = bootstrap_in(&s, &dir, &sysroot).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "  skipped: virtualenv other (from 3.99.7): Python 3.99.7 is not installed: \
             python 3.99.7 is invalid"
        ),
        "{err}"
    );
}

#[test]
fn python_and_boost_entries_are_checked_as_their_commands_check_them_before_anything_runs() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let cases = [
        (
            "[[boost]]\nversion = \"1.86\"\nwith = [\"filesystem\",\n  \"filesytem\"]\n",
            4,
            "boost 1.86: 'filesytem' is not a Boost library that needs building (did you mean \
             filesystem",
        ),
        (
            "[[boost]]\nversion = \"1.86\"\nvariant = [\"fast\"]\n",
            3,
            "unknown variant `fast`, expected `release` or `debug`",
        ),
        (
            "[[boost]]\nversion = \"1.86\"\nlink = [\"dynamic\"]\n",
            3,
            "unknown variant `dynamic`, expected `shared` or `static`",
        ),
        (
            "[[boost]]\nversion = \"1.86\"\nwith = [\"python\"]\n",
            3,
            "boost 1.86: with = [\"python\"] needs python = \"X.Y\", the Python (of [python] \
             versions) to build Boost.Python against",
        ),
        (
            "[[boost]]\nversion = \"1.70\"\nwith = [\"json\"]\n",
            3,
            "boost 1.70: Boost 1.70.0 has no json library (it appeared in 1.75.0)",
        ),
        (
            "[[boost]]\nversion = \"1.x\"\n",
            2,
            "boost: '1.x' is not a Boost version",
        ),
        (
            "[python]\nversions = [\"3.12\", \"3.x\"]\n",
            2,
            "[python] versions: '3.x' is not a CPython version",
        ),
        (
            "[settings]\njobs = 0\n[python]\nglobal = \"system\"\n",
            2,
            "[settings] jobs must be from 1 to 1024 build jobs, not 0",
        ),
    ];
    for (text, line, message) in cases {
        let manifest = s.env.write("work/m/strap.toml", text);
        // Checked whatever --only selects, as a whole file is.
        let out = s
            .env
            .strap(&["bootstrap", "--only", "recipe"])
            .current_dir(s.env.work().join("m"))
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(
            err.contains(&format!(
                "strap: error: {}:{line}: {message}",
                manifest.display()
            )),
            "{text}: {err}"
        );
        assert!(!err.contains("plan for"), "{text}: {err}");
    }
    // --jobs is checked as the manifest's jobs are.
    s.env
        .write("work/m/strap.toml", "[python]\nglobal = \"system\"\n");
    s.env
        .strap(&["bootstrap", "--jobs", "0"])
        .current_dir(s.env.work().join("m"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "strap: error: --jobs must be from 1 to 1024 build jobs, not 0",
        ));
    // The commands the entries stand for refuse the same.
    s.env
        .strap(&["boost", "install", "1.86", "--with", "python"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--with python needs --python"));
    s.env
        .strap(&["boost", "install", "1.86", "--variant", "fast"])
        .assert()
        .code(2);

    // A Boost.Python its Python is known not to work with is planned as invalid, with the
    // nearest release that works.
    s.env.write(
        "work/m/strap.toml",
        "[python]\nversions = [\"3.12\"]\n\n[[boost]]\nversion = \"1.80\"\npython = \"3.12\"\n",
    );
    let out = s
        .env
        .strap(&["bootstrap", "--dry-run", "--only", "boost"])
        .current_dir(s.env.work().join("m"))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "  invalid   boost      1.80.0-py3.12  (Boost 1.80.0 with Python 3.12 is refused: \
             Boost.Python before 1.81"
        ),
        "{err}"
    );
    assert!(
        err.contains("; the nearest Boost that works with it: 1.81.0)"),
        "{err}"
    );
}

#[test]
fn a_boost_on_a_python_not_installed_yet_is_named_as_strap_boost_install_will_name_it() {
    let s = Setup::new();
    s.env.provide_build_headers();
    s.env.write(
        "work/b/strap.toml",
        "[python]\nversions = [\"3.13t\", \"latest\", \"3.12\"]\n\n\
         [[boost]]\nversion = \"1.86.0\"\npython = \"latest\"\n\n\
         [[boost]]\nversion = \"1.86.0\"\npython = \"3.13t\"\n\n\
         [[boost]]\nversion = \"1.86.0\"\npython = \"3.12\"\n",
    );
    let out = s
        .env
        .strap(&["bootstrap", "--dry-run", "--json", "--only", "python,boost"])
        .current_dir(s.env.work().join("b"))
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let items = plan["items"].as_array().unwrap();
    let named = |kind: &str| -> Vec<(String, String)> {
        items
            .iter()
            .filter(|i| i["kind"] == kind)
            .map(|i| {
                (
                    i["name"].as_str().unwrap().to_owned(),
                    i["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pythons = named("python");
    let boosts = named("boost");
    assert_eq!((pythons.len(), boosts.len()), (3, 3), "{plan}");
    // `latest`: the X.Y of the release `strap install latest` builds, not "pylatest".
    let latest = items
        .iter()
        .filter(|i| i["kind"] == "python")
        .nth(1)
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .strip_prefix("install ")
        .unwrap()
        .to_owned();
    let xy: Vec<&str> = latest.split('.').take(2).collect();
    assert_eq!(
        boosts[0],
        (format!("1.86.0-py{}", xy.join(".")), "pending".to_owned())
    );
    // A free-threaded Python: what `strap boost install --python 3.13t` refuses.
    assert_eq!(boosts[1].0, "1.86.0-py3.13", "{plan}");
    assert_eq!(boosts[1].1, "invalid", "{plan}");
    let detail = items
        .iter()
        .find(|i| i["kind"] == "boost" && i["state"] == "invalid")
        .unwrap()["detail"]
        .to_string();
    assert!(detail.contains("free-threaded"), "{detail}");
    assert_eq!(
        boosts[2],
        ("1.86.0-py3.12".to_owned(), "pending".to_owned())
    );
}

#[test]
fn a_manifest_that_declares_nothing_is_a_usage_error() {
    let s = Setup::new();
    s.env.provide_build_headers();
    for text in [
        "",
        "# nothing yet\n",
        "[settings]\njobs = 2\n",
        "[python]\n",
    ] {
        let manifest = s.env.write("work/e/strap.toml", text);
        let out = s
            .env
            .strap(&["bootstrap"])
            .current_dir(s.env.work().join("e"))
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {err}");
        assert!(
            err.contains(&format!(
                "strap: error: {} declares nothing to set up: no [python] versions or global, \
                 [[virtualenv]], [[boost]] or [[recipe]]",
                manifest.display()
            )),
            "{text:?}: {err}"
        );
        assert!(
            err.contains("hint: add what this machine needs, e.g. [python] versions = [\"3.12\"]"),
            "{err}"
        );
    }
    // A manifest whose items --only leaves out says so.
    let manifest = s
        .env
        .write("work/e/strap.toml", "[python]\nglobal = \"system\"\n");
    let out = s
        .env
        .strap(&["bootstrap", "--only", "boost,recipe"])
        .current_dir(s.env.work().join("e"))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err,
        format!(
            "strap: bootstrap: {} has no boost or recipe items (--only); nothing to do\n",
            manifest.display()
        )
    );
}

#[test]
fn an_interrupt_while_downloading_at_once_keeps_the_partial_downloads_and_exits_130() {
    use crate::fake_source::{fake_python_tgz, sha256_hex};
    use crate::mirror::Behavior;
    let s = Setup::new();
    s.env.provide_build_headers();
    let second = fake_python_tgz("3.98.1");
    let mut parts = Vec::new();
    for (file, body) in [
        ("Python-3.99.1.tgz", s.archive.clone()),
        ("Python-3.98.1.tgz", second.clone()),
    ] {
        let cut = body.len() / 2;
        s.mirror
            .route(&format!("/s/{file}"), Behavior::StallAfter(body, cut));
        parts.push((s.env.root().join(format!("cache/{file}.part")), cut as u64));
    }
    s.env.write(
        "catalog.txt",
        &format!(
            "3.98.1 Python-3.98.1.tgz:{}\n3.99.1 Python-3.99.1.tgz:{}\n",
            sha256_hex(&second),
            s.sha
        ),
    );
    s.env.write(
        "work/proj/strap.toml",
        &format!(
            "[settings]\npython_mirrors = [\"{}\"]\n\n[python]\nversions = [\"3.99.1\", \"3.98.1\"]\nglobal = \"3.99.1\"\n",
            s.mirror.template("s")
        ),
    );
    let mut child = s
        .env
        .strap_process(&[])
        .env("STRAP_PYTHON_CATALOG", s.env.dir.path().join("catalog.txt"))
        .current_dir(s.env.work().join("proj"))
        .arg("bootstrap")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::support::wait_while_running(&mut child, "both downloads getting going", || {
        parts
            .iter()
            .all(|(part, cut)| fs::metadata(part).is_ok_and(|m| m.len() == *cut))
    });
    crate::support::signal(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("strap: bootstrap: downloading for 2 installs at once"),
        "{err}"
    );
    assert!(
        err.contains("strap: bootstrap: interrupted; 0 ok, 0 changed, 0 failed, 3 left undone"),
        "{err}"
    );
    assert!(
        !err.contains("strap: bootstrap: install"),
        "no install started: {err}"
    );
    for (part, cut) in &parts {
        assert_eq!(
            fs::metadata(part).unwrap().len(),
            *cut,
            "{}",
            part.display()
        );
    }
    assert!(!s.env.root().join("versions/3.99.1").exists());
    assert!(!s.env.root().join("version").exists());
}

#[test]
fn an_interrupt_while_planning_changes_nothing_and_exits_130() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let marker = s.env.work().join("checking");
    s.env.write(
        "work/proj/slow.toml",
        &format!(
            "name = \"slow\"\ndescription = \"a check that takes long\"\n\n[[step]]\nname = \"s\"\n\
             check = \"touch {} && sleep 30\"\nrun = \"true\"\n",
            marker.display()
        ),
    );
    s.env.write(
        "work/proj/strap.toml",
        "[python]\nglobal = \"system\"\n\n[[recipe]]\npath = \"slow.toml\"\n",
    );
    let mut child = s
        .env
        .strap_process(&[])
        .current_dir(s.env.work().join("proj"))
        .arg("bootstrap")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::support::wait_while_running(&mut child, "the recipe's check running", || {
        marker.exists()
    });
    crate::support::signal(child.id(), libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("strap: bootstrap: interrupted while planning; nothing was changed"),
        "{err}"
    );
    assert!(!s.env.root().join("version").exists(), "{err}");
}

#[test]
fn a_recipe_can_run_before_the_pythons() {
    let s = Setup::new();
    s.env.provide_build_headers();
    let dir = project(
        &s,
        "\n[[recipe]]\nname = \"prerequisites\"\npath = \"marker.toml\"\nvars = { text = \"first\" }\nbefore = \"python\"\n",
    );
    // `name` and `path` together are the manifest's to refuse; a recipe by path only:
    s.env.write(
        "work/proj/strap.toml",
        &fs::read_to_string(dir.join("strap.toml"))
            .unwrap()
            .replace("name = \"prerequisites\"\n", ""),
    );
    let sysroot = s.env.work().join("sysroot");
    let plan = bootstrap_in(&s, &dir, &sysroot)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    let plan: serde_json::Value =
        serde_json::from_slice(&plan.stdout).unwrap_or_else(|e| panic!("{e}: {plan:?}"));
    let kinds: Vec<&str> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["recipe", "python", "global", "virtualenv", "recipe"],
        "{plan}"
    );
    let out = bootstrap_in(&s, &dir, &sysroot).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let ran = |what: &str| {
        err.find(&format!("strap: bootstrap: {what}"))
            .unwrap_or_else(|| panic!("{what} did not run: {err}"))
    };
    assert!(
        ran("apply     recipe") < ran("install   python"),
        "the recipe ran first: {err}"
    );
    // Anything but "python" is refused, naming the line.
    s.env.write(
        "work/proj/strap.toml",
        &fs::read_to_string(dir.join("strap.toml"))
            .unwrap()
            .replace("before = \"python\"", "before = \"boost\""),
    );
    let out = bootstrap_in(&s, &dir, &sysroot).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr_of(&out).contains("strap.toml:"),
        "{}",
        stderr_of(&out)
    );
}
