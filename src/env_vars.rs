//! Every environment variable strap reads, in one place.

/// The strap root (versions, shims, global version file, cache, logs).
pub const STRAP_ROOT: &str = "STRAP_ROOT";
/// Python version(s) selected for the current shell (set by `strap shell`); `:`-separated.
pub const STRAP_PYTHON_VERSION: &str = "STRAP_PYTHON_VERSION";
/// Pretend strap was started under this name (development aid: run the shim path without a link).
pub const STRAP_FORCE_ARG0: &str = "STRAP_FORCE_ARG0";
/// Nesting depth of shims; guards against a shim that ends up executing itself.
pub const STRAP_SHIM_DEPTH: &str = "STRAP_SHIM_DEPTH";
/// The shell whose syntax `strap shell` emits; set by the code `strap init` prints.
pub const STRAP_SHELL: &str = "STRAP_SHELL";
