//! Binary mirrors: a build packed on one machine (root) and pushed to a directory, an HTTP
//! store or a real OCI registry is installed on another without building — verified, and
//! relocated to the other root; refused when it is not the same build, not for this machine
//! or not the bytes its manifest names, and then built from source (or, with `--binary-only`,
//! not installed at all).

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use base64::Engine;

use crate::registry::Registry;
use crate::support::{
    build_and_push, file_url, install_elsewhere, install_or_build_elsewhere, push, stderr_of,
    stdout_of, Setup, TestEnv,
};

const VERSION: &str = "3.99.1";

/// The test registries' user and password, as strap reads them.
const LOGIN: [(&str, &str); 2] = [
    ("STRAP_REGISTRY_USER", "builder"),
    ("STRAP_REGISTRY_PASSWORD", "s3cret"),
];
const WRONG_PASSWORD: [(&str, &str); 2] = [
    ("STRAP_REGISTRY_USER", "builder"),
    ("STRAP_REGISTRY_PASSWORD", "wrong"),
];

/// A change to a pack's manifest.
type ManifestEdit = dyn Fn(&mut serde_json::Value);

/// Pushing with `env`'s credentials (or none) is refused as not authorized.
fn push_is_unauthorized(s: &Setup, to: &str, env: &[(&str, &str)]) {
    let out = push(s, to, env);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("not authorized"),
        "{}",
        stderr_of(&out)
    );
}

/// The installed fake version at `root` runs and had its prefix rewritten.
fn assert_relocated(root: &Path) {
    let prefix = root.join("versions").join(VERSION);
    assert_eq!(
        fs::read_to_string(prefix.join("lib/fake/prefix.txt"))
            .unwrap()
            .trim(),
        prefix.display().to_string()
    );
    let out = std::process::Command::new(prefix.join("bin/python3"))
        .args(["-c", "print('runs')"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), "runs\n");
}

#[test]
fn a_build_pushed_to_a_directory_installs_elsewhere_without_building() {
    let s = Setup::new();
    let dir = s.env.work().join("shared-builds");
    let location = build_and_push(&s, &file_url(&dir), &[]);
    let mut files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].starts_with("python-3.99.1-") && files[0].ends_with(".json"));
    assert_eq!(files[1], files[0].replace(".json", ".tar.zst"));
    assert_eq!(location.trim(), file_url(&dir.join(&files[0])));

    let other = TestEnv::new();
    let out = install_elsewhere(
        &other,
        &s,
        &["--binary-only", "--binary-mirror", &file_url(&dir)],
    )
    .output()
    .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "==> CPython 3.99.1 from {}/ (key ",
            file_url(&dir)
        )),
        "{err}"
    );
    assert!(
        err.contains("==> relocate:") && !err.contains("==> configure"),
        "{err}"
    );
    assert_relocated(&other.root());
    assert!(
        s.mirror
            .requests()
            .iter()
            .all(|r| !r.path.starts_with("/empty/")),
        "no source was fetched"
    );
    // The pack is in the other machine's build cache now.
    assert!(other.root().join("cache/builds").join(&files[1]).is_file());
}

#[test]
fn binary_only_fails_naming_every_place_it_looked() {
    let s = Setup::new();
    let empty = s.env.work().join("no-builds");
    fs::create_dir_all(&empty).unwrap();
    let out = s
        .install(
            &["a"],
            &["--binary-only", "--binary-mirror", &file_url(&empty)],
        )
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no packed build of CPython 3.99.1") && err.contains("--binary-only"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}/: has no such build", file_url(&empty))),
        "{err}"
    );
    assert!(!err.contains("==> configure"), "{err}");
    s.assert_nothing_installed();

    // --no-binary and --binary-only contradict each other.
    s.install(&["a"], &["--binary-only", "--no-binary"])
        .assert()
        .code(2);
}

