//! Jython (its installer jar, with a Java runtime) and IronPython (its zip, with mono).

use std::path::{Path, PathBuf};

use super::FamilyPlan;
use crate::python::install::PythonOptions;
use crate::stage::{Artifact, Build, Source, StageError};

/// One install.
pub struct OnRuntime<'a> {
    plan: &'a FamilyPlan,
    prefix: PathBuf,
    sources: Vec<Source>,
}

impl<'a> OnRuntime<'a> {
    /// The install of `plan` into `prefix`.
    pub fn new(plan: &'a FamilyPlan, prefix: PathBuf, options: &'a PythonOptions) -> OnRuntime<'a> {
        OnRuntime {
            plan,
            prefix,
            sources: vec![super::source(plan, &options.mirrors)],
        }
    }
}

impl Artifact for OnRuntime<'_> {
    fn kind(&self) -> &'static str {
        crate::python::KIND
    }
    fn name(&self) -> &str {
        &self.plan.definition.name
    }
    fn title(&self) -> String {
        super::title(self.plan)
    }
    fn prefix(&self) -> &Path {
        &self.prefix
    }
    fn preflight(&self) -> Result<Vec<String>, StageError> {
        Err(not_yet(self.plan))
    }
    fn sources(&self) -> &[Source] {
        &self.sources
    }
    fn build(&self, _build: &Build<'_>) -> Result<(), StageError> {
        Err(not_yet(self.plan))
    }
    fn verify_detail(&self) -> String {
        String::new()
    }
    fn verify(&self, _build: &Build<'_>) -> Result<Vec<String>, StageError> {
        Err(not_yet(self.plan))
    }
    fn options(&self) -> Vec<String> {
        Vec::new()
    }
}

/// PLACEHOLDER until this family's install lands.
fn not_yet(plan: &FamilyPlan) -> StageError {
    StageError::Verify {
        what: plan.definition.name.clone(),
        why: "not installable yet".to_owned(),
        hint: None,
    }
}
