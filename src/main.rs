//! Entry point: started as `strap`, run the CLI; as `pyenv`, answer as pyenv; under any other
//! name (a shim), run the fast path that executes the selected version's program.

#![no_main]

use std::os::raw::{c_char, c_int};
use std::path::Path;

/// A C `main` skips the std runtime's start-up work (stack-guard and signal setup), which is a
/// measurable part of a shim's cost. It also leaves SIGPIPE as the parent set it, so the program a
/// shim executes inherits the parent's disposition unchanged, and `strap versions | head` ends
/// quietly like any Unix filter. So strap never writes to a running child's stdin (a child that
/// exits without reading would kill it): a child's input is put in its pipe before it starts
/// (`sysdeps::stdin_holding`).
///
/// The arguments come from `argc`/`argv`, not `std::env::args_os()`, which std fills before a
/// C `main` only on glibc ([`strap::argv`]).
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes `main` `argc` valid argument strings in `argv`.
    let mut args = unsafe { strap::argv::from_main(argc, argv) }.into_iter();
    let argv0 = args.next().unwrap_or_default();
    let name = std::env::var_os(strap::env_vars::STRAP_FORCE_ARG0)
        .filter(|forced| !forced.is_empty())
        .unwrap_or_else(|| Path::new(&argv0).file_name().unwrap_or_default().to_owned());
    if name == "strap" {
        // A panic cannot unwind out of a C `main` (it would abort); caught here, it unwinds
        // through strap's cleanup guards (build trees are removed) and exits like Rust's `main`.
        std::panic::catch_unwind(|| strap::cli::run(std::iter::once(argv0).chain(args)))
            .unwrap_or(EXIT_PANIC)
    } else if name == "pyenv" {
        std::panic::catch_unwind(|| strap::cli::run_pyenv(&argv0, args)).unwrap_or(EXIT_PANIC)
    } else if let Some(command) = pyenv_command(&name) {
        // `pyenv-<command>` (the links pyenv plugins call): `pyenv <command> ARGS`.
        let args = std::iter::once(command).chain(args);
        std::panic::catch_unwind(|| strap::cli::run_pyenv(&argv0, args)).unwrap_or(EXIT_PANIC)
    } else {
        strap::cli::run_shim(&name, args)
    }
}

/// `version-name` for `pyenv-version-name`, `sh-shell` for `pyenv-sh-shell`.
/// Only pyenv's own commands: a shim named `pyenv-tool` stays a shim.
fn pyenv_command(name: &std::ffi::OsStr) -> Option<std::ffi::OsString> {
    let name = name.to_str()?.strip_prefix("pyenv-")?;
    strap::cli::is_pyenv_command(name).then(|| name.into())
}

/// The exit code of a panic, as Rust's own `main` gives it.
const EXIT_PANIC: c_int = 101;

/// The only function strap needs from the C math library (indicatif's rate and ETA estimates).
/// Defining it here, from the pure-Rust `libm`, keeps `libm.so` out of the process: one shared
/// library fewer to load on every start. Measured after shims moved to `strap-shim`: it still
/// saves 110–125 µs (8%) of each `strap version-name` (alternating runs; 33 k fewer instructions).
#[unsafe(no_mangle)]
extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
