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

mod install;
mod progress;
mod recipe;
mod select;
mod shell_init;
mod shims;
mod show;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{Error, Reported, UsageError, EXIT_FAILURE};
use crate::layout::Layout;
use crate::shell::Shell;

/// Context shared by every command: the root and the current directory.
pub struct Ctx {
    layout: Layout,
    cwd: Option<PathBuf>,
}

#[derive(Parser)]
#[command(
    name = "strap",
    version,
    about = "Set up developer machines: Python versions with fast shims, Boost, setup recipes",
    after_help = "Examples:\n  strap versions\n  strap global 3.12.7\n  eval \"$(strap init bash)\""
)]
struct Cli {
    /// The strap root (default: $XDG_DATA_HOME/strap, or $STRAP_ROOT)
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the strap root directory
    #[command(after_help = "Example:\n  cd \"$(strap root)/versions\"")]
    Root,

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
    },

    /// Show the selected version(s) and where they were set
    #[command(
        after_help = "Example:\n  strap version   # 3.12.7 (set by /home/me/project/.python-version)"
    )]
    Version,

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
    #[command(after_help = "Examples:\n  strap shell 3.11\n  strap shell --unset")]
    Shell {
        /// Version names or prefixes
        #[arg(conflicts_with = "unset")]
        versions: Vec<String>,
        /// Go back to the directory or global selection
        #[arg(long)]
        unset: bool,
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

    /// Print the newest installed version matching a prefix
    #[command(after_help = "Example:\n  strap latest 3.11   # 3.11.9")]
    Latest {
        /// A version prefix such as `3.11`, `3.13t` or `3.14.0rc`
        prefix: String,
    },

    /// Print the installation prefix of a version (default: the selected ones)
    #[command(after_help = "Example:\n  strap prefix 3.12")]
    Prefix {
        /// Version names or prefixes
        versions: Vec<String>,
    },

    /// Print the full path of the executable a command runs
    #[command(after_help = "Example:\n  strap which pip")]
    Which {
        /// A command name such as `python3` or `pip`
        command: String,
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

    /// Build and install CPython versions from source
    #[command(
        after_help = "Examples:\n  strap install 3.12            # the newest known 3.12.x\n  strap install 3.13t           # free-threaded\n  strap install --list 3.11\n  strap install --mirror 'file:///srv/python/{file}' --offline 3.11.2\n  strap install                 # what .python-version selects"
    )]
    Install(install::InstallArgs),

    /// Idempotent setup recipes (docker, jenkins, can, or your own)
    #[command(
        subcommand,
        after_help = "Examples:\n  strap recipe list\n  strap recipe show docker\n  strap recipe run can --set interfaces=can0 --dry-run"
    )]
    Recipe(recipe::RecipeCommand),

    /// Remove installed versions
    #[command(after_help = "Example:\n  strap uninstall -f 3.11.2")]
    Uninstall {
        /// Exact installed version names
        #[arg(required = true)]
        versions: Vec<String>,
        /// Do not ask; succeed even when a version is not installed
        #[arg(short, long)]
        force: bool,
    },

    /// Print the shell integration code (shims on PATH, `strap shell`, completions)
    #[command(
        after_help = "Examples:\n  eval \"$(strap init bash)\"      # in ~/.bashrc\n  eval \"$(strap init zsh)\"       # in ~/.zshrc\n  strap init fish | source        # in ~/.config/fish/config.fish\n  strap init                      # instructions for your shell"
    )]
    Init {
        /// bash, zsh or fish; `-` detects it from $SHELL; without it, print instructions
        shell: Option<String>,
    },

    /// Print shell completions
    #[command(after_help = "Example:\n  strap completions zsh > ~/.zfunc/_strap")]
    Completions {
        /// The shell to generate completions for
        shell: clap_complete::Shell,
    },
}

/// Parses `args`, runs the command, prints any error; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return err.exit_code();
        }
    };
    let ctx = Ctx {
        layout: cli.root.map_or_else(Layout::from_env, Layout::new),
        cwd: std::env::current_dir().ok(),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result =
        dispatch(&ctx, cli.command, &mut out).and_then(|code| Ok(out.flush().map(|()| code)?));
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => 0,
        Err(err) => report_anyhow(&err),
    }
}

/// Runs a command; returns its exit code (0 unless the command defines others).
fn dispatch(ctx: &Ctx, command: Command, out: &mut dyn Write) -> anyhow::Result<i32> {
    match command {
        Command::Root => writeln!(out, "{}", ctx.layout.root().display())?,
        Command::Versions { bare, json } => show::versions(ctx, bare, json, out)?,
        Command::Version => show::version(ctx, out)?,
        Command::VersionName => show::version_name(ctx, out)?,
        Command::VersionOrigin => show::version_origin(ctx, out)?,
        Command::VersionFile { dir } => show::version_file(ctx, dir, out)?,
        Command::Latest { prefix } => show::latest(ctx, &prefix, out)?,
        Command::Prefix { versions } => show::prefix(ctx, &versions, out)?,
        Command::Which { command } => show::which(ctx, &command, out)?,
        Command::Whence { path, command } => show::whence(ctx, &command, path, out)?,
        Command::Global { versions } => select::global(ctx, &versions, out)?,
        Command::Local { versions, unset } => select::local(ctx, &versions, unset, out)?,
        Command::Shell { versions, unset } => select::shell(&versions, unset, out)?,
        Command::ShShell {
            shell,
            versions,
            unset,
        } => select::sh_shell(ctx, shell, &versions, unset, out)?,
        Command::Exec { command, args } => match crate::shim::exec(&ctx.layout, &command, args)? {},
        Command::Install(args) => return install::run(ctx, args, out),
        Command::Recipe(command) => return recipe::run(ctx, command, out),
        Command::Rehash => shims::rehash(ctx)?,
        Command::Shims { short } => shims::list(ctx, short, out)?,
        Command::Uninstall { versions, force } => shims::uninstall(ctx, &versions, force)?,
        Command::Init { shell } => shell_init::init(ctx, shell.as_deref(), out)?,
        Command::Completions { shell } => shell_init::completions(shell, out),
    }
    Ok(0)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// The shim path for a process started as `name`: exec the selected version's program, or print
/// why not and return the exit code.
pub fn run_shim(name: &std::ffi::OsStr, args: impl Iterator<Item = OsString>) -> i32 {
    let Some(command) = name.to_str() else {
        say!("strap: error: shim name {name:?} is not valid UTF-8");
        return 1;
    };
    match crate::shim::exec(&Layout::for_shim(), command, args) {
        Ok(never) => match never {},
        Err(err) => report_error(&err),
    }
}

/// Prints a library error (and its hint) to stderr; returns its exit code.
pub fn report_error(err: &Error) -> i32 {
    print_reported(&Reported::of(err))
}

fn print_reported(reported: &Reported) -> i32 {
    say!("strap: error: {}", reported.message);
    if let Some(hint) = &reported.hint {
        say!("hint: {hint}");
    }
    reported.exit_code
}

fn report_anyhow(err: &anyhow::Error) -> i32 {
    if let Some(reported) = err.downcast_ref::<Reported>() {
        return print_reported(reported);
    }
    let explained = err
        .downcast_ref::<Error>()
        .map(Reported::of)
        .or_else(|| err.downcast_ref::<UsageError>().map(Reported::of));
    if let Some(explained) = explained {
        return print_reported(&explained);
    }
    say!("strap: error: {err}");
    for cause in err.chain().skip(1) {
        say!("  caused by: {cause}");
    }
    EXIT_FAILURE
}
