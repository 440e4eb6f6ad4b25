//! Every path under the strap root, computed in one place.

use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::env_vars;

/// The strap root and the fixed paths inside it.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    flavor: Flavor,
}

/// Whose rules a root follows for the environment: strap's own (`STRAP_PYTHON_VERSION`), or
/// pyenv's when the root is pyenv's (`$PYENV_ROOT`, default `~/.pyenv`): `PYENV_VERSION` (then
/// `STRAP_PYTHON_VERSION`) selects, `PYENV_DIR` starts the version-file lookup, and shims speak
/// pyenv's words — whether strap runs as `strap`, as `pyenv` or as a shim, so all three agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Strap,
    Pyenv,
}

impl Layout {
    /// A layout rooted at `root` (which need not exist yet; a relative one is taken from the
    /// current directory, so every path strap writes or hands to a build names the same
    /// place); pyenv's flavor when it is pyenv's root.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let root = std::path::absolute(&root).unwrap_or(root);
        let flavor = if is_pyenv_root(&root) {
            Flavor::Pyenv
        } else {
            Flavor::Strap
        };
        Layout { root, flavor }
    }

    /// The root of strap started as `pyenv`: `PYENV_ROOT` (a trailing `/` dropped), else
    /// `~/.pyenv`.
    pub fn pyenv_from_env() -> Self {
        Layout {
            root: pyenv_root(),
            flavor: Flavor::Pyenv,
        }
    }

    /// Whose environment rules apply to this root.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The variables that select versions for one process or shell (`strap shell`, `pyenv
    /// shell`), the first set one wins.
    pub fn version_vars(&self) -> &'static [&'static str] {
        match self.flavor {
            Flavor::Strap => &[env_vars::STRAP_PYTHON_VERSION],
            Flavor::Pyenv => &[env_vars::PYENV_VERSION, env_vars::STRAP_PYTHON_VERSION],
        }
    }

    /// The root from `STRAP_ROOT`, else `$XDG_DATA_HOME/strap` (`~/.local/share/strap`).
    pub fn from_env() -> Self {
        match std::env::var_os(env_vars::STRAP_ROOT) {
            Some(root) if !root.is_empty() => Layout::new(root),
            _ => Layout::new(default_root()),
        }
    }

    /// The root for a shim: a shim belongs to the root it lives in. Started through a path
    /// `<R>/shims/<name>` (the path given to `execve`, relative ones resolved against the current
    /// directory; the link itself is not followed, it points at the strap binary), the root is
    /// `<R>`, whatever `STRAP_ROOT` says, so a shim run by an IDE, cron or a service without it
    /// still runs its own root's version. Started through a link to a shim elsewhere
    /// (`~/bin/python3 -> <R>/shims/python3`), that one link is followed. Started through any
    /// other path: [`Layout::from_env`].
    pub fn for_shim() -> Self {
        let cwd = || std::env::current_dir().ok();
        let root = exec_path().and_then(|path| {
            root_of_shim(path, cwd).or_else(|| {
                let target = std::fs::read_link(path).ok()?;
                root_of_shim(&path.parent()?.join(target), cwd)
            })
        });
        match root {
            Some(root) => Layout::new(root),
            None => Layout::from_env(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Why nothing can be installed under this root, if so: its path has a character the
    /// files an install writes cannot quote — `sysconfig`'s Python strings, the shell lines
    /// that start scripts, pip's script launchers in virtualenvs (`'`, `"`, `\`, `$`, `` ` ``,
    /// or a control character such as a newline). A blank is fine.
    pub fn unquotable(&self) -> Option<String> {
        let text = self.root.to_string_lossy();
        let c = text
            .chars()
            .find(|c| matches!(c, '\'' | '"' | '\\' | '$' | '`') || c.is_control())?;
        Some(format!(
            "the root {} has {:?} in its path, which the scripts and sysconfig files of an \
             install cannot quote: choose a root without ' \" \\ $ ` or control characters \
             (--root, STRAP_ROOT)",
            crate::error::printable_name(&text),
            c
        ))
    }

    /// `versions/`: one directory per installed Python.
    pub fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    /// The directory of one installed version.
    pub fn version_dir(&self, name: &str) -> PathBuf {
        self.versions_dir().join(name)
    }

    /// `boost/`: one directory per installed Boost build.
    pub fn boost_root(&self) -> PathBuf {
        self.root.join("boost")
    }

    /// The directory of one Boost build (`1.86.0` or `1.86.0-py3.12`).
    pub fn boost_dir(&self, name: &str) -> PathBuf {
        self.boost_root().join(name)
    }

    /// `shims/`: one link per executable name.
    pub fn shims_dir(&self) -> PathBuf {
        self.root.join("shims")
    }

    /// The global version file (pyenv format).
    pub fn global_version_file(&self) -> PathBuf {
        self.root.join("version")
    }

    /// `tmp/`: build trees and staging areas (same file system as `versions/`).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `cache/`: verified downloads, unless `STRAP_CACHE_DIR` names another directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.named_cache_dir()
            .unwrap_or_else(|| self.root.join("cache"))
    }

    /// The directory the user names for the download cache, when one is named:
    /// `STRAP_CACHE_DIR`, else python-build's `PYTHON_BUILD_CACHE_PATH` when it is a directory
    /// (python-build ignores it otherwise).
    pub fn named_cache_dir(&self) -> Option<PathBuf> {
        let named = |var| {
            std::env::var_os(var)
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from)
        };
        named(env_vars::STRAP_CACHE_DIR)
            .or_else(|| named(env_vars::PYTHON_BUILD_CACHE_PATH).filter(|dir| dir.is_dir()))
    }

    /// `logs/`: one log per build and per recipe run.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// A new log file under `logs/` for `what` (e.g. `python-3.12.7`), unique per process and
    /// second: `<what>-<secs>-<pid>.log` (see [`log_owner`]).
    pub fn log_file(&self, what: &str) -> PathBuf {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.logs_dir()
            .join(format!("{what}-{secs}-{}.log", std::process::id()))
    }

    /// `locks/`: lock files that serialize rehashes, installs and downloads.
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// The lock that serializes rehashes.
    pub fn rehash_lock(&self) -> PathBuf {
        self.locks_dir().join(REHASH_LOCK)
    }

    /// The lock that serializes installs and removals of one artifact (`python`, `3.12.7`).
    pub fn install_lock(&self, kind: &str, name: &str) -> PathBuf {
        self.install_lock_of(&artifact_id(kind, name))
    }

    /// The install lock of the artifact with this [`artifact_id`].
    pub fn install_lock_of(&self, id: &str) -> PathBuf {
        self.locks_dir().join(format!("{id}{LOCK_SUFFIX}"))
    }

    /// `<cache>/.locks/`: the locks of the download cache's files, in the cache itself, since
    /// several roots may share one cache.
    pub fn download_locks_dir(&self) -> PathBuf {
        self.cache_dir().join(".locks")
    }

    /// The lock that serializes work on one file of the download cache (`builds/…` for a pack).
    pub fn download_lock(&self, file: &str) -> PathBuf {
        self.download_locks_dir().join(download_lock_name(file))
    }

    /// `plugins/`: pyenv's plugins, one directory each (a pyenv root's).
    pub fn plugins_dir(&self) -> PathBuf {
        self.root.join("plugins")
    }

    /// The directories `sub` (`bin`, `etc/pyenv.d`) of the plugins under `plugins/` that have
    /// one, sorted: where pyenv looks for plugins' commands and hooks.
    pub fn plugin_dirs(&self, sub: &str) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.plugins_dir())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path().join(sub))
            .filter(|dir| dir.is_dir())
            .collect();
        dirs.sort();
        dirs
    }

    /// `bin/pyenv`: pyenv's command in a pyenv root (a checkout's script, or the link
    /// `strap init --pyenv` makes to strap).
    pub fn pyenv_command(&self) -> PathBuf {
        self.root.join("bin").join("pyenv")
    }

    /// `doctor-probe`: the file `strap doctor` creates (never through a link) and removes to see
    /// that the root is writable.
    pub fn doctor_probe(&self) -> PathBuf {
        self.root.join("doctor-probe")
    }

    /// `pyenv.d/`: the root's pyenv hooks (see [`HOOKS_DIR`]).
    pub fn hooks_dir(&self) -> PathBuf {
        self.root.join(HOOKS_DIR)
    }

    /// `.strap-libexec/`: the links `pyenv-<command>` to strap that pyenv's plugins call.
    pub fn command_links_dir(&self) -> PathBuf {
        self.root.join(".strap-libexec")
    }

    /// The scratch directory of one install by this process, `tmp/<kind>-<name>.<pid>` (see
    /// [`work_dir_of`]).
    pub fn work_dir(&self, kind: &str, name: &str) -> PathBuf {
        self.tmp_dir().join(format!(
            "{}.{}",
            artifact_id(kind, name),
            std::process::id()
        ))
    }
}

