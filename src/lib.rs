//! strap: Python versions built from source with fast shims, and idempotent setup recipes.
//! The binary's `main` only chooses between the shim fast path ([`shim`]) and the CLI ([`cli`]);
//! everything else lives in these modules.

pub(crate) mod archive;
pub mod argv;
pub(crate) mod atomic_file;
pub(crate) mod binary;
pub(crate) mod boost;
pub(crate) mod bootstrap;
pub(crate) mod bounded;
pub(crate) mod clean;
pub mod cli;
pub(crate) mod config;
pub mod env_vars;
pub(crate) mod error;
pub(crate) mod fetch;
pub(crate) mod layout;
pub(crate) mod lock;
pub(crate) mod os_release;
pub(crate) mod pack;
pub(crate) mod process;
pub(crate) mod python;
pub(crate) mod recipe;
pub(crate) mod relocate;
pub(crate) mod report;
pub(crate) mod settings;
pub(crate) mod sha256;
pub(crate) mod shell;
pub(crate) mod shim;
pub(crate) mod shims;
pub(crate) mod stage;
pub(crate) mod sysdeps;
pub(crate) mod version;
pub(crate) mod virtualenv;
pub(crate) mod which;
