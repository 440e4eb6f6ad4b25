//! The build cache (`<cache>/builds/`): every source build is packed there, and installing the
//! same build again — after an uninstall, with `-f`, or into another root sharing the cache —
//! unpacks, relocates and verifies it instead of building.

use std::fs;
use std::time::Duration;

use crate::support::Setup;
use crate::support::{stderr_of, TestEnv};

fn builds(s: &Setup) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(s.env.root().join("cache/builds"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_source_build_is_packed_and_the_next_install_comes_from_the_cache() {
    let s = Setup::new();
    let out = s.install(&["a"], &[]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("==> pack: into the build cache"), "{err}");
    let packed = builds(&s);
    assert_eq!(packed.len(), 2, "{packed:?}");
    assert!(packed[0].starts_with("python-3.99.1-") && packed[0].ends_with(".json"));
    assert!(packed[1].ends_with(".tar.zst"));

    s.env
        .strap(&["uninstall", "-f", "3.99.1"])
        .assert()
        .success();
    let out = s.install(&["a"], &[]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("==> CPython 3.99.1 from the build cache (key "),
        "{err}"
    );
    assert!(
        err.contains("==> relocate:") && err.contains("==> verify:"),
        "{err}"
    );
    assert!(
        !err.contains("==> configure") && !err.contains("==> pack"),
        "{err}"
    );
    assert!(s.prefix().join("bin/python3").exists());
    let receipt: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(s.prefix().join("strap-receipt.json")).unwrap())
            .unwrap();
    assert_eq!(
        receipt["sources"][0]["sha256"],
        s.sha.as_str(),
        "the build's own sources"
    );
    assert!(receipt["from_pack"]["file"]
        .as_str()
        .unwrap()
        .ends_with(".tar.zst"));
    assert_eq!(crate::support::tmp_entries(&s.env.root()).len(), 0);

    // -f reinstalls from the cache; --no-binary builds from source.
    let err = stderr_of(&s.install(&["a"], &["-f"]).output().unwrap());
    assert!(err.contains("from the build cache"), "{err}");
    let err = stderr_of(&s.install(&["a"], &["-f", "--no-binary"]).output().unwrap());
    assert!(
        err.contains("==> configure") && !err.contains("from the build cache"),
        "{err}"
    );
}

#[test]
fn another_root_sharing_the_cache_gets_the_build_relocated() {
    let s = Setup::new();
    let cache = s.env.root().join("cache");
    s.install(&["a"], &[]).assert().success();
    let other = TestEnv::new();
    let out = other
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", "file:///nowhere/{file}", "3.99.1"])
        .env("STRAP_CACHE_DIR", &cache)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("from the build cache"), "{err}");
    let prefix = other.root().join("versions/3.99.1");
    assert_eq!(
        fs::read_to_string(prefix.join("lib/fake/prefix.txt"))
            .unwrap()
            .trim(),
        prefix.display().to_string(),
        "text naming the old prefix is rewritten"
    );
    other
        .command(prefix.join("bin/python3"))
        .args(["-c", "print('runs')"])
        .assert()
        .success()
        .stdout("runs\n");
}

#[test]
fn a_tampered_cached_build_is_refused_and_the_source_build_runs() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let archive = s.env.root().join("cache/builds").join(
        builds(&s)
            .into_iter()
            .find(|f| f.ends_with(".tar.zst"))
            .unwrap(),
    );
    let mut bytes = fs::read(&archive).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&archive, bytes).unwrap();
    s.env
        .strap(&["uninstall", "-f", "3.99.1"])
        .assert()
        .success();
    let out = s.install(&["a"], &[]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("the packed build from the build cache cannot be used")
            && err.contains("building from source"),
        "{err}"
    );
    assert!(err.contains("==> configure"), "{err}");
    assert!(s.prefix().join("bin/python3").exists());
}

#[test]
fn the_build_cache_can_be_turned_off() {
    let s = Setup::new();
    let config = s.env.write("config.toml", "[cache]\nbuilds = false\n");
    let out = s
        .install(&["a"], &[])
        .env("STRAP_CONFIG", &config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("==> pack"));
    assert!(builds(&s).is_empty());
}

/// The build cache's file ending in `suffix`.
fn cached(s: &Setup, suffix: &str) -> std::path::PathBuf {
    let name = builds(s).into_iter().find(|f| f.ends_with(suffix)).unwrap();
    s.env.root().join("cache/builds").join(name)
}

#[test]
fn a_refused_cached_build_is_removed_and_not_tried_again() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    s.env
        .strap(&["uninstall", "-f", "3.99.1"])
        .assert()
        .success();
    let archive = cached(&s, ".tar.zst");
    let mut bytes = fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&archive, bytes).unwrap();

    let out = s.install(&["a"], &["--binary-only"]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("warning: the packed build from the build cache cannot be used: ")
            && err.contains("; removed it from the build cache"),
        "{err}"
    );
    // Only the set-aside mismatching archive is left, for `strap cache clean`.
    let left = builds(&s);
    assert!(
        left.len() == 1 && left[0].contains(".tar.zst.mismatch-"),
        "{left:?}"
    );

    // The next install does not try it again.
    let out = s.install(&["a"], &["--binary-only"]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("cannot be used"), "{err}");
    assert!(err.contains("has no such build"), "{err}");
}

#[test]
fn a_cached_build_with_a_lying_manifest_is_removed_one_for_another_machine_is_kept() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    s.env
        .strap(&["uninstall", "-f", "3.99.1"])
        .assert()
        .success();
    let manifest_path = cached(&s, ".json");
    let original = fs::read_to_string(&manifest_path).unwrap();
    let edited = |field: &str, value: &str| {
        let mut manifest: serde_json::Value = serde_json::from_str(&original).unwrap();
        manifest["platform"][field] = value.into();
        manifest.to_string()
    };

    // Built for another architecture: left for the machines it is for, not warned about.
    fs::write(&manifest_path, edited("arch", "riscv64")).unwrap();
    for _ in 0..2 {
        let out = s.install(&["a"], &["--binary-only"]).output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(!err.contains("warning:"), "{err}");
        assert!(
            err.contains("the build cache: it was built for riscv64 linux"),
            "{err}"
        );
        assert_eq!(builds(&s).len(), 2);
    }

    // A manifest that is not one: removed, with its archive, once.
    fs::write(&manifest_path, "{ not json").unwrap();
    let err = stderr_of(&s.install(&["a"], &["--binary-only"]).output().unwrap());
    assert!(err.contains("; removed it from the build cache"), "{err}");
    assert_eq!(builds(&s), Vec::<String>::new());
}

#[test]
fn binary_only_without_a_binary_mirror_says_where_it_looked_and_how_to_add_one() {
    let s = Setup::new();
    let out = s.install(&["a"], &["--binary-only"]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let builds = s.env.root().join("cache/builds");
    assert!(
        err.contains(&format!(
            "strap: error: no packed build of CPython 3.99.1 to install, and --binary-only forbids building it:\n  the build cache ({}): has no such build\n  no binary mirror is configured\n",
            builds.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: configure a binary mirror that has it (--binary-mirror URL, STRAP_BINARY_MIRRORS=URL, or binary = [\"URL\"] under [cache] in the config file), or drop --binary-only to build it from source"),
        "{err}"
    );
    assert!(!s.prefix().exists());
}
