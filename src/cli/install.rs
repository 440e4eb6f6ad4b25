//! `strap install`: options from flags, environment and config, then the install pipeline.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use super::progress::TerminalReporter;
use super::Ctx;
use crate::config::Config;
use crate::env_vars;
use crate::fetch::mirror;
use crate::python::catalog::Catalog;
use crate::python::install::{self, InstallOptions, Outcome};
use crate::python::plan;
use crate::report::Reporter;

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

pub(super) fn run(ctx: &Ctx, args: InstallArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let custom;
    let catalog = match std::env::var_os(env_vars::STRAP_PYTHON_CATALOG).filter(|p| !p.is_empty()) {
        Some(path) => {
            custom =
                Catalog::from_file(std::path::Path::new(&path)).map_err(|e| anyhow::anyhow!(e))?;
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
        return Ok(());
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
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}\nhint: `strap install --list` shows the known versions; --sha256 HEX installs one the catalog lacks"
            )
        })?;
    let options = options(ctx, &args)?;
    let exe = super::shims::shim_executable()?;
    let reporter = TerminalReporter::new(args.verbose);
    for plan in &plans {
        match install::install(&ctx.layout, catalog, plan, &options, &exe, &reporter) {
            Ok(Outcome::Installed {
                name,
                prefix,
                missing_optional,
                log,
            }) => {
                reporter.phase_done();
                for module in &missing_optional {
                    eprintln!("strap: note: optional module {module} is not available in {name}");
                }
                eprintln!(
                    "strap: installed {name} in {} (log: {})",
                    prefix.display(),
                    log.display()
                );
            }
            Ok(Outcome::AlreadyInstalled { name }) => {
                eprintln!("strap: {name} is already installed");
            }
            Err(err) => {
                reporter.phase_done();
                let hint = err.hint();
                let mut message = err.to_string();
                if let Some(hint) = hint {
                    message.push_str(&format!("\nhint: {hint}"));
                }
                anyhow::bail!(message);
            }
        }
    }
    Ok(())
}

fn options(ctx: &Ctx, args: &InstallArgs) -> anyhow::Result<InstallOptions> {
    let config = Config::load()?;
    let env_list = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mirrors: Vec<String> = if !args.mirror.is_empty() {
        args.mirror.clone()
    } else if let Some(list) = env_list(env_vars::STRAP_PYTHON_MIRRORS) {
        mirror::split_list(&list).collect()
    } else if !config.python.mirrors.is_empty() {
        config.python.mirrors.clone()
    } else {
        vec![mirror::DEFAULT_PYTHON_MIRROR.to_owned()]
    };
    let jobs = match (args.jobs, env_list(env_vars::STRAP_JOBS)) {
        (Some(jobs), _) => jobs,
        (None, Some(env)) => env
            .trim()
            .parse()
            .with_context(|| format!("{} must be a number, not '{env}'", env_vars::STRAP_JOBS))?,
        (None, None) => config
            .python
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
    };
    anyhow::ensure!(jobs > 0, "the number of build jobs must be at least 1");
    let mut configure_opts = config.python.configure_opts.clone();
    configure_opts.extend(
        env_list(env_vars::STRAP_CONFIGURE_OPTS)
            .iter()
            .flat_map(|o| split_words(o)),
    );
    configure_opts.extend(args.configure_opts.iter().flat_map(|o| split_words(o)));
    let stall_secs = match env_list(env_vars::STRAP_DOWNLOAD_TIMEOUT) {
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0)
            .with_context(|| {
                format!(
                    "{} must be a positive number of seconds",
                    env_vars::STRAP_DOWNLOAD_TIMEOUT
                )
            })?,
        None => 30.0,
    };
    Ok(InstallOptions {
        mirrors,
        cache_dir: ctx.layout.cache_dir(),
        offline: args.offline,
        stall_timeout: Duration::from_secs_f64(stall_secs),
        jobs,
        configure_opts,
        force: args.force,
        skip_existing: args.skip_existing,
        verbose: args.verbose,
        keep: args.keep,
        with_pip: !args.no_pip,
        skip_preflight: args.skip_preflight,
        allow_missing: args.allow_missing.clone(),
    })
}

/// Splits options like a shell would (quotes group words), without expanding anything.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn options_split_like_a_shell() {
        assert_eq!(
            split_words(r#"--enable-optimizations  CFLAGS="-O2 -g" --with-x='a b'"#),
            ["--enable-optimizations", "CFLAGS=-O2 -g", "--with-x=a b"]
        );
        assert!(split_words("   ").is_empty());
    }
}
