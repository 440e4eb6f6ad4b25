//! `strap install`: options from flags, environment and config (validated before anything
//! runs), then each version through the staged-install pipeline.

use std::io::Write;
use std::path::Path;

use super::progress::TerminalReporter;
use super::Ctx;
use crate::config::Config;
use crate::env_vars;
use crate::error::Reported;
use crate::fetch::{mirror, FetchSettings};
use crate::process::Cancel;
use crate::python::catalog::Catalog;
use crate::python::install::{CPython, PythonOptions};
use crate::python::plan;
use crate::settings;
use crate::stage::{self, Outcome, StageOptions};

/// The flags of `strap install`.
#[derive(clap::Args)]
pub struct InstallArgs {
    /// Versions to install: exact (3.12.7), a prefix (3.12: the newest known), `latest`, or
    /// free-threaded (3.13t). Default: what the current `.python-version` selects.
    pub versions: Vec<String>,
    /// List the installable versions (those starting with the given prefix)
    #[arg(short, long)]
    pub list: bool,
    /// Reinstall even if already installed
    #[arg(short, long, conflicts_with = "skip_existing")]
    pub force: bool,
    /// Skip versions that are already installed
    #[arg(short, long)]
    pub skip_existing: bool,
    /// Show the build output
    #[arg(short, long)]
    pub verbose: bool,
    /// Keep the build tree after a failure
    #[arg(short, long)]
    pub keep: bool,
    /// Build a debug interpreter (--with-pydebug), installed as <version>-debug
    #[arg(short = 'g', long)]
    pub debug: bool,
    /// Parallel build jobs (default: $STRAP_JOBS, config, the number of CPUs)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Extra configure options (added after $STRAP_CONFIGURE_OPTS and the config's)
    #[arg(long, value_name = "OPTS", allow_hyphen_values = true)]
    pub configure_opts: Option<String>,
    /// Mirror URL template with {version}, {file}, {sha256}; repeatable; replaces the configured ones
    #[arg(long, value_name = "URL")]
    pub mirror: Vec<String>,
    /// The archive's sha256, for a version the catalog lacks
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Use only the download cache
    #[arg(long)]
    pub offline: bool,
    /// Do not install pip
    #[arg(long)]
    pub no_pip: bool,
    /// Build even when prerequisites seem missing
    #[arg(long)]
    pub skip_preflight: bool,
    /// Accept a build without this required module (ssl, zlib, ctypes, bz2, lzma, sqlite3); repeatable
    #[arg(long, value_name = "MODULE")]
    pub allow_missing: Vec<String>,
}

pub(super) fn run(ctx: &Ctx, args: InstallArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let custom;
    let catalog = match std::env::var_os(env_vars::STRAP_PYTHON_CATALOG).filter(|p| !p.is_empty()) {
        Some(path) => {
            custom = Catalog::from_file(Path::new(&path)).map_err(Reported::from)?;
            &custom
        }
        None => Catalog::embedded(),
    };
    if args.list {
        let prefixes = &args.versions;
        for release in catalog.releases() {
            if prefixes.is_empty()
                || prefixes
                    .iter()
                    .any(|p| release.version.starts_with(p.as_str()))
            {
                writeln!(out, "{}", release.version)?;
            }
        }
        return Ok(0);
    }
    let requests = if args.versions.is_empty() {
        let selection = ctx.selection()?;
        let names: Vec<String> = selection
            .names
            .into_iter()
            .filter(|n| n != "system")
            .collect();
        anyhow::ensure!(
            !names.is_empty(),
            "nothing to install: no version given and {} selects only the system Python",
            selection.origin
        );
        names
    } else {
        args.versions.clone()
    };
    let plans = requests
        .iter()
        .map(|r| plan::plan(catalog, r, args.debug, args.sha256.as_deref()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Reported::from)?;
    let (python_options, stage_options) = options(ctx, &args)?;
    let exe = super::shims::shim_executable()?;
    let reporter = TerminalReporter::new(args.verbose);
    let cancel = Cancel::on_signals();
    for (plan, request) in plans.iter().zip(&requests) {
        let artifact = CPython::new(&ctx.layout, catalog, plan, request, &python_options);
        if !args.force && !args.skip_existing && ctx.layout.version_dir(&plan.name).exists() {
            return Err(Reported::failure(
                format!(
                    "{} is already installed at {}",
                    plan.name,
                    ctx.layout.version_dir(&plan.name).display()
                ),
                format!(
                    "reinstall with `strap install -f {}`, or pass -s to skip installed versions",
                    plan.name
                ),
            )
            .into());
        }
        match stage::install(&ctx.layout, &artifact, &stage_options, &reporter, &cancel) {
            Ok(Outcome::Installed { prefix, notes, log }) => {
                crate::shims::rehash(&ctx.layout, &exe)?;
                for note in &notes {
                    say!("strap: note: {note}");
                }
                say!(
                    "strap: installed {} in {} (log: {})",
                    plan.name,
                    prefix.display(),
                    log.display()
                );
            }
            Ok(Outcome::AlreadyInstalled) => {
                say!("strap: {} is already installed", plan.name);
            }
            Err(failure) => return Err(Reported::from(failure).into()),
        }
    }
    Ok(0)
}

fn options(ctx: &Ctx, args: &InstallArgs) -> Result<(PythonOptions, StageOptions), Reported> {
    let config = Config::load()?;
    let mirrors = settings::mirrors(
        &args.mirror,
        env_vars::STRAP_PYTHON_MIRRORS,
        &config.python.mirrors,
        &config,
        mirror::DEFAULT_PYTHON_MIRROR,
    )?;
    let jobs = settings::jobs(args.jobs, config.python.jobs, &config)?;
    let mut configure_opts = config.python.configure_opts.clone();
    if let Ok(text) = std::env::var(env_vars::STRAP_CONFIGURE_OPTS) {
        configure_opts.extend(settings::split_options(
            &text,
            env_vars::STRAP_CONFIGURE_OPTS,
        )?);
    }
    if let Some(text) = &args.configure_opts {
        configure_opts.extend(settings::split_options(text, "--configure-opts")?);
    }
    let stall_timeout = settings::stall_timeout()?;
    Ok((
        PythonOptions {
            mirrors,
            configure_opts,
            with_pip: !args.no_pip,
            allow_missing: args.allow_missing.clone(),
        },
        StageOptions {
            fetch: FetchSettings {
                cache_dir: ctx.layout.cache_dir(),
                locks_dir: ctx.layout.locks_dir(),
                offline: args.offline,
                stall_timeout,
            },
            jobs,
            force: args.force,
            verbose: args.verbose,
            keep: args.keep,
            skip_preflight: args.skip_preflight,
        },
    ))
}
