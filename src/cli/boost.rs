//! `strap boost`: install Boost from source (through the staged pipeline), list, locate, use
//! and remove the builds.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use super::build_flags::{BuildFlags, Settings};
use super::progress::TerminalReporter;
use super::Ctx;
use crate::boost::catalog::{is_under, BoostCatalog, BoostVersion};
use crate::boost::install::BoostInstall;
use crate::boost::installed::{self, Details, Installed};
use crate::boost::plan::{self, b2_value, Libraries, Link, Plan, Shape, Variant};
use crate::boost::sources;
use crate::config::Config;
use crate::error::{IoContext, Reported, UsageError};
use crate::fetch::Fetcher;
use crate::lock::FileLock;
use crate::process::Cancel;
use crate::shell::quote_posix;
use crate::stage::{self, Outcome};
use indicatif::HumanBytes;

/// The subcommands of `strap boost`.
#[derive(clap::Subcommand)]
pub enum BoostCommand {
    /// Download, build, verify and install a Boost release
    #[command(
        after_help = "Examples:\n  strap boost install 1.86                   # headers only\n  strap boost install 1.86 --python 3.12     # + Boost.Python for that Python\n  strap boost install 1.86.0 --with filesystem,program_options --link shared,static\n  strap boost install 1.81.0 --all --complete\n  strap boost install --list 1.86"
    )]
    Install(InstallArgs),

    /// List the installed Boost builds
    #[command(after_help = "Examples:\n  strap boost list\n  strap boost list --json")]
    List {
        /// Only the names, one per line
        #[arg(long, conflicts_with = "json")]
        bare: bool,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },

    /// Print the directory of an installed Boost build
    #[command(after_help = "Example:\n  strap boost prefix 1.86.0-py3.12")]
    Prefix {
        /// An installed name (`1.86.0-py3.12`), or a prefix of exactly one (`1.86`)
        name: String,
    },

    /// Print BOOST_ROOT, CMAKE_PREFIX_PATH and LD_LIBRARY_PATH for an installed build
    #[command(
        after_help = "Examples:\n  eval \"$(strap boost env 1.86.0-py3.12)\"   # then: cmake -S . -B build\n  strap boost env 1.86 --json"
    )]
    Env {
        /// An installed name, or a prefix of exactly one
        name: String,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },

    /// Pack an installed Boost build into a .tar.zst with a manifest, to install it elsewhere
    #[command(
        after_help = "Example:\n  strap boost pack 1.86.0-py3.12 -o /srv/builds/boost.tar.zst"
    )]
    Pack(super::pack::PackArgs),

    /// Upload an installed Boost build's pack to a binary mirror
    #[command(
        after_help = "Example:\n  strap boost push 1.86.0-py3.12 --to oci://registry.example/team/strap-builds"
    )]
    Push(super::pack::PushArgs),

    /// Remove installed Boost builds
    #[command(
        after_help = "Examples:\n  strap boost uninstall 1.86.0-py3.12\n  strap boost uninstall -f 1.86.0"
    )]
    Uninstall {
        /// Installed names; a prefix only on a terminal, after confirming the full name
        #[arg(required = true)]
        names: Vec<String>,
        /// Do not ask; remove exact names only; succeed when one is not installed
        #[arg(short, long)]
        force: bool,
    },
}

/// The flags of `strap boost install`.
#[derive(clap::Args, Debug, Default, PartialEq)]
pub struct InstallArgs {
    /// The release: 1.86.0, 1.86 (the newest 1.86.x) or latest. With --list: a prefix to list
    #[arg(required_unless_present = "list")]
    pub version: Option<String>,
    /// Build Boost.Python against this Python: an installed version (3.12, 3.11.2) or `system`
    #[arg(long, value_name = "VERSION")]
    pub python: Option<String>,
    /// Libraries to build (comma-separated; headers are always installed)
    #[arg(
        long,
        value_name = "LIB,...",
        value_delimiter = ',',
        conflicts_with = "all"
    )]
    pub with: Vec<String>,
    /// Build every library the release has (MPI excepted; Boost.Python only with --python)
    #[arg(long)]
    pub all: bool,
    /// Build variants
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Variant::default()])]
    pub variant: Vec<Variant>,
    /// Linkage
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Link::default()])]
    pub link: Vec<Link>,
    /// Release and debug, shared and static (b2 --build-type=complete)
    #[arg(long, conflicts_with_all = ["variant", "link"])]
    pub complete: bool,
    /// The C++ standard (default: the compiler's)
    #[arg(long, value_parser = ["11", "14", "17", "20", "23"])]
    pub cxxstd: Option<String>,
    /// The archive's sha256 (pins it; for a release the catalog lacks, or a repacked archive)
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Reinstall when already installed (from the build cache when it holds the same build; add
    /// --no-binary to rebuild)
    #[arg(short, long)]
    pub force: bool,
    /// List the known releases (installed ones marked)
    #[arg(short, long)]
    pub list: bool,
    /// With --list: only the release names, one per line
    #[arg(long, requires = "list", conflicts_with = "json")]
    pub bare: bool,
    /// With --list: machine-readable output
    #[arg(long, requires = "list")]
    pub json: bool,
    #[command(flatten)]
    pub build: BuildFlags,
}

