//! `strap boost` end to end with a generated Boost-shaped source tree served from a loopback
//! mirror: the arguments of bootstrap.sh and b2 for each option, the generated user-config.jam,
//! staging and the receipt, checksums (catalog, --sha256, sidecar), mirrors, refusals,
//! preflight, verification failures, and list/prefix/env/uninstall.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::fake_boost::fake_boost_tgz;
use crate::fake_source::sha256_hex;
use crate::mirror::{Behavior, Mirror};
use crate::support::{stderr_of, stdout_of, wait_while_running, write_script, TestEnv, Watched};

const VERSION: &str = "1.99.0";
const GZ: &str = "boost_1_99_0.tar.gz";
const BZ2: &str = "boost_1_99_0.tar.bz2";
const TREE_LIBRARIES: &[&str] = &["atomic", "filesystem", "headers", "mpi", "python"];

/// A test machine plus a mirror serving the fake Boost source as `.tar.gz` under `/b/`.
struct Setup {
    env: TestEnv,
    mirror: Mirror,
    sha: String,
}

impl Setup {
    fn new() -> Setup {
        Setup::serving(fake_boost_tgz(VERSION, VERSION, TREE_LIBRARIES))
    }

    fn serving(archive: Vec<u8>) -> Setup {
        let sha = sha256_hex(&archive);
        let mirror = Mirror::start();
        mirror.route(&format!("/b/{GZ}"), Behavior::Serve(archive));
        Setup {
            env: TestEnv::new(),
            mirror,
            sha,
        }
    }

    /// `strap boost install` of the fake release with its checksum, from `/b/`.
    fn install(&self, extra: &[&str]) -> Command {
        let mut cmd = self.env.strap(&["boost", "install", "--sha256", &self.sha]);
        cmd.args(["--mirror", &self.mirror.template("b")])
            .args(extra)
            .arg(VERSION)
            .timeout(Duration::from_secs(120));
        cmd
    }

    fn prefix(&self, name: &str) -> PathBuf {
        self.env.root().join("boost").join(name)
    }

