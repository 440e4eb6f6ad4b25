//! `packages`: distribution packages installed with the system's package manager (apt, dnf, yum,
//! zypper, pacman or apk; found from the sysroot's os-release, else the tools on PATH).

use super::{FieldError, Fields, State, StepKind};
use crate::os_release::OsRelease;
use crate::recipe::error::StepError;
use crate::recipe::host::StepCtx;
use crate::sysdeps::PackageManager;

#[derive(Debug)]
struct Packages {
    packages: Vec<String>,
    /// Refresh the package index before installing.
    update: bool,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    let packages: Vec<String> = fields.need("packages")?;
    if packages.is_empty() {
        return Err(fields.missing("at least one package in `packages`"));
    }
    let update = fields.take("update")?.unwrap_or(false);
    Ok(Box::new(Packages { packages, update }))
}

impl Packages {
    fn missing(
        &self,
        manager: PackageManager,
        ctx: &StepCtx<'_>,
    ) -> Result<Vec<String>, StepError> {
        let mut missing = Vec::new();
        for package in &self.packages {
            let package = ctx.raw(package);
            // Anyone may ask the package database: no `become`.
            if !ctx.query_succeeds(&manager.query_script(&package))? {
                missing.push(package);
            }
        }
        Ok(missing)
    }
}

fn manager(ctx: &StepCtx<'_>) -> Result<PackageManager, StepError> {
    PackageManager::detect_in(ctx.sysroot).ok_or_else(|| StepError::NoPackageManager {
        id: OsRelease::read(ctx.sysroot).field("ID"),
        tools: PackageManager::TOOLS
            .iter()
            .map(|(tool, _)| *tool)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

impl StepKind for Packages {
    fn templates(&self) -> Vec<&str> {
        self.packages.iter().map(String::as_str).collect()
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let missing = self.missing(manager(ctx)?, ctx)?;
        Ok(State::from_changes(missing, |m| {
            format!("install {}", m.join(" "))
        }))
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let manager = manager(ctx)?;
        let missing = self.missing(manager, ctx)?;
        ctx.must(&manager.install_script(&missing, self.update))
    }
}
