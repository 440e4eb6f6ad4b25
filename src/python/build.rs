//! The commands that build CPython (and, for old releases, a private OpenSSL 1.1.1) into a
//! staging directory: `configure`, `make -jN`, `make install DESTDIR=<staging>`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::plan::Plan;
use crate::env_vars;
use crate::process::{RunError, Runner};

/// Where a build happens and where it will finally live.
pub struct BuildDirs {
    /// The unpacked CPython source tree.
    pub source: PathBuf,
    /// The final prefix (`<root>/versions/<name>`), baked into the build.
    pub prefix: PathBuf,
    /// `DESTDIR`: the build installs into `<staging>/<prefix>`.
    pub staging: PathBuf,
}

impl BuildDirs {
    /// The staged copy of a path under the final prefix.
    pub fn staged(&self, path: &Path) -> PathBuf {
        self.staging.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// The staged prefix.
    pub fn staged_prefix(&self) -> PathBuf {
        self.staged(&self.prefix)
    }

    /// Where a private OpenSSL goes (inside the version's prefix, as pyenv does).
    pub fn openssl_prefix(&self) -> PathBuf {
        self.prefix.join("openssl")
    }
}

/// What the user adds to CPython's build commands: `configure` options, flags appended to the
/// compiler variables `configure` sees, and words after `make -jN` and `make install`.
#[derive(Debug, Clone, Default)]
pub struct UserOptions {
    /// After strap's own `configure` options.
    pub configure: Vec<String>,
    /// `(CFLAGS | CPPFLAGS | LDFLAGS, flags)`: appended to that variable for `configure`.
    pub flags: Vec<(&'static str, String)>,
    /// After `make -jN`.
    pub make: Vec<String>,
    /// After `make install DESTDIR=…`.
    pub make_install: Vec<String>,
    /// A patch applied to the source before `configure` (`-p/--patch`, read from stdin).
    pub patch: Option<Patch>,
}

/// A patch to the source, as `install -p` reads it.
#[derive(Debug, Clone)]
pub struct Patch {
    pub text: Vec<u8>,
    /// Its sha256: what the build's key and receipt record.
    pub sha256: String,
}

impl Patch {
    /// python-build's strip level: 1 for a `git diff` (`diff --git a/…`), else 0.
    pub fn strip_level(&self) -> u8 {
        let git = self
            .text
            .split(|b| *b == b'\n')
            .any(|line| line.starts_with(b"diff --git a/"));
        u8::from(git)
    }
}

/// Applies `patch`, written to `file`, in the source tree `source` as python-build does
/// (`patch -pN --force -i FILE`).
pub fn apply_patch(
    runner: &Runner,
    patch: &Patch,
    source: &Path,
    file: &Path,
) -> Result<(), RunError> {
    let mut cmd = Command::new("patch");
    cmd.current_dir(source)
        .arg(format!("-p{}", patch.strip_level()))
        .arg("--force")
        .arg("-i")
        .arg(file);
    runner.check(&mut cmd)
}

impl UserOptions {
    /// The flags and make words as the receipt and the build's key record them (`CFLAGS+=-O1`,
    /// `make+=V=1`, `make install+=…`); the configure options are recorded with configure's.
    pub fn recorded(&self) -> Vec<String> {
        let patch = self
            .patch
            .iter()
            .map(|p| format!("patch=sha256:{}", p.sha256));
        self.recorded_flags()
            .chain(self.recorded_make())
            .chain(patch)
            .collect()
    }

    /// The make words as recorded: `make+=V=1`, `make install+=…`.
    pub fn recorded_make(&self) -> impl Iterator<Item = String> + '_ {
        let make = self.make.iter().map(|w| format!("make+={w}"));
        let install = self
            .make_install
            .iter()
            .map(|w| format!("make install+={w}"));
        make.chain(install)
    }

    /// The flags as recorded and shown: `CFLAGS+=-O1`.
    pub fn recorded_flags(&self) -> impl Iterator<Item = String> + '_ {
        self.flags
            .iter()
            .map(|(var, value)| format!("{var}+={value}"))
    }

    fn flag(&self, var: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, value)| value.as_str())
    }
}

/// `value` after `base`, space-separated (as python-build appends flags).
fn appended(base: &str, value: &str) -> String {
    if base.is_empty() {
        value.to_owned()
    } else {
        format!("{base} {value}")
    }
}

/// Builds and installs a private OpenSSL 1.1.1 from `source` into the staged prefix.
pub fn build_openssl(
    runner: &Runner,
    source: &Path,
    dirs: &BuildDirs,
    jobs: usize,
) -> Result<(), RunError> {
    let prefix = dirs.openssl_prefix();
    let mut config = Command::new("./config");
    config
        .current_dir(source)
        .arg(format!("--prefix={}", prefix.display()))
        .arg(format!("--openssldir={}", prefix.join("ssl").display()))
        .arg("--libdir=lib")
        .arg("shared")
        .arg("zlib");
    runner.check(&mut config)?;
    // libssl finds libcrypto next to itself wherever the install is moved.
    runner.check(
        Command::new("make")
            .current_dir(source)
            .env("LD_RUN_PATH", "$ORIGIN")
            .arg(format!("-j{jobs}")),
    )?;
    runner.check(
        Command::new("make")
            .current_dir(source)
            .arg("install_sw")
            .arg(format!("DESTDIR={}", dirs.staging.display())),
    )
}