pub(super) fn run(ctx: &Ctx, command: BoostCommand, out: &mut dyn Write) -> Result<i32, Reported> {
    match command {
        BoostCommand::Install(args) => install(ctx, args, out),
        BoostCommand::List { bare, json } => list(ctx, bare, json, out).map(|()| 0),
        BoostCommand::Prefix { name } => {
            let found = installed::find(&ctx.layout, &name)?;
            writeln!(out, "{}", found.prefix.display())?;
            Ok(0)
        }
        BoostCommand::Env { name, json } => env(ctx, &name, json, out).map(|()| 0),
        BoostCommand::Uninstall { names, force } => uninstall(ctx, &names, force).map(|()| 0),
        BoostCommand::Pack(args) => {
            let found = installed::find(&ctx.layout, &args.version)?;
            super::pack::pack(ctx, &found.prefix, args.output, out).map(|()| 0)
        }
        BoostCommand::Push(args) => {
            let found = installed::find(&ctx.layout, &args.version)?;
            super::pack::push(ctx, &found.prefix, &args.to, out).map(|()| 0)
        }
    }
}

fn install(ctx: &Ctx, args: InstallArgs, out: &mut dyn Write) -> Result<i32, Reported> {
    let catalog = BoostCatalog::from_env()?;
    if args.list {
        return list_releases(ctx, &catalog, args.version.as_deref(), &args, out);
    }
    let request = args
        .version
        .as_deref()
        .expect("clap requires VERSION unless --list");
    let sha256 = match args.sha256.as_deref().map(crate::sha256::parse) {
        Some(None) => return Err(UsageError::new("--sha256 must be 64 hexadecimal digits").into()),
        parsed => parsed.flatten(),
    };
    if sha256.is_some() && BoostVersion::parse(request).is_none() {
        return Err(sha256_needs_exact_version(&catalog, request).into());
    }
    let config = Config::load()?;
    let settings = Settings {
        tool_jobs: None,
        mirrors: crate::settings::MirrorSource::boost(&config),
        config_jobs: (config.boost.jobs, "boost.jobs"),
    };
    let (mirrors, options) = args.build.resolve(ctx, &config, settings, args.force)?;
    let plan = plan::plan(
        &ctx.layout,
        &catalog,
        plan::Request {
            version: request,
            python: args.python.as_deref(),
            libraries: if args.all {
                Libraries::All
            } else {
                Libraries::Listed(args.with.clone())
            },
            shape: shape(&args),
        },
    )?;
    let prefix = ctx.layout.boost_dir(&plan.name);
    if prefix.exists() && !args.force {
        already_installed(ctx, &plan);
        return Ok(0);
    }
    let cancel = Cancel::on_signals();
    let mut fetcher = Fetcher::new(options.fetch.clone(), cancel.clone());
    let archives = sources::archives(&plan, sha256.as_deref(), &mirrors, &mut fetcher)?;
    for warning in &archives.warnings {
        tell!("warning: {warning}");
    }
    let artifact = BoostInstall::new(&ctx.layout, &plan, archives.wanted);
    let reporter = TerminalReporter::new(args.build.verbose);
    if args.build.fetch_only {
        stage::prefetch(&artifact, &options, &reporter, &cancel)?;
        tell!("Boost {} is in the cache, ready to build", plan.name);
        return Ok(0);
    }
    match stage::install(&ctx.layout, &artifact, &options, &reporter, &cancel) {
        Ok(Outcome::Installed { prefix, notes, log }) => {
            for note in &notes {
                tell!("note: {note}");
            }
            tell!(
                "installed Boost {} in {} (log: {})",
                plan.name,
                prefix.display(),
                log.display()
            );
            tell!("use it with: eval \"$(strap boost env {})\"", plan.name);
        }
        Ok(Outcome::AlreadyInstalled) => already_installed(ctx, &plan),
        Err(failure) => return Err(failure.into()),
    }
    Ok(0)
}

