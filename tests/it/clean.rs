//! `strap cache clean`: removes what no running strap holds, lists it, reports the space freed;
//! `--dry-run` removes nothing; `--older-than` keeps what is recent.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use predicates::prelude::*;

use crate::support::{stderr_of, stdout_of, TestEnv};

/// The pid of a process that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// A process that lives until killed (dropped).
struct Alive(Child);

impl Alive {
    fn sleeping() -> Alive {
        Alive(Command::new("sleep").arg("60").spawn().unwrap())
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A lock held by this test process the way strap holds its locks (flock(2), the holder's pid
/// written in the file) until dropped.
struct Held(#[allow(dead_code)] fs::File);

fn hold(lock: &Path) -> Held {
    use std::io::Write;
    fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let mut file = fs::File::create(lock).unwrap();
    file.lock().unwrap();
    writeln!(file, "{}", std::process::id()).unwrap();
    Held(file)
}

fn put(path: &Path, bytes: usize) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, vec![b'x'; bytes]).unwrap();
    path.to_owned()
}

fn age(path: &Path, days: u32) {
    let ok = Command::new("touch")
        .args(["-h", "-d", &format!("{days} days ago")])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn removes_what_nobody_holds_and_reports_the_space() {
    let env = TestEnv::new();
    let root = env.root();
    let dead = dead_pid();
    let running = Alive::sleeping();
    let live = running.pid();

    let archive = put(&root.join("cache/Python-3.12.7.tar.xz"), 3 * 1024 * 1024);
    let mismatch = put(
        &root.join("cache/Python-3.10.0.tar.xz.mismatch-0123456789ab"),
        1024,
    );
    let foreign = put(&root.join("cache/holiday-photos.tar.gz"), 10);
    let free_lock = put(&root.join("locks/python-3.12.7.lock"), 5);
    let free_download_lock = put(
        &root.join("cache/.locks/download-Python-3.12.7.tar.xz.lock"),
        5,
    );
    let old_log = put(
        &root.join(format!("logs/python-3.12.7-1700000000-{dead}.log")),
        2048,
    );
    let live_log = put(
        &root.join(format!("logs/recipe-can-1700000000-{live}.log")),
        10,
    );
    let dead_tree = root.join(format!("tmp/python-3.12.7.{dead}"));
    put(&dead_tree.join("Python-3.12.7/configure"), 4096);
    let packed = root.join("cache/builds/python-3.12.7-0123456789abcdef.tar.zst");
    put(&packed, 1000);
    let manifest = root.join("cache/builds/python-3.12.7-0123456789abcdef.json");
    put(&manifest, 10);
    let not_a_pack = put(&root.join("cache/builds/3.12.7-0123456789abcdef.json"), 10);
    let stopped_discard = root.join(format!("tmp/.discard-boost-1.86.0.{dead}"));
    put(&stopped_discard.join("boost_1_86_0/bootstrap.sh"), 10);
    let kept_tree = root.join(format!("tmp/python-3.11.2.{dead}"));
    put(&kept_tree.join("kept-by-strap"), 10);
    let live_tree = root.join(format!("tmp/python-3.10.0.{live}"));
    put(&live_tree.join("Makefile"), 10);
    let half_removed = root.join(format!("versions/.3.9.1.removing.{dead}"));
    put(&half_removed.join("bin/python3"), 100);
    let half_removed_boost = root.join(format!("boost/.1.86.0.removing.{dead}"));
    put(&half_removed_boost.join("include/boost/version.hpp"), 100);
    let installed_boost = root.join("boost/1.86.0");
    put(&installed_boost.join("include/boost/version.hpp"), 100);
    let installed = env.fake_version("3.12.7", &["python3"]);

    // What a clean removes, and what it must leave.
    let removable = [
        &archive,
        &mismatch,
        &free_lock,
        &free_download_lock,
        &old_log,
        &dead_tree,
        &stopped_discard,
        &half_removed,
        &half_removed_boost,
        &packed,
        &manifest,
    ];
    let kept = [
        &foreign,
        &not_a_pack,
        &live_log,
        &kept_tree,
        &live_tree,
        &installed,
        &installed_boost,
    ];

    // A dry run lists, removes nothing.
    let out = env
        .strap(&["cache", "clean", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listed = stdout_of(&out);
    for path in removable {
        assert!(
            listed.contains(&format!("would remove {} (", path.display())),
            "{} not listed:\n{listed}",
            path.display()
        );
        assert!(path.exists(), "the dry run removed {}", path.display());
    }
    for path in kept {
        assert!(!listed.contains(&path.display().to_string()), "{listed}");
    }
    assert!(
        listed.contains(&format!("would remove {} (3.00 MiB)", archive.display())),
        "{listed}"
    );
    assert!(
        stderr_of(&out).contains("strap: would free 3.01 MiB (1 archive, 1 mismatching download, 2 build trees, 2 half-removed versions, 2 packed build files, 1 log, 2 lock files); nothing was removed (--dry-run)"),
        "{}",
        stderr_of(&out)
    );

    let out = env.strap(&["cache", "clean"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listed = stdout_of(&out);
    let err = stderr_of(&out);
    for path in removable {
        assert!(
            listed.contains(&format!("removed {} (", path.display())),
            "{listed}"
        );
        assert!(!path.exists(), "{} is still there", path.display());
    }
    for path in kept {
        assert!(path.exists(), "{} was removed", path.display());
    }
    assert!(err.contains("strap: freed 3.01 MiB ("), "{err}");
    assert!(
        err.contains(&format!(
            "strap: left {}: kept with --keep",
            kept_tree.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "strap: left {}: in use by a running strap (pid {live})",
            live_tree.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "strap: left {}: written by a running strap (pid {live})",
            live_log.display()
        )),
        "{err}"
    );
    // No lock file is left behind by the clean itself.
    assert_eq!(fs::read_dir(root.join("locks")).unwrap().count(), 0);

    // Nothing left to do; and strap works on after it (locks are created again).
    env.strap(&["cache", "clean"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("strap: nothing to clean"));
    env.rehash();
}

#[test]
fn held_locks_and_what_they_guard_are_left() {
    let env = TestEnv::new();
    let root = env.root();
    let partial = put(&root.join("cache/Python-3.11.2.tgz.part"), 1000);
    let download_lock = root.join("cache/.locks/download-Python-3.11.2.tgz.lock");
    let downloading = hold(&download_lock);
    let archive = put(&root.join("cache/Python-3.12.7.tar.xz"), 1000);
    let install_lock = root.join("locks/python-3.13.0.lock");
    let installing = hold(&install_lock);

    let out = env.strap(&["cache", "clean"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        partial.exists() && archive.exists() && download_lock.exists() && install_lock.exists()
    );
    assert!(
        err.contains(&format!(
            "strap: left {}: being downloaded (pid {})",
            partial.display(),
            std::process::id()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "strap: left {}: an install is running (pid {})",
            archive.display(),
            std::process::id()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "strap: left {}: held by a running strap (pid {})",
            install_lock.display(),
            std::process::id()
        )),
        "{err}"
    );
    assert!(err.contains("strap: nothing to clean"), "{err}");

    // Once they are done, everything goes.
    drop(downloading);
    drop(installing);
    env.strap(&["cache", "clean"]).assert().success();
    assert!(!partial.exists() && !archive.exists());
    assert!(!download_lock.exists() && !install_lock.exists());
}

#[test]
fn older_than_keeps_what_is_recent() {
    let env = TestEnv::new();
    let root = env.root();
    let dead = dead_pid();
    let old_archive = put(&root.join("cache/Python-3.8.0.tgz"), 100);
    age(&old_archive, 40);
    let new_archive = put(&root.join("cache/Python-3.12.7.tar.xz"), 100);
    let old_log = put(&root.join(format!("logs/python-3.8.0-1-{dead}.log")), 10);
    age(&old_log, 40);
    let new_log = put(&root.join(format!("logs/python-3.12.7-2-{dead}.log")), 10);
    let old_lock = put(&root.join("locks/python-3.8.0.lock"), 1);
    age(&old_lock, 40);
    let new_lock = put(&root.join("locks/python-3.12.7.lock"), 1);

    env.strap(&["cache", "clean", "--older-than", "30"])
        .assert()
        .success()
        .stdout(format!(
            "removed {} (100 B)\nremoved {} (10 B)\nremoved {} (1 B)\n",
            old_archive.display(),
            old_log.display(),
            old_lock.display()
        ))
        .stderr(predicate::str::contains(
            "strap: freed 111 B (1 archive, 1 log, 1 lock file); left 3 entries modified in the last 30 days",
        ));
    assert!(new_archive.exists() && new_log.exists() && new_lock.exists());
    assert!(!old_archive.exists() && !old_log.exists() && !old_lock.exists());
    // A dry run changes nothing, not even when the lock files were last used.
    age(&new_lock, 40);
    env.strap(&["cache", "clean", "--older-than", "30", "--dry-run"])
        .assert()
        .success()
        .stdout(format!("would remove {} (1 B)\n", new_lock.display()));
    env.strap(&["cache", "clean", "--older-than", "30"])
        .assert()
        .success()
        .stdout(format!("removed {} (1 B)\n", new_lock.display()));
    env.strap(&["cache", "clean", "--older-than", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "strap: error: invalid value 'x'",
        ));
}

#[test]
fn the_cache_dir_setting_is_cleaned_too() {
    let env = TestEnv::new();
    let cache = env.dir.path().join("elsewhere");
    let archive = put(&cache.join("Python-3.12.7.tar.xz"), 10);
    let other = put(&cache.join("notes.txt"), 10);
    env.strap(&["cache", "clean"])
        .env("STRAP_CACHE_DIR", &cache)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "removed {} (10 B)",
            archive.display()
        )));
    assert!(!archive.exists() && other.exists());
}

/// Every entry directly in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_cache_dir_shared_with_other_files_loses_only_what_strap_put_there() {
    let env = TestEnv::new();
    let home = env.home();
    let key16 = "0123456789abcdef";
    let theirs = [
        put(&home.join("builds/thesis.tex"), 10),
        put(&home.join("builds/notes.json"), 10),
        put(
            &home.join("builds/python-3.12.7-0123456789abcdeX.tar.zst"),
            10,
        ),
        put(&home.join("builds/3.12.7-0123456789abcdef.tar.zst"), 10),
        put(&home.join("builds/ruby-3.3.0-0123456789abcdef.json"), 10),
        put(&home.join("Python-notes.tar.gz"), 10),
        put(&home.join("Python-3.12.7.zip"), 10),
        put(&home.join("openssl-notes.tar.gz"), 10),
        put(&home.join("boost_notes.tar.bz2"), 10),
        put(&home.join("holiday.tar.gz.part"), 10),
        put(&home.join(".bashrc"), 10),
    ];
    let ours = [
        put(&home.join("Python-3.12.7.tar.xz"), 10),
        put(&home.join("Python-3.13.0rc1.tgz.part"), 10),
        put(&home.join("openssl-1.1.1u.tar.gz"), 10),
        put(&home.join("boost_1_86_0.tar.bz2"), 10),
        put(&home.join("boost_1_85_0.tar.gz.part"), 10),
        put(&home.join("boost_1_86_0.tar.bz2.mismatch-0123456789ab"), 10),
        put(
            &home.join(format!("builds/python-3.12.7-{key16}.tar.zst")),
            10,
        ),
        put(&home.join(format!("builds/python-3.12.7-{key16}.json")), 10),
        put(
            &home.join(format!("builds/boost-1.86.0-py3.12-{key16}.json.part")),
            10,
        ),
        put(
            &home.join(format!("builds/.boost-1.86.0-{key16}.tar.zst.part")),
            10,
        ),
        // A pack being made (`strap pack`, the build cache): `.<file>.<random>.part`.
        put(
            &home.join(format!("builds/.python-3.12.7-{key16}.tar.zst.Xy12Ab.part")),
            10,
        ),
        put(
            &home.join(format!(
                "builds/python-3.11.2-{key16}.tar.zst.mismatch-0123456789ab"
            )),
            10,
        ),
    ];
    let out = env
        .strap(&["cache", "clean"])
        .env("STRAP_CACHE_DIR", &home)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listed = stdout_of(&out);
    for path in &ours {
        assert!(!path.exists(), "{} is still there", path.display());
        assert!(listed.contains(&path.display().to_string()), "{listed}");
    }
    for path in &theirs {
        assert!(path.exists(), "{} was removed", path.display());
    }
    assert!(
        stderr_of(&out).contains("strap: freed 120 B (3 archives, 5 partial downloads, 2 mismatching downloads, 2 packed build files)"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn directories_that_are_links_are_not_followed() {
    let env = TestEnv::new();
    let root = env.root();
    let dead = dead_pid();
    let outside = env.dir.path().join("outside");
    let log = put(
        &outside.join(format!("logs/python-3.12.7-1700000000-{dead}.log")),
        10,
    );
    let pack = put(
        &outside.join("builds/python-3.12.7-0123456789abcdef.tar.zst"),
        10,
    );
    let archive = put(&outside.join("cache/Python-3.12.7.tar.xz"), 10);
    let tree = outside.join(format!("tmp/python-3.12.7.{dead}"));
    put(&tree.join("Makefile"), 10);
    let half_removed = outside.join(format!("versions/.3.9.1.removing.{dead}"));
    put(&half_removed.join("bin/python3"), 10);
    fs::create_dir_all(root.join("cache")).unwrap();
    let links = [
        ("logs", "logs"),
        ("cache/builds", "builds"),
        ("tmp", "tmp"),
        ("versions", "versions"),
    ];
    for (link, target) in links {
        std::os::unix::fs::symlink(outside.join(target), root.join(link)).unwrap();
    }

    let out = env.strap(&["cache", "clean"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(log.exists() && pack.exists() && tree.exists() && half_removed.exists());
    for (link, _) in links {
        assert!(
            err.contains(&format!(
                "strap: left {}: a link, not the directory strap made: not followed",
                root.join(link).display()
            )),
            "{err}"
        );
    }
    assert!(err.contains("strap: nothing to clean"), "{err}");

    // The default cache directory too (STRAP_CACHE_DIR, which the user names, is followed).
    fs::remove_file(root.join("cache/builds")).unwrap();
    fs::remove_dir(root.join("cache")).unwrap();
    std::os::unix::fs::symlink(outside.join("cache"), root.join("cache")).unwrap();
    let err = stderr_of(&env.strap(&["cache", "clean"]).output().unwrap());
    assert!(archive.exists(), "{err}");
    assert!(
        err.contains(&format!(
            "strap: left {}: a link",
            root.join("cache").display()
        )),
        "{err}"
    );
    env.strap(&["cache", "clean"])
        .env("STRAP_CACHE_DIR", root.join("cache"))
        .assert()
        .success();
    assert!(!archive.exists());
}

#[test]
fn a_locks_directory_that_is_a_link_stops_the_clean() {
    let env = TestEnv::new();
    let root = env.root();
    let outside = env.dir.path().join("outside");
    let lock = put(&outside.join("python-3.12.7.lock"), 5);
    let archive = put(&root.join("cache/Python-3.12.7.tar.xz"), 10);
    std::os::unix::fs::symlink(&outside, root.join("locks")).unwrap();
    env.strap(&["cache", "clean"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "strap: error: {} is a link, not the directory of lock files strap made",
            root.join("locks").display()
        )))
        .stderr(predicate::str::contains("hint: remove the link"));
    assert!(lock.exists() && archive.exists());
}

fn mkfifo(path: &Path) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
    path.to_owned()
}

#[test]
fn a_lock_file_that_is_a_link_or_a_fifo_is_not_used() {
    let env = TestEnv::new();
    let root = env.root();
    let outside = env.dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    let partial = put(&root.join("cache/Python-3.12.7.tar.xz.part"), 10);
    let lock = root.join("cache/.locks/download-Python-3.12.7.tar.xz.lock");
    fs::create_dir_all(root.join("cache/.locks")).unwrap();
    std::os::unix::fs::symlink(outside.join("made-through-the-link"), &lock).unwrap();
    let fifo_guarded = put(&root.join("cache/Python-3.11.2.tgz.part"), 10);
    let fifo_lock = mkfifo(&root.join("cache/.locks/download-Python-3.11.2.tgz.lock"));
    let fifos = [
        mkfifo(&root.join("cache/Python-3.10.0.tgz")),
        mkfifo(&root.join(format!("logs/python-3.10.0-1-{}.log", dead_pid()))),
        mkfifo(&root.join("cache/builds/python-3.10.0-0123456789abcdef.json")),
    ];
    let out = env
        .strap(&["cache", "clean"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(partial.exists(), "{err}");
    assert!(
        err.contains(&format!(
            "strap: left {}: its lock cannot be taken: cannot lock through the link {}",
            partial.display(),
            lock.display()
        )),
        "{err}"
    );
    assert_eq!(names_in(&outside), Vec::<String>::new());
    assert!(fifo_guarded.exists() && fifo_lock.exists(), "{err}");
    assert!(
        err.contains(&format!(
            "strap: left {}: its lock cannot be taken: cannot lock {}: not a regular file; remove it",
            fifo_guarded.display(),
            fifo_lock.display()
        )),
        "{err}"
    );
    for fifo in fifos {
        assert!(fifo.exists(), "{err}");
    }
}

#[test]
fn a_huge_older_than_keeps_everything() {
    let env = TestEnv::new();
    let root = env.root();
    let archive = put(&root.join("cache/Python-3.8.0.tgz"), 100);
    age(&archive, 4000);
    for days in ["18446744073709551615", "213503982334601"] {
        env.strap(&["cache", "clean", "--older-than", days])
            .assert()
            .success()
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "strap: nothing to clean; left 1 entry modified in the last {days} days"
            )));
        assert!(archive.exists());
    }
}

#[test]
fn packs_a_held_lock_covers_are_left() {
    let env = TestEnv::new();
    let builds = env.root().join("cache/builds");
    let key16 = "0123456789abcdef";
    let downloading = put(
        &builds.join(format!("python-3.12.7-{key16}.tar.zst.part")),
        10,
    );
    let pulling = put(
        &builds.join(format!(".python-3.12.7-{key16}.tar.zst.part")),
        10,
    );
    let installing = put(&builds.join(format!("python-3.11.2-{key16}.tar.zst")), 10);
    let other = put(&builds.join(format!("python-3.10.0-{key16}.json")), 10);
    let _download = hold(&env.root().join(format!(
        "cache/.locks/download-builds-python-3.12.7-{key16}.tar.zst.lock"
    )));
    let _install = hold(&env.root().join("locks/python-3.11.2.lock"));
    let out = env.strap(&["cache", "clean"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let pid = std::process::id();
    for path in [&downloading, &pulling] {
        assert!(path.exists(), "{err}");
        assert!(
            err.contains(&format!(
                "strap: left {}: being downloaded (pid {pid})",
                path.display()
            )),
            "{err}"
        );
    }
    assert!(installing.exists(), "{err}");
    assert!(
        err.contains(&format!(
            "strap: left {}: an install of python 3.11.2 is running (pid {pid})",
            installing.display()
        )),
        "{err}"
    );
    assert!(!other.exists(), "{err}");
}

#[test]
fn the_pack_a_running_fetch_only_downloads_is_left() {
    use crate::mirror::Behavior;
    let s = crate::support::Setup::new();
    s.install(&["a"], &[]).assert().success();
    let builds = s.env.root().join("cache/builds");
    let files = names_in(&builds);
    assert_eq!(files.len(), 2, "{files:?}");
    let (manifest, archive) = (&files[0], &files[1]);
    let bytes = fs::read(builds.join(archive)).unwrap();
    let half = bytes.len() / 2;
    s.mirror.route(
        &format!("/builds/{manifest}"),
        Behavior::Serve(fs::read(builds.join(manifest)).unwrap()),
    );
    s.mirror.route(
        &format!("/builds/{archive}"),
        Behavior::StallAfter(bytes, half),
    );

    let other = TestEnv::new();
    let mut fetching = Alive(
        Command::new(crate::support::strap_bin())
            .env_clear()
            .envs(other.env_pairs())
            .env("STRAP_DOWNLOAD_TIMEOUT", "300")
            .current_dir(other.work())
            .args([
                "install",
                "--skip-preflight",
                "--sha256",
                &s.sha,
                "--fetch-only",
            ])
            .args([
                "--binary-mirror",
                &format!("http://127.0.0.1:{}/builds/", s.mirror.port),
            ])
            .args(["--mirror", &s.mirror.template("empty"), "3.99.1"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let part = other.root().join(format!("cache/builds/{archive}.part"));
    let appeared = crate::support::wait_until(crate::support::PATIENCE, || {
        assert!(fetching.0.try_wait().unwrap().is_none(), "the fetch ended");
        fs::metadata(&part).map_or(0, |m| m.len()) >= half as u64
    });
    assert!(appeared, "no partial download appeared");
    let out = other.strap(&["cache", "clean"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(part.exists(), "{err}");
    assert!(
        err.contains(&format!(
            "strap: left {}: being downloaded (pid {})",
            part.display(),
            fetching.pid()
        )),
        "{err}"
    );
    drop(fetching);
}
