//! `strap install`: options from flags, environment and config (validated before anything
//! runs), then each version through the staged-install pipeline.

use std::collections::HashSet;
use std::io::Write;

use serde::Serialize;

use super::build_flags::{BuildFlags, Settings};
use super::progress::TerminalReporter;
use super::Ctx;
use crate::config::{Config, PrebuiltMode};
use crate::env_vars;
use crate::error::{Reported, UsageError};
use crate::pins::{self, Pin};
use crate::process::Cancel;
use crate::python::build::{Patch, UserOptions};
use crate::python::catalog::{listed_under, pin_override_warning, pyenv_order, Catalog};
use crate::python::family::{self, Family};
use crate::python::install::{CPython, PythonOptions};
use crate::python::plan::{self, Planned};
use crate::settings;
use crate::stage::{self, Artifact, Outcome, StageOptions};
use crate::version::{self, Error, Origin};

/// The flags of `strap install`.
#[derive(clap::Args, Debug, Default, PartialEq)]
pub struct InstallArgs {
    /// Versions to install: exact (3.12.7), a prefix (3.12: the newest known), `latest`, or
    /// free-threaded (3.13t). Default: each version the version files select that no installed
    /// version satisfies (the newest known match of a prefix).
    /// With --list: prefixes of the versions to list (3.12, 3.13t, 3.14.5rc).
    pub versions: Vec<String>,
    /// List what installs here: CPython releases, free-threaded builds (3.13.1t) and the other
    /// families of python-build's catalog (pypy3.10-7.3.17, miniforge3-24.11.3-0, …); installed
    /// ones are marked. Exits 1 when a prefix matches none
    #[arg(short, long)]
    pub list: bool,
    /// With --list: also what does not install here (other architectures, excluded
    /// definitions), each with the reason
    #[arg(long, requires = "list")]
    pub all: bool,
    /// With --list: only the version names, one per line
    #[arg(long, requires = "list", conflicts_with = "json")]
    pub bare: bool,
    /// With --list: machine-readable output (version, family, prerelease, free_threaded,
    /// installed, and with --all `unavailable`: why it does not install here)
    #[arg(long, requires = "list")]
    pub json: bool,
    /// Reinstall versions that are already installed (from the build cache when it holds the same
    /// build; add --no-binary to rebuild)
    #[arg(short, long, conflicts_with = "skip_existing")]
    pub force: bool,
    /// Skip versions that are already installed (the default; accepted as in pyenv)
    #[arg(short, long)]
    pub skip_existing: bool,
    /// Build a debug interpreter (--with-pydebug), installed as <version>-debug
    #[arg(short = 'g', long)]
    pub debug: bool,
    /// Extra configure options (added after $STRAP_CONFIGURE_OPTS and the config's)
    #[arg(long, value_name = "OPTS", allow_hyphen_values = true)]
    pub configure_opts: Option<String>,
    /// Apply a patch read from stdin to the source before configure (`patch -p1` for a git
    /// diff, else `-p0`, as python-build does): CPython and its forks; part of the build's key
    #[arg(short = 'p', long)]
    pub patch: bool,
    /// The archive's sha256, for a version the catalog lacks
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Do not install pip
    #[arg(long)]
    pub no_pip: bool,
    #[arg(long, value_name = "MODULE", help = crate::python::modules::allow_missing_help())]
    pub allow_missing: Vec<String>,
    /// CPython from python-build-standalone's prebuilt builds where one exists for this
    /// machine, verified like a source build (else built from source, saying why);
    /// `--prebuilt=only` fails instead of building; with --list: the prebuilt builds for this
    /// machine
    #[arg(
        long,
        value_name = "MODE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "prefer",
        value_parser = prebuilt_mode,
        conflicts_with = "no_prebuilt"
    )]
    pub prebuilt: Option<PrebuiltMode>,
    /// Build CPython from source even where the config or STRAP_PYTHON_PREBUILT asks for
    /// prebuilt builds
    #[arg(long)]
    pub no_prebuilt: bool,
    /// Mirror URL template for prebuilt archives, with {build} (the release tag) and {file};
    /// repeatable; replaces the configured ones
    #[arg(long, value_name = "URL")]
    pub prebuilt_mirror: Vec<String>,
    #[command(flatten)]
    pub build: BuildFlags,
}

