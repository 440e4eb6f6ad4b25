//! The command-line interface: clap definitions, dispatch, and error reporting.
//! Each command is a thin function over the library; data goes to stdout, messages to stderr.

/// `eprintln!` that never panics: when the terminal has hung up (SIGHUP, then EIO on every
/// write) or stderr is closed, strap must still clean up and exit with its own code.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// A message on stderr after the name strap answers as ([`Program`]): `strap: …`, or `pyenv: …`
/// in pyenv mode.
macro_rules! tell {
    ($($arg:tt)*) => {
        say!("{}: {}", $crate::cli::Program::current().name(), format_args!($($arg)*))
    };
}

mod boost;
mod bootstrap;
mod build_flags;
mod cache;
mod doctor;
mod hints;
mod install;
mod pack;
mod progress;
mod pyenv;
mod recipe;
mod select;
mod shell_init;
mod shims;
mod show;
mod virtualenv;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{IoContext, Reported};
use crate::layout::Layout;
use crate::shell::Shell;
use crate::version::Error;

pub use crate::program::Program;

/// Context shared by every command: the root and the current directory.
pub struct Ctx {
    layout: Layout,
    cwd: Option<PathBuf>,
}

#[derive(Parser)]
#[command(
    name = "strap",
    version,
    about = "Set up developer machines: Python versions built from source with fast shims, Boost built against them, and idempotent setup recipes",
    after_help = "Examples:\n  strap versions\n  strap global 3.12.7\n  eval \"$(strap init bash)\""
)]
struct Cli {
    /// The strap root; it wins over $STRAP_ROOT, which wins over the default,
    /// $XDG_DATA_HOME/strap (~/.local/share/strap)
    ///
    /// pyenv's root ($PYENV_ROOT, else ~/.pyenv) given here or in $STRAP_ROOT is used with
    /// pyenv's rules (PYENV_VERSION selects first). A shim in <root>/shims uses that root,
    /// whatever $STRAP_ROOT says.
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build and install CPython versions from source
    #[command(
        after_help = "Examples:\n  strap install 3.12            # the newest known 3.12.x\n  strap install 3.13t           # free-threaded\n  strap install --list 3.11\n  strap install --mirror 'file:///srv/python/{file}' --offline 3.11.2\n  strap install                 # what .python-version selects"
    )]
    Install(install::InstallArgs),

    /// Remove installed versions (each with its virtualenvs) and virtualenvs
    #[command(
        after_help = "Examples:\n  strap uninstall 3.11.2\n  strap uninstall 3.11      # on a terminal: asks \"3.11 is 3.11.2: remove …?\"\n  strap uninstall -f 3.11.2 # no question; exact names only\n  strap uninstall proj      # a virtualenv: its directory and its link"
    )]
    Uninstall {
        /// Installed version names, or virtualenvs (NAME or PYTHON/envs/NAME); a prefix (3.11)
        /// only on a terminal, after confirming the full name. Declining exits 1
        #[arg(required = true)]
        versions: Vec<String>,
        /// Do not ask; remove exact names only; succeed even when a version is not installed
        #[arg(short, long)]
        force: bool,
    },

    /// List installed Python versions; the selected ones are marked with `*`
    #[command(
        after_help = "Examples:\n  strap versions\n  strap versions --bare\n  strap versions --json"
    )]
    Versions {
        /// Only the version names, one per line
        #[arg(long, conflicts_with = "json")]
        bare: bool,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
        /// Leave out virtualenvs (`3.11.2/envs/NAME`)
        #[arg(long)]
        skip_envs: bool,
    },

    /// Show or set the global version(s) (the root's `version` file)
    #[command(
        after_help = "Examples:\n  strap global 3.12.7\n  strap global 3.12.7 2.7.18   # python2.7 comes from 2.7.18\n  strap global system"
    )]
    Global {
        /// Version names or prefixes; several select several versions, the first is primary
        versions: Vec<String>,
    },

    /// Show or set the version(s) for this directory (`.python-version`)
    #[command(after_help = "Examples:\n  strap local 3.11\n  strap local --unset")]
    Local {
        /// Version names or prefixes
        #[arg(conflicts_with = "unset")]
        versions: Vec<String>,
        /// Remove the `.python-version` file of the current directory
        #[arg(long)]
        unset: bool,
    },

    /// Show or set the version(s) for the current shell (needs `strap init`)
    #[command(
        after_help = "Examples:\n  strap shell 3.11\n  strap shell -        # back to the previous selection\n  strap shell --unset"
    )]
    Shell {
        /// Version names or prefixes; `-` goes back to the previous selection
        #[arg(conflicts_with = "unset")]
        versions: Vec<String>,
        /// Go back to the directory or global selection
        #[arg(long)]
        unset: bool,
    },

    /// Show the selected version(s) and where they were set
    #[command(
        after_help = "Examples:\n  strap version          # 3.12.7 (set by /home/me/project/.python-version)\n  strap version --json"
    )]
    Version {
        /// Machine-readable output: name, requested name, prefix and origin of each
        #[arg(long)]
        json: bool,
    },

    /// Print the full path of the executable a command runs
    #[command(after_help = "Examples:\n  strap which pip\n  strap which python3 --json")]
    Which {
        /// A command name such as `python3` or `pip`
        command: String,
        /// Machine-readable output: the path, the version providing it and the selection's origin
        #[arg(long)]
        json: bool,
    },

    /// List the installed versions that provide a command
    #[command(after_help = "Example:\n  strap whence python2.7")]
    Whence {
        /// Print full paths instead of version names
        #[arg(long)]
        path: bool,
        /// A command name
        command: String,
    },

    /// Print the installation prefix of a version (default: the selected ones)
    #[command(after_help = "Example:\n  strap prefix 3.12")]
    Prefix {
        /// Version names or prefixes
        versions: Vec<String>,
    },

    /// Print the newest installed version matching a prefix
    #[command(after_help = "Example:\n  strap latest 3.11   # 3.11.9")]
    Latest {
        /// A version prefix such as `3.11`, `3.13t` or `3.14.5rc`
        prefix: String,
    },

    /// Run a command from the selected version (what a shim does)
    #[command(after_help = "Example:\n  strap exec pip install requests")]
    Exec {
        /// The command name
        command: String,
        /// Its arguments, passed through untouched
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },

    /// Recreate the shims for every executable of every installed version
    #[command(after_help = "Example:\n  strap rehash")]
    Rehash,

    /// List the shims
    #[command(after_help = "Example:\n  strap shims --short")]
    Shims {
        /// Names only
        #[arg(long)]
        short: bool,
    },

    /// Print the shell integration code (shims on PATH, `strap shell`, completions)
    #[command(
        after_help = "Examples:\n  eval \"$(strap init bash)\"      # in ~/.bashrc\n  eval \"$(strap init zsh)\"       # in ~/.zshrc\n  strap init fish | source        # in ~/.config/fish/config.fish\n  strap init                      # instructions for your shell\n  strap init --pyenv bash         # answer as `pyenv` too (links ~/.pyenv/bin/pyenv)"
    )]
    Init {
        /// bash, zsh or fish; `-` detects it from $SHELL; without it, print instructions
        shell: Option<String>,
        /// Let strap answer as `pyenv`: link `$PYENV_ROOT/bin/pyenv` (default ~/.pyenv) to strap
        /// and print the lines for your shell's startup file
        #[arg(long)]
        pyenv: bool,
    },

    /// Print shell completions
    #[command(after_help = "Example:\n  strap completions zsh > ~/.zfunc/_strap")]
    Completions {
        /// The shell to generate completions for
        shell: clap_complete::Shell,
    },

    /// Check the setup (PATH, shell integration, root, config, mirrors, build prerequisites,
    /// installed versions, shims, leftovers) and name the fix for each problem
    #[command(after_help = "Examples:\n  strap doctor\n  strap doctor --json")]
    Doctor(doctor::DoctorArgs),

    /// Create a virtualenv from an installed version (as pyenv-virtualenv does): versions/<python>/envs/NAME, selectable as NAME; one that exists already is kept
    #[command(
        allow_missing_positional = true,
        after_help = "Examples:\n  strap virtualenv 3.11.2 proj\n  strap virtualenv proj -r requirements.txt   # from the selected version\n  strap local proj"
    )]
    Virtualenv(virtualenv::VirtualenvArgs),

    /// List the virtualenvs
    #[command(after_help = "Examples:\n  strap virtualenvs\n  strap virtualenvs --json")]
    Virtualenvs {
        /// Only the names, one per line
        #[arg(long, conflicts_with = "json")]
        bare: bool,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },

    /// Remove a virtualenv and its link (asks on a terminal; declining exits 1)
    #[command(after_help = "Example:\n  strap virtualenv-delete -f proj")]
    VirtualenvDelete {
        /// NAME or PYTHON/envs/NAME
        name: String,
        /// Do not ask; succeed when it does not exist
        #[arg(short, long)]
        force: bool,
    },

    /// Pack an installed version into a .tar.zst with a manifest, to install it elsewhere
    #[command(
        after_help = "Examples:\n  strap pack 3.11.2\n  strap pack 3.12 -o /srv/builds/python-3.12.tar.zst"
    )]
    Pack(pack::PackArgs),

    /// Upload an installed version's pack to a binary mirror (a directory, an HTTP store or an
    /// OCI registry), for `strap install` elsewhere
    #[command(
        after_help = "Examples:\n  strap push 3.11.2 --to oci://registry.example/team/strap-builds\n  strap push 3.12 --to file:///srv/builds\n  strap push 3.12 --to https://files.example/strap-builds/   # HTTP PUT\n\nCredentials: STRAP_REGISTRY_USER and STRAP_REGISTRY_PASSWORD, else `docker login`."
    )]
    Push(pack::PushArgs),

    /// Converge this machine to a manifest (strap.toml): Pythons, the global version,
    /// virtualenvs, Boost builds and recipes; plan first, nothing redone
    #[command(
        after_help = "Examples:\n  strap bootstrap --dry-run\n  strap bootstrap -f ci/strap.toml --json\n  strap bootstrap --only python,virtualenv\n  strap bootstrap --schema > strap.schema.json"
    )]
    Bootstrap(bootstrap::BootstrapArgs),

    /// Boost from source, with Boost.Python against a strap-managed Python
    #[command(
        subcommand,
        after_help = "Examples:\n  strap boost install 1.86 --python 3.12\n  strap boost list\n  eval \"$(strap boost env 1.86.0-py3.12)\""
    )]
    Boost(boost::BoostCommand),

    /// Idempotent setup recipes (docker, jenkins, can, or your own)
    #[command(
        subcommand,
        after_help = "Examples:\n  strap recipe list\n  strap recipe show docker\n  strap recipe run can --set interfaces=can0 --dry-run"
    )]
    Recipe(recipe::RecipeCommand),

    /// Housekeeping: remove lock files, logs, downloads and build trees no running strap holds
    #[command(
        subcommand,
        after_help = "Examples:\n  strap cache clean --dry-run\n  strap cache clean --older-than 30"
    )]
    Cache(cache::CacheCommand),

    /// Print the selected version name(s), `:`-separated
    #[command(
        name = "version-name",
        after_help = "Example:\n  strap version-name   # 3.12.7:2.7.18"
    )]
    VersionName,

    /// Print where the selected version was set
    #[command(
        name = "version-origin",
        after_help = "Example:\n  strap version-origin"
    )]
    VersionOrigin,

    /// Print the version file that applies to a directory (default: the current one)
    #[command(
        name = "version-file",
        after_help = "Example:\n  strap version-file ~/src/project"
    )]
    VersionFile {
        /// Directory to start looking from
        dir: Option<PathBuf>,
    },

    /// Emit the shell code behind `strap shell` (called by the shell function)
    #[command(name = "sh-shell", hide = true)]
    ShShell {
        #[arg(long, value_enum)]
        shell: Shell,
        #[arg(conflicts_with = "unset")]
        versions: Vec<String>,
        #[arg(long)]
        unset: bool,
    },

    /// Print the strap root directory
    #[command(after_help = "Example:\n  cd \"$(strap root)/versions\"")]
    Root,
}

