//! Bootstrapping a machine from a manifest (`strap.toml`): the manifest and the plan.

pub mod manifest;
pub mod plan;
