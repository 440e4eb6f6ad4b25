//! Build prerequisites, checked before anything is downloaded: a C compiler, `make`, and the
//! headers CPython's modules need. Missing ones are reported with the one command that installs
//! them on the detected distribution.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::os_release::OsRelease;
use crate::which::find_on_path;

/// Package-manager families strap knows the package names for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    Apt,
    Dnf,
    Yum,
    Zypper,
    Pacman,
    Apk,
    Brew,
}

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
    /// Package names: apt, dnf/yum, zypper, pacman, apk, brew.
    packages: [&'static str; 6],
}

/// Every library checked, required ones first.
pub const LIBRARIES: &[Library] = &[
    Library {
        name: "ssl",
        headers: &["openssl/ssl.h"],
        modules: "ssl, hashlib",
        required: true,
        packages: [
            "libssl-dev",
            "openssl-devel",
            "libopenssl-devel",
            "openssl",
            "openssl-dev",
            "openssl@3",
        ],
    },
    Library {
        name: "zlib",
        headers: &["zlib.h"],
        modules: "zlib",
        required: true,
        packages: [
            "zlib1g-dev",
            "zlib-devel",
            "zlib-devel",
            "zlib",
            "zlib-dev",
            "zlib",
        ],
    },
    Library {
        name: "ffi",
        headers: &["ffi.h", "ffi/ffi.h"],
        modules: "ctypes",
        required: true,
        packages: [
            "libffi-dev",
            "libffi-devel",
            "libffi-devel",
            "libffi",
            "libffi-dev",
            "libffi",
        ],
    },
    Library {
        name: "bz2",
        headers: &["bzlib.h"],
        modules: "bz2",
        required: true,
        packages: [
            "libbz2-dev",
            "bzip2-devel",
            "libbz2-devel",
            "bzip2",
            "bzip2-dev",
            "bzip2",
        ],
    },
    Library {
        name: "lzma",
        headers: &["lzma.h"],
        modules: "lzma",
        required: true,
        packages: ["liblzma-dev", "xz-devel", "xz-devel", "xz", "xz-dev", "xz"],
    },
    Library {
        name: "sqlite3",
        headers: &["sqlite3.h"],
        modules: "sqlite3",
        required: true,
        packages: [
            "libsqlite3-dev",
            "sqlite-devel",
            "sqlite3-devel",
            "sqlite",
            "sqlite-dev",
            "sqlite",
        ],
    },
    Library {
        name: "readline",
        headers: &["readline/readline.h"],
        modules: "readline",
        required: false,
        packages: [
            "libreadline-dev",
            "readline-devel",
            "readline-devel",
            "readline",
            "readline-dev",
            "readline",
        ],
    },
    Library {
        name: "ncurses",
        headers: &["ncurses.h", "curses.h"],
        modules: "curses",
        required: false,
        packages: [
            "libncurses-dev",
            "ncurses-devel",
            "ncurses-devel",
            "ncurses",
            "ncurses-dev",
            "ncurses",
        ],
    },
    Library {
        name: "uuid",
        headers: &["uuid/uuid.h", "uuid.h"],
        modules: "uuid (fast path)",
        required: false,
        packages: [
            "uuid-dev",
            "libuuid-devel",
            "libuuid-devel",
            "util-linux-libs",
            "util-linux-dev",
            "ossp-uuid",
        ],
    },
    Library {
        name: "tk",
        headers: &["tk.h"],
        modules: "tkinter",
        required: false,
        packages: ["tk-dev", "tk-devel", "tk-devel", "tk", "tk-dev", "tcl-tk"],
    },
    Library {
        name: "gdbm",
        headers: &["gdbm.h"],
        modules: "dbm.gnu",
        required: false,
        packages: [
            "libgdbm-dev",
            "gdbm-devel",
            "gdbm-devel",
            "gdbm",
            "gdbm-dev",
            "gdbm",
        ],
    },
];

impl Library {
    fn package(&self, manager: PackageManager) -> &'static str {
        self.packages[match manager {
            PackageManager::Apt => 0,
            PackageManager::Dnf | PackageManager::Yum => 1,
            PackageManager::Zypper => 2,
            PackageManager::Pacman => 3,
            PackageManager::Apk => 4,
            PackageManager::Brew => 5,
        }]
    }
}

/// What the preflight found.
#[derive(Debug, Default)]
pub struct Findings {
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
        self.missing_tools.is_empty() && self.missing_required.is_empty()
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
        (!packages.is_empty()).then(|| install_command(manager, &packages))
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
    match (tool, manager) {
        ("C compiler", PackageManager::Apt) => "build-essential",
        ("C compiler", PackageManager::Pacman) => "base-devel",
        ("C compiler", PackageManager::Apk) => "build-base",
        ("C compiler", _) => "gcc",
        ("perl", _) => "perl",
        _ => "make",
    }
}

