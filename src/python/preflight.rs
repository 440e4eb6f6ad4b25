//! Build prerequisites, checked before anything is downloaded: a C compiler, `make`, and the
//! headers CPython's modules need. Missing ones are reported with the one command that installs
//! them on the detected distribution.

use super::modules::{Library, MODULES};
use crate::stage::StageError;
use crate::sysdeps::{self, PackageManager};

/// Where Tcl/Tk headers live on Debian-like systems (tk.h includes tcl.h from there), as
/// CPython's configure looks for them.
const TCL_TK_INCLUDES: &[&str] = &["/usr/include/tcl8.6", "/usr/include/tk8.6"];

/// What the preflight found.
#[derive(Debug, Default)]
pub struct Findings {
    /// The C compiler is there but does not work (nothing else is checked with it).
    pub broken_compiler: Option<sysdeps::BrokenCompiler>,
    /// Tools missing (compiler, make, perl).
    pub missing_tools: Vec<&'static str>,
    /// Required libraries whose headers are missing.
    pub missing_required: Vec<Library>,
    /// Optional libraries whose headers are missing.
    pub missing_optional: Vec<Library>,
    pub manager: Option<PackageManager>,
}

impl Findings {
    /// Adds `program` to the missing tools when it is not on PATH.
    pub fn require_tool(&mut self, program: &'static str) {
        if crate::which::find_on_path(program).is_none() {
            self.missing_tools.push(program);
        }
    }

    /// True when the build can start.
    pub fn ok(&self) -> bool {
        self.broken_compiler.is_none()
            && self.missing_tools.is_empty()
            && self.missing_required.is_empty()
    }

    /// The one command that installs everything missing that is required.
    pub fn fix_command(&self) -> Option<String> {
        let manager = self.manager?;
        let mut packages: Vec<&str> = self
            .missing_required
            .iter()
            .map(|l| l.package(manager))
            .collect();
        for tool in &self.missing_tools {
            packages.push(tool_package(tool, manager));
        }
        packages.dedup();
        (!packages.is_empty()).then(|| manager.install_hint(&packages))
    }

    /// The preflight's answer: the notes when the build can start, else what is missing (or
    /// the broken compiler) and the command that installs it.
    pub fn into_result(mut self) -> Result<Vec<String>, StageError> {
        if self.ok() {
            Ok(self.optional_notes())
        } else if let Some(broken) = self.broken_compiler.take() {
            Err(broken.into())
        } else {
            Err(StageError::Preflight {
                missing: self.describe_missing(),
                fix: self.fix_command(),
            })
        }
    }

    fn describe_missing(&self) -> String {
        let mut parts: Vec<String> = self.missing_tools.iter().map(|t| (*t).to_owned()).collect();
        parts.extend(
            self.missing_required
                .iter()
                .map(|l| format!("{} headers (for {})", l.name, l.modules)),
        );
        parts.join(", ")
    }

    /// One line per missing optional library: the modules that will be absent and the package.
    pub fn optional_notes(&self) -> Vec<String> {
        self.missing_optional
            .iter()
            .map(|l| match self.manager {
                Some(m) => format!(
                    "{} headers missing: {} will be absent (package {})",
                    l.name,
                    l.modules,
                    l.package(m)
                ),
                None => format!("{} headers missing: {} will be absent", l.name, l.modules),
            })
            .collect()
    }
}

/// The packages that provide `python3` (MicroPython's build runs its scripts).
const PYTHON3: sysdeps::Packages = sysdeps::Packages {
    apt: "python3",
    rpm: "python3",
    zypper: "python3",
    pacman: "python",
    apk: "python3",
    brew: "python",
};

fn tool_package(tool: &str, manager: PackageManager) -> &'static str {
    match tool {
        "C compiler" => sysdeps::COMPILER.name(manager),
        "perl" => sysdeps::PERL.name(manager),
        "python3" => PYTHON3.name(manager),
        "patch" => "patch",
        _ => sysdeps::MAKE.name(manager),
    }
}

/// Checks everything; `system_ssl` is false when strap builds a private OpenSSL (then `perl`
/// is needed instead of the ssl headers).
pub fn check(system_ssl: bool) -> Findings {
    let (mut findings, compiler) = tools(system_ssl);
    let Some(compiler) = compiler else {
        return findings;
    };
    let results: Vec<(Library, bool, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = MODULES
            .iter()
            .filter(|m| system_ssl || m.library.name != "ssl")
            .map(|m| {
                scope.spawn(|| {
                    let found =
                        m.library.headers.iter().any(|h| {
                            sysdeps::header_available(&compiler, h, false, TCL_TK_INCLUDES)
                        });
                    (m.library, m.required, found)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (library, required, found) in results {
        match (found, required) {
            (true, _) => {}
            (false, true) => findings.missing_required.push(library),
            (false, false) => findings.missing_optional.push(library),
        }
    }
    findings
}

/// Checks the tools alone: a working C compiler, `make`, and each of `programs` on PATH
/// (what a build that needs no headers, such as MicroPython's, needs).
pub fn check_tools(programs: &[&'static str]) -> Findings {
    let mut findings = tools(true).0;
    for program in programs {
        findings.require_tool(program);
    }
    findings
}

/// Checks that there is a C compiler (`$CC`, else `cc`, `gcc`, `clang` on PATH), without
/// running it: what building a C extension needs (a prebuilt CPython's verification).
pub fn check_c_compiler() -> Findings {
    c_compiler().0
}

/// The findings of looking for the C compiler, with the compiler when there is one.
fn c_compiler() -> (Findings, Option<String>) {
    let mut findings = Findings {
        manager: PackageManager::detect(),
        ..Findings::default()
    };
    let compiler = sysdeps::c_compiler();
    if compiler.is_none() {
        match sysdeps::unfound_chosen_c_compiler() {
            Some(chosen) => findings.broken_compiler = Some(chosen),
            None => findings.missing_tools.push("C compiler"),
        }
    }
    (findings, compiler)
}

/// The tools' findings, with the working compiler (none when it is missing or broken).
fn tools(system_ssl: bool) -> (Findings, Option<String>) {
    let (mut findings, compiler) = c_compiler();
    if !sysdeps::has_make() {
        findings.missing_tools.push("make");
    }
    if !system_ssl && crate::which::find_on_path("perl").is_none() {
        findings.missing_tools.push("perl");
    }
    let compiler = compiler.filter(|compiler| match sysdeps::check_compiler(compiler, false) {
        Ok(()) => true,
        Err(broken) => {
            findings.broken_compiler = Some(broken);
            false
        }
    });
    (findings, compiler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_command_names_every_missing_package_once() {
        let library = |name| super::super::modules::find(name).unwrap().library;
        let (ssl, lzma) = (library("ssl"), library("lzma"));
        let findings = Findings {
            broken_compiler: None,
            missing_tools: vec!["make"],
            missing_required: vec![ssl, lzma],
            missing_optional: vec![],
            manager: Some(PackageManager::Apt),
        };
        assert_eq!(
            findings.fix_command().unwrap(),
            "sudo apt-get install -y libssl-dev liblzma-dev make"
        );
        let dnf = Findings {
            manager: Some(PackageManager::Dnf),
            ..findings
        };
        assert_eq!(
            dnf.fix_command().unwrap(),
            "sudo dnf install -y openssl-devel xz-devel make"
        );
    }
}