/// Parses `args`, runs the command, prints any error; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return report_clap(err),
    };
    let ctx = Ctx {
        layout: cli.root.map_or_else(Layout::from_env, Layout::new),
        cwd: std::env::current_dir().ok(),
    };
    let mut out = Stdout::new();
    let result =
        dispatch(&ctx, cli.command, &mut out).and_then(|code| Ok(out.flush().map(|()| code)?));
    match result {
        Ok(code) => code,
        Err(_) if out.closed => 0,
        Err(err) => print_reported(&err),
    }
}

/// One of strap's commands from its words (`["install", "3.12"]`: no program name, no global
/// flags), parsed by the same clap definitions `strap` parses: pyenv mode runs strap's
/// building commands with pyenv's arguments this way.
fn parse_command<I, T>(words: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    use clap::{FromArgMatches, Subcommand};
    let parser = Command::augment_subcommands(
        clap::Command::new("strap")
            .no_binary_name(true)
            .subcommand_required(true),
    );
    Command::from_arg_matches(&parser.try_get_matches_from(words)?)
}

/// Standard output that remembers whether its reader went away: output nobody reads is no
/// failure (`strap versions | head -1` exits 0).
struct Stdout {
    inner: io::StdoutLock<'static>,
    closed: bool,
}

impl Stdout {
    fn new() -> Stdout {
        Stdout {
            inner: io::stdout().lock(),
            closed: false,
        }
    }

