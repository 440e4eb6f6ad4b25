//! The one staged-install pipeline every kind of artifact goes through (CPython now; Boost and
//! prebuilt archives next): preflight, a per-(kind, name) lock, cleanup of what killed runs
//! left, fetch through the mirrors, safe unpacking into a work directory, the kind's build and
//! verify steps into a staging area, a receipt, then one rename into place. An install is
//! complete or absent, never half there; the pipeline reports every phase and how it ended.

mod miss;
mod prebuilt;
mod receipt;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::archive::{self, ArchiveError};
use crate::binary::{BinaryError, BinaryMirror, PackId};
use crate::error::{Explain, Io, IoContext, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE};
use crate::fetch::{FetchError, FetchSettings, Fetcher, Wanted};
use crate::layout::{Layout, UserDir};
use crate::lock::FileLock;
use crate::process::{Cancel, Log, RunError, Runner};
use crate::report::{PhaseEnd, Reporter};

use crate::identity::{Platform, Receipt};
use crate::layout::BUILDS_DIR;
use crate::workdir::WorkDir;
use miss::{Fault, Miss, Unusable, Why};
use prebuilt::Prebuilt;
pub use receipt::artifact_key;

/// One thing to fetch: alternative archives of the same source, in order of preference.
#[derive(Debug, Clone)]
pub struct Source {
    pub candidates: Vec<Wanted>,
}