    /// What the fake `b2` (or `bootstrap.sh`) was given, one argument per line.
    fn recorded(&self, name: &str, file: &str) -> Vec<String> {
        let path = self.prefix(name).join("fake").join(file);
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim_end_matches('\0')
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// An installed "Python" that is the system's `/usr/bin/python3` (real headers and
    /// library), installed as `<X.Y>.99`; returns `X.Y`.
    fn system_backed_python(&self) -> String {
        let output = std::process::Command::new("/usr/bin/python3")
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .output()
            .expect("the tests need /usr/bin/python3");
        let xy = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        let bin = self.env.root().join(format!("versions/{xy}.99/bin"));
        write_script(&bin.join("python3"), "exec /usr/bin/python3 \"$@\"");
        xy
    }

    /// Like [`Setup::system_backed_python`], with a `numpy` module it can import.
    fn system_backed_python_with_numpy(&self) -> String {
        let xy = self.system_backed_python();
        let site = self.env.root().join("fake-site");
        fs::create_dir_all(site.join("numpy")).unwrap();
        fs::write(
            site.join("numpy/__init__.py"),
            "def get_include():\n    return '/nonexistent/numpy/include'\n",
        )
        .unwrap();
        let bin = self.env.root().join(format!("versions/{xy}.99/bin"));
        write_script(
            &bin.join("python3"),
            &format!(
                "PYTHONPATH={}${{PYTHONPATH:+:$PYTHONPATH}} exec /usr/bin/python3 \"$@\"",
                site.display()
            ),
        );
        xy
    }

    /// An installed Python `name` that reports `version` and `include` to strap's probe.
    fn reporting_python(&self, name: &str, version: &str, include: &Path) -> PathBuf {
        let json = format!(
            r#"{{"version": "{version}", "include": "{}", "libdir": "/usr/lib", "ldlibrary": "libpython{version}.so", "shared": true, "ext_suffix": ".so", "abiflags": "", "numpy_include": null}}"#,
            include.display()
        );
        let python = self.env.root().join(format!("versions/{name}/bin/python3"));
        write_script(&python, &format!("echo 'strap-python: {json}'"));
        python
    }

    /// Runs `cmd`, which must fail saying each of `expected` and leave nothing behind.
    fn assert_fails(&self, cmd: &mut Command, expected: &[&str]) {
        let out = cmd.assert().failure();
        let stderr = stderr_of(out.get_output());
        for text in expected {
            assert!(stderr.contains(text), "expected {text:?} in: {stderr}");
        }
        self.assert_nothing_left();
    }

    fn assert_nothing_left(&self) {
        let boost: Vec<_> = fs::read_dir(self.env.root().join("boost"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(boost.is_empty(), "installs left behind: {boost:?}");
        let tmp = crate::support::tmp_entries(&self.env.root());
        assert!(tmp.is_empty(), "build trees left behind: {tmp:?}");
    }
}

fn receipt(prefix: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(prefix.join("strap-receipt.json")).unwrap()).unwrap()
}

#[test]
fn headers_only_by_default_staged_received_and_usable() {
    let s = Setup::new();
    let out = s
        .install(&["--skip-preflight", "--jobs", "3"])
        .assert()
        .success();
    let stderr = stderr_of(&out.get_output().clone());
    let prefix = s.prefix(VERSION);
    assert!(stderr.contains("==> bootstrap:"), "{stderr}");
    assert!(stderr.contains("==> build: b2 -j3"), "{stderr}");
    assert!(stderr.contains("installed Boost 1.99.0 in"), "{stderr}");
    assert!(prefix.join("include/boost/version.hpp").is_file());

    let b2 = s.recorded(VERSION, "b2.args");
    let staged = s.env.root().join("tmp");
    assert_eq!(b2[0], "-j3");
    assert!(
        b2[1].starts_with("--user-config=") && b2[1].ends_with("user-config.jam"),
        "{b2:?}"
    );
    assert!(
        b2[2].starts_with(&format!("--build-dir={}", staged.display())),
        "{b2:?}"
    );
    assert_eq!(
        b2[3..],
        [
            "--layout=system",
            "variant=release",
            "link=shared",
            "threading=multi",
            "--with-headers",
            "install",
            &format!(
                "--prefix={}",
                b2[b2.len() - 1].trim_start_matches("--prefix=")
            ),
        ]
    );
    let staged_prefix = b2[b2.len() - 1].trim_start_matches("--prefix=").to_owned();
    assert!(
        staged_prefix.starts_with(&staged.display().to_string())
            && staged_prefix.ends_with("boost/1.99.0"),
        "b2 installs into the staging area: {staged_prefix}"
    );
    assert_eq!(
        s.recorded(VERSION, "bootstrap.args"),
        ["--with-toolset=gcc", "--without-libraries=python"],
        "no Python asked for: bootstrap.sh must not look for one"
    );
    let cmake =
        fs::read_to_string(prefix.join("lib/cmake/Boost-1.99.0/BoostConfig.cmake")).unwrap();
    assert_eq!(
        cmake.trim(),
        format!("set(Boost_INCLUDE_DIR \"{}/include\")", prefix.display()),
        "the staging path is rewritten to the final prefix"
    );

    let r = receipt(&prefix);
    assert_eq!(r["kind"], "boost");
    assert_eq!(r["name"], VERSION);
    assert_eq!(r["sources"][0]["file"], GZ);
    assert_eq!(r["sources"][0]["sha256"], s.sha.as_str());
    assert_eq!(r["details"]["libraries"], serde_json::json!([]));
    assert_eq!(r["details"]["python"], serde_json::Value::Null);
    assert_eq!(r["details"]["variant"], serde_json::json!(["release"]));
    assert_eq!(
        crate::support::tmp_entries(&s.env.root()),
        Vec::<PathBuf>::new(),
        "the build tree is removed (in the background)"
    );

    // The second run is a no-op, and says how the build differs from what is asked now; -f rebuilds.
    s.install(&["--skip-preflight"])
        .assert()
        .success()
        .stderr(predicate::str::contains("already installed"))
        .stderr(predicate::str::contains("note:").not());
    s.install(&["--skip-preflight", "--variant", "debug"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "note: it was built with headers only variant=release link=shared; -f rebuilds it as asked now",
        ));
    let requests = s.mirror.requests().len();
    s.install(&["--skip-preflight", "-f"]).assert().success();
    assert_eq!(
        s.mirror.requests().len(),
        requests,
        "the archive came from the cache"
    );

    // list, prefix, env.
    let out = s.env.strap(&["boost", "list"]).assert().success();
    let table = stdout_of(out.get_output());
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("SIZE"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("1.99.0") && lines[1].contains("headers"),
        "{table}"
    );
    let out = s.env.strap(&["boost", "list", "--json"]).assert().success();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(out.get_output())).unwrap();
    assert_eq!(json[0]["name"], VERSION);
    assert!(json[0]["size"].as_u64().unwrap() > 0);
    s.env
        .strap(&["boost", "prefix", "1.99"])
        .assert()
        .success()
        .stdout(format!("{}\n", prefix.display()));
    let out = s.env.strap(&["boost", "env", VERSION]).assert().success();
    let env_lines = stdout_of(out.get_output());
    let shown = std::process::Command::new("sh")
        .args(["-c", &format!("CMAKE_PREFIX_PATH=/old; {env_lines}\necho \"$BOOST_ROOT|$CMAKE_PREFIX_PATH|$LD_LIBRARY_PATH\"")])
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&shown).trim(),
        format!("{p}|{p}:/old|{p}/lib", p = prefix.display())
    );
    let out = s
        .env
        .strap(&["boost", "env", VERSION, "--json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(out.get_output())).unwrap();
    assert_eq!(json["BOOST_ROOT"], prefix.display().to_string());
}

#[test]
fn boost_python_against_an_installed_python_is_built_verified_and_named_for_it() {
    let s = Setup::new();
    let xy = s.system_backed_python();
    let name = format!("{VERSION}-py{xy}");
    let out = s
        .install(&[
            "--python",
            &xy,
            "--with",
            "filesystem",
            "--cxxstd",
            "17",
            "--link",
            "shared,static",
        ])
        .assert()
        .success();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("Boost.Python works: strap_boost_check.answer() = 42"),
        "the extension was compiled against the staged install and imported: {stderr}"
    );
    let prefix = s.prefix(&name);
    let nodot = xy.replace('.', "");
    assert!(prefix
        .join(format!("lib/libboost_python{nodot}.so"))
        .is_file());
    assert!(prefix.join("lib/libboost_filesystem.so").is_file());
    let b2 = s.recorded(&name, "b2.args").join(" ");
    assert!(
        b2.contains("link=shared,static threading=multi cxxstd=17 cflags=-fPIC cxxflags=-fPIC --with-filesystem --with-python install"),
        "{b2}"
    );
    let python = s.env.root().join(format!("versions/{xy}.99/bin/python3"));
    let config = s.recorded(&name, "user-config.seen");
    let include = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include'])",
        ])
        .output()
        .unwrap();
    let include = stdout_of(&include).trim().to_owned();
    assert!(
        config.iter().any(|l| l.starts_with(&format!(
            "using python : {xy} : \"{}\" : \"{include}\" : ",
            python.display()
        ))),
        "{config:?}"
    );
    let bootstrap = s.recorded(&name, "bootstrap.args");
    assert!(
        bootstrap.contains(&format!("--with-python={}", python.display())),
        "{bootstrap:?}"
    );
    assert!(
        bootstrap.contains(&format!("--with-python-version={xy}")),
        "{bootstrap:?}"
    );
    let r = receipt(&prefix);
    assert_eq!(r["name"], name.as_str());
    assert_eq!(r["details"]["python"]["version"], xy.as_str());
    assert_eq!(r["details"]["python"]["name"], format!("{xy}.99").as_str());
    assert_eq!(
        r["details"]["libraries"],
        serde_json::json!(["filesystem", "python"])
    );
    assert_eq!(r["details"]["numpy"], false);
    assert_eq!(r["details"]["cxxstd"], "17");
    let list = stdout_of(
        s.env
            .strap(&["boost", "list"])
            .assert()
            .success()
            .get_output(),
    );
    assert!(list.contains(&format!("{name}  {xy}.99")), "{list}");
    // The same release without a Python is a separate install.
    s.install(&["--skip-preflight"]).assert().success();
    let bare = stdout_of(
        s.env
            .strap(&["boost", "list", "--bare"])
            .assert()
            .success()
            .get_output(),
    );
    assert_eq!(bare, format!("{VERSION}\n{name}\n"));
    s.env
        .strap(&["boost", "prefix", "1.99"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "matches several installed Boost builds",
        ));
}

