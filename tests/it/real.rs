//! Real builds of the real sources in `../shared/fixtures`, when `STRAP_FIXTURES` points there
//! (`.ci/run` sets it); without it these tests skip and say so.

use std::path::PathBuf;
use std::time::Duration;

use crate::mirror::{Behavior, Mirror};
use crate::support::{stderr_of, stdout_of, TestEnv};

fn fixtures() -> Option<PathBuf> {
    match std::env::var_os("STRAP_FIXTURES") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => {
            eprintln!("skipping: set STRAP_FIXTURES to the fixtures folder to run the real builds");
            None
        }
    }
}

#[test]
fn cpython_3_11_2_builds_from_a_loopback_mirror_with_the_catalog_checksum() {
    let Some(fixtures) = fixtures() else { return };
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
