//! Why a place (the build cache, a binary mirror) had no packed build to install, kept typed
//! until it is shown: in the source build's note and in the `--binary-only` error.

use std::fmt;
use std::path::PathBuf;

use super::{StageError, StageFailure};
use crate::binary::BinaryError;

/// One place that had no usable packed build, and why.
#[derive(Debug)]
pub struct Miss {
    /// The place, as the messages name it (`the build cache`, a binary mirror's URL).
    pub from: String,
    pub why: Why,
}

/// Why a place had no packed build to install.
#[derive(Debug)]
pub enum Why {
    /// It has no build of this key.
    NotThere,
    /// A remote binary mirror, not asked with `--offline`.
    Offline,
    /// Asking it failed.
    Lookup(BinaryError),
    /// It has one that was not installed (`removed`: the build cache's copy is gone).
    Unusable { defect: Defect, removed: bool },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.from, self.why)
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::NotThere => write!(f, "has no such build"),
            Why::Offline => write!(f, "not asked (--offline)"),
            Why::Lookup(error) => write!(f, "{error}"),
            Why::Unusable { defect, removed } => {
                write!(f, "{defect}")?;
                if *removed {
                    write!(f, "; removed it from the build cache")?;
                }
                Ok(())
            }
        }
    }
}

/// What is wrong with a packed build that was found.
#[derive(Debug)]
pub enum Defect {
    /// Its manifest in the build cache is no pack manifest.
    Manifest {
        path: PathBuf,
        error: serde_json::Error,
    },
    /// It is not the build asked for, not for this machine, or incomplete
    /// ([`crate::pack::Manifest::refusal`]'s words).
    Refused(String),
    /// Installing it failed.
    Install(StageFailure),
    /// Downloading it failed.
    Fetch(Box<StageError>),
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::Manifest { path, error } => write!(f, "{}: {error}", path.display()),
            Defect::Refused(why) => write!(f, "{why}"),
            Defect::Install(failure) => write!(f, "{failure}"),
            Defect::Fetch(error) => write!(f, "{error}"),
        }
    }
}

/// Why a pack was not installed, and whose fault that is.
pub(super) struct Unusable {
    pub defect: Defect,
    pub fault: Fault,
}

/// Whose fault it is that a pack was not installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// The pack's own (its files, bytes, or contents that do not relocate or verify): it is
    /// removed from the build cache, so no install tries it again.
    Pack,
    /// A mirror's or this machine's (a download, the disk): warned about.
    Elsewhere,
    /// Nobody's: a pack for another machine (in a cache several machines share) is left for it.
    NotForHere,
}

impl Unusable {
    /// A pack whose install failed, blamed as the failure blames it.
    pub fn install(failure: StageFailure) -> Unusable {
        let blames_pack = failure.error.blames_pack();
        Unusable::blamed(blames_pack, Defect::Install(failure))
    }

    /// A pack whose download failed, blamed as the error blames it.
    pub fn fetch(error: StageError) -> Unusable {
        Unusable::blamed(error.blames_pack(), Defect::Fetch(Box::new(error)))
    }

    fn blamed(blames_pack: bool, defect: Defect) -> Unusable {
        let fault = if blames_pack {
            Fault::Pack
        } else {
            Fault::Elsewhere
        };
        Unusable { defect, fault }
    }
}