#[test]
fn binary_mirrors_come_from_the_environment_and_the_config_file() {
    let s = Setup::new();
    let dir = s.env.work().join("builds");
    build_and_push(&s, &file_url(&dir), &[]);
    for (var, config) in [
        (Some(file_url(&dir)), None),
        (
            None,
            Some(format!("[cache]\nbinary = [\"{}\"]\n", file_url(&dir))),
        ),
    ] {
        let other = TestEnv::new();
        let mut cmd = install_elsewhere(&other, &s, &["--binary-only"]);
        if let Some(var) = &var {
            cmd.env("STRAP_BINARY_MIRRORS", var);
        }
        if let Some(config) = &config {
            cmd.env("STRAP_CONFIG", other.write("config.toml", config));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        assert_relocated(&other.root());
    }
    let other = TestEnv::new();
    let out = install_elsewhere(&other, &s, &[])
        .env("STRAP_BINARY_MIRRORS", "ftp://files.example/builds")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("'ftp://files.example/builds' (from STRAP_BINARY_MIRRORS)"),
        "{}",
        stderr_of(&out)
    );
}

/// What strap says about a relative `file:` URL given as a binary mirror.
fn relative_file_url_refused(url: &str, origin: &str) -> String {
    format!(
        "binary mirror '{url}' (from {origin}) is a relative file URL; a file URL names an \
         absolute path: file:///absolute/path"
    )
}

#[test]
fn a_relative_file_url_is_refused_wherever_a_binary_mirror_is_given() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    // A name of its own: `file:NAME` used to be read as `file:///NAME`, at the root.
    let name = format!("strap-test-builds-{}", std::process::id());
    let at_the_root = Path::new("/").join(&name);
    for to in [
        format!("file:{name}"),
        format!("file:./{name}"),
        format!("FILE:{name}/sub"),
    ] {
        let out = push(&s, &to, &[]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&relative_file_url_refused(&to, "--to")),
            "{err}"
        );
    }
    let host = format!("file://{name}/x");
    let out = push(&s, &host, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains(&format!(
            "binary mirror '{host}' (from --to) names the host '{name}'; a file URL names a \
             path on this machine: file:///absolute/path"
        )),
        "{}",
        stderr_of(&out)
    );
    assert!(!at_the_root.exists(), "pushed to {}", at_the_root.display());
    assert!(!s.env.work().join(&name).exists());

    // Installs, from the flag, the environment, the config file and a bootstrap manifest.
    let url = format!("file:{name}");
    let config = s
        .env
        .write("config.toml", &format!("[cache]\nbinary = [\"{url}\"]\n"));
    let other = TestEnv::new();
    let refused = |mut cmd: Command, origin: &str| {
        let out = cmd.output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&relative_file_url_refused(&url, origin)),
            "{err}"
        );
    };
    refused(
        install_elsewhere(&other, &s, &["--binary-mirror", &url]),
        "--binary-mirror",
    );
    let mut from_env = install_elsewhere(&other, &s, &[]);
    from_env.env("STRAP_BINARY_MIRRORS", &url);
    refused(from_env, "STRAP_BINARY_MIRRORS");
    let mut from_config = install_elsewhere(&other, &s, &[]);
    from_config.env("STRAP_CONFIG", &config);
    refused(
        from_config,
        &format!("{} key cache.binary", config.display()),
    );
    other.write(
        "work/strap.toml",
        &format!("[settings]\nbinary = [\"{url}\"]\n\n[python]\nversions = [\"{VERSION}\"]\n"),
    );
    refused(other.strap(&["bootstrap"]), "[settings] binary");
    assert!(!other.root().join("versions").join(VERSION).exists());
}