#[test]
fn boost_numpy_is_built_when_the_python_has_numpy_and_the_receipt_says_so() {
    let s = Setup::new();
    let xy = s.system_backed_python_with_numpy();
    let name = format!("{VERSION}-py{xy}");
    let out = s
        .install(&["--skip-preflight", "--python", &xy])
        .env("FAKE_B2_SKIP", "numpy")
        .assert()
        .failure();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains(&format!(
            "b2 finished but lib/ has no library for numpy (libboost_numpy{}.*)",
            xy.replace('.', "")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("...updated 42 targets..."),
        "the log's tail: {stderr}"
    );
    s.assert_nothing_left();
    s.install(&["--skip-preflight", "--python", &xy])
        .assert()
        .success();
    assert_eq!(receipt(&s.prefix(&name))["details"]["numpy"], true);
    let list = stdout_of(
        s.env
            .strap(&["boost", "list"])
            .assert()
            .success()
            .get_output(),
    );
    assert!(list.contains("python,numpy"), "{list}");
}

#[test]
fn all_and_complete_build_every_library_in_both_variants_and_linkages() {
    let s = Setup::new();
    s.install(&["--skip-preflight", "--all", "--complete"])
        .assert()
        .success();
    let b2 = s.recorded(VERSION, "b2.args").join(" ");
    assert!(
        b2.contains("--layout=tagged variant=release,debug link=shared,static threading=multi"),
        "release and debug need distinct file names: {b2}"
    );
    assert!(
        b2.contains("--without-mpi --without-python install"),
        "{b2}"
    );
    assert!(!b2.contains("--with-"), "{b2}");
    let r = receipt(&s.prefix(VERSION));
    assert_eq!(r["details"]["all"], true);
    assert!(s.prefix(VERSION).join("lib/libboost_atomic.so").is_file());
}

#[test]
fn a_failed_verification_or_build_keeps_nothing_and_shows_the_log() {
    let s = Setup::new();
    let xy = s.system_backed_python();
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["--with", "filesystem,atomic"],
            "FAKE_B2_SKIP=atomic",
            &["has no library for atomic (libboost_atomic.*)"],
        ),
        (
            &[],
            "FAKE_B2_FAIL=1",
            // The log's tail, with the command.
            &["error: simulated compile failure", "./b2"],
        ),
        (
            &[],
            "FAKE_BOOTSTRAP_FAIL=1",
            // bootstrap.log is part of the log and its tail.
            &["fake engine build failed: no compiler works"],
        ),
        (
            &["--with", "atomic"],
            "FAKE_STAGING_RPATH=1",
            &[
                "loads its libraries from the absolute path",
                "not relocatable",
            ],
        ),
        (
            &["--python", &xy],
            "FAKE_BROKEN_PYTHON=1",
            &[
                "the Boost.Python check extension does not work",
                "undefined symbol",
            ],
        ),
    ];
    for (extra, knob, expected) in cases {
        let (var, value) = knob.split_once('=').unwrap();
        s.assert_fails(
            s.install(&["--skip-preflight"])
                .args(*extra)
                .env(var, value),
            expected,
        );
    }
    let lying = Setup::serving(fake_boost_tgz(VERSION, "1.98.0", TREE_LIBRARIES));
    lying.assert_fails(
        &mut lying.install(&["--skip-preflight"]),
        &["says BOOST_VERSION 109800, expected 109900 for 1.99.0"],
    );
}

