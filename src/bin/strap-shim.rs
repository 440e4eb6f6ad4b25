//! The shim executable: what every link in `<root>/shims/` points to when it is installed next
//! to `strap`. It holds only the fast path (version selection and `exec`, plain `std`), so it
//! loads and starts faster than the full `strap` binary with its HTTP, TLS and archive code.
//! Started under its own name it runs the CLI instead, by handing over to `strap`.

#![no_main]

use std::ffi::OsString;
use std::io::Write;
use std::os::raw::{c_char, c_int};
use std::os::unix::process::CommandExt;
use std::path::Path;

/// See `main.rs`: a C `main` skips the std runtime's start-up work, and reads its own
/// `argc`/`argv` ([`strap::argv`]).
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes `main` `argc` valid argument strings in `argv`.
    let mut args = unsafe { strap::argv::from_main(argc, argv) }.into_iter();
    let argv0 = args.next().unwrap_or_default();
    let name = Path::new(&argv0).file_name().unwrap_or_default().to_owned();
    if name == "strap-shim" {
        return hand_over_to_strap(args);
    }
    strap::cli::run_lean_shim(&name, args)
}

/// `strap-shim ARGS` is `strap ARGS` (the CLI lives in the `strap` binary next to this one).
fn hand_over_to_strap(args: impl Iterator<Item = OsString>) -> c_int {
    let strap = std::env::current_exe()
        .map(|exe| exe.with_file_name("strap"))
        .unwrap_or_else(|_| "strap".into());
    let err = std::process::Command::new(&strap).args(args).exec();
    let _ = writeln!(
        std::io::stderr(),
        "strap: error: cannot run {}: {err}",
        strap.display()
    );
    1
}
