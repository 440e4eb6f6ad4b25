//! Version names as `strap install` requests: the install that (re)builds an installed name
//! (`3.12.7-debug` is `-g 3.12.7`), planned against the catalog the install uses.

use super::catalog::Catalog;
use super::plan::{self, PlanError, Planned};

/// The install a version name stands for: a release request, built with `-g` for a
/// `-debug` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallRequest<'a> {
    pub request: &'a str,
    pub debug: bool,
}

impl<'a> InstallRequest<'a> {
    /// `3.12.7-debug` is `-g 3.12.7`; any other name is itself ([`plan::split_debug`]).
    pub fn of(name: &'a str) -> InstallRequest<'a> {
        let (request, debug) = plan::split_debug(name);
        InstallRequest { request, debug }
    }

    /// Planned as `strap install` plans it, against the same catalog (the embedded one, or
    /// `STRAP_PYTHON_CATALOG`'s).
    pub fn plan(&self) -> Result<Planned, PlanError> {
        let custom = Catalog::from_env().ok();
        let catalog = custom.as_deref().unwrap_or_else(|| Catalog::embedded());
        plan::plan_any(catalog, self.request, self.debug, None, None)
    }

    /// True when `strap install` can install it (a release or definition the catalog has;
    /// `latest` is a request, not the name of a version).
    pub fn is_buildable(&self) -> bool {
        self.request != "latest" && self.plan().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_are_debug_requests() {
        assert_eq!(
            InstallRequest::of("3.12.7-debug"),
            InstallRequest {
                request: "3.12.7",
                debug: true
            }
        );
        assert_eq!(
            InstallRequest::of("3.12.7"),
            InstallRequest {
                request: "3.12.7",
                debug: false
            }
        );
        assert!(!InstallRequest::of("latest").is_buildable());
        assert!(!InstallRequest::of("proj").is_buildable());
    }
}