/// Reads `--prebuilt=MODE`.
fn prebuilt_mode(text: &str) -> Result<PrebuiltMode, String> {
    PrebuiltMode::named(text).ok_or_else(|| "must be prefer, only or never".to_owned())
}

pub(super) fn run(ctx: &Ctx, args: InstallArgs, out: &mut dyn Write) -> Result<i32, Reported> {
    let catalog = &*Catalog::from_env()?;
    if args.list && args.prebuilt.is_some() {
        return list_prebuilt(ctx, &args, out);
    }
    if args.list {
        return list(ctx, catalog, &args, out);
    }
    let (requests, pinned_by) = if args.versions.is_empty() {
        let (names, origin) = missing_selected(ctx, &args)?;
        (names, Some(origin))
    } else {
        (args.versions.clone(), None)
    };
    if args.sha256.is_some() && requests.len() > 1 {
        return Err(UsageError::new(format!(
            "--sha256 is the checksum of one archive, but this installs {} versions ({})",
            requests.len(),
            requests.join(", ")
        ))
        .with_hint("install them one at a time, each with its own --sha256")
        .into());
    }
    let (python_options, stage_options) = options(ctx, &args)?;
    let prebuilt = prebuilt::Prebuilts::from_args(&args)?;
    let releases = prebuilt.releases(&args, &python_options.user);
    let plans = requests
        .iter()
        .map(|r| {
            plan::plan_any(
                catalog,
                r,
                args.debug,
                args.sha256.as_deref(),
                releases.as_ref(),
            )
            .map_err(|e| plan_error(e, r, pinned_by.as_ref()))
        })
        .collect::<Result<Vec<_>, Reported>>()?;
    if let Some(given) = &args.sha256 {
        warn_if_pin_differs(catalog, &plans, given);
    }
    if args.patch {
        if let Some(Planned::Family(binary)) = plans.iter().find(|p| !p.builds_from_source()) {
            return Err(UsageError::new(format!(
                "-p (--patch) patches a CPython-style source build (CPython, Stackless, \
                 nogil); {} is a {} install, which takes none",
                binary.definition.name,
                binary.definition.family.title()
            ))
            .into());
        }
    }
    warn_unused_build_options(&plans, &python_options.user);
    if plans.is_empty() {
        return Ok(0);
    }
    let exe = super::shims::shim_executable()?;
    let reporter = TerminalReporter::new(args.build.verbose);
    let cancel = Cancel::on_signals();
    for (planned, request) in plans.iter().zip(&requests) {
        let source: Box<dyn Artifact> = match planned {
            Planned::CPython(plan) => Box::new(CPython::new(
                &ctx.layout,
                catalog,
                plan,
                request,
                &python_options,
            )),
            Planned::Family(plan) => family::artifact(&ctx.layout, plan, &python_options),
        };
        let name = planned.name();
        let choice = prebuilt.choose(
            ctx,
            (planned, request, &*source),
            &args,
            &python_options,
            &stage_options,
        )?;
        let artifact = match &choice {
            Some(prebuilt) => prebuilt.as_ref(),
            None => &*source,
        };
        if args.build.fetch_only {
            let mut fetched = stage::prefetch(artifact, &stage_options, &reporter, &cancel);
            if let (Some(_), Err(failure)) = (&choice, &fetched) {
                if prebuilt.falls_back(failure, planned)? {
                    tell!("the prebuilt {name} cannot be fetched ({failure}); fetching its source");
                    fetched = stage::prefetch(&*source, &stage_options, &reporter, &cancel);
                }
            }
            fetched?;
            tell!("{name} is in the cache, ready to install");
            continue;
        }
        let mut outcome = stage::install(&ctx.layout, artifact, &stage_options, &reporter, &cancel);
        if let (Some(_), Err(failure)) = (&choice, &outcome) {
            if prebuilt.falls_back(failure, planned)? {
                tell!(
                    "the prebuilt {name} cannot be installed ({failure}); building it from source"
                );
                outcome = stage::install(&ctx.layout, &*source, &stage_options, &reporter, &cancel);
            }
        }
        match outcome {
            Ok(Outcome::Installed { prefix, notes, log }) => {
                crate::shims::rehash(&ctx.layout, &exe)?;
                for note in &notes {
                    tell!("note: {note}");
                }
                tell!(
                    "installed {name} in {} (log: {})",
                    prefix.display(),
                    log.display()
                );
            }
            Ok(Outcome::AlreadyInstalled) => {
                tell!(
                    "{name} is already installed in {} (-f reinstalls it; with --no-binary, from source)",
                    ctx.layout.version_dir(name).display()
                );
            }
            Err(failure) => return Err(failure.into()),
        }
    }
    Ok(0)
}

