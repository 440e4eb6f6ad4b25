//! CPython: the release catalog, install plans, preflight checks, builds, verification and the
//! install pipeline that ties them together.

pub mod build;
pub mod catalog;
pub mod family;
pub mod install;
pub mod modules;
pub mod plan;
pub mod platform;
pub mod prebuilt;
pub mod preflight;
pub mod probe;
pub mod request;
pub mod verify;

/// The artifact kind of CPython installs (their locks, work directories, logs and receipts).
pub(crate) const KIND: &str = crate::layout::ArtifactKind::Python.name();
