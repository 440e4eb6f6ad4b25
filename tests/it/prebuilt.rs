//! Prebuilt CPython (python-build-standalone): archives shaped as PBS's, generated here — a
//! tiny interpreter tree under `python/` (or `python/install/`) that runs the system's Python,
//! with PBS's `/install` prefix in its text files and its clang and build paths in its
//! sysconfig — served by the loopback mirror through a catalog of our own
//! (`STRAP_PREBUILT_CATALOG`), installed by the real binary: platform selection, checksum
//! refusal, fallback to the source build, relocation, the compiler rewrite, the C extension
//! check, the receipt and `strap versions`. The [`Fixture`] is shared with
//! `prebuilt_pipeline.rs`. The fake interpreter stops (writes its pid into the file and
//! sleeps) when `FAKE_PBS_STALL` names a file, for tests that interrupt an install.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

use crate::fake_source::{fake_python_tgz, sha256_hex};
use crate::mirror::{Behavior, Mirror};
use crate::support::{file_url, stderr_of, stdout_of, TestEnv};

/// The release tag of the generated builds.
pub(crate) const BUILD: &str = "20250115";

/// What the system's Python says about itself: (`3.11.2`, `3.11`, its sysconfigdata module's
/// name, `EXT_SUFFIX`, its header directory).
pub(crate) struct Host {
    pub(crate) version: String,
    pub(crate) minor: String,
    sysconfigdata: String,
    ext_suffix: String,
    include: PathBuf,
}

fn host() -> Host {
    let out = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import platform, sys, sysconfig\n\
             print(platform.python_version())\n\
             print('%d.%d' % sys.version_info[:2])\n\
             print(sysconfig._get_sysconfigdata_name())\n\
             print(sysconfig.get_config_var('EXT_SUFFIX'))\n\
             print(sysconfig.get_config_var('INCLUDEPY'))",
        ])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    let include = PathBuf::from(lines[4]);
    assert!(
        include.join("Python.h").is_file(),
        "these tests build a C extension against the system Python's headers ({}): install its -dev package",
        include.display()
    );
    Host {
        version: lines[0].to_owned(),
        minor: lines[1].to_owned(),
        sysconfigdata: lines[2].to_owned(),
        ext_suffix: lines[3].to_owned(),
        include,
    }
}

/// One entry of a generated archive.
enum Entry {
    File(String, Vec<u8>, u32),
    Link(String, String),
}

/// A tar of `entries`, gzip- or (for `.tar.zst`) zstd-compressed.
fn archive(entries: &[Entry], zst: bool) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        match entry {
            Entry::File(path, body, mode) => {
                header.set_size(body.len() as u64);
                header.set_mode(*mode);
                header.set_cksum();
                builder.append_data(&mut header, path, &body[..]).unwrap();
            }
            Entry::Link(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                header.set_mode(0o777);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    let tar = builder.into_inner().unwrap();
    if zst {
        zstd::encode_all(&tar[..], 3).unwrap()
    } else {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }
}

/// A PBS-shaped interpreter tree of `version` (of the system Python's minor version) in
/// `variant` (as the catalog names it) under `top` (`python` or `python/install`), built for
/// `/install` with clang: `bin/pythonX.Y` runs the system's Python seeing this tree's
/// `lib/pythonX.Y` (its `_sysconfigdata`, with `Py_GIL_DISABLED` for a free-threaded variant, a
/// fake pip, for another version or a debug variant a `platform` module saying so) first;
/// `marker` is written to `share/strap-test-platform` to tell archives apart.
fn pbs_tree(host: &Host, version: &str, variant: &str, top: &str, marker: &str) -> Vec<Entry> {
    let minor = &host.minor;
    let lib = format!("lib/python{minor}");
    let file = |path: &str, body: String, mode: u32| {
        Entry::File(format!("{top}/{path}"), body.into_bytes(), mode)
    };
    let interpreter = format!(
        "#!/bin/sh\nhere=$(cd \"$(dirname \"$0\")/..\" && pwd)\n\
         if [ -n \"$FAKE_PBS_STALL\" ]; then echo $$ > \"$FAKE_PBS_STALL\"; exec sleep 300; fi\n\
         PYTHONPATH=\"$here/{lib}:$here/{lib}/site-packages\" exec /usr/bin/python3 -S \"$@\"\n"
    );
    let sysconfigdata = format!(
        "# system configuration generated and used by the sysconfig module\n\
         build_time_vars = {{'CC': 'clang -pthread',\n \
         'CXX': 'clang++ -pthread',\n \
         'LDSHARED': 'clang -pthread -shared -fuse-ld=lld '\n             '-L/tools/deps/lib',\n \
         'CFLAGS': '-O2 -Wall -isystem /tools/deps/include',\n \
         'CCSHARED': '-fPIC',\n \
         'EXT_SUFFIX': '{}',\n \
         'INCLUDEPY': '/install/include/python{minor}',\n \
         'Py_GIL_DISABLED': {},\n \
         'prefix': '/install'}}\n",
        host.ext_suffix,
        u8::from(variant.starts_with("freethreaded"))
    );
    let mut entries =
        vec![
        file(&format!("bin/python{minor}"), interpreter, 0o755),
        Entry::Link(format!("{top}/bin/python3"), format!("python{minor}")),
        file(
            "bin/pip3",
            format!("#!/install/bin/python{minor}\nimport pip\npip.main()\n"),
            0o755,
        ),
        file(&format!("{lib}/{}.py", host.sysconfigdata), sysconfigdata, 0o644),
        file(
            &format!("{lib}/config-{minor}-x86_64-linux-gnu/Makefile"),
            "prefix=\t\t/install\nCC=\t\tclang -pthread\nLDSHARED=\t$(CC) -shared -fuse-ld=lld\n"
                .to_owned(),
            0o644,
        ),
        file(
            &format!("{lib}/site-packages/pip/__init__.py"),
            "def main():\n    print('pip 99.0 (fake)')\n".to_owned(),
            0o644,
        ),
        file(
            &format!("{lib}/site-packages/pip/__main__.py"),
            "import pip\npip.main()\n".to_owned(),
            0o644,
        ),
        file(
            &format!("{lib}/site-packages/pip-99.0.dist-info/RECORD"),
            "pip/_internal/operations/install/wheel.py,,\n".to_owned(),
            0o644,
        ),
        file("lib/pkgconfig/python3.pc", "prefix=/install\n".to_owned(), 0o644),
        file("share/strap-test-platform", format!("{marker}\n"), 0o644),
    ];
    let debug = variant.ends_with("debug");
    if version != host.version || debug {
        // A debug build has `sys.gettotalrefcount`.
        let refcount = if debug {
            "import sys\nsys.gettotalrefcount = lambda: 0\n"
        } else {
            ""
        };
        entries.push(file(
            &format!("{lib}/platform.py"),
            format!(
                "import importlib.util, os\n\
                 spec = importlib.util.spec_from_file_location(\n    \
                 '_system_platform', os.path.join(os.path.dirname(os.__file__), 'platform.py'))\n\
                 system = importlib.util.module_from_spec(spec)\n\
                 spec.loader.exec_module(system)\n\
                 globals().update((k, v) for k, v in vars(system).items() if not k.startswith('__'))\n\
                 def python_version():\n    return '{version}'\n{refcount}"
            ),
            0o644,
        ));
    }
    for header in fs::read_dir(&host.include).unwrap() {
        let path = header.unwrap().path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            entries.push(Entry::File(
                format!("{top}/include/python{minor}/{name}"),
                fs::read(&path).unwrap(),
                0o644,
            ));
        }
    }
    for sub in ["cpython", "internal"] {
        let dir = host.include.join(sub);
        for header in fs::read_dir(&dir).into_iter().flatten() {
            let path = header.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            entries.push(Entry::File(
                format!("{top}/include/python{minor}/{sub}/{name}"),
                fs::read(&path).unwrap(),
                0o644,
            ));
        }
    }
    entries
}