/// What a kind of artifact supplies to the pipeline.
pub trait Artifact {
    /// The kind (`python`), used for locks, work directories, logs and receipts.
    fn kind(&self) -> &'static str;
    /// The install's name (`3.13.1t`).
    fn name(&self) -> &str;
    /// What the header line says is being installed (`CPython 3.13.1t (requested as 3.13t)`).
    fn title(&self) -> String;
    /// Where it is installed.
    fn prefix(&self) -> &Path;
    /// Checks the build prerequisites before anything is downloaded. `Ok(warnings)` when the
    /// build can start; by default there is nothing to check.
    fn preflight(&self) -> Result<Vec<String>, StageError> {
        Ok(Vec::new())
    }
    /// What the preflight checks, as its phase line names it; `None` when there is nothing to
    /// check (an archive that is only unpacked), and no preflight phase is shown.
    fn preflight_detail(&self) -> Option<&'static str> {
        Some("compiler, tools, headers")
    }
    /// The sources to fetch and unpack, in the order [`Build::sources`] lists them.
    fn sources(&self) -> &[Source];
    /// Fetches the sources (verified, into the cache); returns their paths in order.
    fn fetch(
        &self,
        fetcher: &mut Fetcher,
        reporter: &dyn Reporter,
    ) -> Result<Vec<PathBuf>, StageError> {
        self.sources()
            .iter()
            .map(|source| Ok(fetcher.fetch(&source.candidates, reporter)?.0))
            .collect()
    }
    /// Builds from the unpacked sources into [`Build::staged_prefix`], reporting its phases.
    fn build(&self, build: &Build<'_>) -> Result<(), StageError>;
    /// What the verify phase checks (e.g. `required and optional modules, pip`).
    fn verify_detail(&self) -> String;
    /// Checks the staged result; returns notes for the user (e.g. optional parts missing).
    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError>;
    /// The options that shaped the build, for the receipt.
    fn options(&self) -> Vec<String>;
    /// What the receipt records about this kind of install beyond its options (Boost: the
    /// libraries, variants, the Python); `null` for nothing.
    fn details(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// The manifest of the packed build this installs instead of building, if it does.
    fn packed(&self) -> Option<&crate::pack::Manifest> {
        None
    }
}

/// How the pipeline runs, whatever the artifact.
#[derive(Debug, Clone)]
pub struct StageOptions {
    pub fetch: FetchSettings,
    pub jobs: usize,
    pub force: bool,
    /// Keep the work directory after a failure.
    pub keep: bool,
    pub skip_preflight: bool,
    pub build_cache: BuildCache,
}

/// How installs use the build cache (`<cache>/builds/`, see [`prebuilt`]) and binary mirrors.
#[derive(Debug, Clone)]
pub struct BuildCache {
    /// Install a packed build of the same key (cached, else from a binary mirror) instead of
    /// building.
    pub use_it: bool,
    /// Pack every source build into it.
    pub fill_it: bool,
    /// Where packed builds are looked up after the build cache, in order.
    pub mirrors: Vec<BinaryMirror>,
    /// Fail instead of building from source.
    pub binary_only: bool,
}

/// What an install did.
#[derive(Debug)]
pub enum Outcome {
    Installed {
        prefix: PathBuf,
        /// Notes from verification.
        notes: Vec<String>,
        log: PathBuf,
    },
    /// It was installed already (or another strap process installed it meanwhile).
    AlreadyInstalled,
}

/// Why a step of an install failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("missing build prerequisites: {missing}")]
    Preflight {
        missing: String,
        /// The command that installs them, when the package manager is known.
        fix: Option<String>,
    },
    #[error(transparent)]
    BrokenCompiler(#[from] crate::sysdeps::BrokenCompiler),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("building {what} failed: {source}")]
    Build { what: String, source: RunError },
    #[error("{what}: {why}")]
    Verify {
        what: String,
        why: String,
        hint: Option<String>,
    },
    #[error("interrupted")]
    Interrupted,
    /// The root cannot hold an install ([`Layout::unquotable`]).
    #[error("{0}")]
    Root(String),
    #[error(transparent)]
    Io(#[from] Io),
    #[error(transparent)]
    Binary(#[from] BinaryError),
    #[error("'{0}' is not a name strap gives an archive in its download cache (such as Python-3.12.7.tar.xz, openssl-1.1.1u.tar.gz or boost_1_86_0.tar.bz2), so it is not downloaded")]
    UnknownArchive(String),
    #[error("no packed build of {what} to install, and --binary-only forbids building it:{}{}", looked.iter().map(|m| format!("\n  {m}")).collect::<String>(), if *no_mirror { "\n  no binary mirror is configured" } else { "" })]
    NoBinary {
        what: String,
        /// Every place looked in (the build cache first), and what it had.
        looked: Vec<Miss>,
        /// True when no binary mirror is configured (the hint says how to add one).
        no_mirror: bool,
    },
}

impl StageError {
    /// A failed build command (an interruption is reported as such).
    pub fn build(what: &str, source: RunError) -> StageError {
        match source {
            RunError::Interrupted => StageError::Interrupted,
            source => StageError::Build {
                what: what.to_owned(),
                source,
            },
        }
    }

    /// True when this failure of an install from a pack is the pack's own (its files, bytes,
    /// or contents that do not relocate or verify), not this machine's nor an interruption.
    fn blames_pack(&self) -> bool {
        match self {
            StageError::Fetch(FetchError::Io(_) | FetchError::Interrupted) => false,
            StageError::Fetch(_) | StageError::Verify { .. } => true,
            StageError::Archive(e) => !e.is_local_io(),
            _ => false,
        }
    }

    fn is_interruption(&self) -> bool {
        matches!(
            self,
            StageError::Interrupted
                | StageError::Fetch(FetchError::Interrupted)
                | StageError::Binary(BinaryError::Interrupted)
        ) || matches!(self, StageError::BrokenCompiler(e) if e.was_interrupted())
    }
}

/// A failed install: nothing was left in place; maybe the work directory was kept.
#[derive(Debug, thiserror::Error)]
pub struct StageFailure {
    pub error: Box<StageError>,
    /// The work directory, when `--keep` kept it.
    pub kept: Option<PathBuf>,
}

impl std::fmt::Display for StageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.error.as_ref() {
            StageError::Interrupted => write!(f, "interrupted: nothing was installed")?,
            StageError::Fetch(FetchError::Interrupted) => write!(
                f,
                "interrupted: nothing was installed; the partial download is kept for next time"
            )?,
            error => write!(f, "{error}")?,
        }
        if let Some(kept) = &self.kept {
            write!(f, "\nthe build tree is kept at {}", kept.display())?;
        }
        Ok(())
    }
}

impl Explain for StageFailure {
    fn hint(&self) -> Option<String> {
        match self.error.as_ref() {
            StageError::Preflight { fix, .. } => Some(match fix {
                Some(cmd) => format!("install them with: {cmd}  (or build anyway with --skip-preflight)"),
                None => "install them with your package manager (or build anyway with --skip-preflight)"
                    .to_owned(),
            }),
            StageError::BrokenCompiler(e) => Some(e.fix()),
            StageError::Fetch(e) => e.hint(),
            StageError::Verify { hint, .. } => hint.clone(),
            StageError::NoBinary { no_mirror: true, .. } => Some(
                "configure a binary mirror that has it (--binary-mirror URL, \
                 STRAP_BINARY_MIRRORS=URL, or binary = [\"URL\"] under [cache] in the config \
                 file), or drop --binary-only to build it from source"
                    .to_owned(),
            ),
            StageError::NoBinary { .. } => Some(
                "drop --binary-only to build it from source, or add a binary mirror that has it \
                 (--binary-mirror, STRAP_BINARY_MIRRORS, [cache] binary)"
                    .to_owned(),
            ),
            StageError::Build {
                source: RunError::Failed { .. } | RunError::TimedOut { .. },
                ..
            } if self.kept.is_none() => Some(
                "the build tree was removed; rerun with -k (--keep) to keep it and read its config.log"
                    .to_owned(),
            ),
            StageError::Archive(e) if e.is_local_io() => {
                Some("free some space or fix the permissions, then retry".to_owned())
            }
            StageError::UnknownArchive(_) => Some(
                "name it as upstream does in the catalog that lists it (STRAP_PYTHON_CATALOG, \
                 STRAP_BOOST_CATALOG)"
                    .to_owned(),
            ),
            _ => None,
        }
    }

    fn exit_code(&self) -> i32 {
        match self.error.as_ref() {
            error if error.is_interruption() => EXIT_INTERRUPTED,
            StageError::UnknownArchive(_) | StageError::Root(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}

/// The phases of one install, as the pipeline reports them: each starts, then ends as done,
/// failed or interrupted.
pub struct Phases<'a> {
    reporter: &'a dyn Reporter,
    cancel: &'a Cancel,
}

impl Phases<'_> {
    /// Runs `work` as the phase `name` (with `detail`), reporting how it ended.
    pub fn run<T>(
        &self,
        name: &str,
        detail: &str,
        work: impl FnOnce() -> Result<T, StageError>,
    ) -> Result<T, StageError> {
        self.reporter.phase_started(name, detail);
        let result = work();
        self.reporter.phase_ended(match &result {
            Ok(_) if !self.cancel.is_cancelled() => PhaseEnd::Done,
            Err(e) if !e.is_interruption() && !self.cancel.is_cancelled() => PhaseEnd::Failed,
            _ => PhaseEnd::Interrupted,
        });
        match result {
            // A failure after Ctrl-C is most likely its effect (the terminal interrupts a
            // compiler probe too): the phase was interrupted.
            _ if self.cancel.is_cancelled() => Err(StageError::Interrupted),
            Err(e) if e.is_interruption() => Err(StageError::Interrupted),
            other => other,
        }
    }
}

/// What an artifact's build and verify steps work with.
pub struct Build<'a> {
    /// The unpacked source trees, in the order of [`Artifact::sources`]; a download that is run
    /// rather than unpacked (an installer `.sh` or `.jar`) is a directory holding it under its
    /// cache name.
    pub sources: Vec<PathBuf>,
    /// `DESTDIR`: the build installs into `<staging>/<prefix>`.
    pub staging: PathBuf,
    /// Scratch space of this install (removed with it), for files the build generates.
    pub scratch: PathBuf,
    /// The final prefix, baked into the build.
    pub prefix: &'a Path,
    /// Runs the build's commands (logged, supervised, cancellable).
    pub runner: Runner,
    pub jobs: usize,
    pub phases: Phases<'a>,
}

impl Build<'_> {
    /// The staged copy of a path under the final prefix.
    pub fn staged(&self, path: &Path) -> PathBuf {
        self.staging.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// The staged prefix.
    pub fn staged_prefix(&self) -> PathBuf {
        self.staged(self.prefix)
    }
}

/// Installs `artifact` under `layout`.
pub fn install(
    layout: &Layout,
    artifact: &dyn Artifact,
    options: &StageOptions,
    reporter: &dyn Reporter,
    cancel: &Cancel,
) -> Result<Outcome, StageFailure> {
    if installed(artifact.prefix()) && !options.force {
        return Ok(Outcome::AlreadyInstalled);
    }
    if let Some(why) = layout.unquotable() {
        return Err(StageFailure {
            error: Box::new(StageError::Root(why)),
            kept: None,
        });
    }
    if options.build_cache.use_it {
        let misses = match install_packed(layout, artifact, options, reporter, cancel) {
            Ok(outcome) => return outcome,
            Err(misses) => misses,
        };
        if options.build_cache.binary_only {
            return Err(StageFailure {
                error: Box::new(no_binary(artifact, options, misses)),
                kept: None,
            });
        }
        if !misses.is_empty() {
            let misses: Vec<String> = misses.iter().map(Miss::to_string).collect();
            reporter.message(&format!(
                "no packed build to install ({}); building from source",
                misses.join("; ")
            ));
        }
    }
    staged_install(layout, artifact, options, reporter, cancel)
}

/// The error of a `--binary-only` install that found no usable pack: every place looked in,
/// the build cache first (even when it had none), and whether any binary mirror is configured.
fn no_binary(artifact: &dyn Artifact, options: &StageOptions, misses: Vec<Miss>) -> StageError {
    let mut looked = misses;
    if !looked.iter().any(|miss| miss.from == FROM_CACHE) {
        let builds = options.fetch.cache_dir.join(BUILDS_DIR);
        let from = format!("{FROM_CACHE} ({})", builds.display());
        looked.insert(
            0,
            Miss {
                from,
                why: Why::NotThere,
            },
        );
    }
    StageError::NoBinary {
        what: artifact.title(),
        looked,
        no_mirror: options.build_cache.mirrors.is_empty(),
    }
}

/// How the build cache is named where a pack comes from.
const FROM_CACHE: &str = "the build cache";

/// Installs the packed build of `artifact` from the build cache, else from the first binary
/// mirror that has a usable one. `Ok` is the install's outcome (or an interruption); `Err`
/// lists why each place had none, for the source build's note.
fn install_packed(
    layout: &Layout,
    artifact: &dyn Artifact,
    options: &StageOptions,
    reporter: &dyn Reporter,
    cancel: &Cancel,
) -> Result<Result<Outcome, StageFailure>, Vec<Miss>> {
    // The install from a pack, or why it failed (an interruption ends the install).
    with_pack(
        artifact,
        options,
        reporter,
        cancel,
        |packed, _| match staged_install(layout, packed, options, reporter, cancel) {
            Err(failure) if !failure.error.is_interruption() => Err(Unusable::install(failure)),
            outcome => Ok(outcome),
        },
    )
}

/// Offers `attempt` the packed build of `artifact` from the build cache, then from each binary
/// mirror that has a usable one, until an attempt succeeds; `Err` lists why each place had none
/// (each failed attempt is warned about).
fn with_pack<T>(
    artifact: &dyn Artifact,
    options: &StageOptions,
    reporter: &dyn Reporter,
    cancel: &Cancel,
    mut attempt: impl FnMut(&Prebuilt<'_>, &mut Fetcher) -> Result<T, Unusable>,
) -> Result<T, Vec<Miss>> {
    let key = artifact_key(artifact, &Platform::current());
    let id = PackId {
        kind: artifact.kind(),
        name: artifact.name(),
        key: &key,
    };
    let refused = |misses: &mut Vec<Miss>, from: &str, refusal: Unusable| {
        refuse(misses, from, refusal, id, &options.fetch, reporter)
    };
    let mut misses = Vec::new();
    let mut fetcher = Fetcher::new(options.fetch.clone(), cancel.clone());
    match Prebuilt::cached(artifact, &options.fetch.cache_dir, &key, FROM_CACHE) {
        Some(Ok(cached)) => match attempt(&cached, &mut fetcher) {
            Ok(done) => return Ok(done),
            Err(refusal) => refused(&mut misses, FROM_CACHE, refusal),
        },
        Some(Err(refusal)) => refused(&mut misses, FROM_CACHE, refusal),
        None => {}
    }
    for mirror in &options.build_cache.mirrors {
        let from = mirror.to_string();
        if options.fetch.offline && !mirror.is_local() {
            misses.push(Miss {
                from,
                why: Why::Offline,
            });
            continue;
        }
        match mirror.lookup(id, &mut fetcher) {
            Ok(found) => match attempt(&Prebuilt::remote(artifact, mirror, found), &mut fetcher) {
                Ok(done) => return Ok(done),
                Err(refusal) => refused(&mut misses, &from, refusal),
            },
            Err(BinaryError::NotThere) => misses.push(Miss {
                from,
                why: Why::NotThere,
            }),
            Err(e) => unusable(&mut misses, from, Why::Lookup(e), reporter),
        }
    }
    Err(misses)
}

/// Downloads what installing `artifact` would (its pack when the build cache or a binary
/// mirror has a usable one, else its sources) into the cache, and builds nothing: several of
/// these run at once before installs that then find everything cached.
pub fn prefetch(
    artifact: &dyn Artifact,
    options: &StageOptions,
    reporter: &dyn Reporter,
    cancel: &Cancel,
) -> Result<(), StageFailure> {
    if installed(artifact.prefix()) && !options.force {
        return Ok(());
    }
    if options.build_cache.use_it {
        let fetched = with_pack(artifact, options, reporter, cancel, |packed, fetcher| {
            packed
                .fetch(fetcher, reporter)
                .map(drop)
                .map_err(Unusable::fetch)
        });
        if fetched.is_ok() || cancel.is_cancelled() {
            return Ok(());
        }
    }
    let mut fetcher = Fetcher::new(options.fetch.clone(), cancel.clone());
    known_sources(artifact)
        .and_then(|()| artifact.fetch(&mut fetcher, reporter))
        .map(drop)
        .map_err(|error| StageFailure {
            error: Box::new(error),
            kept: None,
        })
}

/// Refuses sources whose cache file name strap does not make (a catalog's typo, or a path
/// reaching outside the cache): every file in the cache is one `strap cache clean` knows.
fn known_sources(artifact: &dyn Artifact) -> Result<(), StageError> {
    let files = artifact.sources().iter().flat_map(|s| &s.candidates);
    match files
        .map(|wanted| &wanted.file)
        .find(|file| !crate::layout::is_cache_file(file))
    {
        Some(file) => Err(StageError::UnknownArchive(file.clone())),
        None => Ok(()),
    }
}

/// Notes a place whose pack could not be installed, and why: a bad pack is removed from the
/// build cache (and the warning says so); one that is merely not for this machine is a quiet
/// miss.
fn refuse(
    misses: &mut Vec<Miss>,
    from: &str,
    refusal: Unusable,
    id: PackId<'_>,
    settings: &FetchSettings,
    reporter: &dyn Reporter,
) {
    let Unusable { defect, fault } = refusal;
    let from = from.to_owned();
    let removed = fault == Fault::Pack && prebuilt::discard(id, settings);
    let why = Why::Unusable { defect, removed };
    match fault {
        Fault::NotForHere => misses.push(Miss { from, why }),
        Fault::Pack | Fault::Elsewhere => unusable(misses, from, why, reporter),
    }
}

/// Notes (and warns about) a place whose pack could not be installed, and why.
fn unusable(misses: &mut Vec<Miss>, from: String, why: Why, reporter: &dyn Reporter) {
    reporter.warning(&format!(
        "the packed build from {from} cannot be used: {why}"
    ));
    misses.push(Miss { from, why });
}

/// Installs `artifact` through the stages.
fn staged_install(
    layout: &Layout,
    artifact: &dyn Artifact,
    options: &StageOptions,
    reporter: &dyn Reporter,
    cancel: &Cancel,
) -> Result<Outcome, StageFailure> {
    reporter.header(&artifact.title());
    let _total = TotalTime {
        reporter,
        started: Instant::now(),
    };
    let fail = |error| StageFailure {
        error: Box::new(error),
        kept: None,
    };
    known_sources(artifact).map_err(fail)?;
    let prefix = artifact.prefix().to_owned();
    let phases = Phases { reporter, cancel };
    // A packed build needs no build prerequisites: its verification checks what it needs.
    let preflight = artifact
        .preflight_detail()
        .filter(|_| !options.skip_preflight);
    if let Some(detail) = preflight.filter(|_| artifact.packed().is_none()) {
        let warnings = phases
            .run("preflight", detail, || artifact.preflight())
            .map_err(fail)?;
        for warning in warnings {
            reporter.warning(&warning);
        }
    }
    let (kind, name) = (artifact.kind(), artifact.name());
    let lock = FileLock::acquire_unless_cancelled(
        &layout.install_lock(kind, name),
        |_| {
            reporter.message(&format!(
                "waiting for another strap process installing {name}"
            ))
        },
        cancel,
    )
    .map_err(|e| fail(e.into()))?;
    let Some(_lock) = lock else {
        return Err(fail(StageError::Interrupted));
    };
    // What a killed install left goes first: the install it was replacing may come back.
    crate::workdir::undo_prefix_link(&prefix)
        .io_context("undo the link a killed install left at", &prefix)
        .map_err(|e| fail(e.into()))?;
    crate::workdir::remove_leftovers(layout, kind, name);
    if installed(&prefix) && !options.force {
        return Ok(Outcome::AlreadyInstalled);
    }

    let archives = fetch_all(artifact, options, reporter, cancel, &phases).map_err(fail)?;
    let mut work = WorkDir::create(layout, kind, name)
        .io_context("create build directory", layout.work_dir(kind, name))
        .map_err(|e| fail(e.into()))?;
    let log = layout.log_file(&format!("{kind}-{name}"));
    match build_and_place(artifact, options, &archives, &work, &log, phases, cancel) {
        Ok(notes) => {
            work.discard();
            Ok(Outcome::Installed { prefix, notes, log })
        }
        Err(error) => {
            if options.keep {
                work.keep();
            }
            Err(StageFailure {
                error: Box::new(error),
                kept: work.kept().map(Path::to_owned),
            })
        }
    }
}

/// True when an install is at `prefix`: not while it is the link an installer told the final
/// prefix runs through, nor when a killed one left it ([`crate::workdir::PrefixLink`]).
fn installed(prefix: &Path) -> bool {
    prefix.exists() && !crate::workdir::is_staging_link(prefix)
}

/// Reports the install's total time when it ends, however it ends.
struct TotalTime<'a> {
    reporter: &'a dyn Reporter,
    started: Instant,
}

impl Drop for TotalTime<'_> {
    fn drop(&mut self) {
        self.reporter.finished(self.started.elapsed());
    }
}

