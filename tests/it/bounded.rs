//! Bounded in size and time: a pack that is larger than its manifest says is stopped and
//! deleted, an absurd or unfitting declared size is refused before downloading, an OCI manifest
//! or config blob is read only up to its cap, a FIFO or a device where strap reads a file is
//! refused at once, and a host that never answers costs the stall timeout once per run.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::mirror::{Behavior, Mirror};
use crate::support::{
    build_and_push, file_url, install_elsewhere, install_or_build_elsewhere, Setup,
};
use crate::support::{stderr_of, TestEnv};

const VERSION: &str = "3.99.1";

/// The files of a pack directory: (manifest, archive).
fn pack_files(dir: &Path) -> (PathBuf, PathBuf) {
    let manifest = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a pack manifest");
    let archive = manifest.with_extension("tar.zst");
    (manifest, archive)
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Nothing but the given names is left in `<root>/cache/builds`: no `.part` of a refused pack.
fn no_partial_packs(root: &Path) {
    let left: Vec<String> = fs::read_dir(root.join("cache/builds"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(".part"))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "partial downloads left: {left:?}");
}

/// The install fell back to building from source after `why` (a warning about the pack).
fn built_from_source_because(out: &std::process::Output, why: &str) {
    let err = stderr_of(out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(why), "{why:?} in:\n{err}");
    assert!(
        err.contains("building from source") && err.contains("==> configure"),
        "{err}"
    );
}

#[test]
fn a_pack_served_with_more_bytes_than_declared_is_stopped_and_deleted() {
    let s = Setup::new();
    let base = format!("http://127.0.0.1:{}/builds/", s.mirror.port);
    build_and_push(&s, &base, &[]);
    let (_, archive) = pack_files(&s.env.root().join("cache/builds"));
    let size = fs::metadata(&archive).unwrap().len();
    // The archive's URL now sends 64 MiB, with no length announced.
    let path = format!("/builds/{}", archive.file_name().unwrap().to_string_lossy());
    s.mirror.route(&path, Behavior::Flood(64 << 20));

    let other = TestEnv::new();
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &base])
        .output()
        .unwrap();
    built_from_source_because(
        &out,
        &format!("sent more than the declared size of {size} bytes"),
    );
    no_partial_packs(&other.root());
}

#[test]
fn a_pack_file_larger_than_declared_is_refused_before_copying() {
    let s = Setup::new();
    let dir = s.env.work().join("builds");
    build_and_push(&s, &file_url(&dir), &[]);
    let (_, archive) = pack_files(&dir);
    let size = fs::metadata(&archive).unwrap().len();
    let mut bytes = fs::read(&archive).unwrap();
    bytes.extend(vec![0; 1 << 20]);
    fs::write(&archive, bytes).unwrap();

    let other = TestEnv::new();
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &file_url(&dir)])
        .output()
        .unwrap();
    built_from_source_because(
        &out,
        &format!("sent more than the declared size of {size} bytes"),
    );
    no_partial_packs(&other.root());
}

/// An HTTP store holding the Setup's pack, its manifest declaring the archive to have `size`
/// bytes; returns the store's URL and the archive's path on it.
fn store_declaring(s: &Setup, size: u64) -> (String, String) {
    let base = format!("http://127.0.0.1:{}/builds/", s.mirror.port);
    build_and_push(s, &base, &[]);
    let (manifest, archive) = pack_files(&s.env.root().join("cache/builds"));
    let mut edited: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    edited["archive"]["size"] = size.into();
    let name = |p: &Path| format!("/builds/{}", p.file_name().unwrap().to_string_lossy());
    s.mirror.route(
        &name(&manifest),
        Behavior::Serve(edited.to_string().into_bytes()),
    );
    (base, name(&archive))
}

/// The store was never asked for the archive at `path`.
fn not_downloaded(s: &Setup, path: &str) {
    let asked: Vec<_> = s
        .mirror
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .collect();
    assert!(asked.is_empty(), "{asked:?}");
}

#[test]
fn a_declared_size_beyond_the_cap_is_refused_before_downloading() {
    let s = Setup::new();
    let (base, archive) = store_declaring(&s, 17 << 30);
    let other = TestEnv::new();
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &base])
        .output()
        .unwrap();
    built_from_source_because(
        &out,
        "refused: its manifest declares an archive of 17.00 GiB, more than the 16.00 GiB strap downloads",
    );
    not_downloaded(&s, &archive);
}

#[test]
#[ignore = "needs root to mount a tmpfs (run by .ci/run)"]
fn a_declared_size_beyond_the_free_space_is_refused_before_downloading() {
    let s = Setup::new();
    let (base, archive) = store_declaring(&s, 1 << 30);
    let other = TestEnv::new();
    let cache = other.dir.path().join("small-cache");
    let _tmpfs = crate::support::Tmpfs::mount(&cache, "16m");
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &base])
        .env("STRAP_CACHE_DIR", &cache)
        .output()
        .unwrap();
    built_from_source_because(
        &out,
        &format!(
            "refused: its archive has 1.00 GiB, but the file system of {} has only",
            cache.join("builds").display()
        ),
    );
    not_downloaded(&s, &archive);
}

