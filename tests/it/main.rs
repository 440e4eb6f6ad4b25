//! Integration tests: the real `strap` binary against temporary roots and homes.

mod archive;
mod binary_mirror;
mod boost;
mod bootstrap;
mod bounded;
mod build_cache;
mod clean;
mod cli;
mod docs;
mod doctor;
mod fake_boost;
mod fake_source;
mod install;
mod messages;
mod mirror;
mod pack;
mod pipeline;
mod pyenv;
mod real;
mod recipes;
mod registry;
mod selection;
mod shell;
mod shims;
mod support;
mod virtualenv;
