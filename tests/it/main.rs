//! Integration tests: the real `strap` binary against temporary roots and homes.

mod cli;
mod selection;
mod shell;
mod shims;
mod support;