#[test]
#[ignore = "needs docker-registry (Debian's package); .ci/run installs it and runs the ignored tests"]
fn a_registry_sending_more_than_the_declared_layer_is_stopped() {
    let registry = crate::registry::Registry::anonymous();
    let s = Setup::new();
    let url = registry.url("team/builds");
    build_and_push(&s, &url, &[]);
    let (manifest, archive) = pack_files(&s.env.root().join("cache/builds"));
    let size = fs::metadata(&archive).unwrap().len();
    let packed: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    let blob = registry.blob_file(packed["archive"]["sha256"].as_str().unwrap());
    let mut bytes = fs::read(&blob).unwrap();
    bytes.extend(vec![0; 4 << 20]);
    fs::write(&blob, bytes).unwrap();

    let other = TestEnv::new();
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &url])
        .output()
        .unwrap();
    built_from_source_because(
        &out,
        &format!("sent more than the declared size of {size} bytes"),
    );
    no_partial_packs(&other.root());
}

/// A fake OCI registry (the loopback mirror answering the distribution API's paths) for the
/// pack the Setup builds: returns the mirror URL and the tag's manifest path.
fn fake_registry(s: &Setup) -> (Mirror, String, String) {
    s.install(&["a"], &[]).assert().success();
    let (manifest, _) = pack_files(&s.env.root().join("cache/builds"));
    let stem = manifest.file_stem().unwrap().to_string_lossy().into_owned();
    let registry = Mirror::start();
    let url = format!("oci://127.0.0.1:{}/team/builds", registry.port);
    let manifest_path = format!("/v2/team/builds/manifests/{stem}");
    (registry, url, manifest_path)
}

#[test]
fn an_oversized_oci_manifest_is_not_read_whole() {
    let s = Setup::new();
    let (registry, url, manifest_path) = fake_registry(&s);
    registry.route(&manifest_path, Behavior::Flood(512 << 20));
    let other = TestEnv::new();
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &url])
        .output()
        .unwrap();
    built_from_source_because(&out, "is not read: it is larger than 1 MiB");
}

#[test]
fn an_oci_config_blob_larger_than_declared_is_stopped() {
    let s = Setup::new();
    let (registry, url, manifest_path) = fake_registry(&s);
    let config_digest = format!("sha256:{}", "c".repeat(64));
    let image = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.strap.pack.manifest.v1+json",
            "digest": config_digest,
            "size": 100
        },
        "layers": []
    });
    registry.route(
        &manifest_path,
        Behavior::Serve(image.to_string().into_bytes()),
    );
    registry.route(
        &format!("/v2/team/builds/blobs/{config_digest}"),
        Behavior::Flood(512 << 20),
    );
    let other = TestEnv::new();
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &url])
        .output()
        .unwrap();
    built_from_source_because(&out, "sent more than the declared size of 100 bytes");
}

#[test]
fn fifos_and_devices_where_strap_reads_a_file_are_refused_at_once() {
    // A FIFO named like a pack manifest in a file:// binary mirror.
    let s = Setup::new();
    let dir = s.env.work().join("builds");
    build_and_push(&s, &file_url(&dir), &[]);
    let (manifest, _) = pack_files(&dir);
    fs::remove_file(&manifest).unwrap();
    mkfifo(&manifest);
    let other = TestEnv::new();
    let out = install_or_build_elsewhere(&other, &s, &["--binary-mirror", &file_url(&dir)])
        .output()
        .unwrap();
    built_from_source_because(&out, "it is a FIFO, not a regular file");

    // A FIFO named like the source archive in a file:// mirror.
    let sources = s.env.work().join("sources");
    fs::create_dir_all(&sources).unwrap();
    mkfifo(&sources.join("Python-3.99.1.tgz"));
    let third = TestEnv::new();
    let out = third
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha, VERSION])
        .args(["--mirror", &format!("{}/{{file}}", file_url(&sources))])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Python-3.99.1.tgz: cannot read") && err.contains("it is a FIFO"),
        "{err}"
    );

    // The config file, a catalog, a bootstrap manifest and a recipe it names.
    let fifo = s.env.work().join("fifo");
    mkfifo(&fifo);
    let recipe_manifest = s
        .env
        .write("work/strap.toml", "[[recipe]]\npath = \"/dev/zero\"\n");
    let runs: [(&str, &[&str], (&str, &Path)); 4] = [
        (
            "a FIFO",
            &["install", "--skip-preflight", "--sha256", &s.sha, VERSION],
            ("STRAP_CONFIG", &fifo),
        ),
        (
            "a character device",
            &["install", "--list"],
            ("STRAP_PYTHON_CATALOG", Path::new("/dev/zero")),
        ),
        (
            "a FIFO",
            &["bootstrap", "--dry-run", "-f", fifo.to_str().unwrap()],
            ("STRAP_SHELL", Path::new("bash")),
        ),
        (
            "a character device",
            &[
                "bootstrap",
                "--dry-run",
                "-f",
                recipe_manifest.to_str().unwrap(),
            ],
            ("STRAP_SHELL", Path::new("bash")),
        ),
    ];
    for (what, args, (var, value)) in runs {
        let out = s
            .env
            .strap(args)
            .env(var, value)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?} {var}: {err}"
        );
        assert!(
            err.contains(&format!("it is {what}, not a regular file")),
            "{args:?} {var}: {err}"
        );
    }
}

