//! The command line of a C `main` (both binaries define one; see `main.rs`). std fills
//! `std::env::args_os()` before `main` only on glibc (which passes `argc`/`argv` to its
//! `.init_array` hooks); elsewhere, musl among them, it stays empty in a `#![no_main]` program,
//! and every start would look like a shim with no name. So both `main`s read their own
//! parameters through [`from_main`].

use std::ffi::{CStr, OsString};
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;

/// `argv[0..argc]` as owned strings, their bytes kept as they are (they need not be UTF-8). A
/// null `argv` or a negative `argc` is no argument; a null entry ends the list early.
///
/// # Safety
/// `argv` is null or points to `argc` pointers, each null or to a NUL-terminated string that
/// lives through the call: what the C runtime passes to `main`.
pub unsafe fn from_main(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    if argv.is_null() {
        return Vec::new();
    }
    let count = usize::try_from(argc).unwrap_or(0);
    (0..count)
        // SAFETY: `i < argc`, and `argv` has `argc` entries (the caller's contract).
        .map(|i| unsafe { *argv.add(i) })
        .take_while(|arg| !arg.is_null())
        // SAFETY: a non-null entry is a NUL-terminated string (the caller's contract).
        .map(|arg| OsString::from_vec(unsafe { CStr::from_ptr(arg) }.to_bytes().to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// Calls [`from_main`] with a C `argv` made of `args`.
    fn from_c(args: &[&[u8]], argc: c_int) -> Vec<OsString> {
        let owned: Vec<CString> = args.iter().map(|a| CString::new(*a).unwrap()).collect();
        let mut argv: Vec<*const c_char> = owned.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        // SAFETY: `argv` holds `args.len()` NUL-terminated strings and a closing null, all
        // alive until the call returns.
        unsafe { from_main(argc, argv.as_ptr()) }
    }

    #[test]
    fn the_arguments_are_main_s_own_bytes_for_bytes() {
        let args: [&[u8]; 3] = [b"/usr/bin/python3", b"-c", b"print(1) \xff"];
        let got = from_c(&args, 3);
        let want: Vec<OsString> = args
            .iter()
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect();
        assert_eq!(got, want);
        // Only `argc` of them, whatever follows.
        assert_eq!(from_c(&args, 1), want[..1]);
    }

    #[test]
    fn no_argv_is_no_argument() {
        // SAFETY: a null `argv` is allowed.
        assert!(unsafe { from_main(2, std::ptr::null()) }.is_empty());
        assert!(from_c(&[b"strap"], -1).is_empty());
        assert!(from_c(&[b"strap"], 0).is_empty());
        // A null entry before `argc` ends the list.
        assert_eq!(from_c(&[b"strap"], 5), [OsString::from("strap")]);
    }
}