/// The name of a directory of pyenv hooks: in a root, next to pyenv's `libexec/`, and as a
/// plugin's `etc/pyenv.d`.
pub const HOOKS_DIR: &str = "pyenv.d";

/// How every lock file's name ends.
const LOCK_SUFFIX: &str = ".lock";

/// The lock file of rehashes, in `locks/`.
const REHASH_LOCK: &str = "rehash.lock";

/// True for the name of a lock file strap makes in `locks/` (`<what>.lock`).
pub fn is_lock_file(file_name: &str) -> bool {
    file_name
        .strip_suffix(LOCK_SUFFIX)
        .is_some_and(|stem| !stem.is_empty())
}

/// The kind and name of the artifact whose install lock ([`Layout::install_lock`]) has this
/// file name; `None` for any other lock.
pub fn install_lock_owner(file_name: &str) -> Option<(&'static str, &str)> {
    artifact_of(file_name.strip_suffix(LOCK_SUFFIX)?)
}

/// The kinds of artifact strap installs. Each names its installs' locks, work directories,
/// logs, receipts and packed builds, and declares the kinds of source archive its installs
/// download; only these kinds' names (work directories, packs, source archives) are recognized
/// (and cleaned) as strap's, so a new kind is one more variant here, listed in
/// [`ArtifactKind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// CPython (`versions/`).
    Python,
    /// Boost (`boost/`).
    Boost,
}