#[test]
fn a_fifo_as_the_default_config_file_is_a_usage_error_as_when_named() {
    let env = TestEnv::new();
    let config = env.home().join(".config/strap/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    mkfifo(&config);
    assert_refused_as_a_fifo(&env, &["install", "--skip-preflight", "3.12.7"]);
}

/// `strap ARGS` stops at once, a usage error, naming the FIFO it was given to read.
fn assert_refused_as_a_fifo(env: &TestEnv, args: &[&str]) {
    let out = env
        .strap(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("it is a FIFO, not a regular file"), "{err}");
}

#[test]
fn a_fifo_named_strap_toml_is_refused_not_passed_over() {
    let env = TestEnv::new();
    mkfifo(&env.work().join("strap.toml"));
    assert_refused_as_a_fifo(&env, &["bootstrap", "--dry-run"]);
}

#[test]
fn a_host_that_never_answers_is_asked_once_per_run() {
    let s = Setup::new();
    let dead = Mirror::start();
    for file in ["Python-3.99.1.tar.xz", "Python-3.99.1.tgz"] {
        dead.route(&format!("/d/{file}"), Behavior::Stall);
    }
    let out = s
        .env
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &dead.template("d")])
        .args(["--mirror", &s.mirror.template("a"), VERSION])
        .env("STRAP_DOWNLOAD_TIMEOUT", "1")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        dead.requests().len(),
        1,
        "the second format was asked for on the dead host: {:?}",
        dead.requests()
    );

    // Every format on that host alone: the error names it as not asked.
    let other = TestEnv::new();
    let out = other
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &dead.template("d"), VERSION])
        .env("STRAP_DOWNLOAD_TIMEOUT", "1")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "/d/Python-3.99.1.tgz: not asked: 127.0.0.1:{} did not answer earlier in this run",
            dead.port
        )),
        "{err}"
    );
}

#[test]
fn the_spinner_names_the_host_it_waits_on() {
    let s = Setup::new();
    let dead = Mirror::start();
    dead.route("/d/Python-3.99.1.tar.xz", Behavior::Stall);
    let command = format!(
        "{} install --skip-preflight --sha256 {} --mirror {} --mirror {} {VERSION}",
        crate::support::strap_bin().display(),
        s.sha,
        dead.template("d"),
        s.mirror.template("a")
    );
    let out = s
        .env
        .command("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("TERM", "xterm")
        .env("STRAP_DOWNLOAD_TIMEOUT", "2")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains(&format!("waiting for 127.0.0.1:{}", dead.port)),
        "{screen}"
    );
}

#[test]
fn a_binary_mirror_host_that_never_answers_is_asked_once() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let dead = Mirror::start();
    // The manifest lookup of the pack stalls.
    let (manifest, _) = pack_files(&s.env.root().join("cache/builds"));
    let name = manifest.file_name().unwrap().to_string_lossy().into_owned();
    dead.route(&format!("/builds/{name}"), Behavior::Stall);
    let base = format!("http://127.0.0.1:{}/builds/", dead.port);
    // A registry that never answers (its API root stalls), listed as two repositories.
    let dead_registry = Mirror::start();
    dead_registry.route("/v2/", Behavior::Stall);
    let repo = |name: &str| format!("oci://127.0.0.1:{}/{name}", dead_registry.port);
    let other = TestEnv::new();
    let out = install_elsewhere(&other, &s, &["--binary-mirror", &base])
        .args(["--binary-mirror", &base])
        .args(["--binary-mirror", &repo("team/one")])
        .args(["--binary-mirror", &repo("team/two")])
        .env("STRAP_DOWNLOAD_TIMEOUT", "1")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(dead.requests().len(), 1, "{err}");
    assert_eq!(dead_registry.requests().len(), 1, "{err}");
    let not_asked = err
        .lines()
        .filter(|l| l.contains("warning") && l.contains("did not answer earlier in this run"))
        .count();
    assert_eq!(not_asked, 2, "{err}");
}

#[test]
fn a_link_or_fifo_planted_as_the_partial_download_is_replaced_not_written_through() {
    let s = Setup::new();
    let cache = s.env.root().join("cache");
    fs::create_dir_all(&cache).unwrap();
    let victim = s.env.write("outside/victim.txt", "keep me\n");
    let part = cache.join("Python-3.99.1.tgz.part");
    std::os::unix::fs::symlink(&victim, &part).unwrap();
    s.install(&["a"], &[]).assert().success();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me\n");
    assert!(fs::symlink_metadata(&part).is_err());

    let other = TestEnv::new();
    let cache = other.root().join("cache");
    fs::create_dir_all(&cache).unwrap();
    mkfifo(&cache.join("Python-3.99.1.tgz.part"));
    let out = other
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &s.mirror.template("a"), VERSION])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}