fn fetch_all(
    artifact: &dyn Artifact,
    options: &StageOptions,
    reporter: &dyn Reporter,
    cancel: &Cancel,
    phases: &Phases<'_>,
) -> Result<Vec<PathBuf>, StageError> {
    let mut fetcher = Fetcher::new(options.fetch.clone(), cancel.clone());
    let names: Vec<String> = artifact
        .sources()
        .iter()
        .map(|s| {
            let files: Vec<&str> = s.candidates.iter().map(|w| w.file.as_str()).collect();
            files.join(" or ")
        })
        .collect();
    phases.run("download", &names.join(", "), || {
        artifact.fetch(&mut fetcher, reporter)
    })
}

fn build_and_place(
    artifact: &dyn Artifact,
    options: &StageOptions,
    archives: &[PathBuf],
    work: &WorkDir,
    log: &Path,
    phases: Phases<'_>,
    cancel: &Cancel,
) -> Result<Vec<String>, StageError> {
    let log = Log::create(log).map_err(|e| StageError::build(artifact.name(), e))?;
    log.note(&format!(
        "# strap {} {} {}",
        env!("CARGO_PKG_VERSION"),
        artifact.kind(),
        artifact.name()
    ));
    let temp = work.path().join("tmp");
    fs::create_dir_all(&temp).io_context("create", &temp)?;
    let mut runner = Runner::new(log, cancel.clone())
        .record_groups(work.groups_file())
        .temp_dir(temp);
    if let Some(sink) = phases.reporter.output_sink() {
        runner = runner.on_line(sink);
    }
    let sources = phases.run("unpack", &archive_names(archives), || {
        archives
            .iter()
            .enumerate()
            .map(|(index, archive)| {
                let dest = match index {
                    0 => work.path().join("src"),
                    n => work.path().join(format!("src-{n}")),
                };
                if is_runnable_download(archive) {
                    return take_as_is(archive, &dest);
                }
                Ok(archive::unpack(archive, &dest)?)
            })
            .collect()
    })?;
    let build = Build {
        sources,
        staging: work.path().join("stage"),
        scratch: work.path().join("scratch"),
        prefix: artifact.prefix(),
        runner,
        jobs: options.jobs,
        phases,
    };
    artifact.build(&build)?;
    let staged_prefix = build.staged_prefix();
    let bin = staged_prefix.join("bin");
    crate::shebang::fit(&bin, artifact.prefix())
        .io_context("fit the #! lines of the scripts in", &bin)?;
    Receipt::new(artifact, archives)
        .write(&staged_prefix)
        .io_context("write the receipt in", &staged_prefix)?;
    // The pack is made from the staged tree while it is verified (the checks write nothing
    // into it), and put into the build cache once the install is in place.
    let packing = options.build_cache.fill_it && artifact.packed().is_none();
    let builds = options.fetch.cache_dir.join(BUILDS_DIR);
    let pack_cancel = cancel.child();
    let (verified, pending) = std::thread::scope(|scope| {
        let packer = packing.then(|| {
            let (staged, prefix) = (&staged_prefix, artifact.prefix());
            let (builds, pack_cancel) = (&builds, &pack_cancel);
            scope.spawn(move || pack_into(builds, staged, prefix, pack_cancel))
        });
        let verified = build.phases.run("verify", &artifact.verify_detail(), || {
            artifact.verify(&build)
        });
        let joined = |packer: std::thread::ScopedJoinHandle<'_, _>| {
            packer.join().unwrap_or_else(|_| {
                Err(StageError::Verify {
                    what: artifact.name().to_owned(),
                    why: "packing panicked".to_owned(),
                    hint: None,
                })
            })
        };
        let pending = match (packer, &verified) {
            (Some(packer), Ok(_)) => Some(
                build
                    .phases
                    .run("pack", "into the build cache", || joined(packer)),
            ),
            (Some(packer), Err(_)) => {
                // Nothing is installed: the pack stops and leaves nothing.
                pack_cancel.cancel();
                drop(joined(packer));
                None
            }
            (None, _) => None,
        };
        (verified, pending)
    });
    let notes = verified?;
    // Interrupted while the pack was awaited: nothing is installed.
    if cancel.is_cancelled() {
        return Err(StageError::Interrupted);
    }
    let user_dirs = crate::layout::user_dirs(artifact.kind());
    let carried = place(&staged_prefix, artifact.prefix(), work.path(), user_dirs)?;
    for line in carried.iter().filter_map(Carried::message) {
        build.phases.reporter.message(&line);
    }
    let committed = match pending {
        Some(Ok(pending)) => pending.commit().map(drop).map_err(|e| e.to_string()),
        Some(Err(StageError::Interrupted)) => Err("interrupted".to_owned()),
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(()),
    };
    if let Err(e) = committed {
        build
            .phases
            .reporter
            .warning(&format!("the build was not added to the build cache: {e}"));
    }
    Ok(notes)
}