impl ArtifactKind {
    /// Every kind.
    pub const ALL: [ArtifactKind; 2] = [ArtifactKind::Python, ArtifactKind::Boost];

    /// Its name in file names and receipts (`python`).
    pub const fn name(self) -> &'static str {
        match self {
            ArtifactKind::Python => "python",
            ArtifactKind::Boost => "boost",
        }
    }

    /// The kinds of source archive its installs download into the cache.
    pub fn sources(self) -> &'static [SourceKind] {
        match self {
            ArtifactKind::Python => &[
                SourceKind::Python,
                SourceKind::OpenSsl,
                SourceKind::Distribution,
            ],
            ArtifactKind::Boost => &[SourceKind::Boost],
        }
    }
}

/// The receipt in every installed prefix (what it holds is `identity::Receipt`).
pub const RECEIPT_FILE: &str = "strap-receipt.json";

/// The directory of a Python prefix that holds its virtualenvs: `versions/<py>/envs/<name>`.
pub const ENVS_DIR: &str = "envs";

/// A top-level directory of an installed prefix that holds the user's things, not the build's:
/// a reinstall (`install -f`) carries it over into the new prefix, and packs leave it out.
#[derive(Debug, Clone, Copy)]
pub struct UserDir {
    /// Its name in the prefix (`envs`).
    pub name: &'static str,
    /// What it holds, for messages (`virtualenvs`).
    pub holds: &'static str,
}

/// The [`UserDir`]s of an install of `kind`: a Python's virtualenvs.
pub fn user_dirs(kind: &str) -> &'static [UserDir] {
    const PYTHON_DIRS: &[UserDir] = &[UserDir {
        name: ENVS_DIR,
        holds: "virtualenvs",
    }];
    match kind {
        kind if kind == ArtifactKind::Python.name() => PYTHON_DIRS,
        _ => &[],
    }
}

/// `<kind>-<name>` (`python-3.12.7`): how one artifact is named in its lock, work directories,
/// logs and packs.
pub fn artifact_id(kind: &str, name: &str) -> String {
    format!("{kind}-{name}")
}

/// The kind and name an [`artifact_id`] was made of; `None` for any other text.
pub fn artifact_of(id: &str) -> Option<(&'static str, &str)> {
    ArtifactKind::ALL.iter().find_map(|kind| {
        let name = id.strip_prefix(kind.name())?.strip_prefix('-')?;
        let plain = !name.is_empty() && !name.starts_with('.') && !name.contains('/');
        plain.then_some((kind.name(), name))
    })
}

/// The pid of the process that writes a log named by [`Layout::log_file`] (`…-<secs>-<pid>.log`).
pub fn log_owner(file_name: &str) -> Option<u32> {
    let stem = file_name.strip_suffix(".log")?;
    let (rest, pid) = stem.rsplit_once('-')?;
    let (_, secs) = rest.rsplit_once('-')?;
    secs.parse::<u64>().ok()?;
    pid_of(pid)
}

/// The [`artifact_id`] and the pid of a work directory named by [`Layout::work_dir`]
/// (`python-3.12.7.4242`).
pub fn work_dir_of(file_name: &str) -> Option<(&str, u32)> {
    let (id, pid) = file_name.rsplit_once('.')?;
    artifact_of(id)?;
    Some((id, pid_of(pid)?))
}

/// The name prefix of a work directory being removed in the background after a successful
/// install (see [`discarded_work_dir`]).
const DISCARDED_PREFIX: &str = ".discard-";

/// The file in a work directory that lists the process groups of its build commands.
pub const WORK_GROUPS_FILE: &str = "process-groups";
/// The file that marks a work directory kept with `--keep`: cleanups leave it alone.
pub const WORK_KEPT_FILE: &str = "kept-by-strap";

