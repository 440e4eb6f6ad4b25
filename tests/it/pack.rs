//! `strap pack`: an installed build as a `.tar.zst` plus its manifest.

use std::fs;

use predicates::prelude::*;

use crate::support::Setup;
use crate::support::{stdout_of, TestEnv};

fn unpack_zst(archive: &std::path::Path, dest: &std::path::Path) -> Vec<String> {
    let decoder = zstd::stream::read::Decoder::new(fs::File::open(archive).unwrap()).unwrap();
    let mut tar = tar::Archive::new(decoder);
    fs::create_dir_all(dest).unwrap();
    let mut names = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        names.push(entry.path().unwrap().display().to_string());
        entry.unpack_in(dest).unwrap();
    }
    names
}

#[test]
fn an_installed_build_is_packed_with_its_manifest_and_key() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let out_dir = s.env.work();
    let out = s.env.strap(&["pack", "3.99"]).assert().success();
    let archive = std::path::PathBuf::from(stdout_of(out.get_output()).trim());
    let file = archive.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        archive.starts_with(&out_dir)
            && file.starts_with("python-3.99.1-")
            && file.ends_with(".tar.zst"),
        "{archive:?}"
    );
    let manifest_path = archive.with_file_name(file.replace(".tar.zst", ".json"));
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "python");
    assert_eq!(manifest["name"], "3.99.1");
    assert_eq!(manifest["sources"][0]["sha256"], s.sha.as_str());
    assert_eq!(manifest["prefix"], s.prefix().display().to_string());
    assert_eq!(manifest["platform"]["os"], std::env::consts::OS);
    assert_eq!(manifest["platform"]["arch"], std::env::consts::ARCH);
    assert!(manifest["options"].as_array().is_some());
    let key = manifest["key"].as_str().unwrap();
    assert!(file.contains(&key[..16]), "{file} {key}");
    let bytes = fs::read(&archive).unwrap();
    assert_eq!(
        manifest["archive"]["sha256"],
        crate::fake_source::sha256_hex(&bytes)
    );
    assert_eq!(manifest["archive"]["size"], bytes.len() as u64);

    // The archive holds the prefix, links as links.
    let unpacked = s.env.work().join("unpacked");
    let names = unpack_zst(&archive, &unpacked);
    assert!(
        names.iter().any(|n| n.ends_with("bin/python3.99")),
        "{names:?}"
    );
    assert!(fs::symlink_metadata(unpacked.join("bin/python3"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(unpacked.join("strap-receipt.json").is_file());

    // The same build packs to the same key; -o names the archive.
    let named = s.env.work().join("named.tar.zst");
    s.env
        .strap(&["pack", "3.99.1", "-o", named.to_str().unwrap()])
        .assert()
        .success();
    let again: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(s.env.work().join("named.json")).unwrap())
            .unwrap();
    assert_eq!(again["key"], key);
    assert_eq!(again["archive"]["file"], "named.tar.zst");
    // No .part file is left behind.
    let leftovers: Vec<_> = fs::read_dir(s.env.work())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn packs_leave_out_the_virtualenvs() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    crate::support::fake_virtualenv(&s.env, "3.99.1", "proj");
    let out = s.env.strap(&["pack", "3.99.1"]).assert().success();
    let archive = std::path::PathBuf::from(stdout_of(out.get_output()).trim());
    let names = unpack_zst(&archive, &s.env.work().join("unpacked"));
    assert!(
        names.iter().any(|n| n.ends_with("bin/python3")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("envs")), "{names:?}");
    // The build cache's pack, made after a source build, too.
    s.install(&["a"], &["-f", "--no-binary"]).assert().success();
    let builds = s.env.root().join("cache/builds");
    let packs: Vec<_> = fs::read_dir(&builds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.zst"))
        .collect();
    assert_eq!(packs.len(), 1, "{packs:?}");
    let names = unpack_zst(&packs[0], &s.env.work().join("cached"));
    assert!(
        names.iter().any(|n| n.ends_with("bin/python3")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("envs")), "{names:?}");
}

#[test]
fn only_installs_strap_built_can_be_packed() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.strap(&["pack", "3.12.7"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("has no strap receipt"));
    env.strap(&["pack", "3.13"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("version '3.13' is not installed"));
    env.strap(&["pack", "system"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a build strap can pack"));
}

#[test]
fn pack_into_a_directory_writes_the_packs_own_name_there() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let out_dir = s.env.dir.path().join("packs");
    fs::create_dir_all(&out_dir).unwrap();
    let out = s
        .env
        .strap(&["pack", "3.99", "-o", out_dir.to_str().unwrap()])
        .assert()
        .success();
    let archive = std::path::PathBuf::from(stdout_of(out.get_output()).trim());
    assert_eq!(archive.parent(), Some(out_dir.as_path()));
    let file = archive.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        file.starts_with("python-3.99.1-") && file.ends_with(".tar.zst"),
        "{file}"
    );
    assert!(archive.is_file());
    assert!(archive
        .with_file_name(file.replace(".tar.zst", ".json"))
        .is_file());
    // A directory named with a trailing slash that does not exist is not a file name.
    let missing = format!("{}/", s.env.dir.path().join("nowhere").display());
    let out = s
        .env
        .strap(&["pack", "3.99", "-o", &missing])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!s.env.dir.path().join("nowhere").exists());
}

#[test]
fn pack_never_writes_through_a_planted_link() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let victim = s.env.write("victim.txt", "precious\n");
    let work = s.env.work();
    // Where strap used to write the archive before moving it into place.
    let planted = work.join(".named.tar.zst.part");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    s.env
        .strap(&["pack", "3.99", "-o", "named.tar.zst"])
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(fs::symlink_metadata(work.join("named.tar.zst"))
        .unwrap()
        .is_file());
    assert!(fs::symlink_metadata(&planted)
        .unwrap()
        .file_type()
        .is_symlink());

    // A link where the manifest goes is not replaced, and nothing is written.
    let taken = work.join("other.json");
    std::os::unix::fs::symlink(&victim, &taken).unwrap();
    let out = s
        .env
        .strap(&["pack", "3.99", "-o", "other.tar.zst"])
        .output()
        .unwrap();
    let err = crate::support::stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("other.json: it is a symbolic link"), "{err}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!work.join("other.tar.zst").exists());
}

/// Starts `strap ARGS` for the installed fake version after giving it 2 GiB to pack (32 hard
/// links to 64 MiB of one repeated block: little disk, a tiny archive, and long enough that a
/// signal comes while the archive is written), waits until a temporary file appears in `dir`,
/// interrupts it, and returns its exit code.
fn interrupt_while_packing(s: &Setup, args: &[&str], dir: &std::path::Path) -> Option<i32> {
    let big = s.prefix().join("lib/fake/big");
    fs::write(&big, crate::support::noise(64 << 10).repeat(1024)).unwrap();
    for i in 0..31 {
        fs::hard_link(&big, s.prefix().join(format!("lib/fake/big{i}"))).unwrap();
    }
    let mut child = s
        .env
        .strap_process(&[])
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let appeared = crate::support::wait_until(crate::support::PATIENCE, || {
        assert!(child.try_wait().unwrap().is_none(), "strap ended first");
        temporary_files(dir)
            .iter()
            .any(|name| name.ends_with(".part"))
    });
    assert!(appeared, "no temporary file appeared in {}", dir.display());
    crate::support::signal(child.id(), libc::SIGINT);
    child.wait().unwrap().code()
}

/// The names in `dir` (none when it does not exist).
fn temporary_files(dir: &std::path::Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_interrupted_pack_leaves_nothing_behind() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let out = s.env.dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let code = interrupt_while_packing(&s, &["pack", "3.99", "-o", out.to_str().unwrap()], &out);
    assert_eq!(code, Some(130));
    assert_eq!(temporary_files(&out), Vec::<String>::new());
}

#[test]
fn a_push_interrupted_while_packing_into_the_build_cache_leaves_nothing_behind() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let builds = s.env.root().join("cache/builds");
    fs::remove_dir_all(&builds).unwrap();
    let store = format!("file://{}", s.env.dir.path().join("store").display());
    let code = interrupt_while_packing(&s, &["push", "3.99", "--to", &store], &builds);
    assert_eq!(code, Some(130));
    assert_eq!(temporary_files(&builds), Vec::<String>::new());
    assert!(!s.env.dir.path().join("store").exists());
}

