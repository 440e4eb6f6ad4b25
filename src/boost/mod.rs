//! Boost built from source against a strap-managed (or the system) Python: the release
//! catalog, what a request means (libraries, variants, the Python, known-broken pairs), the
//! preflight, the bootstrap/b2 build and its verification as an artifact of the staged
//! pipeline, and the installed builds.

pub mod build;
pub mod catalog;
pub mod compat;
pub mod install;
pub mod installed;
pub mod libraries;
pub mod plan;
pub mod preflight;
pub mod sources;
pub mod verify;

/// The artifact kind of Boost installs (their locks, work directories, logs and receipts).
pub(crate) const KIND: &str = crate::layout::ArtifactKind::Boost.name();