#[test]
fn a_library_the_source_tree_lacks_is_an_error_not_a_silent_gap() {
    let s = Setup::serving(fake_boost_tgz(VERSION, VERSION, &["headers"]));
    s.assert_fails(
        &mut s.install(&["--skip-preflight", "--with", "filesystem"]),
        &["the source archive has no library 'filesystem'"],
    );
}

#[test]
fn known_broken_pairs_and_bad_requests_are_refused_before_downloading() {
    let s = Setup::new();
    let include = s.env.root().join("include-3.12");
    s.reporting_python("3.12.1", "3.12", &include);
    let out = s
        .env
        .strap(&["boost", "install", "1.80.0", "--python", "3.12"])
        .args(["--mirror", &s.mirror.template("b")])
        .assert()
        .code(1);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("Boost 1.80.0 with Python 3.12 is refused: Boost.Python before 1.81"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the nearest Boost that works with it: 1.81.0"),
        "{stderr}"
    );
    s.reporting_python("3.6.15", "3.6", &include);
    let out = s
        .env
        .strap(&["boost", "install", "1.64", "--python", "3.6"])
        .assert()
        .code(1);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("1.64.0 is broken with every Python"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nearest Boost that works with it: 1.65.0"),
        "{stderr}"
    );

    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["1.86", "--with", "python"],
            2,
            "--with python needs --python",
        ),
        (
            &["1.86", "--with", "filesystme"],
            2,
            "did you mean filesystem",
        ),
        (
            &["1.70", "--with", "json"],
            2,
            "Boost 1.70.0 has no json library (it appeared in 1.75.0)",
        ),
        (
            &["1.86", "--with", "mpi"],
            2,
            "strap does not build Boost.mpi",
        ),
        (
            &["1.86", "--python", "3.9"],
            1,
            "Python '3.9' (--python) is not installed",
        ),
        (
            &["1.86", "--python", "../../etc"],
            2,
            "invalid version name '../../etc'",
        ),
        (&["1.99"], 1, "no known Boost release matches '1.99'"),
        (&["x.y"], 2, "'x.y' is not a Boost version"),
        (
            &["1.86", "--sha256", "abc"],
            2,
            "--sha256 must be 64 hexadecimal digits",
        ),
        (&["1.86", "--variant", "fast"], 2, "invalid value 'fast'"),
        (
            &["1.86", "--complete", "--link", "static"],
            2,
            "cannot be used with",
        ),
    ];
    for (args, code, message) in cases {
        let out = s
            .env
            .strap(&["boost", "install"])
            .args(*args)
            .args(["--mirror", &s.mirror.template("b")])
            .assert()
            .code(*code);
        let stderr = stderr_of(out.get_output());
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    assert!(s.mirror.requests().is_empty(), "{:?}", s.mirror.requests());
    s.assert_nothing_left();
}