/// A machine, a mirror serving PBS-shaped archives under `/pbs/{build}/` (each also in the
/// directory of [`Fixture::file_mirror`]) and a fake CPython source under `/src/`, and
/// catalogs of our own.
pub(crate) struct Fixture {
    pub(crate) env: TestEnv,
    pub(crate) mirror: Mirror,
    pub(crate) host: Host,
    lines: std::cell::RefCell<Vec<String>>,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let f = Fixture {
            env: TestEnv::new(),
            mirror: Mirror::start(),
            host: host(),
            lines: Default::default(),
        };
        // The source build the fallback installs: a fake CPython of the host's version.
        let source = fake_python_tgz(&f.host.version);
        let file = format!("Python-{}.tgz", f.host.version);
        f.env.write(
            "python-catalog.txt",
            &format!(
                "{} cpython {file}:{}\n",
                f.host.version,
                sha256_hex(&source)
            ),
        );
        f.mirror
            .route(&format!("/src/{file}"), Behavior::Serve(source));
        f
    }

    /// Serves a PBS archive of the system Python's version for `platform` (`x86_64_v3-gnu`)
    /// in `variant`, laid out under `top`, and adds its catalog line (with `sha256`, else its
    /// own); its file name.
    pub(crate) fn publish(
        &self,
        platform: &str,
        variant: &str,
        full: bool,
        sha256: Option<&str>,
    ) -> String {
        self.publish_version(&self.host.version, platform, variant, full, sha256)
    }

    /// [`Fixture::publish`] of another `version` (of the system Python's minor version).
    pub(crate) fn publish_version(
        &self,
        version: &str,
        platform: &str,
        variant: &str,
        full: bool,
        sha256: Option<&str>,
    ) -> String {
        let (top, flavor, ext) = if full {
            (
                "python/install",
                format!("{}-full", variant.replace("default", "pgo+lto")),
                "tar.zst",
            )
        } else {
            ("python", "install_only_stripped".to_owned(), "tar.gz")
        };
        let bytes = archive(&pbs_tree(&self.host, version, variant, top, platform), full);
        let build = Published {
            version,
            platform,
            variant,
            tail: &format!("{flavor}.{ext}"),
        };
        self.serve(&build, bytes, sha256)
    }

    /// Serves `bytes` as the archive of `build` (also as a file in the `file://` mirror's
    /// directory) and adds its catalog line (with `sha256`, else its own); its file name.
    fn serve(&self, build: &Published<'_>, bytes: Vec<u8>, sha256: Option<&str>) -> String {
        let (arch, libc) = build.platform.split_once('-').unwrap();
        let file = format!(
            "cpython-{}+{BUILD}-{arch}-unknown-linux-{libc}-{}",
            build.version, build.tail
        );
        let encoded = file.replace('+', "%2B");
        let sha = sha256.map_or_else(|| sha256_hex(&bytes), str::to_owned);
        let dir = self.env.dir.path().join("pbs");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(&file), &bytes).unwrap();
        self.mirror
            .route(&format!("/pbs/{BUILD}/{encoded}"), Behavior::Serve(bytes));
        self.lines.borrow_mut().push(format!(
            "{}\t{arch}\t{libc}\t{}\t{BUILD}\thttp://127.0.0.1:{}/pbs/{BUILD}/{encoded}\t{sha}",
            build.version, build.variant, self.mirror.port
        ));
        file
    }

    /// The `file://` prebuilt mirror template of the directory holding every published archive.
    pub(crate) fn file_mirror(&self) -> String {
        format!("{}/{{file}}", file_url(&self.env.dir.path().join("pbs")))
    }

    /// `strap ARGS` on a machine of `platform` (`x86_64_v3-linux-gnu`), with our catalogs.
    pub(crate) fn strap(&self, platform: &str, args: &[&str]) -> Command {
        self.strap_on(&self.env, platform, args)
    }

    /// [`Fixture::strap`] run on the machine `env` (another root and cache).
    pub(crate) fn strap_on(&self, env: &TestEnv, platform: &str, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.strap_process(env, platform, args));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// [`Fixture::strap_on`] as a plain command, for tests that signal it while it runs.
    pub(crate) fn strap_process(
        &self,
        env: &TestEnv,
        platform: &str,
        args: &[&str],
    ) -> std::process::Command {
        let catalog = format!(
            "# generated\nversion\tarch\tlibc\tvariant\tbuild\turl\tsha256\n{}\n",
            self.lines.borrow().join("\n")
        );
        let path = self.env.write("pbs.tsv", &catalog);
        let mut cmd = env.strap_process(args);
        cmd.env("STRAP_PREBUILT_CATALOG", path)
            .env(
                "STRAP_PYTHON_CATALOG",
                self.env.dir.path().join("python-catalog.txt"),
            )
            .env("STRAP_PLATFORM", platform);
        cmd
    }

    /// `strap install --skip-preflight ARGS VERSION` from our mirrors.
    pub(crate) fn install(&self, platform: &str, args: &[&str]) -> std::process::Output {
        self.install_on(&self.env, platform, args)
    }

    /// [`Fixture::install`] on the machine `env`.
    pub(crate) fn install_on(
        &self,
        env: &TestEnv,
        platform: &str,
        args: &[&str],
    ) -> std::process::Output {
        self.install_command_on(env, platform, args)
            .output()
            .unwrap()
    }

    /// [`Fixture::install_on`]'s command, to run with more settings.
    fn install_command_on(&self, env: &TestEnv, platform: &str, args: &[&str]) -> Command {
        let mut all = vec!["install", "--skip-preflight"];
        all.extend(args);
        let mut cmd = self.strap_on(env, platform, &all);
        cmd.args(["--mirror", &self.mirror.template("src")])
            .arg(&self.host.version);
        cmd
    }

    pub(crate) fn prefix(&self, name: &str) -> PathBuf {
        self.env.root().join("versions").join(name)
    }

    pub(crate) fn read(&self, name: &str, path: &str) -> String {
        fs::read_to_string(self.prefix(name).join(path)).unwrap()
    }

    /// What the installed interpreter's sysconfig says `var` is.
    fn config_var(&self, name: &str, var: &str) -> String {
        let out = std::process::Command::new(self.prefix(name).join("bin/python3"))
            .args([
                "-c",
                &format!("import sysconfig; print(sysconfig.get_config_var('{var}'))"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stdout_of(&out).trim().to_owned()
    }

    /// Asserts that `out` is a failed install (exit 1) saying `expected` that left nothing
    /// installed as `name`; its output.
    fn refused(&self, out: &std::process::Output, name: &str, expected: &str) -> String {
        let text = both(out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains(expected), "{text}");
        assert!(!self.prefix(name).exists(), "{text}");
        text
    }

    pub(crate) fn downloads(&self) -> Vec<String> {
        self.mirror.requests().into_iter().map(|r| r.path).collect()
    }
}

/// What a catalog line says of a published archive.
struct Published<'a> {
    version: &'a str,
    /// `x86_64_v3-gnu`.
    platform: &'a str,
    variant: &'a str,
    /// The file name after the platform (`install_only_stripped.tar.gz`).
    tail: &'a str,
}

/// What `strap versions` on `env` says of `name`: its line, and its `source` in `--json`.
pub(crate) fn in_versions(env: &TestEnv, name: &str) -> (String, serde_json::Value) {
    let out = env.strap(&["versions"]).output().unwrap();
    let line = stdout_of(&out)
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let out = env.strap(&["versions", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .map_or(serde_json::Value::Null, |e| e["source"].clone());
    (line, source)
}

pub(crate) fn both(out: &std::process::Output) -> String {
    format!("{}{}", stdout_of(out), stderr_of(out))
}

#[test]
fn the_highest_x86_64_level_the_platform_runs_is_chosen_with_its_libc() {
    let f = Fixture::new();
    for platform in [
        "x86_64-gnu",
        "x86_64_v2-gnu",
        "x86_64_v3-gnu",
        "x86_64_v4-gnu",
        "x86_64-musl",
        "x86_64_v2-musl",
    ] {
        f.publish(platform, "default", false, None);
    }
    let listed = |platform: &str| {
        let out = f
            .strap(platform, &["install", "--list", "--prebuilt", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json[0]["platform"].as_str().unwrap().to_owned()
    };
    assert_eq!(listed("x86_64_v3-linux-gnu"), "x86_64_v3-gnu");
    assert_eq!(listed("x86_64_v4-linux-gnu"), "x86_64_v4-gnu");
    assert_eq!(listed("x86_64-linux-gnu"), "x86_64-gnu");
    assert_eq!(listed("x86_64_v3-linux-musl"), "x86_64_v2-musl");
    assert_eq!(listed("x86_64-linux-musl"), "x86_64-musl");
    let out = f
        .strap("aarch64-linux-gnu", &["install", "--list", "--prebuilt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("no build for aarch64-gnu"),
        "{}",
        stderr_of(&out)
    );

    let out = f.install("x86_64_v3-linux-musl", &["--prebuilt"]);
    assert!(out.status.success(), "{}", both(&out));
    let name = &f.host.version;
    assert_eq!(
        f.read(name, "share/strap-test-platform"),
        "x86_64_v2-musl\n"
    );
    assert!(both(&out).contains(&format!(
        "CPython {name} (prebuilt, python-build-standalone {BUILD}, x86_64_v2-musl, install_only_stripped)"
    )));
}

#[test]
fn a_prebuilt_is_relocated_names_this_machine_s_compiler_builds_a_c_extension_and_is_recorded() {
    let f = Fixture::new();
    let file = f.publish("x86_64_v3-gnu", "default", false, None);
    let name = f.host.version.clone();
    let minor = f.host.minor.clone();
    let out = f.install("x86_64_v3-linux-gnu", &["--prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("==> sysconfig:"), "{text}");
    assert!(text.contains("builds a C extension that imports"), "{text}");
    assert!(!text.contains("==> configure"), "{text}");
    assert_eq!(
        f.downloads(),
        [format!("/pbs/{BUILD}/{}", file.replace('+', "%2B"))],
        "one download, + percent-encoded"
    );
    // Relocated from /install, where it is a whole path only.
    let prefix = f.prefix(&name).display().to_string();
    assert_eq!(
        f.read(&name, "bin/pip3").lines().next().unwrap(),
        format!("#!{prefix}/bin/python{minor}")
    );
    assert_eq!(
        f.read(&name, "lib/pkgconfig/python3.pc"),
        format!("prefix={prefix}\n")
    );
    assert_eq!(
        f.read(
            &name,
            &format!("lib/python{minor}/site-packages/pip-99.0.dist-info/RECORD")
        ),
        "pip/_internal/operations/install/wheel.py,,\n"
    );
    // This machine's compiler, without PBS's linker and build tree.
    let cc = f.config_var(&name, "CC");
    assert!(!cc.contains("clang") && cc.ends_with(" -pthread"), "{cc}");
    let ldshared = f.config_var(&name, "LDSHARED");
    assert!(
        !ldshared.contains("clang") && !ldshared.contains("lld") && !ldshared.contains("/tools/"),
        "{ldshared}"
    );
    assert_eq!(f.config_var(&name, "CFLAGS"), "-O2 -Wall");
    assert_eq!(
        f.config_var(&name, "INCLUDEPY"),
        format!("{prefix}/include/python{minor}")
    );
    let makefile = f.read(
        &name,
        &format!("lib/python{minor}/config-{minor}-x86_64-linux-gnu/Makefile"),
    );
    assert!(
        makefile.contains(&format!("prefix=\t\t{prefix}\n")),
        "{makefile}"
    );
    assert!(
        !makefile.contains("clang") && !makefile.contains("lld"),
        "{makefile}"
    );
    // The receipt says where it came from; versions marks it.
    let receipt: serde_json::Value =
        serde_json::from_str(&f.read(&name, "strap-receipt.json")).unwrap();
    assert_eq!(receipt["details"]["source"], "prebuilt");
    assert_eq!(receipt["details"]["build"], BUILD);
    assert!(receipt["details"]["url"]
        .as_str()
        .unwrap()
        .ends_with(&file.replace('+', "%2B")));
    assert_eq!(receipt["sources"][0]["file"], file.as_str());
    assert_eq!(
        receipt["details"]["sha256"],
        receipt["sources"][0]["sha256"]
    );
    let (line, source) = in_versions(&f.env, &name);
    assert!(line.contains(&format!("{name} (prebuilt)")), "{line}");
    assert_eq!(source, "prebuilt");

    // The build cache never serves the prebuilt as the source build.
    f.env.strap(&["uninstall", "-f", &name]).assert().success();
    let out = f.install("x86_64_v3-linux-gnu", &["--no-prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("==> configure"), "{text}");
    let (line, source) = in_versions(&f.env, &name);
    assert!(!line.contains("(prebuilt)"), "{line}");
    assert_ne!(source, "prebuilt");
}

/// A root given relative to the current directory, with a blank in its name (a CI workspace
/// named after its job): the sysconfig is found inside the install, and the scripts run,
/// though the kernel would end a `#!` line's path at the blank.
#[test]
fn under_a_relative_root_with_a_blank_the_install_s_scripts_run() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    let name = f.host.version.clone();
    let out = f
        .install_command_on(&f.env, "x86_64_v3-linux-gnu", &["--prebuilt"])
        .env("STRAP_ROOT", "my job/.strap")
        .output()
        .unwrap();
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    let prefix = f.env.work().join("my job/.strap/versions").join(&name);
    let pip = prefix.join("bin/pip3");
    let script = fs::read_to_string(&pip).unwrap();
    assert!(script.starts_with("#!/bin/sh\n'''exec' \""), "{script}");
    let run = std::process::Command::new(&pip)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(stdout_of(&run), "pip 99.0 (fake)\n", "{}", stderr_of(&run));
}

/// A build for another architecture (`STRAP_PLATFORM` names it) cannot run here: the refusal
/// says so, rather than what `/bin/sh` makes of the binary the kernel would not run.
#[test]
fn a_build_for_another_architecture_is_refused_naming_both() {
    let f = Fixture::new();
    let minor = &f.host.minor;
    let interpreter = format!("python/bin/python{minor}");
    let mut elf = b"\x7fELF\x02\x02\x01".to_vec();
    elf.resize(18, 0);
    elf.extend_from_slice(&22u16.to_be_bytes()); // EM_S390
    elf.resize(4096, 0);
    let entries: Vec<Entry> = pbs_tree(&f.host, &f.host.version, "default", "python", "s390x")
        .into_iter()
        .map(|entry| match entry {
            Entry::File(path, _, mode) if path == interpreter => {
                Entry::File(path, elf.clone(), mode)
            }
            other => other,
        })
        .collect();
    let published = Published {
        version: &f.host.version,
        platform: "s390x-gnu",
        variant: "default",
        tail: "install_only_stripped.tar.gz",
    };
    f.serve(&published, archive(&entries, false), None);
    let out = f.install("s390x-linux-gnu", &["--prebuilt=only"]);
    let text = f.refused(
        &out,
        &f.host.version,
        "is built for S390, not for this machine (",
    );
    assert!(
        text.contains("): it cannot run, or be checked, here"),
        "{text}"
    );
}

/// A root whose path has a character the sysconfig files, the `/bin/sh` lines of scripts and
/// pip's launchers in virtualenvs cannot quote is refused before anything is downloaded.
#[test]
fn a_root_with_a_character_an_install_cannot_quote_is_refused() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    for bad in ["it's", "say \"hi\"", "back\\slash", "$HOME", "new\nline"] {
        let root = f.env.dir.path().join(bad);
        let out = f
            .install_command_on(&f.env, "x86_64_v3-linux-gnu", &["--prebuilt"])
            .env("STRAP_ROOT", &root)
            .output()
            .unwrap();
        let text = both(&out);
        assert_eq!(out.status.code(), Some(2), "{bad}: {text}");
        assert!(
            text.contains("which the scripts and sysconfig files of an install cannot quote"),
            "{bad}: {text}"
        );
        assert!(
            !root.join("versions").join(&f.host.version).exists(),
            "{bad}"
        );
        // A version already there (the root renamed since): no virtualenv is made from it.
        crate::support::write_script(
            &root
                .join("versions")
                .join(&f.host.version)
                .join("bin/python3"),
            "exit 0",
        );
        let out = f
            .env
            .strap(&["virtualenv", &f.host.version, "venv"])
            .env("STRAP_ROOT", &root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", both(&out));
        assert!(both(&out).contains("cannot quote"), "{bad}: {}", both(&out));
        assert!(!root.join("versions/venv").exists(), "{bad}");
    }
    assert!(f.downloads().is_empty(), "{:?}", f.downloads());
}

#[test]
fn the_full_layout_of_a_debug_build_installs_as_the_debug_version() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    f.publish("x86_64_v3-gnu", "debug", true, None);
    let out = f.install("x86_64_v3-linux-gnu", &["--prebuilt", "-g"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    let name = format!("{}-debug", f.host.version);
    assert!(
        text.contains(&format!(
            "CPython {name} (prebuilt, python-build-standalone {BUILD}, x86_64_v3-gnu, debug-full)"
        )),
        "{text}"
    );
    assert!(f.prefix(&name).join("bin/python3").exists());
    assert!(!f.prefix(&name).join("install").exists());
    assert!(f
        .read(&name, "lib/pkgconfig/python3.pc")
        .contains(&f.prefix(&name).display().to_string()));
}

#[test]
fn a_wrong_checksum_is_refused_and_prefer_builds_from_source_saying_why() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, Some(&"0".repeat(64)));
    let name = f.host.version.clone();
    let out = f.install("x86_64_v3-linux-gnu", &["--prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("the prebuilt {name} cannot be installed (")),
        "{text}"
    );
    assert!(text.contains("sha256"), "{text}");
    assert!(text.contains("==> configure"), "{text}");
    let receipt = f.read(&name, "strap-receipt.json");
    assert!(!receipt.contains("\"prebuilt\""), "{receipt}");

    let g = Fixture::new();
    g.publish("x86_64_v3-gnu", "default", false, Some(&"0".repeat(64)));
    let out = g
        .strap("x86_64_v3-linux-gnu", &["install", &name])
        .env("STRAP_PYTHON_PREBUILT", "only")
        .output()
        .unwrap();
    g.refused(&out, &name, "sha256");
}

#[test]
fn without_a_build_for_the_platform_prefer_builds_from_source_and_only_fails() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    let name = f.host.version.clone();
    let config = f
        .env
        .write("config.toml", "[python]\nprebuilt = \"only\"\n");
    let out = f
        .strap("aarch64-linux-gnu", &["install", &name])
        .env("STRAP_CONFIG", &config)
        .output()
        .unwrap();
    f.refused(
        &out,
        &name,
        &format!("no prebuilt {name} to install: python-build-standalone has no build of {name} for aarch64-gnu"),
    );

    let out = f.install("aarch64-linux-gnu", &["--prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("python-build-standalone has no build of {name} for aarch64-gnu; building {name} from source")),
        "{text}"
    );
    assert!(text.contains("==> configure"), "{text}");
}

#[test]
fn a_source_build_says_once_that_the_prebuilt_would_take_seconds() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    let name = f.host.version.clone();
    let out = f.install("x86_64_v3-linux-gnu", &[]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    let hint = format!("`strap install --prebuilt {name}` would install it in seconds");
    assert_eq!(text.matches(&hint).count(), 1, "{text}");
    assert!(text.contains("==> configure"), "{text}");
    assert!(
        f.downloads().iter().all(|d| d.starts_with("/src/")),
        "{:?}",
        f.downloads()
    );
}

#[test]
fn bad_settings_are_usage_errors() {
    let f = Fixture::new();
    let out = f
        .strap("x86_64_v3-linux-gnu", &["install", "3.11.2"])
        .env("STRAP_PYTHON_PREBUILT", "always")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out)
        .contains("STRAP_PYTHON_PREBUILT must be never, prefer or only, not 'always'"));
    // Platforms python-build-standalone has no builds for are refused, naming the forms.
    for platform in [
        "x86_64_v9-linux-gnu",
        "mips64-linux-gnu",
        "armv7-linux-musl",
    ] {
        let out = f
            .strap(platform, &["install", "--list", "--prebuilt"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!(
                "STRAP_PLATFORM='{platform}' is not a platform python-build-standalone builds for"
            )) && err.contains("ARCH x86_64, x86_64_v2, x86_64_v3, x86_64_v4, i686, aarch64")
                && err.contains("ARCH armv7 and LIBC gnueabi or gnueabihf"),
            "{err}"
        );
    }
    // A STRAP_ARCH that is no architecture's name is a usage error naming the forms, shown with
    // its control characters escaped, for prebuilt and binary families alike.
    for (arch, args) in [
        ("\x1b[2Jx86", &["install", "--list", "--prebuilt"][..]),
        ("x86/..", &["install", "--list"][..]),
        ("x86/..", &["install", "pypy3.10"][..]),
    ] {
        let out = f
            .strap("x86_64_v3-linux-gnu", args)
            .env("STRAP_ARCH", arch)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
        let err = stderr_of(&out);
        let shown = arch.replace('\x1b', "\\x1b");
        assert!(
            err.contains(&format!(
                "STRAP_ARCH='{shown}' is not an architecture: name one as `uname -m` does"
            )) && !err.contains('\x1b'),
            "{err}"
        );
    }
    let out = f
        .strap("x86_64_v3-linux-gnu", &["install", "--list", "--prebuilt"])
        .env("STRAP_ARCH", "aarch64")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(
            "STRAP_ARCH=aarch64 and STRAP_PLATFORM=x86_64_v3-linux-gnu name different architectures"
        ),
        "{}",
        stderr_of(&out)
    );
    for (template, problem) in [
        ("ftp://m/{file}", "is not a URL strap can download from"),
        ("https://m/pbs/{build}", "has no {file}"),
        (
            "https://m/pbs/{versoin}/{file}",
            "has an unknown placeholder {versoin}: it may have {build}, {file}, {version} and {sha256}",
        ),
    ] {
        let out = f
            .strap(
                "x86_64_v3-linux-gnu",
                &[
                    "install",
                    "--prebuilt",
                    "--prebuilt-mirror",
                    template,
                    "3.11.2",
                ],
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
        let expected =
            format!("prebuilt mirror template '{template}' (from --prebuilt-mirror) {problem}");
        assert!(stderr_of(&out).contains(&expected), "{}", stderr_of(&out));
    }
    let bad = f.env.write("bad.tsv", "version\tarch\n");
    let out = f
        .strap("x86_64_v3-linux-gnu", &["install", "--list", "--prebuilt"])
        .env("STRAP_PREBUILT_CATALOG", &bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("named by STRAP_PREBUILT_CATALOG"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_catalog_as_large_as_the_published_one_is_read() {
    // The published catalog is about 1.1 MB: a company's own of that size (here 2 MB of builds
    // for other versions, then ours) is read, not refused as too large.
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    let filler: String = (0..25_000)
        .map(|i| {
            format!(
                "3.{}.{}\taarch64\tgnu\tdefault\t{BUILD}\thttp://127.0.0.1:1/pbs/cpython-{i}.tar.gz\t{}\n",
                50 + i / 100,
                i % 100,
                "0".repeat(64)
            )
        })
        .collect();
    f.lines.borrow_mut().insert(0, filler.trim_end().to_owned());
    let out = f
        .strap("x86_64_v3-linux-gnu", &["install", "--list", "--prebuilt"])
        .output()
        .unwrap();
    assert!(
        fs::metadata(f.env.dir.path().join("pbs.tsv"))
            .unwrap()
            .len()
            > 2 << 20,
        "the catalog is over 2 MiB"
    );
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        stdout_of(&out).contains(&f.host.version),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn a_manifest_s_prebuilt_setting_reaches_its_installs_over_the_variable() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    let name = f.host.version.clone();
    let manifest = |mode: &str| {
        f.env.write(
            "strap.toml",
            &format!("[settings]\nprebuilt = \"{mode}\"\n\n[python]\nversions = [\"{name}\"]\n"),
        )
    };

    // `only` on a platform without a build: the install refuses to build, whatever the
    // variable says, and the plan shows the flag it passes.
    let path = manifest("only");
    let out = f
        .strap("aarch64-linux-gnu", &["bootstrap", "--yes", "-f"])
        .arg(&path)
        .env("STRAP_PYTHON_PREBUILT", "never")
        .output()
        .unwrap();
    let text = f.refused(&out, &name, &format!("no prebuilt {name} to install"));
    assert!(
        text.contains(&format!("strap install {name} --prebuilt=only")),
        "{text}"
    );

    // `prefer` where a build serves: the prebuilt is installed, nothing compiled.
    let path = manifest("prefer");
    let out = f
        .strap("x86_64_v3-linux-gnu", &["bootstrap", "--yes", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("==> configure"), "{text}");
    assert!(f.read(&name, "strap-receipt.json").contains("\"prebuilt\""));

    // A mode the manifest cannot have is a manifest error naming the line.
    let path = manifest("always");
    let out = f
        .strap("x86_64_v3-linux-gnu", &["bootstrap", "--dry-run", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        both(&out).contains("strap.toml:2: expected never, prefer or only, not 'always'"),
        "{}",
        both(&out)
    );
}

#[test]
fn an_archive_without_python_at_its_top_is_refused_saying_what_it_has() {
    let f = Fixture::new();
    let name = f.host.version.clone();
    let tail = "install_only_stripped.tar.gz";
    let other_top = archive(
        &pbs_tree(&f.host, &f.host.version, "default", "cpython", "x"),
        false,
    );
    let mut two_tops = pbs_tree(&f.host, &f.host.version, "default", "python", "x");
    two_tops.push(Entry::File("README".into(), b"hello".to_vec(), 0o644));
    for (platform, bytes, has) in [
        ("x86_64_v3-gnu", other_top, "its top directory is cpython/"),
        (
            "x86_64_v2-gnu",
            archive(&two_tops, false),
            "it holds README, python",
        ),
    ] {
        let published = Published {
            version: &name,
            platform,
            variant: "default",
            tail,
        };
        let file = f.serve(&published, bytes, None);
        let machine = platform.replace('-', "-linux-");
        let out = f.install(&machine, &["--prebuilt=only"]);
        let expected = format!(
            "{file} is not laid out as python-build-standalone's archives are (one python/ \
             directory at the top): {has}"
        );
        f.refused(&out, &name, &expected);
    }
}

#[test]
fn without_a_c_compiler_a_prebuilt_install_stops_before_downloading() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    let name = f.host.version.clone();
    for mode in ["--prebuilt=only", "--prebuilt=prefer"] {
        let out = f
            .strap("x86_64_v3-linux-gnu", &["install", mode, &name])
            .args(["--mirror", &f.mirror.template("src")])
            .env("PATH", f.env.sysbin())
            .output()
            .unwrap();
        let text = f.refused(&out, &name, "missing build prerequisites: C compiler");
        // Under prefer too: the source build would need a compiler as well.
        assert!(!text.contains("from source"), "{text}");
        assert!(f.downloads().is_empty(), "{:?}", f.downloads());
    }
    // A `$CC` that is not there is named, not taken for a missing compiler to install.
    let out = f
        .strap(
            "x86_64_v3-linux-gnu",
            &["install", "--prebuilt=only", &name],
        )
        .env("CC", "ccache-not-here gcc")
        .output()
        .unwrap();
    let text = f.refused(
        &out,
        &name,
        "the C compiler `ccache-not-here gcc` (from CC) cannot be run: `ccache-not-here` is \
         neither on PATH nor an existing path",
    );
    assert!(!text.contains("build-essential"), "{text}");
    assert!(f.downloads().is_empty(), "{:?}", f.downloads());
}

#[test]
fn an_interpreter_of_another_version_than_its_catalog_line_is_refused_saying_so() {
    let f = Fixture::new();
    // The catalog says the archive (the host's Python) is another release of its series.
    let (series, micro) = f.host.version.rsplit_once('.').unwrap();
    let other = format!("{series}.{}", micro.parse::<u32>().unwrap() + 50);
    let catalog = f.env.dir.path().join("python-catalog.txt");
    let mut known = fs::read_to_string(&catalog).unwrap();
    known.push_str(&format!(
        "{other} cpython Python-{other}.tgz:{}\n",
        "0".repeat(64)
    ));
    fs::write(&catalog, known).unwrap();
    let bytes = archive(
        &pbs_tree(&f.host, &f.host.version, "default", "python", "x"),
        false,
    );
    let published = Published {
        version: &other,
        platform: "x86_64_v3-gnu",
        variant: "default",
        tail: "install_only_stripped.tar.gz",
    };
    let file = f.serve(&published, bytes, None);
    let out = f
        .strap(
            "x86_64_v3-linux-gnu",
            &["install", "--skip-preflight", "--prebuilt=only", &other],
        )
        .output()
        .unwrap();
    let expected = format!(
        "it is Python {}, not {other}: the archive is not the build its catalog line names \
         ({file})",
        f.host.version
    );
    let text = f.refused(&out, &other, &expected);
    assert!(!text.contains("does not build a C extension"), "{text}");
    // The pack made while it was verified is stopped and leaves nothing.
    assert!(!text.contains("==> pack"), "{text}");
    let builds = f.env.root().join("cache/builds");
    let left: Vec<_> = fs::read_dir(&builds)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_interpreter_of_another_variant_than_its_catalog_line_is_refused_saying_so() {
    let f = Fixture::new();
    let host = f.host.version.clone();
    // A default build's archive on a debug line, and a build with the GIL on a free-threaded one.
    for (version, variant, name) in [
        (host.as_str(), "debug", format!("{host}-debug")),
        ("3.13.1", "freethreaded", "3.13.1t".to_owned()),
    ] {
        let bytes = archive(&pbs_tree(&f.host, version, "default", "python", "x"), false);
        let published = Published {
            version,
            platform: "x86_64_v3-gnu",
            variant,
            tail: "install_only_stripped.tar.gz",
        };
        let file = f.serve(&published, bytes, None);
        let out = f
            .strap(
                "x86_64_v3-linux-gnu",
                &["install", "--skip-preflight", "--prebuilt=only", &name],
            )
            .output()
            .unwrap();
        f.refused(
            &out,
            &name,
            &format!(
                "it is Python {version}, not {name}: the archive is not the build its catalog \
                 line names ({file})"
            ),
        );
    }
}

#[test]
fn a_failing_compiler_s_output_is_cut_to_its_end_in_the_message() {
    let f = Fixture::new();
    f.publish("x86_64_v3-gnu", "default", false, None);
    let cc = f.env.sysbin().join("noisy-cc");
    let temp_seen = f.env.dir.path().join("cc-tmpdir");
    crate::support::write_script(
        &cc,
        &format!(
            "echo \"$TMPDIR\" > '{}'\n\
             i=1\nwhile [ $i -le 60 ]; do echo \"noise $i\" >&2; i=$((i+1)); done\nexit 1",
            temp_seen.display()
        ),
    );
    let out = f
        .install_command_on(&f.env, "x86_64_v3-linux-gnu", &["--prebuilt=only"])
        .env("CC", &cc)
        .output()
        .unwrap();
    let expected = format!(
        "the compiler its sysconfig names ({} -pthread) does not build a C extension",
        cc.display()
    );
    let err = f.refused(&out, &f.host.version, &expected);
    assert!(
        err.contains("earlier lines left out; the log has them all)"),
        "{err}"
    );
    assert!(err.contains("noise 60\n"), "{err}");
    assert!(!err.contains("noise 30\n"), "{err}");
    // The compiler's temporary files go in the work directory, removed with it.
    let temp = fs::read_to_string(&temp_seen).unwrap();
    let temp = Path::new(temp.trim_end());
    assert!(
        temp.starts_with(f.env.root().join("tmp")),
        "{}",
        temp.display()
    );
    assert!(!temp.exists(), "{}", temp.display());
}

#[test]
fn a_mirror_announcing_more_than_any_archive_is_refused_before_sending_and_its_part_deleted() {
    let f = Fixture::new();
    let file = f.publish("x86_64_v3-gnu", "default", false, None);
    let path = format!("/pbs/{BUILD}/{}", file.replace('+', "%2B"));
    f.mirror.route(&path, Behavior::Announce(3 << 30));
    // What an earlier run left to resume, which this mirror's answer makes worthless.
    let part = f.env.root().join("cache").join(format!("{file}.part"));
    fs::create_dir_all(part.parent().unwrap()).unwrap();
    fs::write(&part, b"partial").unwrap();
    let out = f.install("x86_64_v3-linux-gnu", &["--prebuilt"]);
    let text = both(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(
            "sent or announced more than 2147483648 bytes, more than any archive strap downloads: the \
             mirror is not serving the archive"
        ),
        "{text}"
    );
    assert!(text.contains("==> configure"), "{text}");
    let asked: Vec<_> = f
        .mirror
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].range.as_deref(), Some("bytes=7-"));
    assert!(!part.exists(), "{text}");
}

#[test]
fn a_failed_prebuilt_download_hints_at_the_prebuilt_mirror_settings() {
    let f = Fixture::new();
    let file = f.publish("x86_64_v3-gnu", "default", false, None);
    let name = f.host.version.clone();
    f.mirror.route(
        &format!("/pbs/{BUILD}/{}", file.replace('+', "%2B")),
        Behavior::Status(503),
    );
    let out = f.install("x86_64_v3-linux-gnu", &["--prebuilt=only"]);
    let text = f.refused(&out, &name, "HTTP 503");
    assert!(
        text.contains(
            "hint: add a reachable mirror with --prebuilt-mirror, STRAP_PREBUILT_MIRRORS or \
             [python] prebuilt_mirrors in the config file (e.g. \
             https://mirror.example/pbs/{build}/{file})"
        ),
        "{text}"
    );
    let out = f.install("x86_64_v3-linux-gnu", &["--prebuilt=only", "--offline"]);
    let text = f.refused(&out, &name, "--offline forbids downloading");
    assert!(
        text.contains(
            "hint: or add a file:// mirror, which --offline reads too, e.g. --prebuilt-mirror \
             'file:///srv/pbs/{build}/{file}' (or STRAP_PREBUILT_MIRRORS, [python] \
             prebuilt_mirrors)"
        ),
        "{text}"
    );
    assert!(!text.contains("--mirror "), "{text}");
}