    /// Notes a closed pipe in `result`.
    fn watch<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            self.closed |= e.kind() == io::ErrorKind::BrokenPipe;
        }
        result
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.watch(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.watch(result)
    }
}

/// Runs a command; returns its exit code (0 unless the command defines others).
fn dispatch(ctx: &Ctx, command: Command, out: &mut dyn Write) -> Result<i32, Reported> {
    match command {
        Command::Root => writeln!(out, "{}", ctx.layout.root().display())?,
        Command::Versions {
            bare,
            json,
            skip_envs,
        } => show::versions(ctx, bare, json, skip_envs, out)?,
        Command::Bootstrap(args) => return bootstrap::run(ctx, args, out),
        Command::Doctor(args) => return doctor::run(ctx, args, out),
        Command::Virtualenv(args) => virtualenv::create(ctx, args)?,
        Command::Virtualenvs { bare, json } => virtualenv::list(ctx, bare, json, out)?,
        Command::VirtualenvDelete { name, force } => return virtualenv::delete(ctx, &name, force),
        Command::Version { json } => show::version(ctx, json, out)?,
        Command::VersionName => show::version_name(ctx, out)?,
        Command::VersionOrigin => show::version_origin(ctx, out)?,
        Command::VersionFile { dir } => show::version_file(ctx, dir, out)?,
        Command::Latest { prefix } => show::latest(ctx, &prefix, out)?,
        Command::Prefix { versions } => show::prefix(ctx, &versions, out)?,
        Command::Which { command, json } => show::which(ctx, &command, json, out)?,
        Command::Whence { path, command } => show::whence(ctx, &command, path, out)?,
        Command::Global { versions } => select::global(ctx, &versions, out)?,
        Command::Local { versions, unset } => select::local(ctx, &versions, unset, out)?,
        Command::Shell { versions, unset } => select::shell(ctx, &versions, unset, out)?,
        Command::ShShell {
            shell,
            versions,
            unset,
        } => select::sh_shell(ctx, shell, &versions, unset, out)?,
        Command::Exec { command, args } => {
            let selection = ctx.selection()?;
            let code =
                crate::shim::exec_selected(&ctx.layout, &selection, &command, args, run_and_rehash);
            return Ok(code?);
        }
        Command::Install(args) => return install::run(ctx, args, out),
        Command::Recipe(command) => return recipe::run(ctx, command, out),
        Command::Boost(command) => return boost::run(ctx, command, out),
        Command::Pack(args) => {
            let prefix = pack::python_prefix(ctx, &args.version)?;
            pack::pack(ctx, &prefix, args.output, out)?
        }
        Command::Push(args) => {
            let prefix = pack::python_prefix(ctx, &args.version)?;
            pack::push(ctx, &prefix, &args.to, out)?
        }
        Command::Rehash => shims::rehash(ctx)?,
        Command::Shims { short } => shims::list(ctx, short, out)?,
        Command::Uninstall { versions, force } => return shims::uninstall(ctx, &versions, force),
        Command::Cache(command) => return cache::run(ctx, command, out),
        Command::Init { shell, pyenv: true } => shell_init::init_pyenv(shell.as_deref(), out)?,
        Command::Init {
            shell,
            pyenv: false,
        } => shell_init::init(ctx, shell.as_deref(), out)?,
        Command::Completions { shell } => shell_init::completions(shell, out),
    }
    Ok(0)
}