#[test]
fn the_catalog_pin_refuses_a_different_archive_and_sha256_overrides_it_with_a_warning() {
    let s = Setup::new();
    let catalog = s.env.write(
        "boost-catalog.tsv",
        &format!("# mine\n{VERSION}\t{GZ}\t{}\n", "0".repeat(64)),
    );
    let out = install_with_catalog(&s, &catalog).assert().failure();
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(
        !stderr.contains("==> unpack"),
        "refused before unpacking: {stderr}"
    );
    s.assert_nothing_left();

    let out = s
        .install(&["--skip-preflight"])
        .env("STRAP_BOOST_CATALOG", &catalog)
        .assert()
        .success();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains(&format!(
            "warning: --sha256 {} differs from the catalog's pin for {GZ}",
            s.sha
        )),
        "{stderr}"
    );

    let out = s
        .env
        .strap(&["boost", "install", "--list"])
        .env("STRAP_BOOST_CATALOG", &catalog)
        .assert()
        .success();
    // The file's releases are laid over the embedded ones.
    let listed = stdout_of(out.get_output());
    assert!(
        listed.ends_with(&format!("{VERSION}  (installed: {VERSION})\n")),
        "{listed}"
    );
    assert!(listed.lines().any(|l| l == "1.86.0"), "{listed}");
    // A checksum is of one release's archive: a prefix is refused with it.
    s.env
        .strap(&["boost", "install", "1.99", "--sha256", &s.sha])
        .env("STRAP_BOOST_CATALOG", &catalog)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "strap: error: --sha256 needs an exact version such as 1.86.0, not '1.99'",
        ))
        .stderr(predicate::str::contains(format!(
            "hint: '1.99' selects {VERSION} now: `strap boost install {VERSION} --sha256 HEX`"
        )));
    let bad = s.env.write("bad.tsv", "1.99.0 boost_1_99_0.zip abc\n");
    s.env
        .strap(&["boost", "install", "--list"])
        .env("STRAP_BOOST_CATALOG", &bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.tsv:1: "))
        .stderr(predicate::str::contains(
            "hint: a Boost catalog line is `VERSION FILE SHA256`",
        ));
}