/// Where a finished install's work directory goes to be removed in the background:
/// `tmp/.discard-<its name>`.
pub fn discarded_work_dir(work_dir: &Path) -> Option<PathBuf> {
    let name = work_dir.file_name()?.to_str()?;
    Some(work_dir.with_file_name(format!("{DISCARDED_PREFIX}{name}")))
}

/// The pid in the name of a work directory set aside by [`discarded_work_dir`].
pub fn discarded_owner(file_name: &str) -> Option<u32> {
    work_dir_of(file_name.strip_prefix(DISCARDED_PREFIX)?).map(|(_, pid)| pid)
}

/// Where an uninstall sets a version (or Boost build) directory aside before removing it, so an
/// interruption never leaves a half-deleted install under its own name: `.<name>.removing.<pid>`.
pub fn removing_dir(dir: &Path) -> PathBuf {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    dir.with_file_name(format!(".{name}.removing.{}", std::process::id()))
}

/// The pid in a name made by [`removing_dir`].
pub fn removing_owner(file_name: &str) -> Option<u32> {
    let (name, pid) = file_name.strip_prefix('.')?.rsplit_once(".removing.")?;
    if name.is_empty() {
        return None;
    }
    pid_of(pid)
}

fn pid_of(text: &str) -> Option<u32> {
    text.parse().ok().filter(|pid| *pid > 0)
}

/// The name of the lock of one file of the download cache: one flat directory of locks (a
/// packed build's file is `builds/<file>`).
pub fn download_lock_name(file: &str) -> String {
    format!("download-{}{LOCK_SUFFIX}", file.replace('/', "-"))
}

/// The directory of the build cache (packed builds) in the download cache.
pub const BUILDS_DIR: &str = "builds";

/// The path of a packed build's file relative to the download cache: `builds/<file>`.
pub fn build_cache_file(file: &str) -> String {
    format!("{BUILDS_DIR}/{file}")
}

/// Where a download of `file` into the cache collects its bytes until verified (kept to resume).
pub fn download_part(file: &str) -> String {
    format!("{file}.part")
}

/// How many random characters (letters and digits) the temporary name of a file being written
/// carries: `.<file>.<random>.part` (see `atomic_file`).
pub const TEMP_RANDOM_LEN: usize = 6;

/// Where a cached `file` whose sha256 is `actual` (not the expected one) is set aside.
pub fn mismatch_name(file: &str, actual: &str) -> String {
    format!("{file}.mismatch-{}", &actual[..12.min(actual.len())])
}

/// What a file in the download cache (or the build cache) is, by its name: the file it is (or
/// will be) and in which state. Any name is one of these; whether the file is strap's is for
/// [`SourceKind::of`] and [`pack_of`] to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheFile<'a> {
    /// The file itself.
    Complete(&'a str),
    /// Being written: [`download_part`], `.<file>.part` (a pack pulled from a registry by an
    /// older strap), or `.<file>.<random>.part` (a pack or manifest being made, see
    /// [`TEMP_RANDOM_LEN`]).
    Partial(&'a str),
    /// Set aside: [`mismatch_name`].
    Mismatched(&'a str),
}

impl<'a> CacheFile<'a> {
    /// Reads a file name.
    pub fn of(file_name: &'a str) -> CacheFile<'a> {
        if let Some(file) = file_name.strip_suffix(".part") {
            return CacheFile::Partial(match file.strip_prefix('.') {
                Some(hidden) => without_random_part(hidden),
                None => file,
            });
        }
        match file_name.rsplit_once(".mismatch-") {
            Some((file, hash))
                if !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                CacheFile::Mismatched(file)
            }
            _ => CacheFile::Complete(file_name),
        }
    }

    /// The file it is (or will be).
    pub fn file(self) -> &'a str {
        match self {
            CacheFile::Complete(file) | CacheFile::Partial(file) | CacheFile::Mismatched(file) => {
                file
            }
        }
    }
}

/// `name` without a trailing `.<random>` of a temporary name, when it has one.
fn without_random_part(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((file, random))
            if random.len() == TEMP_RANDOM_LEN
                && random.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            file
        }
        _ => name,
    }
}