/// The refusal of `--sha256` with a prefix or `latest`: a checksum is of one release's archive.
fn sha256_needs_exact_version(catalog: &BoostCatalog, request: &str) -> UsageError {
    let error = UsageError::new(format!(
        "--sha256 needs an exact version such as 1.86.0, not '{request}'"
    ));
    match catalog.resolve(request) {
        Ok(resolved) => {
            let newest = resolved.version();
            error.with_hint(format!(
                "'{request}' selects {newest} now: `strap boost install {newest} --sha256 HEX` \
                 if the checksum is of that release's archive"
            ))
        }
        Err(_) => error,
    }
}

/// Says that `plan`'s name is installed; and when that build differs from what was asked for
/// (another Python of the same X.Y, other libraries), how.
fn already_installed(ctx: &Ctx, plan: &Plan) {
    let prefix = ctx.layout.boost_dir(&plan.name);
    tell!(
        "Boost {} is already installed in {} (-f reinstalls it; with --no-binary, from source)",
        plan.name,
        prefix.display()
    );
    let Ok(Installed {
        details: Some(installed),
        ..
    }) = installed::find(&ctx.layout, &plan.name)
    else {
        return;
    };
    let wanted = Details::of(plan);
    let executable = |d: &Details| d.python.as_ref().map(|p| p.executable.clone());
    if executable(&installed) != executable(&wanted) {
        tell!(
            "note: it was built against {}, not {}",
            executable(&installed).map_or("no Python".into(), |p| p.display().to_string()),
            executable(&wanted).map_or("no Python".into(), |p| p.display().to_string()),
        );
    }
    if (
        installed.all,
        &installed.libraries,
        &installed.variant,
        &installed.link,
        &installed.cxxstd,
    ) != (
        wanted.all,
        &wanted.libraries,
        &wanted.variant,
        &wanted.link,
        &wanted.cxxstd,
    ) {
        tell!(
            "note: it was built with {}; -f rebuilds it as asked now",
            describe(&installed)
        );
    }
}

/// The options of a build, as one line (`--with=filesystem,python variant=release link=shared`).
fn describe(details: &Details) -> String {
    let mut words = vec![if details.all {
        "--all".to_owned()
    } else if details.libraries.is_empty() {
        "headers only".to_owned()
    } else {
        format!("--with={}", details.libraries.join(","))
    }];
    words.push(format!("variant={}", details.variant.join(",")));
    words.push(format!("link={}", details.link.join(",")));
    if let Some(std) = &details.cxxstd {
        words.push(format!("cxxstd={std}"));
    }
    words.join(" ")
}

fn shape(args: &InstallArgs) -> Shape {
    let (variants, links) = if args.complete {
        (
            vec![Variant::Release, Variant::Debug],
            vec![Link::Shared, Link::Static],
        )
    } else {
        (args.variant.clone(), args.link.clone())
    };
    let mut variants: Vec<String> = variants.iter().map(b2_value).collect();
    let mut links: Vec<String> = links.iter().map(b2_value).collect();
    variants.dedup();
    links.dedup();
    Shape {
        variants,
        links,
        cxxstd: args.cxxstd.clone(),
    }
}

/// One line of `boost install --list --json`.
#[derive(Serialize)]
struct Listed<'a> {
    version: String,
    file: &'a str,
    sha256: &'a str,
    installed: Vec<String>,
}

fn list_releases(
    ctx: &Ctx,
    catalog: &BoostCatalog,
    prefix: Option<&str>,
    args: &InstallArgs,
    out: &mut dyn Write,
) -> Result<i32, Reported> {
    let installs = installed::installed(&ctx.layout).unwrap_or_default();
    let shown: Vec<Listed<'_>> = catalog
        .releases()
        .iter()
        .filter(|r| prefix.is_none_or(|p| p == "latest" || is_under(p, r.version)))
        .map(|r| {
            let version = r.version.to_string();
            Listed {
                installed: installs
                    .iter()
                    .filter(|i| is_under(&version, plan::release_of(&i.name)))
                    .map(|i| i.name.clone())
                    .collect(),
                version,
                file: &r.file,
                sha256: &r.sha256,
            }
        })
        .collect();
    if let (Some(prefix), true) = (prefix, shown.is_empty()) {
        return Err(Reported::failure(
            format!("no known Boost release matches '{prefix}'"),
            format!(
                "nearest known: {}; `strap boost install --list` lists them all",
                catalog.nearest(prefix).join(", ")
            ),
        ));
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &shown)?;
        writeln!(out)?;
    } else {
        for entry in &shown {
            if entry.installed.is_empty() || args.bare {
                writeln!(out, "{}", entry.version)?;
            } else {
                writeln!(
                    out,
                    "{}  (installed: {})",
                    entry.version,
                    entry.installed.join(", ")
                )?;
            }
        }
    }
    Ok(0)
}

