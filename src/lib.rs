//! strap: Python versions built from source with fast shims, Boost builds, and idempotent setup
//! recipes. The binary's `main` only chooses between the shim fast path ([`shim`]) and the CLI
//! ([`cli`]); everything else lives in these modules.

pub mod archive;
pub mod cli;
pub mod config;
pub mod env_vars;
pub mod error;
pub mod fetch;
pub mod layout;
pub mod lock;
pub mod os_release;
pub mod process;
pub mod python;
pub mod recipe;
pub mod report;
pub mod runner;
pub mod settings;
pub mod shell;
pub mod shim;
pub mod shims;
pub mod stage;
pub mod sysdeps;
pub mod version;
pub mod which;