/// The kinds of source archive strap downloads into the cache. Each makes its archives' file
/// names and is the one judge of whether a file name is one of them; the archives strap
/// recognizes are those of the kinds an [`ArtifactKind`] downloads, so `strap cache clean`
/// removes exactly the archives strap fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// CPython's `Python-3.12.7.tar.xz` (or `.tgz`).
    Python,
    /// The OpenSSL old CPython releases are built against, `openssl-1.1.1u.tar.gz`.
    OpenSsl,
    /// Boost's `boost_1_86_0.tar.bz2` (or `.tar.gz`).
    Boost,
    /// What python-build downloads for the other Python families, named as upstream names
    /// it when that name starts with the family (`pypy3.10-v7.3.17-linux64.tar.bz2`,
    /// `Miniforge3-24.11.3-0-Linux-x86_64.sh`), else the family, `-` and that name
    /// (`stackless-v3.7.5-slp.tar.gz`): see [`distribution_file`].
    Distribution,
}

/// The file formats of [`SourceKind::Distribution`] downloads.
const DISTRIBUTION_FORMATS: &[&str] = &[
    "tar.bz2", "tar.gz", "tgz", "tar.xz", "tar.zst", "zip", "sh", "jar",
];

/// What the name of a [`SourceKind::Distribution`] download starts with (in any case): the
/// Python families python-build downloads besides CPython releases.
pub const DISTRIBUTION_FAMILIES: &[&str] = &[
    "cpython",
    "pypy",
    "graalpy",
    "graalpython",
    "pyston",
    "activepython",
    "anaconda",
    "miniconda",
    "miniforge",
    "mambaforge",
    "stackless",
    "nogil",
    "cinder",
    "micropython",
    "jython",
    "ironpython",
];

/// The download cache's name for `upstream` (a URL's last part) of `family`: `upstream` when
/// it starts with the family's name or is a CPython release archive (`Python-3.12.7.tgz`),
/// else `<family>-<upstream>`.
pub fn distribution_file(family: &str, upstream: &str) -> String {
    let starts = SourceKind::Python.owns(upstream)
        || upstream
            .get(..family.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(family));
    if starts {
        upstream.to_owned()
    } else {
        format!("{family}-{upstream}")
    }
}

impl SourceKind {
    /// The name's prefix, the formats in order of preference, and the version's separator.
    fn parts(self) -> (&'static str, &'static [&'static str], char) {
        match self {
            SourceKind::Python => ("Python-", &["tar.xz", "tgz"], '.'),
            SourceKind::OpenSsl => ("openssl-", &["tar.gz"], '.'),
            SourceKind::Boost => ("boost_", &["tar.bz2", "tar.gz"], '_'),
            SourceKind::Distribution => ("", DISTRIBUTION_FORMATS, '.'),
        }
    }

    /// The archives of `version` (`3.12.7`, `1.86.0`), in order of preference.
    pub fn archives(self, version: &str) -> Vec<String> {
        let (prefix, formats, separator) = self.parts();
        let version = version.replace('.', &separator.to_string());
        formats
            .iter()
            .map(|format| format!("{prefix}{version}.{format}"))
            .collect()
    }

    /// True when `file` is an archive of this kind (of any version).
    pub fn owns(self, file: &str) -> bool {
        if self == SourceKind::Distribution {
            let plain = file
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
            let family = DISTRIBUTION_FAMILIES.iter().any(|family| {
                file.get(..family.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(family))
            });
            return plain
                && family
                && DISTRIBUTION_FORMATS.iter().any(|format| {
                    file.strip_suffix(format)
                        .is_some_and(|stem| stem.len() > 1 && stem.ends_with('.'))
                });
        }
        let (prefix, formats, separator) = self.parts();
        let Some(rest) = file.strip_prefix(prefix) else {
            return false;
        };
        formats.iter().any(|format| {
            rest.strip_suffix(format)
                .and_then(|v| v.strip_suffix('.'))
                .is_some_and(|version| is_version(version, separator))
        })
    }

    /// The kind `file` is an archive of, if any (of the kinds an [`ArtifactKind`] downloads).
    pub fn of(file: &str) -> Option<SourceKind> {
        let downloaded = ArtifactKind::ALL.iter().flat_map(|kind| kind.sources());
        downloaded.copied().find(|kind| kind.owns(file))
    }
}

/// `3.12.7`, `3.13.0rc1`, `1.1.1u`, `1_86_0`: parts of digits and lowercase letters, the first
/// starting with a digit.
fn is_version(text: &str, separator: char) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
        && text.split(separator).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
}

/// True for a name strap gives a file in the download cache: a source archive of a known kind,
/// or `builds/<pack file>` (see [`build_cache_file`]).
pub fn is_cache_file(file: &str) -> bool {
    match file
        .strip_prefix(BUILDS_DIR)
        .and_then(|f| f.strip_prefix('/'))
    {
        Some(pack_file) => pack_of(pack_file).is_some(),
        None => SourceKind::of(file).is_some(),
    }
}

/// The name a packed build of `kind` `name` with `key` goes by: `<kind>-<name>-<key16>` (its
/// file names' stem, and its tag in an OCI registry).
pub fn pack_stem(kind: &str, name: &str, key: &str) -> String {
    format!("{}-{}", artifact_id(kind, name), short_key(key))
}

