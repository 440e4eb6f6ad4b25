//! Real builds of the real sources in `../shared/fixtures` (minutes each): `#[ignore]`d, run by
//! `.ci/run` with `STRAP_FIXTURES` pointing there.

use std::path::PathBuf;
use std::time::Duration;

use crate::mirror::{Behavior, Mirror};
use crate::support::{stderr_of, stdout_of, TestEnv};

fn fixtures() -> PathBuf {
    match std::env::var_os("STRAP_FIXTURES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "set STRAP_FIXTURES to the fixtures folder (../shared/fixtures) to run the real builds"
        ),
    }
}

#[test]
#[ignore = "builds the real CPython 3.11.2 (minutes); .ci/run runs it with STRAP_FIXTURES set"]
fn cpython_3_11_2_builds_from_a_loopback_mirror_with_the_catalog_checksum() {
    let fixtures = fixtures();
    let archive = std::fs::read(fixtures.join("Python-3.11.2.tgz"))
        .expect("Python-3.11.2.tgz in STRAP_FIXTURES");
    let mirror = Mirror::start();
    mirror.route("/python/3.11.2/Python-3.11.2.tgz", Behavior::Serve(archive));
    let template = format!(
        "http://127.0.0.1:{}/python/{{version}}/{{file}}",
        mirror.port
    );
    let env = TestEnv::new();
    let out = env
        .strap(&["install", "--mirror", &template, "3.11.2"])
        .timeout(Duration::from_secs(1800))
        .output()
        .unwrap();
    eprintln!("{}", stderr_of(&out));
    assert!(out.status.success(), "the real build failed");
    let prefix = env.root().join("versions/3.11.2");
    let python = prefix.join("bin/python3");
    env.command(&python)
        .args([
            "-c",
            "import ssl, sqlite3, ctypes, lzma, bz2, zlib; print(ssl.OPENSSL_VERSION)",
        ])
        .assert()
        .success();
    let pip = env
        .command(prefix.join("bin/pip"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(stdout_of(&pip).starts_with("pip "), "{}", stderr_of(&pip));
    // Through the shims, as a user runs it.
    env.strap(&["global", "3.11"]).assert().success();
    env.command(env.shims().join("python"))
        .args(["-c", "import sys; print(sys.version.split()[0])"])
        .assert()
        .success()
        .stdout("3.11.2\n");
    env.command(env.shims().join("pip3"))
        .arg("--version")
        .assert()
        .success();
}