/// True for a download that is run, not unpacked: an installer (`.sh`, `.jar`).
fn is_runnable_download(file: &Path) -> bool {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    name.ends_with(".sh") || name.ends_with(".jar")
}

/// Puts a download that is not unpacked into the directory `dest` under its own name (a hard
/// link to the cached file, else a copy), so the build sees it as every source: a directory.
fn take_as_is(download: &Path, dest: &Path) -> Result<PathBuf, StageError> {
    fs::create_dir_all(dest).io_context("create", dest)?;
    let copy = dest.join(download.file_name().unwrap_or_default());
    if fs::hard_link(download, &copy).is_err() {
        fs::copy(download, &copy).io_context("copy", download)?;
    }
    Ok(dest.to_owned())
}

/// Packs the install staged in `staged` for `prefix` into the build cache directory `builds`,
/// not yet put in place.
fn pack_into(
    builds: &Path,
    staged: &Path,
    prefix: &Path,
    cancel: &Cancel,
) -> Result<crate::pack::PendingPack, StageError> {
    fs::create_dir_all(builds).io_context("create", builds)?;
    let failed = |e: crate::pack::PackError| match e {
        crate::pack::PackError::Interrupted(_) => StageError::Interrupted,
        e => StageError::Verify {
            what: prefix.display().to_string(),
            why: e.to_string(),
            hint: None,
        },
    };
    let receipt = crate::pack::receipt(staged).map_err(failed)?;
    let key = receipt.key(&Platform::current());
    let (archive, manifest) = crate::layout::pack_files(&receipt.kind, &receipt.name, &key);
    crate::pack::pack_tree(
        staged,
        prefix,
        &builds.join(archive),
        &builds.join(manifest),
        cancel,
    )
    .map_err(failed)
}