/// The first 16 characters of a cache key (all of a shorter one), as pack names and messages
/// show it; never cuts a character.
pub fn short_key(key: &str) -> &str {
    key.char_indices()
        .nth(16)
        .map_or(key, |(end, _)| &key[..end])
}

/// The file names a pack gets: `<stem>.tar.zst` and `<stem>.json` (see [`pack_stem`]).
pub fn pack_files(kind: &str, name: &str, key: &str) -> (String, String) {
    let stem = pack_stem(kind, name, key);
    (format!("{stem}.tar.zst"), format!("{stem}.json"))
}

/// A packed build, as its file names say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackName<'a> {
    /// The name of one of the [`ArtifactKind`]s.
    pub kind: &'a str,
    /// The install's name (`3.12.7`, `1.86.0-py3.12`).
    pub name: &'a str,
    /// The first 16 hex digits of its key.
    pub key16: &'a str,
}

impl PackName<'_> {
    /// Its [`artifact_id`] (the stem of its install lock).
    pub fn artifact_id(&self) -> String {
        artifact_id(self.kind, self.name)
    }

    /// Its archive's file name.
    pub fn archive(&self) -> String {
        pack_files(self.kind, self.name, self.key16).0
    }
}

/// The pack a file name made by [`pack_files`] belongs to; `None` for any other name.
pub fn pack_of(file: &str) -> Option<PackName<'_>> {
    let stem = file
        .strip_suffix(".tar.zst")
        .or_else(|| file.strip_suffix(".json"))?;
    let (id, key16) = stem.rsplit_once('-')?;
    let hex = key16.len() == 16
        && key16
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let (kind, name) = artifact_of(id).filter(|_| hex)?;
    Some(PackName { kind, name, key16 })
}

/// The path this process was executed through (`execve`'s first argument, the kernel's
/// `AT_EXECFN`), if the auxiliary vector has it.
fn exec_path() -> Option<&'static Path> {
    // SAFETY: getauxval only reads the auxiliary vector; 0 means the entry is absent.
    let addr = unsafe { libc::getauxval(libc::AT_EXECFN) };
    if addr == 0 {
        return None;
    }
    let ptr = std::ptr::with_exposed_provenance::<libc::c_char>(addr as usize);
    // SAFETY: AT_EXECFN points at the NUL-terminated path the kernel copied to the top of the
    // initial stack, which stays in place, unchanged, for the life of the process.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    Some(Path::new(OsStr::from_bytes(bytes)))
}

/// `<R>` when `path` is `<R>/shims/<name>`; a relative `path` is taken from the directory `cwd`
/// returns (called only then).
fn root_of_shim(path: &Path, cwd: impl FnOnce() -> Option<PathBuf>) -> Option<PathBuf> {
    fn shims_parent(path: &Path) -> Option<&Path> {
        let shims = path.parent()?;
        if shims.file_name()? == "shims" {
            shims.parent()
        } else {
            None
        }
    }
    if path.is_absolute() {
        shims_parent(path).map(Path::to_path_buf)
    } else {
        shims_parent(&cwd()?.join(path)).map(Path::to_path_buf)
    }
}

/// True when `root` is pyenv's root: spelled as `PYENV_ROOT` (or `~/.pyenv`) is, or — when
/// `PYENV_ROOT` is set — the same directory reached another way (a link).
fn is_pyenv_root(root: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let pyenv = pyenv_root();
    if root == pyenv {
        return true;
    }
    let identity = |path: &Path| std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    std::env::var_os(env_vars::PYENV_ROOT).is_some_and(|v| !v.is_empty())
        && identity(root).is_some_and(|id| identity(&pyenv) == Some(id))
}

/// `PYENV_ROOT` without a trailing `/`, else `~/.pyenv` (as pyenv computes it).
fn pyenv_root() -> PathBuf {
    match std::env::var_os(env_vars::PYENV_ROOT) {
        Some(root) if !root.is_empty() => {
            let bytes = root.as_bytes();
            let trimmed = bytes
                .strip_suffix(b"/")
                .filter(|t| !t.is_empty())
                .unwrap_or(bytes);
            PathBuf::from(OsStr::from_bytes(trimmed))
        }
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".pyenv"),
    }
}