/// Choosing between a prebuilt CPython and the source build.
mod prebuilt {
    use super::*;
    use crate::fetch::mirror::Archives;
    use crate::python::plan::{Plan, PrebuiltReleases};
    use crate::python::platform::Machine;
    use crate::python::prebuilt::{artifact::PbsInstall, Build, Catalog, Variant};
    use crate::stage::{StageError, StageFailure};
    use std::borrow::Cow;
    use std::cell::Cell;

    /// This machine's platform (or `STRAP_PLATFORM`'s), a usage error when that is malformed.
    pub(super) fn machine() -> Result<Machine, Reported> {
        Machine::current().map_err(|why| UsageError::new(why).into())
    }

    /// True when the build cache holds the build of `source` (so it is not built).
    fn cached(source: &dyn Artifact, stage: &StageOptions) -> bool {
        let key = stage::artifact_key(source, &crate::identity::Platform::current());
        let (_, manifest) = crate::layout::pack_files(source.kind(), source.name(), &key);
        let builds = stage.fetch.cache_dir.join(crate::layout::BUILDS_DIR);
        stage.build_cache.use_it && builds.join(manifest).is_file()
    }

    /// Why the install asks for a source build rather than a prebuilt one (`--sha256`, a
    /// patch, configure, compiler or make options), and what to change to install the
    /// prebuilt; `None` when nothing does.
    fn source_only(args: &InstallArgs, user: &UserOptions) -> Option<(String, String)> {
        if args.sha256.is_some() {
            return Some((
                "--sha256 names a source archive".to_owned(),
                "drop --sha256 to install the prebuilt build, or build that archive from \
                 source with --no-prebuilt"
                    .to_owned(),
            ));
        }
        let words = |what: &str, words: &[String]| format!("{what} ({})", words.join(" "));
        let configure =
            (!user.configure.is_empty()).then(|| words("configure options", &user.configure));
        let flags = user
            .flags
            .iter()
            .map(|(var, value)| format!("{var} additions ({value})"));
        let make = (!user.make.is_empty()).then(|| words("make options", &user.make));
        let patch = user.patch.as_ref().map(|_| "a patch (-p)".to_owned());
        let given: Vec<String> = configure
            .into_iter()
            .chain(flags)
            .chain(make)
            .chain(patch)
            .collect();
        (!given.is_empty()).then(|| {
            (
                format!("{} shape a source build", given.join(", ")),
                "a prebuilt build is installed as published: without these (from the command \
                 line, the environment or the config) it installs; with them, build from \
                 source with --no-prebuilt"
                    .to_owned(),
            )
        })
    }

    /// How this run's CPython installs use prebuilt builds.
    pub(super) struct Prebuilts {
        mode: PrebuiltMode,
        /// The prebuilt mirrors (only read when the mode is not `never`).
        mirrors: Vec<String>,
        /// The prebuilt catalog and this machine (under `never`, when they can be read: for
        /// the hint that a prebuilt would be faster).
        here: Option<(Cow<'static, Catalog>, Machine)>,
        /// Whether the hint that `--prebuilt` would be faster was given.
        hinted: Cell<bool>,
    }

    impl Prebuilts {
        /// The mode and mirrors of `args`, the environment and the config; unless the mode is
        /// `never`, the prebuilt catalog and this machine's platform (usage errors when they
        /// are malformed).
        pub(super) fn from_args(args: &InstallArgs) -> Result<Prebuilts, Reported> {
            let config = Config::load()?;
            let flag = (args.prebuilt).or(args.no_prebuilt.then_some(PrebuiltMode::Never));
            let mode = settings::prebuilt_mode(flag, &config)?;
            let (mirrors, origin) = settings::mirror_list(
                &args.prebuilt_mirror,
                settings::MirrorSource::prebuilt(&config),
                &config,
            );
            let here = if mode == PrebuiltMode::Never {
                Catalog::from_env().ok().zip(Machine::current().ok())
            } else {
                for template in &mirrors {
                    crate::fetch::mirror::check(template, Archives::Prebuilt, &origin)?;
                }
                Some((Catalog::from_env()?, machine()?))
            };
            Ok(Prebuilts {
                mode,
                mirrors,
                here,
                hinted: Cell::new(false),
            })
        }