#[test]
fn a_catalog_sha256_in_upper_case_pins_the_archive_as_in_lower_case() {
    let s = Setup::new();
    let catalog = s.env.write(
        "boost-catalog.tsv",
        &format!("{VERSION}\t{GZ}\t{}\n", s.sha.to_ascii_uppercase()),
    );
    let out = install_with_catalog(&s, &catalog).assert().success();
    let stderr = stderr_of(out.get_output());
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// `strap boost install` of the fake release from the mirror, with the Boost catalog file
/// `catalog` laid over the embedded one.
fn install_with_catalog(s: &Setup, catalog: &Path) -> Command {
    let mut cmd = s
        .env
        .strap(&["boost", "install", "--skip-preflight", VERSION]);
    cmd.args(["--mirror", &s.mirror.template("b")])
        .env("STRAP_BOOST_CATALOG", catalog);
    cmd
}

#[test]
fn a_release_the_catalog_lacks_is_checked_against_the_mirrors_sidecar_with_a_warning() {
    let s = Setup::new();
    let template = s.mirror.template("b");
    s.env
        .strap(&[
            "boost",
            "install",
            "--skip-preflight",
            VERSION,
            "--mirror",
            &template,
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "Boost 1.99.0 is not in strap's catalog and no mirror publishes a checksum for it",
        ))
        .stderr(predicate::str::contains("--sha256 HEX"));

    s.mirror.route(
        &format!("/b/{GZ}.json"),
        Behavior::Serve(format!("{{\"sha256\": \"{}\", \"file\": \"{GZ}\"}}", s.sha).into_bytes()),
    );
    let out = s
        .env
        .strap(&[
            "boost",
            "install",
            "--skip-preflight",
            VERSION,
            "--mirror",
            &template,
        ])
        .assert()
        .success();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains("guards against corruption, not tampering"),
        "{stderr}"
    );
    let paths: Vec<String> = s.mirror.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .position(|p| p.ends_with(&format!("{BZ2}.json")))
            < paths
                .iter()
                .position(|p| p.ends_with(&format!("{GZ}.json"))),
        ".tar.bz2 first: {paths:?}"
    );

    let lying = Setup::new();
    lying.mirror.route(
        &format!("/b/{GZ}.json"),
        Behavior::Serve(format!("{{\"sha256\": \"{}\"}}", "1".repeat(64)).into_bytes()),
    );
    lying
        .env
        .strap(&["boost", "install", "--skip-preflight", VERSION])
        .args(["--mirror", &lying.mirror.template("b")])
        .assert()
        .failure()
        .stderr(predicate::str::contains("checksum mismatch"));
    lying.assert_nothing_left();
}

#[test]
fn mirrors_come_from_the_flag_the_environment_then_the_config_and_bz2_is_tried_first() {
    let s = Setup::new();
    let env_mirror = format!("http://127.0.0.1:{}/b/{{file}}", s.mirror.port);
    s.env
        .strap(&[
            "boost",
            "install",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            VERSION,
        ])
        .env(
            "STRAP_BOOST_MIRRORS",
            format!(
                "http://127.0.0.1:{}/none/{{file}},{env_mirror}",
                s.mirror.port
            ),
        )
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let paths: Vec<String> = s.mirror.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            format!("/none/{BZ2}"),
            format!("/b/{BZ2}"),
            format!("/none/{GZ}"),
            format!("/b/{GZ}")
        ]
    );

    let config = s.env.write(
        "config.toml",
        &format!(
            "[boost]\nmirrors = [\"http://127.0.0.1:{}/c/{{version}}/{{file}}\"]\n",
            s.mirror.port
        ),
    );
    s.mirror.route(
        &format!("/c/{VERSION}/{GZ}"),
        Behavior::Serve(fake_boost_tgz(VERSION, VERSION, TREE_LIBRARIES)),
    );
    s.env
        .strap(&[
            "boost",
            "install",
            "--skip-preflight",
            "-f",
            "--sha256",
            &s.sha,
            VERSION,
        ])
        .env("STRAP_CONFIG", &config)
        .env("STRAP_CACHE_DIR", s.env.root().join("other-cache"))
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    assert!(s
        .mirror
        .requests()
        .iter()
        .any(|r| r.path == format!("/c/{VERSION}/{GZ}")));
    let bad = s
        .env
        .write("bad.toml", "[boost]\nmirrors = [\"ftp://x/{file}\"]\n");
    s.env
        .strap(&["boost", "install", VERSION])
        .env("STRAP_CONFIG", &bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key boost.mirrors"));
}

