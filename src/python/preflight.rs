//! Build prerequisites, checked before anything is downloaded: a C compiler, `make`, and the
//! headers CPython's modules need. Missing ones are reported with the one command that installs
//! them on the detected distribution.

use crate::sysdeps::{self, PackageManager, Packages};

/// A library CPython needs headers for.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    /// Short name (`ssl`, `zlib`, …).
    pub name: &'static str,
    /// Headers tried in order; any one present is enough.
    headers: &'static [&'static str],
    /// The Python modules that are missing without it.
    pub modules: &'static str,
    /// Required: without it the interpreter is broken (the install would fail verification).
    pub required: bool,
    /// The packages that provide the headers.
    packages: Packages,
}

/// Where Tcl/Tk headers live on Debian-like systems (tk.h includes tcl.h from there), as
/// CPython's configure looks for them.
const TCL_TK_INCLUDES: &[&str] = &["/usr/include/tcl8.6", "/usr/include/tk8.6"];

/// Every library checked, required ones first.
pub const LIBRARIES: &[Library] = &[
    Library {
        name: "ssl",
        headers: &["openssl/ssl.h"],
        modules: "ssl, hashlib",
        required: true,
        packages: Packages {
            apt: "libssl-dev",
            rpm: "openssl-devel",
            zypper: "libopenssl-devel",
            pacman: "openssl",
            apk: "openssl-dev",
            brew: "openssl@3",
        },
    },
    Library {
        name: "zlib",
        headers: &["zlib.h"],
        modules: "zlib",
        required: true,
        packages: sysdeps::ZLIB,
    },
    Library {
        name: "ffi",
        headers: &["ffi.h", "ffi/ffi.h"],
        modules: "ctypes",
        required: true,
        packages: Packages {
            apt: "libffi-dev",
            rpm: "libffi-devel",
            zypper: "libffi-devel",
            pacman: "libffi",
            apk: "libffi-dev",
            brew: "libffi",
        },
    },
    Library {
        name: "bz2",
        headers: &["bzlib.h"],
        modules: "bz2",
        required: true,
        packages: sysdeps::BZIP2,
    },
    Library {
        name: "lzma",
        headers: &["lzma.h"],
        modules: "lzma",
        required: true,
        packages: Packages {
            apt: "liblzma-dev",
            rpm: "xz-devel",
            zypper: "xz-devel",
            pacman: "xz",
            apk: "xz-dev",
            brew: "xz",
        },
    },
    Library {
        name: "sqlite3",
        headers: &["sqlite3.h"],
        modules: "sqlite3",
        required: true,
        packages: Packages {
            apt: "libsqlite3-dev",
            rpm: "sqlite-devel",
            zypper: "sqlite3-devel",
            pacman: "sqlite",
            apk: "sqlite-dev",
            brew: "sqlite",
        },
    },
    Library {
        name: "readline",
        headers: &["readline/readline.h"],
        modules: "readline",
        required: false,
        packages: Packages {
            apt: "libreadline-dev",
            rpm: "readline-devel",
            zypper: "readline-devel",
            pacman: "readline",
            apk: "readline-dev",
            brew: "readline",
        },
    },
    Library {
        name: "ncurses",
        headers: &["ncurses.h", "curses.h"],
        modules: "curses",
        required: false,
        packages: Packages {
            apt: "libncurses-dev",
            rpm: "ncurses-devel",
            zypper: "ncurses-devel",
            pacman: "ncurses",
            apk: "ncurses-dev",
            brew: "ncurses",
        },
    },
    Library {
        name: "uuid",
        headers: &["uuid/uuid.h", "uuid.h"],
        modules: "uuid (fast path)",
        required: false,
        packages: Packages {
            apt: "uuid-dev",
            rpm: "libuuid-devel",
            zypper: "libuuid-devel",
            pacman: "util-linux-libs",
            apk: "util-linux-dev",
            brew: "ossp-uuid",
        },
    },
    Library {
        name: "tk",
        headers: &["tk.h"],
        modules: "tkinter",
        required: false,
        packages: Packages {
            apt: "tk-dev",
            rpm: "tk-devel",
            zypper: "tk-devel",
            pacman: "tk",
            apk: "tk-dev",
            brew: "tcl-tk",
        },
    },
    Library {
        name: "gdbm",
        headers: &["gdbm.h"],
        modules: "dbm.gnu",
        required: false,
        packages: Packages {
            apt: "libgdbm-dev",
            rpm: "gdbm-devel",
            zypper: "gdbm-devel",
            pacman: "gdbm",
            apk: "gdbm-dev",
            brew: "gdbm",
        },
    },
];

impl Library {
    fn package(&self, manager: PackageManager) -> &'static str {
        self.packages.name(manager)
    }
}

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

/// The package for an optional module's library (for post-install verification notes).
pub fn package_for_module(module: &str, manager: Option<PackageManager>) -> Option<&'static str> {
    let library = LIBRARIES.iter().find(|l| match module {
        "readline" => l.name == "readline",
        "curses" => l.name == "ncurses",
        "uuid" => l.name == "uuid",
        "dbm" => l.name == "gdbm",
        "tkinter" => l.name == "tk",
        other => l.modules.split(", ").any(|m| m == other),
    })?;
    Some(library.package(manager?))
}

fn tool_package(tool: &str, manager: PackageManager) -> &'static str {
    match tool {
        "C compiler" => sysdeps::COMPILER.name(manager),
        "perl" => sysdeps::PERL.name(manager),
        _ => sysdeps::MAKE.name(manager),
    }
}

/// Checks everything; `system_ssl` is false when strap builds a private OpenSSL (then `perl`
/// is needed instead of the ssl headers).
pub fn check(system_ssl: bool) -> Findings {
    let mut findings = Findings {
        manager: PackageManager::detect(),
        ..Findings::default()
    };
    let compiler = sysdeps::c_compiler();
    if compiler.is_none() {
        findings.missing_tools.push("C compiler");
    }
    if !sysdeps::has_make() {
        findings.missing_tools.push("make");
    }
    if !system_ssl && crate::which::find_on_path("perl").is_none() {
        findings.missing_tools.push("perl");
    }
    let Some(compiler) = compiler else {
        return findings;
    };
    if let Err(broken) = sysdeps::check_compiler(&compiler, false) {
        findings.broken_compiler = Some(broken);
        return findings;
    }
    let results: Vec<(Library, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = LIBRARIES
            .iter()
            .filter(|l| system_ssl || l.name != "ssl")
            .map(|l| {
                scope.spawn(|| {
                    let found = l
                        .headers
                        .iter()
                        .any(|h| sysdeps::header_available(&compiler, h, false, TCL_TK_INCLUDES));
                    (*l, found)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (library, found) in results {
        match (found, library.required) {
            (true, _) => {}
            (false, true) => findings.missing_required.push(library),
            (false, false) => findings.missing_optional.push(library),
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_command_names_every_missing_package_once() {
        let lzma = LIBRARIES
            .iter()
            .find(|l| l.name == "lzma")
            .copied()
            .unwrap();
        let ssl = LIBRARIES[0];
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

    #[test]
    fn optional_modules_name_their_package() {
        assert_eq!(
            package_for_module("tkinter", Some(PackageManager::Apt)),
            Some("tk-dev")
        );
        assert_eq!(
            package_for_module("readline", Some(PackageManager::Pacman)),
            Some("readline")
        );
        assert_eq!(
            package_for_module("dbm", Some(PackageManager::Dnf)),
            Some("gdbm-devel")
        );
    }
}