/// A version strap did not build, with `receipt` written as its receipt (`None`: a FIFO there).
fn with_receipt(env: &TestEnv, receipt: Option<&[u8]>) -> std::path::PathBuf {
    let prefix = env.fake_version("3.12.7", &["python3"]);
    let path = prefix.join("strap-receipt.json");
    match receipt {
        Some(bytes) => fs::write(&path, bytes).unwrap(),
        None => {
            let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            // SAFETY: mkfifo reads the NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        }
    }
    path
}

#[test]
fn a_corrupt_receipt_is_named_by_pack_and_push_never_a_panic() {
    let valid = |key: &str| {
        format!(
            r#"{{"kind": "python", "name": "3.12.7", "sources": [], "options": [],
                "strap_version": "0.1.0", "date": "2026-01-01T00:00:00Z", "key": "{key}"}}"#
        )
    };
    let huge = vec![b' '; 2 << 20];
    let (short, cut) = (valid("abc"), valid("0123456789abcde\u{e9}"));
    let cases: [(Option<&[u8]>, &str); 5] = [
        (Some(short.as_bytes()), "its key 'abc' is not 64 hex digits"),
        (Some(cut.as_bytes()), "is not 64 hex digits"),
        (Some(b"not json"), "expected ident"),
        (None, "it is a FIFO, not a regular file"),
        (Some(&huge), "it is larger than 1 MiB"),
    ];
    for (receipt, why) in cases {
        let env = TestEnv::new();
        let path = with_receipt(&env, receipt);
        let store = env.work().join("store");
        for args in [
            vec!["pack", "3.12.7"],
            vec![
                "push",
                "3.12.7",
                "--to",
                &format!("file://{}", store.display()),
            ],
        ] {
            let out = env.strap(&args).output().unwrap();
            let stderr = crate::support::stderr_of(&out);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            let expected = format!("corrupt receipt {}: ", path.display());
            assert!(stderr.contains(&expected), "{args:?}: {stderr}");
            assert!(stderr.contains(why), "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
    }
}