#[test]
fn a_pack_for_another_machine_or_with_other_bytes_is_refused_and_the_source_is_built() {
    let s = Setup::new();
    let dir = s.env.work().join("builds");
    build_and_push(&s, &file_url(&dir), &[]);
    let manifest_path = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let original = fs::read_to_string(&manifest_path).unwrap();
    let edit = |change: &ManifestEdit| {
        let mut manifest: serde_json::Value = serde_json::from_str(&original).unwrap();
        change(&mut manifest);
        fs::write(&manifest_path, manifest.to_string()).unwrap();
    };
    let cases: [(&ManifestEdit, &str); 3] = [
        (
            &|m| m["platform"]["arch"] = "riscv64".into(),
            "refused: it was built for riscv64 linux",
        ),
        (
            &|m| m["platform"]["libc_version"] = "9.99".into(),
            "glibc 9.99; this machine is",
        ),
        (
            &|m| m["archive"]["sha256"] = "0".repeat(64).into(),
            "checksum mismatch",
        ),
    ];
    for (change, expected) in cases {
        edit(change);
        let other = TestEnv::new();
        let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &file_url(&dir)])
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(out.status.success(), "{err}");
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(
            err.contains("building from source") && err.contains("==> configure"),
            "{err}"
        );
        assert!(other
            .root()
            .join("versions")
            .join(VERSION)
            .join("bin/python3")
            .exists());
    }
}

#[test]
fn a_manifest_with_an_upper_case_sha256_installs() {
    // Its checksum is read as strap computes it (lower case), not refused after the download.
    let s = Setup::new();
    let dir = s.env.work().join("builds");
    build_and_push(&s, &file_url(&dir), &[]);
    let (_, manifest_path) = pack_files(&dir);
    let mut manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let upper = manifest["archive"]["sha256"]
        .as_str()
        .unwrap()
        .to_ascii_uppercase();
    manifest["archive"]["sha256"] = upper.into();
    fs::write(&manifest_path, manifest.to_string()).unwrap();
    let (other, out) = install_binary_only(&s, &dir);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("checksum mismatch"), "{err}");
    assert_relocated(&other.root());
}