fn archive_names(archives: &[PathBuf]) -> String {
    archives
        .iter()
        .map(|a| a.file_name().unwrap_or_default().to_string_lossy())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves the staged prefix into place, replacing an existing install (`--force`) only once
/// the new one is complete. The replaced install's [`crate::layout::UserDir`]s (a Python's
/// virtualenvs) are moved into the new prefix as part of that swap: if it fails, the old
/// install is put back with them. Returns what was carried over, for the message.
fn place(
    staged_prefix: &Path,
    prefix: &Path,
    work: &Path,
    user_dirs: &[UserDir],
) -> Result<Vec<Carried>, StageError> {
    if let Some(parent) = prefix.parent() {
        fs::create_dir_all(parent).io_context("create", parent)?;
    }
    // The build's own copies (a pack made before packs left them out) never replace the user's.
    for dir in user_dirs {
        remove_entry(&staged_prefix.join(dir.name))?;
    }
    let old = work.join("replaced");
    let replacing = prefix.exists();
    if replacing {
        fs::rename(prefix, &old).io_context("move aside", prefix)?;
    }
    let put_back = |carried: &[Carried]| {
        for dir in carried {
            let _ = fs::rename(staged_prefix.join(dir.dir.name), old.join(dir.dir.name));
        }
        if replacing {
            let _ = fs::rename(&old, prefix);
        }
    };
    // Only out of a real directory: never through a link strap did not make.
    let carry = replacing && fs::symlink_metadata(&old).is_ok_and(|m| m.is_dir());
    let mut carried = Vec::new();
    for &dir in user_dirs.iter().filter(|_| carry) {
        let from = old.join(dir.name);
        if fs::symlink_metadata(&from).is_err() {
            continue;
        }
        if let Err(e) = fs::rename(&from, staged_prefix.join(dir.name)) {
            put_back(&carried);
            return Err(Io::new("carry over", &from, e).into());
        }
        carried.push(Carried {
            dir,
            entries: entry_names(&staged_prefix.join(dir.name)),
        });
    }
    if let Err(e) = fs::rename(staged_prefix, prefix) {
        put_back(&carried);
        return Err(Io::new("move into place", prefix, e).into());
    }
    Ok(carried)
}

/// A user directory a reinstall carried over, and the names in it.
struct Carried {
    dir: UserDir,
    entries: Vec<String>,
}

impl Carried {
    /// The line that says so (`kept the virtualenvs of the replaced install in envs/: a b`);
    /// `None` when it holds nothing.
    fn message(&self) -> Option<String> {
        (!self.entries.is_empty()).then(|| {
            format!(
                "kept the {} of the replaced install in {}/: {}",
                self.dir.holds,
                self.dir.name,
                self.entries.join(" ")
            )
        })
    }
}

/// The names in the directory `path` (not through a link), sorted; none when it is not one.
pub(crate) fn entry_names(path: &Path) -> Vec<String> {
    let real = fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let mut names: Vec<String> = real
        .then(|| fs::read_dir(path).ok())
        .flatten()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Removes `path` (a link itself, never what it points to), when there is one.
fn remove_entry(path: &Path) -> Result<(), StageError> {
    let removed = match fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    Ok(removed.io_context("remove", path)?)
}

/// Seconds as the phase lines show them.
pub fn seconds(elapsed: Duration) -> String {
    format!("{:.1}s", elapsed.as_secs_f64())
}