/// Prints a clap error in strap's style, `strap: error: …` (then clap's tip, usage and help
/// lines, uncoloured like strap's own errors), with the closest suggestion first; help and
/// `--version` go to stdout as clap prints them. Returns clap's exit code (2 for errors, 0 for
/// help and version).
fn report_clap(mut err: clap::Error) -> i32 {
    use clap::error::{ContextKind, ContextValue};
    if !err.use_stderr() {
        let _ = err.print();
        return err.exit_code();
    }
    // clap lists similar subcommands from the least to the most similar.
    if let Some(ContextValue::Strings(similar)) = err.get(ContextKind::SuggestedSubcommand) {
        let closest_first = similar.iter().rev().cloned().collect();
        err.insert(
            ContextKind::SuggestedSubcommand,
            ContextValue::Strings(closest_first),
        );
    }
    let text = err.render().to_string();
    match text.strip_prefix("error: ") {
        Some(message) => tell!("error: {}", message.trim_end()),
        None => say!("{}", text.trim_end()),
    }
    err.exit_code()
}

/// pyenv mode: strap started as `pyenv` (`argv0` is the path it was started through).
pub fn run_pyenv(argv0: &std::ffi::OsStr, args: impl Iterator<Item = OsString>) -> i32 {
    Program::Pyenv.make_current();
    pyenv::run(argv0, args)
}