        /// The prebuilt releases requests resolve among: under `only`, and under `prefer`
        /// unless the install asks for a source build ([`source_only`]).
        pub(super) fn releases(
            &self,
            args: &InstallArgs,
            user: &UserOptions,
        ) -> Option<PrebuiltReleases<'_>> {
            if self.mode == PrebuiltMode::Prefer && source_only(args, user).is_some() {
                return None;
            }
            let (catalog, machine) = self.here.as_ref()?;
            PrebuiltReleases::under(self.mode, catalog, machine)
        }

        /// The prebuilt install of `planned`, when the mode asks for one and one serves this
        /// machine; else `None` (the source build), saying why under `prefer`. Under `only`,
        /// no prebuilt is an error.
        /// `install` is the plan, its request and its source build.
        pub(super) fn choose<'a>(
            &self,
            ctx: &Ctx,
            (planned, request, source): (&Planned, &str, &dyn Artifact),
            args: &InstallArgs,
            options: &'a PythonOptions,
            stage: &StageOptions,
        ) -> Result<Option<Box<dyn Artifact + 'a>>, Reported> {
            let Planned::CPython(plan) = planned else {
                return Ok(None);
            };
            let installed = ctx.layout.version_dir(&plan.name).exists() && !args.force;
            if self.mode == PrebuiltMode::Never {
                let builds = !installed
                    && args.sha256.is_none()
                    && !stage.build_cache.binary_only
                    && !cached(source, stage);
                if builds && !self.hinted.get() {
                    if let Some(build) = self.find(plan) {
                        self.hinted.set(true);
                        tell!(
                            "note: python-build-standalone has a prebuilt {0} for {1}: \
                             `strap install --prebuilt {0}` would install it in seconds",
                            plan.name,
                            build.platform()
                        );
                    }
                }
                return Ok(None);
            }
            let (why, hint) = match source_only(args, &options.user) {
                Some(reason) => reason,
                None => match self.find(plan) {
                    Some(build) => {
                        return Ok(Some(Box::new(PbsInstall::new(
                            &ctx.layout,
                            plan,
                            request,
                            build,
                            &self.mirrors,
                            options,
                        ))))
                    }
                    None => (
                        format!(
                            "python-build-standalone has no build of {} for {}",
                            plan.name,
                            machine()?
                        ),
                        "`strap install --list --prebuilt` lists the prebuilt builds for this \
                         machine; prebuilt = \"prefer\" builds from source where there is none"
                            .to_owned(),
                    ),
                },
            };
            if self.mode == PrebuiltMode::Only {
                return Err(Reported::failure(
                    format!("no prebuilt {} to install: {why}", plan.name),
                    hint,
                ));
            }
            if !installed {
                tell!("{why}; building {} from source", plan.name);
            }
            Ok(None)
        }

        /// The build that serves `plan` here.
        fn find(&self, plan: &Plan) -> Option<&Build> {
            let (catalog, machine) = self.here.as_ref()?;
            let variant = Variant::of(plan.free_threaded, plan.debug);
            catalog.find(&plan.version, variant, machine)
        }

        /// True when a failed prebuilt install of `planned` is followed by the source build
        /// (`prefer`, not interrupted, and not for want of a C compiler, which the source build
        /// needs too); an error when there is no source to build (a release only the prebuilt
        /// catalog has).
        pub(super) fn falls_back(
            &self,
            failure: &StageFailure,
            planned: &Planned,
        ) -> Result<bool, Reported> {
            let falls_back = self.mode == PrebuiltMode::Prefer
                && crate::error::Explain::exit_code(failure) != crate::error::EXIT_INTERRUPTED
                && !matches!(*failure.error, StageError::Preflight { .. });
            match planned {
                Planned::CPython(plan) if falls_back && plan.archives.is_empty() => {
                    let (major, minor) = plan.major_minor();
                    Err(Reported::failure(
                        format!(
                            "the prebuilt {} cannot be installed ({failure}), and there is no \
                             source build of {} to fall back to: only the prebuilt catalog has \
                             that release",
                            plan.name, plan.version
                        ),
                        format!(
                            "`strap install --list {major}.{minor}` lists the releases that \
                             build from source"
                        ),
                    ))
                }
                _ => Ok(falls_back),
            }
        }
    }
}

