//! CPython: the release catalog, install plans, preflight checks, builds, verification and the
//! install pipeline that ties them together.

pub mod build;
pub mod catalog;
pub mod install;
pub mod plan;
pub mod preflight;
pub mod verify;