#[test]
fn preflight_names_what_is_missing_with_the_install_command() {
    let s = Setup::new();
    // A C++ compiler that cannot find ICU or bzip2 headers (everything else it compiles).
    let cxx = s.env.root().join("bin/c++-without-icu");
    write_script(
        &cxx,
        "input=$(cat)\ncase \"$input\" in *unicode*|*bzlib*) exit 1 ;; esac\nprintf '%s\\n' \"$input\" | exec c++ \"$@\"",
    );
    let out = s
        .install(&["--with", "locale,iostreams"])
        .env("CXX", &cxx)
        .assert()
        .failure();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains(
            "missing build prerequisites: bzip2 headers for iostreams, ICU headers for locale"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("sudo apt-get install -y libbz2-dev libicu-dev"),
        "{stderr}"
    );
    assert!(s.mirror.requests().is_empty(), "nothing downloaded");

    // A compiler that exits without reading its input (no SIGPIPE, exit 141, for strap).
    let out = s
        .install(&["--with", "locale"])
        .env("CXX", "/bin/false")
        .assert()
        .code(1);
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains(
            "strap: error: the C++ compiler `/bin/false` (from CXX) does not work: it fails on \
             an empty input (exit status: 1)\nhint: set CXX to a working C++ compiler"
        ),
        "{stderr}"
    );
    assert!(s.mirror.requests().is_empty(), "nothing downloaded");

    // With --all they only make those libraries build without the feature.
    let out = s.install(&["--all"]).env("CXX", &cxx).assert().success();
    let stderr = stderr_of(out.get_output());
    assert!(
        stderr.contains(
            "warning: ICU headers missing: locale is built without them (package libicu-dev)"
        ),
        "{stderr}"
    );

    let headerless = s.env.root().join("nowhere/include/python3.12");
    s.reporting_python("3.12.1", "3.12", &headerless);
    let out = s.install(&["--python", "3.12.1"]).assert().failure();
    let stderr = stderr_of(out.get_output());
    assert!(stderr.contains("Python 3.12 headers"), "{stderr}");
    assert!(stderr.contains("strap install -f 3.12.1"), "{stderr}");
}

#[test]
fn uninstall_removes_exact_names_and_refuses_guesses_without_a_terminal() {
    let s = Setup::new();
    s.install(&["--skip-preflight"]).assert().success();
    s.env
        .strap(&["boost", "uninstall", "1.99"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "uninstall removes exact names only: `strap boost uninstall 1.99.0`",
        ));
    assert!(s.prefix(VERSION).is_dir());
    s.env
        .strap(&["boost", "uninstall", VERSION])
        .assert()
        .success()
        .stderr(predicate::str::contains("uninstalled Boost 1.99.0"));
    assert!(!s.prefix(VERSION).exists());
    s.env
        .strap(&["boost", "uninstall", VERSION])
        .assert()
        .failure()
        .stderr(predicate::str::contains("Boost '1.99.0' is not installed"));
    s.env
        .strap(&["boost", "uninstall", "-f", VERSION])
        .assert()
        .success();
    s.env
        .strap(&["boost", "uninstall", "../versions"])
        .assert()
        .code(2);
}