#[test]
fn an_http_store_takes_the_pack_by_put_and_serves_it() {
    let s = Setup::new();
    let base = format!("http://127.0.0.1:{}/builds/", s.mirror.port);
    build_and_push(&s, &base, &[]);
    let puts: Vec<String> = s
        .mirror
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.path)
        .collect();
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(
        puts[0].ends_with(".tar.zst") && puts[1].ends_with(".json"),
        "the archive first, the manifest last: {puts:?}"
    );

    let other = TestEnv::new();
    let out = install_elsewhere(&other, &s, &["--binary-only", "--binary-mirror", &base])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_relocated(&other.root());

    // An unreachable store fails the push.
    let out = push(&s, "http://127.0.0.1:1/unreachable/", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("cannot push python 3.99.1 to http://127.0.0.1:1/unreachable/"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
#[ignore = "needs docker-registry (Debian's package); .ci/run installs it and runs the ignored tests"]
fn a_registry_shares_builds_and_a_tampered_blob_is_refused() {
    let registry = Registry::anonymous();
    let s = Setup::new();
    let url = registry.url("team/strap-builds");
    let location = build_and_push(&s, &url, &[]);
    assert!(
        location.trim().starts_with(&format!(
            "{}/team/strap-builds:python-3.99.1-",
            registry.host()
        )),
        "{location}\n{}",
        registry.log()
    );

    let other = TestEnv::new();
    let out = install_elsewhere(&other, &s, &["--binary-only", "--binary-mirror", &url])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}\n{}", registry.log());
    assert!(err.contains(&format!("from {url} (key ")), "{err}");
    assert_relocated(&other.root());

    // Pushing again uploads no archive: the registry has it.
    let out = push(&s, &url, &[]);
    assert!(out.status.success());
    assert!(
        stderr_of(&out).contains("already has the archive"),
        "{}",
        stderr_of(&out)
    );

    // Bytes changed in the registry's storage: the digest check refuses them.
    let packed: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(
            fs::read_dir(s.env.root().join("cache/builds"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|e| e == "json"))
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let blob = registry.blob_file(packed["archive"]["sha256"].as_str().unwrap());
    let mut bytes = fs::read(&blob).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&blob, bytes).unwrap();
    let third = TestEnv::new();
    let out = install_elsewhere(&third, &s, &["--binary-only", "--binary-mirror", &url])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the archive is not what the registry lists"),
        "{err}"
    );
    assert!(!third.root().join("versions").join(VERSION).exists());
    assert!(
        fs::read_dir(third.root().join("cache/builds"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "nothing of the refused pack is kept"
    );
}

#[test]
#[ignore = "needs docker-registry and htpasswd (apache2-utils); .ci/run installs them and runs the ignored tests"]
fn a_registry_behind_a_password_takes_credentials_from_the_environment_or_docker_login() {
    let registry = Registry::with_password("builder", "s3cret");
    let s = Setup::new();
    let url = registry.url("strap/builds");
    s.install(&["a"], &[]).assert().success();

    push_is_unauthorized(&s, &url, &[]);

    push_is_unauthorized(&s, &url, &WRONG_PASSWORD);

    build_and_push(&s, &url, &LOGIN);

    // Another machine logged in with `docker login` (the Docker config in its home).
    let other = TestEnv::new();
    let auth = base64::engine::general_purpose::STANDARD.encode("builder:s3cret");
    other.write(
        "home/.docker/config.json",
        &format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
            registry.host()
        ),
    );
    let out = install_elsewhere(&other, &s, &["--binary-only", "--binary-mirror", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        stderr_of(&out),
        registry.log()
    );
    assert_relocated(&other.root());

    // Without credentials the registry is skipped with the reason, and the source is built.
    let third = TestEnv::new();
    let out = install_or_build_elsewhere(&third, &s, &["--binary-mirror", &url])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("not authorized") && err.contains("==> configure"),
        "{err}"
    );
}

#[test]
#[ignore = "needs docker-registry and openssl; .ci/run installs them and runs the ignored tests"]
fn a_registry_behind_bearer_tokens_gets_a_token_for_the_credentials() {
    let registry = Registry::with_tokens("builder", "s3cret");
    let s = Setup::new();
    let url = registry.url("strap/builds");
    s.install(&["a"], &[]).assert().success();
    push_is_unauthorized(&s, &url, &WRONG_PASSWORD);

    build_and_push(&s, &url, &LOGIN);
    let other = TestEnv::new();
    let out = install_elsewhere(&other, &s, &["--binary-only", "--binary-mirror", &url])
        .envs(LOGIN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        stderr_of(&out),
        registry.log()
    );
    assert_relocated(&other.root());
}

#[test]
#[ignore = "needs docker-registry and the oras package from PyPI: .ci/run installs them, oras into a venv and names its python in STRAP_TEST_ORAS_PYTHON"]
fn another_oci_client_pulls_the_pushed_pack_byte_for_byte() {
    let python = std::env::var("STRAP_TEST_ORAS_PYTHON")
        .expect("STRAP_TEST_ORAS_PYTHON names a python with the oras package (see .ci/run)");
    let registry = Registry::anonymous();
    let s = Setup::new();
    let location = build_and_push(&s, &registry.url("strap/builds"), &[]);
    let out_dir = s.env.work().join("pulled");
    let script = r#"
import json, sys
import oras.client
target, out_dir = sys.argv[1], sys.argv[2]
client = oras.client.OrasClient(hostname=target.split("/")[0], insecure=True)
manifest = client.get_manifest(target)
files = client.pull(target=target, outdir=out_dir)
print(json.dumps({"annotations": manifest.get("annotations", {}), "config": manifest["config"]["mediaType"], "files": files}))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, location.trim()])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let pulled: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(
        pulled["config"],
        "application/vnd.strap.pack.manifest.v1+json"
    );
    assert_eq!(pulled["annotations"]["dev.strap.name"], VERSION);
    let files = pulled["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{pulled}");
    let pulled_file = Path::new(files[0].as_str().unwrap());
    let cached = s
        .env
        .root()
        .join("cache/builds")
        .join(pulled_file.file_name().unwrap());
    assert!(
        cached.is_file(),
        "oras names the file as strap does: {pulled}"
    );
    assert_eq!(fs::read(pulled_file).unwrap(), fs::read(cached).unwrap());
    assert_eq!(
        pulled["annotations"]["dev.strap.key"]
            .as_str()
            .map(|k| &k[..16]),
        pulled_file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".tar.zst")
            .and_then(|stem| stem.rsplit('-').next())
    );
}

