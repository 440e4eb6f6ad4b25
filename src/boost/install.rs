//! Boost as an artifact of the staged-install pipeline ([`crate::stage`]): its source archive,
//! preflight, the bootstrap and b2 phases, and its verification. Locks, fetching, unpacking,
//! staging, the receipt and the rename are the pipeline's.

use std::path::{Path, PathBuf};

use super::build::{self, B2Dirs};
use super::installed::Details;
use super::libraries::NOT_BUILT;
use super::plan::{Libraries, Plan};
use super::{preflight, verify};
use crate::error::IoContext;
use crate::fetch::Wanted;
use crate::layout::Layout;
use crate::stage::{Artifact, Build, Source, StageError};

/// One Boost install.
pub struct BoostInstall<'a> {
    plan: &'a Plan,
    prefix: PathBuf,
    sources: Vec<Source>,
}

impl<'a> BoostInstall<'a> {
    /// The install of `plan` under `layout` from one of `candidates` (the archive formats with
    /// their checksums and mirror URLs).
    pub fn new(layout: &Layout, plan: &'a Plan, candidates: Vec<Wanted>) -> BoostInstall<'a> {
        BoostInstall {
            plan,
            prefix: layout.boost_dir(&plan.name),
            sources: vec![Source { candidates }],
        }
    }

    /// The libraries this build must produce, given the source tree's.
    fn built(&self, in_tree: &[String]) -> Vec<String> {
        match &self.plan.libraries {
            Libraries::Listed(names) => names.clone(),
            Libraries::All => in_tree
                .iter()
                .filter(|name| self.plan.builds(name))
                .filter(|name| !NOT_BUILT.iter().any(|(n, _)| n == name))
                .cloned()
                .collect(),
        }
    }

    /// What is built, for the header line.
    fn what(&self) -> String {
        match &self.plan.libraries {
            Libraries::All => "all libraries".to_owned(),
            Libraries::Listed(names) if names.is_empty() => "headers only".to_owned(),
            Libraries::Listed(names) => names.join(", "),
        }
    }
}

impl Artifact for BoostInstall<'_> {
    fn kind(&self) -> &'static str {
        super::KIND
    }

    fn name(&self) -> &str {
        &self.plan.name
    }

    fn title(&self) -> String {
        let mut title = format!("Boost {} ({})", self.plan.version, self.what());
        if let Some(python) = &self.plan.python {
            title.push_str(&format!(
                " for Python {} ({})",
                python.info.version,
                python.info.executable.display()
            ));
        }
        title
    }

    fn prefix(&self) -> &Path {
        &self.prefix
    }

    fn preflight(&self) -> Result<Vec<String>, StageError> {
        preflight::check(self.plan)
    }

    fn sources(&self) -> &[Source] {
        &self.sources
    }

    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let name = self.name();
        let source = &build.sources[0];
        let failed = |e| StageError::build(name, e);
        let in_tree = build::tree_libraries(source);
        if let Some(absent) = self
            .plan
            .listed()
            .iter()
            .find(|l| !in_tree.contains(l) && *l != "headers")
        {
            return Err(StageError::Verify {
                what: name.to_owned(),
                why: format!(
                    "the source archive has no library '{absent}' (no libs/{absent}/build)"
                ),
                hint: None,
            });
        }
        let staged_prefix = build.staged_prefix();
        let headers_only = self.plan.listed().is_empty() && self.plan.libraries != Libraries::All;
        if headers_only && !in_tree.iter().any(|l| l == "headers") {
            // Before 1.69 there is no `headers` target: the headers are the `boost/` tree.
            return build.phases.run("install", "copy the headers", || {
                Ok(build::copy_headers(source, &staged_prefix)
                    .io_context("copy the headers into", &staged_prefix)?)
            });
        }
        let log = build.runner.log().path().display().to_string();
        let toolset = build::toolset().unwrap_or("detected by bootstrap.sh");
        build.phases.run(
            "bootstrap",
            &format!("b2 engine, toolset {toolset}; log: {log}"),
            || build::bootstrap(&build.runner, source, self.plan).map_err(failed),
        )?;
        let dirs = B2Dirs {
            user_config: build.scratch.join("user-config.jam"),
            build_dir: build.scratch.join("b2"),
            prefix: staged_prefix.clone(),
        };
        std::fs::create_dir_all(&build.scratch)
            .and_then(|()| std::fs::write(&dirs.user_config, build::user_config(self.plan)))
            .io_context("write", &dirs.user_config)?;
        let args = build::b2_args(self.plan, &dirs, build.jobs, &in_tree);
        build
            .phases
            .run("build", &format!("b2 -j{} … install", build.jobs), || {
                build::b2(&build.runner, source, &args).map_err(failed)?;
                let (from, to) = (
                    staged_prefix.display().to_string(),
                    self.prefix.display().to_string(),
                );
                // Nothing may name the staging area once the install is moved into place: the
                // CMake package files are rewritten, and a library that would load others from
                // it is refused.
                crate::relocate::relocate(&staged_prefix, &from, &to).map_err(|e| {
                    StageError::Verify {
                        what: name.to_owned(),
                        why: e.to_string(),
                        hint: None,
                    }
                })?;
                Ok(())
            })
    }

    fn verify_detail(&self) -> String {
        if self.plan.builds_python() {
            "boost/version.hpp, the libraries, a Boost.Python extension imported by Python"
                .to_owned()
        } else {
            "boost/version.hpp and the libraries".to_owned()
        }
    }

    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        let name = self.name();
        let staged_prefix = build.staged_prefix();
        let failed = |e: verify::VerifyError| match e {
            verify::VerifyError::Run(crate::process::RunError::Interrupted) => {
                StageError::Interrupted
            }
            verify::VerifyError::Run(run) => StageError::Verify {
                what: name.to_owned(),
                why: format!("the Boost.Python check extension does not work: {run}"),
                hint: None,
            },
            verify::VerifyError::Wrong(why) => StageError::Verify {
                what: name.to_owned(),
                why,
                hint: Some(format!(
                    "what b2 did, the last lines of {}:\n{}",
                    build.runner.log().path().display(),
                    build.runner.log().tail(crate::process::TAIL_LINES)
                )),
            },
        };
        verify::version_header(&staged_prefix, self.plan).map_err(failed)?;
        let built = self.built(&build::tree_libraries(&build.sources[0]));
        let checked = verify::libraries(&staged_prefix, self.plan, &built).map_err(failed)?;
        let mut notes = Vec::new();
        if !checked.is_empty() {
            notes.push(format!("libraries built: {}", checked.join(", ")));
        }
        if self.plan.builds_python() {
            let cxx = crate::sysdeps::cxx_compiler().unwrap_or_else(|| "c++".to_owned());
            let said = verify::python_extension(
                &build.runner,
                &staged_prefix,
                self.plan,
                &cxx,
                &build.scratch.join("check"),
            )
            .map_err(failed)?;
            notes.push(format!("Boost.Python works: {said}"));
        }
        Ok(notes)
    }

    fn options(&self) -> Vec<String> {
        let shape = &self.plan.shape;
        let mut options = match &self.plan.libraries {
            Libraries::All => vec!["--all".to_owned()],
            Libraries::Listed(names) if names.is_empty() => Vec::new(),
            Libraries::Listed(names) => vec![format!("--with={}", names.join(","))],
        };
        options.push(format!("variant={}", shape.variants.join(",")));
        options.push(format!("link={}", shape.links.join(",")));
        if let Some(std) = &shape.cxxstd {
            options.push(format!("cxxstd={std}"));
        }
        if let Some(python) = &self.plan.python {
            options.push(format!("python={}", python.info.executable.display()));
        }
        options
    }

    fn details(&self) -> serde_json::Value {
        serde_json::to_value(Details::of(self.plan)).unwrap_or_default()
    }
}