/// Warns when configure, compiler or make options are given for an install that builds
/// nothing CPython-style (a PyPy, a conda installer): it does not use them.
fn warn_unused_build_options(plans: &[Planned], user: &UserOptions) {
    let given = !(user.configure.is_empty() && user.flags.is_empty() && user.make.is_empty());
    for planned in plans.iter().filter(|p| given && !p.builds_from_source()) {
        if let Planned::Family(plan) = planned {
            tell!(
                "warning: configure, compiler and make options are for CPython-style builds; \
                 {} is a {} install, which does not use them",
                plan.definition.name,
                plan.definition.family.title()
            );
        }
    }
}

/// Warns when `--sha256` is none of the checksums the catalog pins for the planned install.
fn warn_if_pin_differs(catalog: &Catalog, plans: &[Planned], given: &str) {
    for planned in plans {
        let pins: Vec<(&str, &str)> = match planned {
            Planned::CPython(plan) => catalog.find(&plan.version).map_or_else(Vec::new, |r| {
                r.archives
                    .iter()
                    .map(|a| (a.file.as_str(), a.sha256.as_str()))
                    .collect()
            }),
            Planned::Family(plan) => (plan.download.sha256.as_deref())
                .map(|pin| (plan.download.file.as_str(), pin))
                .into_iter()
                .collect(),
        };
        if let Some(warning) = pin_override_warning(&given.to_ascii_lowercase(), &pins) {
            tell!("warning: {warning}");
        }
    }
}

/// Why `request` cannot be planned. A selected name that is no CPython version at all (a
/// virtualenv's, `pypy3.10`) is reported as `strap version` reports it: a selected version that
/// is not installed, named with where it was set, with the hint that says what strap can do.
fn plan_error(error: plan::PlanError, request: &str, pinned_by: Option<&Origin>) -> Reported {
    match (error, pinned_by) {
        (plan::PlanError::Malformed(_), Some(origin)) => Error::VersionNotInstalled {
            name: request.to_owned(),
            origin: origin.clone(),
        }
        .into(),
        (error, _) => error.into(),
    }
}

/// What `strap install` without versions installs ([`pins::pins`]), and where the names
/// were selected; says what it leaves as it is.
fn missing_selected(ctx: &Ctx, args: &InstallArgs) -> Result<(Vec<String>, Origin), Reported> {
    let selection = ctx.selection()?;
    if let Some(why) = pins::nothing_selected(&selection) {
        return Err(Reported::message(format!(
            "nothing to install: no version given and {why}"
        )));
    }
    let origin = &selection.origin;
    let mut missing = Vec::new();
    for pin in pins::pins(&ctx.layout, &selection, args.debug, args.force) {
        match pin? {
            Pin::Install(request) => missing.push(request),
            Pin::VirtualenvKept(found) => tell!(
                "{found} (set by {origin}) is a virtualenv: -f rebuilds versions, not \
                 virtualenvs, so it is left as it is"
            ),
            Pin::Installed(found) => tell!("{found} (set by {origin}) is already installed"),
            Pin::SatisfiedBy { wanted, found } => {
                tell!("{wanted} (set by {origin}) is satisfied by installed {found}")
            }
            Pin::System => {}
        }
    }
    Ok((missing, selection.origin))
}

/// One line of `install --list --json`.
#[derive(Serialize, Clone)]
struct Listed {
    version: String,
    family: &'static str,
    prerelease: bool,
    free_threaded: bool,
    installed: bool,
    /// Why it does not install here (only with `--all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable: Option<String>,
    /// A CPython release or its free-threaded build (listed under CPython prefixes).
    #[serde(skip)]
    release: bool,
}