fn default_root() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from(".local/share"))
        .join("strap")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(path: &str, cwd: &str) -> Option<PathBuf> {
        root_of_shim(Path::new(path), || Some(PathBuf::from(cwd)))
    }

    #[test]
    fn a_shim_path_names_its_root() {
        let r = Some(PathBuf::from("/r"));
        assert_eq!(root("/r/shims/python3", "/elsewhere"), r);
        assert_eq!(root("./python3", "/r/shims"), r);
        assert_eq!(root("python3", "/r/shims"), r);
        assert_eq!(root("shims/python3", "/r"), r);
        assert_eq!(root("/shims/python3", "/x"), Some(PathBuf::from("/")));
        assert_eq!(
            root("../r/shims/python3", "/x"),
            Some(PathBuf::from("/x/../r"))
        );
    }

    #[test]
    fn owners_from_file_names() {
        assert_eq!(log_owner("python-3.12.7-1700000000-4242.log"), Some(4242));
        assert_eq!(log_owner("recipe-can-1700000000-7.log"), Some(7));
        assert_eq!(log_owner("notes.log"), None);
        assert_eq!(log_owner("python-3.12.7-4242.txt"), None);
        assert_eq!(
            work_dir_of("python-3.12.7-debug.4242"),
            Some(("python-3.12.7-debug", 4242))
        );
        assert_eq!(
            work_dir_of("boost-1.86.0-py3.12.4242"),
            Some(("boost-1.86.0-py3.12", 4242))
        );
        assert_eq!(work_dir_of("python-3.12.7.x"), None);
        assert_eq!(work_dir_of("thesis.4242"), None);
        assert_eq!(work_dir_of(".discard-python-3.12.7.4242"), None);
        assert_eq!(discarded_owner(".discard-python-3.12.7.4242"), Some(4242));
        assert_eq!(discarded_owner(".discard-notes.4242"), None);
        assert_eq!(removing_owner(".3.12.7.removing.99"), Some(99));
        assert_eq!(removing_owner("3.12.7.removing.99"), None);
        assert_eq!(removing_owner(".3.12.7.removing.0"), None);
    }

    #[test]
    fn source_archives_are_named_and_recognized_by_their_kind() {
        assert_eq!(
            SourceKind::Python.archives("3.12.7"),
            ["Python-3.12.7.tar.xz", "Python-3.12.7.tgz"]
        );
        assert_eq!(
            SourceKind::Boost.archives("1.86.0"),
            ["boost_1_86_0.tar.bz2", "boost_1_86_0.tar.gz"]
        );
        assert_eq!(
            SourceKind::OpenSsl.archives("1.1.1u"),
            ["openssl-1.1.1u.tar.gz"]
        );
        // Every archive each artifact kind downloads is recognized (and so cleaned).
        let versioned = ArtifactKind::ALL.iter().flat_map(|kind| kind.sources());
        for kind in versioned.filter(|kind| **kind != SourceKind::Distribution) {
            for file in kind.archives("3.13.0rc1") {
                assert_eq!(SourceKind::of(&file), Some(*kind), "{file}");
                assert!(is_cache_file(&file), "{file}");
            }
        }
        assert_eq!(SourceKind::of("Python-2.4.tgz"), Some(SourceKind::Python));
        for ours in [
            "pypy3.10-v7.3.17-linux64.tar.bz2",
            "Miniforge3-24.11.3-0-Linux-x86_64.sh",
            "stackless-v3.7.5-slp.tar.gz",
            "jython-installer-2.7.2.jar",
        ] {
            assert_eq!(
                SourceKind::of(ours),
                Some(SourceKind::Distribution),
                "{ours}"
            );
        }
        assert_eq!(
            distribution_file("stackless", "v3.7.5-slp.tar.gz"),
            "stackless-v3.7.5-slp.tar.gz"
        );
        assert_eq!(
            distribution_file("miniforge", "Miniforge3-24.11.3-0-Linux-x86_64.sh"),
            "Miniforge3-24.11.3-0-Linux-x86_64.sh"
        );
        for foreign in [
            "Python-notes.tar.gz",
            "Python-3.12.7.zip",
            "Python-.tgz",
            "Python-3..7.tgz",
            "Python-3.12/x.tgz",
            "python-3.12.7.tar.xz",
            "boost_1.86.0.tar.bz2",
            "openssl-notes.tar.gz",
            "holiday.tar.gz",
            "pypy-notes.txt",
            "pypy/../x.tar.gz",
        ] {
            assert_eq!(SourceKind::of(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn every_artifact_kinds_names_are_recognized() {
        let key = "0123456789abcdef".repeat(4);
        for kind in ArtifactKind::ALL {
            let (kind, name) = (kind.name(), "1.2.3");
            assert_eq!(artifact_of(&artifact_id(kind, name)), Some((kind, name)));
            let (archive, manifest) = pack_files(kind, name, &key);
            for file in [&archive, &manifest] {
                assert_eq!(pack_of(file).map(|p| (p.kind, p.name)), Some((kind, name)));
                assert!(is_cache_file(&build_cache_file(file)), "{file}");
            }
            let work = Layout::new("/r").work_dir(kind, name);
            let work = work.file_name().unwrap().to_str().unwrap();
            assert_eq!(
                work_dir_of(work).map(|(id, _)| id),
                Some(&*artifact_id(kind, name))
            );
        }
    }

    #[test]
    fn short_keys_never_cut_a_character() {
        assert_eq!(short_key(&"ab".repeat(32)), "abababababababab");
        assert_eq!(short_key("abc"), "abc");
        assert_eq!(short_key("0123456789abcde\u{e9}x"), "0123456789abcde\u{e9}");
        assert_eq!(pack_stem("python", "3.12.7", "abc"), "python-3.12.7-abc");
    }

    #[test]
    fn pack_names_are_made_and_read_back() {
        let key = "0123456789abcdef0123";
        let (archive, manifest) = pack_files("boost", "1.86.0-py3.12", key);
        assert_eq!(archive, "boost-1.86.0-py3.12-0123456789abcdef.tar.zst");
        let pack = PackName {
            kind: "boost",
            name: "1.86.0-py3.12",
            key16: "0123456789abcdef",
        };
        assert_eq!(pack_of(&archive), Some(pack));
        assert_eq!(pack_of(&manifest), Some(pack));
        assert_eq!(pack.archive(), archive);
        assert_eq!(pack.artifact_id(), "boost-1.86.0-py3.12");
        for foreign in [
            "thesis.tex",
            "3.12.7-0123456789abcdef.json",
            "notes-3.12.7-0123456789abcdef.json",
            "python-3.12.7-0123456789abcdeg.json",
            "python-3.12.7-0123456789abcde.tar.zst",
            "python--0123456789abcdef.json",
            "python-3.12.7-0123456789abcdef.tar.gz",
        ] {
            assert_eq!(pack_of(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn cache_files_name_the_file_they_become() {
        let file = "Python-3.12.7.tgz";
        assert_eq!(CacheFile::of(file), CacheFile::Complete(file));
        assert_eq!(
            CacheFile::of(&download_part(file)),
            CacheFile::Partial(file)
        );
        assert_eq!(
            CacheFile::of(&format!(".{file}.part")),
            CacheFile::Partial(file)
        );
        assert_eq!(
            CacheFile::of(&format!(".{file}.aB3x9Z.part")),
            CacheFile::Partial(file)
        );
        let aside = mismatch_name(file, &"ab".repeat(32));
        assert_eq!(aside, "Python-3.12.7.tgz.mismatch-abababababab");
        assert_eq!(CacheFile::of(&aside), CacheFile::Mismatched(file));
        assert_eq!(
            CacheFile::of("Python-3.12.7.tgz.mismatch-zz"),
            CacheFile::Complete("Python-3.12.7.tgz.mismatch-zz")
        );
        assert!(is_cache_file("openssl-1.1.1u.tar.gz"));
        assert!(is_cache_file(&build_cache_file(
            "python-3.12.7-0123456789abcdef.tar.zst"
        )));
        for foreign in [
            "../o.tar.gz",
            "o.tgz",
            "builds/Python-3.12.7.tgz",
            "builds/../x",
        ] {
            assert!(!is_cache_file(foreign), "{foreign}");
        }
        assert_eq!(
            download_lock_name(&build_cache_file("python-3.12.7-0123456789abcdef.tar.zst")),
            "download-builds-python-3.12.7-0123456789abcdef.tar.zst.lock"
        );
    }

    #[test]
    fn lock_files_are_named_and_read_back() {
        let layout = Layout::new("/r");
        let name = |path: PathBuf| path.file_name().unwrap().to_str().unwrap().to_owned();
        let install = name(layout.install_lock("boost", "1.86.0-py3.12"));
        assert_eq!(
            install_lock_owner(&install),
            Some(("boost", "1.86.0-py3.12"))
        );
        for lock in [
            name(layout.rehash_lock()),
            name(layout.download_lock("a.tgz")),
        ] {
            assert!(is_lock_file(&lock), "{lock}");
            assert_eq!(install_lock_owner(&lock), None, "{lock}");
        }
        assert!(is_lock_file(&install));
        assert!(!is_lock_file(".lock") && !is_lock_file("python-3.12.7.lck"));
    }

    #[test]
    fn other_paths_name_no_root() {
        assert_eq!(root("/usr/bin/python3", "/r/shims"), None);
        assert_eq!(root("./python3", "/r/bin"), None);
        assert_eq!(root("target/debug/strap", "/r"), None);
        assert_eq!(root("/shims", "/"), None);
        assert_eq!(root_of_shim(Path::new("./python3"), || None), None);
    }
}