/// True for one of pyenv's own commands (`version-name`, `sh-shell`, …): strap started as
/// `pyenv-<command>` runs it.
pub fn is_pyenv_command(name: &str) -> bool {
    pyenv::is_own_command(name)
}

/// The shim path for a process started as `name` (in `strap`): exec the selected version's
/// program, or print why not and return the exit code. A package install is run here and
/// rehashed after.
pub fn run_shim(name: &std::ffi::OsStr, args: impl Iterator<Item = OsString>) -> i32 {
    shim_main(name, args, run_and_rehash)
}

/// [`run_shim`] for the lean `strap-shim`: a package install is handed over to `strap`.
pub fn run_lean_shim(name: &std::ffi::OsStr, args: impl Iterator<Item = OsString>) -> i32 {
    shim_main(name, args, crate::shim::hand_over_to_strap)
}

fn shim_main(
    name: &std::ffi::OsStr,
    args: impl Iterator<Item = OsString>,
    install: crate::shim::InstallRunner,
) -> i32 {
    let Some(command) = name.to_str() else {
        tell!("error: shim name {name:?} is not valid UTF-8");
        return 1;
    };
    let layout = Layout::for_shim();
    let ctx = Ctx {
        layout,
        cwd: std::env::current_dir().ok(),
    };
    let layout = &ctx.layout;
    let exec = ctx.selection().and_then(|selection| {
        crate::shim::exec_selected(layout, &selection, command, args, install)
    });
    match exec {
        Ok(code) => code,
        Err(err) if layout.flavor() == crate::layout::Flavor::Pyenv => pyenv::report_error(&err),
        Err(err) => report_error(&err),
    }
}

/// A package install through a shim or `strap exec`: runs it, then rehashes so the commands it
/// added have shims (a failed rehash is only a warning).
fn run_and_rehash(
    layout: &Layout,
    target: &crate::which::Target,
    cmd: std::process::Command,
) -> Result<i32, Error> {
    let code = crate::shim::run_install(target, cmd)?;
    if code == 0 {
        let rehashed = crate::shims::shim_executable()
            .io_context("find", "the strap executable")
            .map_err(Error::from)
            .and_then(|exe| crate::shims::rehash(layout, &exe));
        if let Err(err) = rehashed {
            tell!("warning: rehash after the install failed: {err}");
        }
    }
    Ok(code)
}

/// Prints a library error (and its hint) to stderr; returns its exit code.
pub fn report_error(err: &Error) -> i32 {
    print_reported(&hints::explain(err))
}

/// Prints an error in strap's words (`strap: error: …`, then its hint); returns its exit code.
fn print_reported(reported: &Reported) -> i32 {
    tell!("error: {}", crate::error::printable(&reported.message));
    if let Some(hint) = &reported.hint {
        say!("hint: {}", crate::error::printable(hint));
    }
    reported.exit_code
}