#[test]
fn install_list_shows_the_catalog_with_installed_builds_marked() {
    let env = TestEnv::new();
    let out = env
        .strap(&["boost", "install", "--list"])
        .assert()
        .success();
    let listed = stdout_of(out.get_output());
    assert_eq!(listed.lines().next(), Some("1.55.0"), "oldest first");
    assert_eq!(listed.lines().last(), Some("1.92.0"));
    assert_eq!(listed.lines().count(), 39);
    let out = env
        .strap(&["boost", "install", "--list", "1.65"])
        .assert()
        .success();
    assert_eq!(stdout_of(out.get_output()), "1.65.0\n1.65.1\n");
    env.strap(&["boost", "install", "--list", "1.8"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no known Boost release matches '1.8'",
        ));
    let out = env
        .strap(&["boost", "install", "--list", "1.81", "--json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(out.get_output())).unwrap();
    assert_eq!(json[0]["version"], "1.81.0");
    assert_eq!(json[0]["file"], "boost_1_81_0.tar.bz2");
    assert_eq!(
        json[0]["sha256"],
        "71feeed900fbccca04a3b4f2f84a7c217186f28a940ed8b7ed4725986baf99fa"
    );
    env.strap(&["boost", "install", "--list", "1.99"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "nearest known: 1.92.0, 1.91.0, 1.90.0",
        ));
}

#[test]
fn ctrl_c_during_b2_and_a_second_install_at_the_same_time() {
    let s = Setup::new();
    let spawn = || {
        s.env
            .strap_process(&[])
            .env("FAKE_B2_SECONDS", "30")
            .args(["boost", "install", "--skip-preflight", "--sha256", &s.sha])
            .args(["--mirror", &s.mirror.template("b"), VERSION])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = spawn();
    let logs = s.env.root().join("logs");
    wait_while_running(&mut first, "b2 starting", || {
        fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| fs::read_to_string(e.path()).is_ok_and(|l| l.contains("compile.c++ slowly")))
    });
    // A second install of the same build waits for the first instead of building beside it.
    let mut second = Watched::new(spawn());
    second.wait_for_stderr("waiting for another strap process installing 1.99.0");
    crate::support::signal(first.id(), libc::SIGINT);
    // b2 would go on for 30 s and succeed: 130 is b2 stopped.
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("interrupted"),
        "{}",
        stderr_of(&out)
    );
    crate::support::signal(second.child.id(), libc::SIGINT);
    let (status, stderr) = second.finish();
    assert!(
        stderr.contains("waiting for another strap process installing 1.99.0"),
        "{stderr}"
    );
    assert_eq!(status.code(), Some(130), "{stderr}");
    s.assert_nothing_left();
}

#[test]
fn a_boost_build_is_packed_pushed_and_installed_elsewhere_relocated() {
    let s = Setup::new();
    s.install(&["--skip-preflight"]).assert().success();
    let packed = s.env.work().join("boost.tar.zst");
    let out = s
        .env
        .strap(&["boost", "pack", "1.99", "-o"])
        .arg(&packed)
        .assert()
        .success();
    assert_eq!(
        stdout_of(out.get_output()).trim(),
        packed.display().to_string()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(s.env.work().join("boost.json")).unwrap())
            .unwrap();
    assert_eq!(
        (manifest["kind"].as_str(), manifest["name"].as_str()),
        (Some("boost"), Some(VERSION))
    );

    let shared = s.env.work().join("shared");
    let to = format!("file://{}", shared.display());
    s.env
        .strap(&["boost", "push", VERSION, "--to", &to])
        .assert()
        .success();
    let other = TestEnv::new();
    let out = other
        .strap(&["boost", "install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &s.mirror.template("nothing-here")])
        .args(["--binary-only", "--binary-mirror", &to, VERSION])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("==> Boost 1.99.0 (headers only) from {to}/ (key ")),
        "{err}"
    );
    assert!(!err.contains("==> build:"), "{err}");
    let prefix = other.root().join("boost").join(VERSION);
    let cmake =
        fs::read_to_string(prefix.join("lib/cmake/Boost-1.99.0/BoostConfig.cmake")).unwrap();
    assert_eq!(
        cmake.trim(),
        format!("set(Boost_INCLUDE_DIR \"{}/include\")", prefix.display()),
        "the CMake files name the new prefix"
    );
    other
        .strap(&["boost", "list", "--bare"])
        .assert()
        .success()
        .stdout(format!("{VERSION}\n"));
}

#[test]
fn a_boost_python_build_against_a_strap_python_installs_in_another_root_with_that_python() {
    let s = Setup::new();
    let xy = s.system_backed_python();
    s.install(&["--skip-preflight", "--python", &xy])
        .assert()
        .success();
    let shared = s.env.work().join("shared");
    let to = format!("file://{}", shared.display());
    let name = format!("{VERSION}-py{xy}");
    s.env
        .strap(&["boost", "push", &name, "--to", &to])
        .assert()
        .success();

    // Another root with its own Python of the same name: the same build, so the same key.
    let other = Setup::new();
    assert_eq!(other.system_backed_python(), xy);
    let out = other
        .env
        .strap(&["boost", "install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &s.mirror.template("nothing-here")])
        .args([
            "--binary-only",
            "--binary-mirror",
            &to,
            "--python",
            &xy,
            VERSION,
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!(" from {to}/ (key ")), "{err}");
    assert!(
        err.contains("Boost.Python works: strap_boost_check.answer() = 42"),
        "verified with this root's Python: {err}"
    );
    let receipt = receipt(&other.prefix(&name));
    assert_eq!(
        receipt["details"]["python"]["executable"],
        other
            .env
            .root()
            .join(format!("versions/{xy}.99/bin/python3"))
            .display()
            .to_string()
    );
}