/// Every name `install --list` considers, in python-build's order (CPython releases oldest
/// first, each free-threaded build after its release, then the other families); with `all`,
/// those that do not install here too, with the reason.
fn listing(catalog: &Catalog, all: bool) -> Result<Vec<Listed>, Reported> {
    let cpython = catalog.installable().into_iter().map(|i| Listed {
        version: i.name,
        family: Family::CPython.id(),
        prerelease: i.release.prerelease,
        free_threaded: i.free_threaded,
        installed: false,
        unavailable: None,
        release: true,
    });
    let arch = family::this_arch().map_err(UsageError::new)?;
    let others = catalog.definitions().iter().filter_map(|d| {
        let unavailable = d.download_for(&arch).err().map(|why| why.to_string());
        (all || unavailable.is_none()).then(|| Listed {
            version: d.name.clone(),
            family: d.family.id(),
            prerelease: false,
            free_threaded: false,
            installed: false,
            unavailable,
            release: false,
        })
    });
    let mut listed: Vec<Listed> = cpython.chain(others).collect();
    listed.sort_by(|a, b| pyenv_order(&a.version, &b.version));
    Ok(listed)
}

/// `install --list [PREFIX...]`: the installable names under the prefixes (all without one);
/// a prefix that matches nothing is an error once the others are listed.
fn list(
    ctx: &Ctx,
    catalog: &Catalog,
    args: &InstallArgs,
    out: &mut dyn Write,
) -> Result<i32, Reported> {
    let installed: HashSet<String> = version::installed_versions(&ctx.layout)?
        .into_iter()
        .collect();
    let all = listing(catalog, args.all)?;
    let prefixes = &args.versions;
    let under = |prefix: &str, listed: &Listed| {
        if listed.release {
            listed_under(prefix, &listed.version)
        } else {
            listed.version == prefix
                || listed
                    .version
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with(['-', '.']))
        }
    };
    let shown: Vec<Listed> = all
        .iter()
        .filter(|l| prefixes.is_empty() || prefixes.iter().any(|p| under(p, l)))
        .map(|l| Listed {
            installed: installed.contains(&l.version),
            ..l.clone()
        })
        .collect();
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &shown)?;
        writeln!(out)?;
    } else {
        for entry in &shown {
            let mut line = entry.version.clone();
            if entry.installed && !args.bare {
                line.push_str("  (installed)");
            }
            if let Some(why) = entry.unavailable.as_ref().filter(|_| !args.bare) {
                line.push_str(&format!("  (not here: {why})"));
            }
            writeln!(out, "{line}")?;
        }
    }
    let unmatched: Vec<&String> = prefixes
        .iter()
        .filter(|p| !all.iter().any(|l| under(p, l)))
        .collect();
    let Some(first) = unmatched.first() else {
        return Ok(0);
    };
    let quoted: Vec<String> = unmatched.iter().map(|p| format!("'{p}'")).collect();
    let nearest = catalog.suggestions(first);
    let hint = if nearest.is_empty() {
        "`strap install --list` lists every known version".to_owned()
    } else {
        format!(
            "nearest known: {}; `strap install --list` lists every known version",
            nearest.join(", ")
        )
    };
    Err(Reported::failure(
        format!("no known version matches {}", quoted.join(" or ")),
        hint,
    ))
}

/// `install --list --prebuilt [PREFIX...]`: python-build-standalone's builds for this
/// machine (`STRAP_PLATFORM`), the install name each gives, its build and platform.
fn list_prebuilt(ctx: &Ctx, args: &InstallArgs, out: &mut dyn Write) -> Result<i32, Reported> {
    let machine = prebuilt::machine()?;
    let catalog = crate::python::prebuilt::Catalog::from_env()?;
    let installed: HashSet<String> = version::installed_versions(&ctx.layout)?
        .into_iter()
        .collect();
    #[derive(Serialize)]
    struct ListedBuild {
        version: String,
        build: String,
        platform: String,
        flavor: String,
        installed: bool,
    }
    let shown: Vec<ListedBuild> = catalog
        .for_machine(&machine)
        .into_iter()
        .map(|b| ListedBuild {
            version: b.install_name(),
            build: b.build.clone(),
            platform: b.platform(),
            flavor: b.flavor(),
            installed: false,
        })
        .filter(|l| {
            args.versions.is_empty() || args.versions.iter().any(|p| listed_under(p, &l.version))
        })
        .map(|l| ListedBuild {
            installed: installed.contains(&l.version),
            ..l
        })
        .collect();
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &shown)?;
        writeln!(out)?;
    } else {
        for l in &shown {
            if args.bare {
                writeln!(out, "{}", l.version)?;
                continue;
            }
            let mark = if l.installed { "  (installed)" } else { "" };
            writeln!(
                out,
                "{}  (python-build-standalone {}, {}, {}){mark}",
                l.version, l.build, l.platform, l.flavor
            )?;
        }
    }
    if shown.is_empty() {
        let what = if args.versions.is_empty() {
            String::new()
        } else {
            format!(" under {}", args.versions.join(", "))
        };
        return Err(Reported::failure(
            format!("python-build-standalone has no build{what} for {machine}"),
            format!(
                "{} names another platform (e.g. x86_64_v2-linux-musl); `strap install --list` \
                 lists what builds from source",
                env_vars::STRAP_PLATFORM
            ),
        ));
    }
    Ok(0)
}