/// The archive and the manifest of the one pack in `dir`.
fn pack_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let files: Vec<std::path::PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    let with = |suffix: &str| {
        files
            .iter()
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} in {files:?}"))
            .clone()
    };
    (with(".tar.zst"), with(".json"))
}

/// An entry added to a pack: its path below the pack's top, its type, its link target (or
/// its content), its mode.
type Extra<'a> = (&'a str, tar::EntryType, &'a str, u32);

/// Re-makes the pack pushed to `dir`: every entry of it under `top` ("." keeps the prefix's
/// own layout, a name makes it the archive's one top directory), then the `extra` entries;
/// its manifest gets the new archive's sha256 and size.
/// Builds and pushes the fake version to a `file://` store, remakes its pack (see
/// [`remake_pack`]) and installs it with `--binary-only` on another machine.
fn install_remade_pack(
    s: &Setup,
    top: &str,
    extra: &[Extra<'_>],
) -> (TestEnv, std::process::Output) {
    let dir = s.env.work().join("builds");
    build_and_push(s, &file_url(&dir), &[]);
    remake_pack(&dir, top, extra);
    install_binary_only(s, &dir)
}

/// `strap install --binary-only` of the fake version from the store `dir` on another machine.
fn install_binary_only(s: &Setup, dir: &Path) -> (TestEnv, std::process::Output) {
    let other = TestEnv::new();
    let out = install_elsewhere(
        &other,
        s,
        &["--binary-only", "--binary-mirror", &file_url(dir)],
    )
    .output()
    .unwrap();
    (other, out)
}

fn remake_pack(dir: &Path, top: &str, extra: &[Extra<'_>]) {
    use tar::EntryType;
    let (archive, manifest) = pack_files(dir);
    let decoder = zstd::stream::read::Decoder::new(fs::File::open(&archive).unwrap()).unwrap();
    let mut original = tar::Archive::new(decoder);
    let mut builder = tar::Builder::new(Vec::new());
    for entry in original.entries().unwrap() {
        let entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        let relative = path.strip_prefix(".").unwrap_or(&path).to_owned();
        if relative.as_os_str().is_empty() {
            continue;
        }
        builder
            .append_data(&mut header, Path::new(top).join(relative), entry)
            .unwrap();
    }
    for (path, kind, text, mode) in extra.iter().copied() {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        let path = Path::new(top).join(path);
        match kind {
            EntryType::Symlink => {
                header.set_size(0);
                builder.append_link(&mut header, path, text).unwrap()
            }
            _ => {
                header.set_size(text.len() as u64);
                builder
                    .append_data(&mut header, path, text.as_bytes())
                    .unwrap()
            }
        }
    }
    let bytes = zstd::encode_all(&builder.into_inner().unwrap()[..], 1).unwrap();
    fs::write(&archive, &bytes).unwrap();
    let mut packed: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    packed["archive"]["sha256"] = crate::fake_source::sha256_hex(&bytes).into();
    packed["archive"]["size"] = bytes.len().into();
    fs::write(&manifest, packed.to_string()).unwrap();
}

/// A file outside every directory strap writes, and what it holds.
fn victim(env: &TestEnv) -> (std::path::PathBuf, &'static str) {
    (env.write("victim.txt", "precious\n"), "precious\n")
}

fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[test]
fn pushing_to_a_directory_never_writes_through_a_planted_link() {
    let s = Setup::new();
    let first = s.env.work().join("first");
    build_and_push(&s, &file_url(&first), &[]);
    let (archive, manifest) = pack_files(&first);
    let (archive_file, manifest_file) =
        (archive.file_name().unwrap(), manifest.file_name().unwrap());
    let (victim, precious) = victim(&s.env);

    // Links where strap used to put its temporary files: ignored, left alone.
    let shared = s.env.work().join("shared");
    fs::create_dir_all(&shared).unwrap();
    let planted = [
        shared.join(format!(".{}.part", archive_file.to_string_lossy())),
        shared.join(format!("{}.part", manifest_file.to_string_lossy())),
    ];
    for link in &planted {
        std::os::unix::fs::symlink(&victim, link).unwrap();
    }
    let out = push(&s, &file_url(&shared), &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(fs::read_to_string(&victim).unwrap(), precious);
    assert!(planted.iter().all(|link| is_link(link)));
    assert_eq!(
        fs::read(shared.join(archive_file)).unwrap(),
        fs::read(&archive).unwrap()
    );
    assert!(fs::symlink_metadata(shared.join(manifest_file))
        .unwrap()
        .is_file());
    let leftovers: Vec<_> = fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !is_link(p) && p.to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A link (or a directory) in the place of the pack's own files is not replaced.
    let cases = [
        (archive_file, false),
        (manifest_file, false),
        (archive_file, true),
    ];
    for (i, (name, is_dir)) in cases.into_iter().enumerate() {
        let store = s.env.dir.path().join(format!("store-{i}"));
        fs::create_dir_all(&store).unwrap();
        let taken = store.join(name);
        if is_dir {
            fs::create_dir(&taken).unwrap();
        } else {
            std::os::unix::fs::symlink(&victim, &taken).unwrap();
        }
        let out = push(&s, &file_url(&store), &[]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&taken.display().to_string()), "{err}");
        let what = if is_dir {
            "a directory"
        } else {
            "a symbolic link"
        };
        assert!(err.contains(&format!("it is {what}")), "{err}");
        // A local refusal: nothing to do with URLs or credentials.
        assert!(!err.contains("credentials"), "{err}");
        assert_eq!(is_dir, taken.is_dir() && !is_link(&taken));
        assert_eq!(!is_dir, is_link(&taken));
        assert_eq!(fs::read_to_string(&victim).unwrap(), precious);
    }
}

#[test]
fn a_pack_with_one_top_directory_has_its_links_checked_against_that_directory() {
    use tar::EntryType::Symlink;
    let s = Setup::new();
    // Inside the archive's tree, but `versions/` once `p/` is the prefix.
    let (other, out) = install_remade_pack(&s, "p", &[("bin/up", Symlink, "../..", 0o777)]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refusing entry 'p/bin/up'"), "{err}");
    assert!(err.contains("outside the tree"), "{err}");
    assert!(!other.root().join("versions").join(VERSION).exists());
}

#[test]
fn relocation_never_writes_through_a_link_in_the_pack() {
    use tar::EntryType::{Regular, Symlink};
    let s = Setup::new();
    let script = format!("#!{}/bin/python3\n", s.prefix().display());
    let (other, out) = install_remade_pack(
        &s,
        ".",
        &[
            ("lib/fake/victim.txt", Regular, "precious\n", 0o644),
            // Where strap used to write the relocated script before moving it into place.
            (
                "bin/.pip3x.relocating",
                Symlink,
                "../lib/fake/victim.txt",
                0o777,
            ),
            ("bin/pip3x", Regular, &script, 0o755),
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_relocated(&other.root());
    let prefix = other.root().join("versions").join(VERSION);
    assert_eq!(
        fs::read_to_string(prefix.join("lib/fake/victim.txt")).unwrap(),
        "precious\n"
    );
    let pip = prefix.join("bin/pip3x");
    assert!(fs::symlink_metadata(&pip).unwrap().is_file());
    assert_eq!(
        fs::read_to_string(&pip).unwrap(),
        format!("#!{}/bin/python3\n", prefix.display())
    );
}

#[test]
fn setuid_setgid_sticky_and_world_writable_bits_of_a_pack_are_not_installed() {
    use std::os::unix::fs::PermissionsExt;
    use tar::EntryType::{Directory, Regular};
    let s = Setup::new();
    let (other, out) = install_remade_pack(
        &s,
        ".",
        &[
            ("bin/suid-helper", Regular, "#!/bin/sh\n", 0o4777),
            ("lib/fake/sgid.txt", Regular, "x\n", 0o2666),
            ("share/tmp", Directory, "", 0o1777),
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let prefix = other.root().join("versions").join(VERSION);
    let mode = |path: &str| {
        fs::metadata(prefix.join(path))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(
        [
            mode("bin/suid-helper"),
            mode("lib/fake/sgid.txt"),
            mode("share/tmp")
        ],
        [0o775, 0o664, 0o775]
    );
}

#[test]
fn a_link_planted_at_the_download_part_file_is_not_written_through() {
    let s = Setup::new();
    let dir = s.env.work().join("builds");
    build_and_push(&s, &file_url(&dir), &[]);
    let (archive, _) = pack_files(&dir);
    let other = TestEnv::new();
    let (victim, precious) = victim(&other);
    let builds = other.root().join("cache/builds");
    fs::create_dir_all(&builds).unwrap();
    let part = builds.join(format!(
        "{}.part",
        archive.file_name().unwrap().to_string_lossy()
    ));
    std::os::unix::fs::symlink(&victim, &part).unwrap();
    let out = install_elsewhere(
        &other,
        &s,
        &["--binary-only", "--binary-mirror", &file_url(&dir)],
    )
    .output()
    .unwrap();
    // The link in strap's own cache is replaced by the download, never written through.
    assert_eq!(fs::read_to_string(&victim).unwrap(), precious);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!is_link(&part));
}

#[test]
#[ignore = "needs docker-registry (Debian's package); .ci/run installs it and runs the ignored tests"]
fn a_link_planted_where_a_registry_download_used_to_go_is_not_written_through() {
    let registry = Registry::anonymous();
    let s = Setup::new();
    let url = registry.url("team/strap-builds");
    build_and_push(&s, &url, &[]);
    let (archive, _) = pack_files(&s.env.root().join("cache/builds"));
    let other = TestEnv::new();
    let (victim, precious) = victim(&other);
    let builds = other.root().join("cache/builds");
    fs::create_dir_all(&builds).unwrap();
    let part = builds.join(format!(
        ".{}.part",
        archive.file_name().unwrap().to_string_lossy()
    ));
    std::os::unix::fs::symlink(&victim, &part).unwrap();
    let out = install_elsewhere(&other, &s, &["--binary-only", "--binary-mirror", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_relocated(&other.root());
    assert_eq!(fs::read_to_string(&victim).unwrap(), precious);
    assert!(is_link(&part));
}

/// A store on 127.0.0.1 that takes connections and never answers; its base URL.
fn silent_store() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    format!("http://127.0.0.1:{port}/builds/")
}

#[test]
fn an_upload_to_a_store_that_never_answers_ends_after_the_download_timeout() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let store = silent_store();
    let out = push(&s, &store, &[("STRAP_DOWNLOAD_TIMEOUT", "1")]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot push python 3.99.1 to {store}")),
        "{err}"
    );
    assert!(
        err.contains("no data for 1s (STRAP_DOWNLOAD_TIMEOUT sets how long to wait)"),
        "{err}"
    );
}

#[test]
fn a_receipt_link_in_a_pack_is_not_written_through() {
    use tar::EntryType::{Regular, Symlink};
    let s = Setup::new();
    let (other, out) = install_remade_pack(
        &s,
        ".",
        &[
            ("lib/fake/victim.txt", Regular, "precious\n", 0o644),
            ("strap-receipt.json", Symlink, "lib/fake/victim.txt", 0o777),
        ],
    );
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write the receipt in") && err.contains("it is a symbolic link"),
        "{err}"
    );
    assert!(!other.root().join("versions").join(VERSION).exists());
}