fn install_command(manager: PackageManager, packages: &[&str]) -> String {
    let list = packages.join(" ");
    match manager {
        PackageManager::Apt => format!("sudo apt-get install -y {list}"),
        PackageManager::Dnf => format!("sudo dnf install -y {list}"),
        PackageManager::Yum => format!("sudo yum install -y {list}"),
        PackageManager::Zypper => format!("sudo zypper install -y {list}"),
        PackageManager::Pacman => format!("sudo pacman -S --needed {list}"),
        PackageManager::Apk => format!("sudo apk add {list}"),
        PackageManager::Brew => format!("brew install {list}"),
    }
}

/// The package manager of the running system (from `/etc/os-release`, or macOS).
pub fn detect_manager() -> Option<PackageManager> {
    if cfg!(target_os = "macos") {
        return Some(PackageManager::Brew);
    }
    manager_for(&OsRelease::read(Path::new("/")))
}

/// The package manager of a distribution (by `ID`, then `ID_LIKE`).
pub fn manager_for(os: &OsRelease) -> Option<PackageManager> {
    let version_id = os.field("VERSION_ID");
    os.ids().iter().find_map(|id| match id.as_str() {
        "debian" | "ubuntu" => Some(PackageManager::Apt),
        "fedora" => Some(PackageManager::Dnf),
        "rhel" | "centos" | "rocky" | "almalinux" => Some(if version_id.starts_with('7') {
            PackageManager::Yum
        } else {
            PackageManager::Dnf
        }),
        "opensuse" | "suse" | "sles" | "opensuse-leap" | "opensuse-tumbleweed" => {
            Some(PackageManager::Zypper)
        }
        "arch" => Some(PackageManager::Pacman),
        "alpine" => Some(PackageManager::Apk),
        _ => None,
    })
}

/// Checks everything; `system_ssl` is false when strap builds a private OpenSSL (then `perl`
/// is needed instead of the ssl headers).
pub fn check(system_ssl: bool) -> Findings {
    let mut findings = Findings {
        manager: detect_manager(),
        ..Findings::default()
    };
    let compiler = c_compiler();
    if compiler.is_none() {
        findings.missing_tools.push("C compiler");
    }
    if find_on_path("make").is_none() && find_on_path("gmake").is_none() {
        findings.missing_tools.push("make");
    }
    if !system_ssl && find_on_path("perl").is_none() {
        findings.missing_tools.push("perl");
    }
    let Some(compiler) = compiler else {
        return findings;
    };
    let results: Vec<(Library, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = LIBRARIES
            .iter()
            .filter(|l| system_ssl || l.name != "ssl")
            .map(|l| scope.spawn(|| (*l, l.headers.iter().any(|h| header_available(&compiler, h)))))
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

/// The C compiler: `$CC` (its first word), else `cc`, `gcc`, `clang` on PATH.
pub fn c_compiler() -> Option<String> {
    if let Some(cc) = std::env::var("CC").ok().filter(|c| !c.trim().is_empty()) {
        let program = cc.split_whitespace().next().unwrap_or_default().to_owned();
        let found = Path::new(&program).is_absolute() && Path::new(&program).exists()
            || find_on_path(&program).is_some();
        return found.then_some(cc);
    }
    ["cc", "gcc", "clang"]
        .into_iter()
        .find(|c| find_on_path(c).is_some())
        .map(str::to_owned)
}

/// True when `#include <header>` preprocesses with `compiler` (also looking where CPython's
/// configure looks for Tcl/Tk).
fn header_available(compiler: &str, header: &str) -> bool {
    let mut words = compiler.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let child = Command::new(program)
        .args(words)
        // Where Tcl/Tk headers live on Debian-like systems (tk.h includes tcl.h from there).
        .args(["-I/usr/include/tcl8.6", "-I/usr/include/tk8.6"])
        .args(["-E", "-x", "c", "-", "-o", "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return false };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "#include <{header}>");
    }
    child.wait().is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_map_to_their_package_manager() {
        let cases = [
            ("ID=debian\nVERSION_ID=\"12\"\n", PackageManager::Apt),
            ("ID=ubuntu\nID_LIKE=debian\n", PackageManager::Apt),
            (
                "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n",
                PackageManager::Apt,
            ),
            ("ID=fedora\n", PackageManager::Dnf),
            ("ID=\"centos\"\nVERSION_ID=\"7\"\n", PackageManager::Yum),
            (
                "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n",
                PackageManager::Dnf,
            ),
            (
                "ID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n",
                PackageManager::Zypper,
            ),
            ("ID=arch\n", PackageManager::Pacman),
            ("ID=alpine\n", PackageManager::Apk),
        ];
        for (text, expected) in cases {
            assert_eq!(
                manager_for(&OsRelease::parse(text)),
                Some(expected),
                "{text}"
            );
        }
        assert_eq!(manager_for(&OsRelease::parse("ID=plan9\n")), None);
    }

    #[test]
    fn fix_command_names_every_missing_package_once() {
        let lzma = LIBRARIES
            .iter()
            .find(|l| l.name == "lzma")
            .copied()
            .unwrap();
        let ssl = LIBRARIES[0];
        let findings = Findings {
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