fn options(ctx: &Ctx, args: &InstallArgs) -> Result<(PythonOptions, StageOptions), Reported> {
    let config = Config::load()?;
    let (make_jobs, make) = python_build_make_opts()?;
    let settings = Settings {
        mirrors: settings::MirrorSource::python(&config),
        tool_jobs: make_jobs,
        config_jobs: (config.python.jobs, "python.jobs"),
    };
    let (mirrors, stage) = args.build.resolve(ctx, &config, settings, args.force)?;
    let mut configure = config.python.configure_opts.clone();
    for var in [env_vars::CONFIGURE_OPTS, env_vars::PYTHON_CONFIGURE_OPTS] {
        configure.extend(settings::python_build_words(var));
    }
    if let Ok(text) = std::env::var(env_vars::STRAP_CONFIGURE_OPTS) {
        configure.extend(settings::split_options(
            &text,
            env_vars::STRAP_CONFIGURE_OPTS,
        )?);
    }
    if let Some(text) = &args.configure_opts {
        configure.extend(settings::split_options(text, "--configure-opts")?);
    }
    let flags = [
        (env_vars::PYTHON_CFLAGS, env_vars::CFLAGS),
        (env_vars::PYTHON_CPPFLAGS, env_vars::CPPFLAGS),
        (env_vars::PYTHON_LDFLAGS, env_vars::LDFLAGS),
    ]
    .into_iter()
    .filter_map(|(from, to)| {
        let value = std::env::var(from).ok().filter(|v| !v.is_empty())?;
        Some((to, value))
    })
    .collect();
    let make_install = [
        env_vars::MAKE_INSTALL_OPTS,
        env_vars::PYTHON_MAKE_INSTALL_OPTS,
    ]
    .into_iter()
    .flat_map(settings::python_build_words)
    .collect();
    Ok((
        PythonOptions {
            mirrors,
            user: UserOptions {
                configure,
                flags,
                make,
                make_install,
                patch: args.patch.then(read_patch).transpose()?,
            },
            with_pip: !args.no_pip,
            allow_missing: args.allow_missing.clone(),
        },
        stage,
    ))
}

/// The most a patch given on stdin may hold.
const PATCH_LIMIT: u64 = 16 << 20;

/// `-p`: the patch on stdin (a terminal, nothing, or more than [`PATCH_LIMIT`] is refused).
fn read_patch() -> Result<Patch, Reported> {
    use std::io::IsTerminal;
    let refused = |why: String| -> Reported {
        UsageError::new(format!("-p (--patch): {why}"))
            .with_hint("pipe the patch in: `strap install -p 3.12.7 < fix.patch`")
            .into()
    };
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(refused(
            "it reads the patch from stdin, which is a terminal".to_owned(),
        ));
    }
    let mut text = Vec::new();
    crate::bounded::read_at_most(stdin.lock(), PATCH_LIMIT, &mut text)
        .map_err(|e| refused(format!("cannot read the patch from stdin: {e}")))?;
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(refused("stdin holds no patch".to_owned()));
    }
    let sha256 = crate::sha256::of(&text);
    Ok(Patch { text, sha256 })
}

/// A job count and the variable that named it.
type NamedJobs = Option<(usize, &'static str)>;

/// python-build's `MAKE_OPTS` then `PYTHON_MAKE_OPTS`: the last job count they name (with its
/// variable) and their other words.
fn python_build_make_opts() -> Result<(NamedJobs, Vec<String>), Reported> {
    let mut jobs = None;
    let mut rest = Vec::new();
    for var in [env_vars::MAKE_OPTS, env_vars::PYTHON_MAKE_OPTS] {
        let (count, words) = settings::split_make_jobs(&settings::python_build_words(var), var)?;
        jobs = count.map(|c| (c, var)).or(jobs);
        rest.extend(words);
    }
    Ok((jobs, rest))
}