/// The arguments of CPython's `configure`.
pub fn configure_args(plan: &Plan, dirs: &BuildDirs, user: &UserOptions) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        format!("--prefix={}", dirs.prefix.display()).into(),
        format!("--libdir={}", dirs.prefix.join("lib").display()).into(),
        "--enable-shared".into(),
        // pip is installed by `install_pip` below, once (pyenv installs it twice).
        "--with-ensurepip=no".into(),
    ];
    if plan.needs_openssl11 {
        let staged = dirs.staged(&dirs.openssl_prefix());
        // These arguments override the environment's, so the user's flags go in them too.
        let ldflags = format!("-L{}", staged.join("lib").display());
        let cppflags = format!("-I{}", staged.join("include").display());
        let with_user = |var, base: String| match user.flag(var) {
            Some(value) => appended(&base, value),
            None => base,
        };
        args.push(format!("LDFLAGS={}", with_user(env_vars::LDFLAGS, ldflags)).into());
        args.push(format!("CPPFLAGS={}", with_user(env_vars::CPPFLAGS, cppflags)).into());
        if plan.major_minor() >= (3, 7) {
            args.push(format!("--with-openssl={}", staged.display()).into());
        }
    }
    if plan.free_threaded {
        args.push("--disable-gil".into());
    }
    if plan.debug {
        args.push("--with-pydebug".into());
    }
    args.extend(user.configure.iter().map(OsString::from));
    args
}

/// The library directories a staged build needs at run time (before it is moved into place).
pub fn staged_library_path(plan: &Plan, dirs: &BuildDirs) -> Vec<PathBuf> {
    let mut paths = vec![dirs.staged_prefix().join("lib")];
    if plan.needs_openssl11 {
        paths.push(dirs.staged(&dirs.openssl_prefix()).join("lib"));
    }
    paths
}

/// The run-time library path linked into every binary, relative to the binary itself, so the
/// install works wherever its directory is moved: `bin/` and `lib/` find `lib/`, and with a
/// private OpenSSL, `bin/`, `lib/` and `lib/pythonX.Y/lib-dynload/` find `openssl/lib/`.
/// Given to the linker as `LD_RUN_PATH` rather than `-Wl,-rpath` in `LDFLAGS`, which would
/// need `$ORIGIN` escaped for make and the shell and would end up, mangled, in `sysconfig`.
pub fn run_path(plan: &Plan) -> &'static str {
    if plan.needs_openssl11 {
        "$ORIGIN/../lib:$ORIGIN/../openssl/lib:$ORIGIN/../../../openssl/lib"
    } else {
        "$ORIGIN/../lib"
    }
}

/// A command in the source tree with the environment every build step gets.
fn step(program: &str, plan: &Plan, dirs: &BuildDirs) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(&dirs.source)
        .env("LD_RUN_PATH", run_path(plan))
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env(
            "LD_LIBRARY_PATH",
            std::env::join_paths(staged_library_path(plan, dirs)).unwrap_or_default(),
        );
    cmd
}

/// `configure`, with the user's flags appended to the environment's `CFLAGS`, `CPPFLAGS` and
/// `LDFLAGS` (as python-build exports them).
pub fn configure(
    runner: &Runner,
    plan: &Plan,
    dirs: &BuildDirs,
    user: &UserOptions,
) -> Result<(), RunError> {
    let mut cmd = step("./configure", plan, dirs);
    for (var, value) in &user.flags {
        let base = std::env::var(var).unwrap_or_default();
        cmd.env(var, appended(&base, value));
    }
    runner.check(cmd.args(configure_args(plan, dirs, user)))
}

/// `make -jN` and the user's make options.
pub fn compile(
    runner: &Runner,
    plan: &Plan,
    dirs: &BuildDirs,
    jobs: usize,
    user: &UserOptions,
) -> Result<(), RunError> {
    runner.check(
        step("make", plan, dirs)
            .arg(format!("-j{jobs}"))
            .args(&user.make),
    )
}

/// `make install DESTDIR=<staging>` and the user's make install options.
pub fn install(
    runner: &Runner,
    plan: &Plan,
    dirs: &BuildDirs,
    user: &UserOptions,
) -> Result<(), RunError> {
    runner.check(
        step("make", plan, dirs)
            .arg("install")
            .arg(format!("DESTDIR={}", dirs.staging.display()))
            .args(&user.make_install),
    )
}