fn list(ctx: &Ctx, bare: bool, json: bool, out: &mut dyn Write) -> Result<(), Reported> {
    let all = installed::installed(&ctx.layout).io_context("list", ctx.layout.boost_root())?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &all)?;
        writeln!(out)?;
        return Ok(());
    }
    if bare {
        for install in &all {
            writeln!(out, "{}", install.name)?;
        }
        return Ok(());
    }
    let rows: Vec<[String; 6]> = all.iter().map(row).collect();
    let header = ["NAME", "PYTHON", "LIBRARIES", "VARIANT", "LINK", "SIZE"].map(str::to_owned);
    let mut widths = [0usize; 6];
    for r in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    if all.is_empty() {
        tell!("no Boost is installed; `strap boost install 1.86` builds one");
    }
    Ok(())
}

fn row(install: &Installed) -> [String; 6] {
    let size = HumanBytes(install.size).to_string();
    let Some(d) = &install.details else {
        return [
            install.name.clone(),
            "?".into(),
            "? (no receipt)".into(),
            "?".into(),
            "?".into(),
            size,
        ];
    };
    let mut libraries = if d.all {
        "all".to_owned()
    } else if d.libraries.is_empty() {
        "headers".to_owned()
    } else {
        d.libraries.join(",")
    };
    if d.numpy {
        libraries.push_str(",numpy");
    }
    let python = d.python.as_ref().map_or_else(
        || "-".to_owned(),
        |p| {
            if p.name == "system" {
                format!("{} (system)", p.version)
            } else {
                p.name.clone()
            }
        },
    );
    [
        install.name.clone(),
        python,
        libraries,
        d.variant.join(","),
        d.link.join(","),
        size,
    ]
}

fn env(ctx: &Ctx, name: &str, json: bool, out: &mut dyn Write) -> Result<(), Reported> {
    let found = installed::find(&ctx.layout, name)?;
    let vars = installed::env_vars(&found.prefix);
    if json {
        let map: serde_json::Map<String, serde_json::Value> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.display().to_string().into()))
            .collect();
        serde_json::to_writer_pretty(&mut *out, &map)?;
        writeln!(out)?;
        return Ok(());
    }
    for (var, value) in vars {
        let value = quote_posix(&value.display().to_string());
        if var == "BOOST_ROOT" {
            writeln!(out, "export {var}={value}")?;
        } else {
            writeln!(out, "export {var}={value}\"${{{var}:+:${var}}}\"")?;
        }
    }
    Ok(())
}

fn uninstall(ctx: &Ctx, names: &[String], force: bool) -> Result<(), Reported> {
    let ask = !force && std::io::stdin().is_terminal();
    let mut doomed: Vec<(String, String)> = Vec::new();
    for requested in names {
        let exact = ctx.layout.boost_dir(requested);
        let name = if !requested.contains('/') && !requested.starts_with('.') && exact.is_dir() {
            requested.clone()
        } else {
            match installed::find(&ctx.layout, requested) {
                Ok(found) if ask => found.name,
                Ok(found) => {
                    return Err(Reported::failure(
                        format!(
                        "Boost '{requested}' is not installed; it is a prefix of the installed {}",
                        found.name
                    ),
                        format!(
                            "without a terminal to confirm on, uninstall removes exact names \
                             only: `strap boost uninstall {}`",
                            found.name
                        ),
                    ))
                }
                Err(installed::FindError::NotInstalled(..)) if force => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if !doomed.iter().any(|(n, _)| *n == name) {
            doomed.push((name, requested.clone()));
        }
    }
    for (name, requested) in doomed {
        let dir = ctx.layout.boost_dir(&name);
        let _lock = FileLock::acquire(&ctx.layout.install_lock(crate::boost::KIND, &name), |_| {
            tell!("waiting for another strap process working on Boost {name}…")
        })?;
        if !dir.is_dir() {
            continue;
        }
        if ask {
            let mut question = String::new();
            if requested != name {
                question.push_str(&format!("{requested} is {name}: "));
            }
            question.push_str(&format!("remove {}?", dir.display()));
            if !super::shims::confirm(&question) {
                tell!("kept Boost {name}");
                continue;
            }
        }
        super::shims::remove_version_dir(&dir)?;
        tell!("uninstalled Boost {name}");
    }
    Ok(())
}