/// Runs pip from the release's bundled wheel (what `ensurepip` does) in the build tree's
/// interpreter, installing the bundled wheels into the staging area.
///
/// Not `ensurepip` itself: it runs pip in a child interpreter that sees the final prefix's
/// site-packages, so on a `--force` reinstall pip finds itself "already satisfied" there and
/// installs nothing into the staging area (and ensurepip drops `PIP_*` settings). Here pip runs
/// in-process under `-S`, so it sees no site-packages, and with `--ignore-installed`.
pub fn install_pip(runner: &Runner, plan: &Plan, dirs: &BuildDirs) -> Result<(), RunError> {
    const RUN_PIP: &str = "import sys\n\
sys.path.insert(0, sys.argv[1])\n\
try:\n    from pip._internal.cli.main import main\n\
except ImportError:\n    from pip._internal import main\n\
sys.exit(main(sys.argv[2:]))\n";
    let bundled = dirs.source.join("Lib/ensurepip/_bundled");
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(&bundled)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    wheels.retain(|w| w.extension().is_some_and(|e| e == "whl"));
    wheels.sort();
    let pip_wheel = wheels
        .iter()
        .find(|w| {
            w.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("pip-"))
        })
        .ok_or_else(|| RunError::Spawn {
            command: "pip".to_owned(),
            source: std::io::Error::other(format!(
                "this release bundles no pip wheel in {}; install with --no-pip",
                bundled.display()
            )),
        })?;
    let packages = wheels.iter().filter_map(|w| {
        w.file_name()?
            .to_str()?
            .split('-')
            .next()
            .map(str::to_owned)
    });
    let mut library_path = vec![dirs.source.clone()];
    library_path.extend(staged_library_path(plan, dirs));
    runner.check(
        step("./python", plan, dirs)
            .env(
                "LD_LIBRARY_PATH",
                std::env::join_paths(library_path).unwrap_or_default(),
            )
            .env("ENSUREPIP_OPTIONS", "install")
            .args(["-E", "-S", "-c", RUN_PIP])
            .arg(pip_wheel)
            .args([
                "install",
                "--no-cache-dir",
                "--no-index",
                "--ignore-installed",
            ])
            .args(["--disable-pip-version-check", "--no-warn-script-location"])
            .arg("--find-links")
            .arg(&bundled)
            .arg(format!("--root={}/", dirs.staging.display()))
            .args(packages),
    )
}

/// The unsuffixed names pyenv users expect (`python` → `python3`, `pip` → `pip3`, …), made in the
/// staged `bin/` wherever only the suffixed one exists.
pub fn link_unsuffixed(bin: &Path) -> std::io::Result<()> {
    for (plain, suffixed) in [
        ("python", "python3"),
        ("pip", "pip3"),
        ("pydoc", "pydoc3"),
        ("idle", "idle3"),
        ("python-config", "python3-config"),
    ] {
        let link = bin.join(plain);
        if bin.join(suffixed).exists() && std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(suffixed, link)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::catalog::Catalog;
    use crate::python::plan::plan;

    fn dirs() -> BuildDirs {
        BuildDirs {
            source: "/r/tmp/src".into(),
            prefix: "/r/versions/3.11.2".into(),
            staging: "/r/tmp/stage".into(),
        }
    }

    fn args_of(request: &str, debug: bool) -> Vec<String> {
        let p = plan(Catalog::embedded(), request, debug, None, None).unwrap();
        let user = UserOptions {
            configure: vec!["--enable-optimizations".to_owned()],
            flags: vec![(env_vars::LDFLAGS, "-Lx".to_owned())],
            ..UserOptions::default()
        };
        configure_args(&p, &dirs(), &user)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn shared_with_rpath_and_user_options_last() {
        let args = args_of("3.11.2", false);
        assert_eq!(args[0], "--prefix=/r/versions/3.11.2");
        assert!(args.contains(&"--enable-shared".to_owned()));
        assert!(args.contains(&"--with-ensurepip=no".to_owned()));
        assert!(
            !args.iter().any(|a| a.contains("rpath")),
            "the run path is relative, through LD_RUN_PATH: {args:?}"
        );
        assert_eq!(args.last().unwrap(), "--enable-optimizations");
    }

    #[test]
    fn free_threaded_debug_and_private_openssl() {
        assert!(args_of("3.13t", false).contains(&"--disable-gil".to_owned()));
        assert!(args_of("3.12", true).contains(&"--with-pydebug".to_owned()));
        let old = args_of("3.8", false);
        let staged = "/r/tmp/stage/r/versions/3.11.2/openssl";
        assert!(old.contains(&format!("--with-openssl={staged}")), "{old:?}");
        assert!(old.contains(&format!("CPPFLAGS=-I{staged}/include")));
        assert!(
            old.contains(&format!("LDFLAGS=-L{staged}/lib -Lx")),
            "{old:?}"
        );
        assert!(!args_of("2.7.18", false)
            .iter()
            .any(|a| a.starts_with("--with-openssl")));
    }
}
