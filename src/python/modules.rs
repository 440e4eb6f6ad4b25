//! The one table of the modules a CPython build is checked for: what verification imports
//! (required ones break the install unless `--allow-missing` accepts the gap; optional ones are
//! listed), and the library whose headers the preflight looks for before the build.

use crate::sysdeps::{self, PackageManager, Packages};

/// A module a CPython build is checked for.
#[derive(Debug, Clone, Copy)]
pub struct Module {
    /// The name verification reports and `--allow-missing` takes (`ssl`, `ctypes`, …).
    pub name: &'static str,
    /// Without it the interpreter counts as broken (the install fails verification).
    pub required: bool,
    /// What the probe imports on Python 3 (`uuid`'s fast path is `_uuid`).
    pub import: &'static str,
    /// What the probe imports on Python 2; `None` when 2.x has no such module.
    pub import2: Option<&'static str>,
    /// The library it is built from.
    pub library: Library,
}

/// A library CPython needs headers for.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    /// Short name (`ssl`, `zlib`, `ffi`, …).
    pub name: &'static str,
    /// Headers tried in order; any one present is enough.
    pub headers: &'static [&'static str],
    /// The Python modules that are missing without it.
    pub modules: &'static str,
    /// The packages that provide the headers.
    packages: Packages,
}

impl Library {
    /// The package that provides the headers with `manager`.
    pub fn package(&self, manager: PackageManager) -> &'static str {
        self.packages.name(manager)
    }
}

/// Every module checked, required ones first.
pub const MODULES: &[Module] = &[
    Module {
        name: "ssl",
        required: true,
        import: "ssl",
        import2: Some("ssl"),
        library: Library {
            name: "ssl",
            headers: &["openssl/ssl.h"],
            modules: "ssl, hashlib",
            packages: Packages {
                apt: "libssl-dev",
                rpm: "openssl-devel",
                zypper: "libopenssl-devel",
                pacman: "openssl",
                apk: "openssl-dev",
                brew: "openssl@3",
            },
        },
    },
    Module {
        name: "zlib",
        required: true,
        import: "zlib",
        import2: Some("zlib"),
        library: Library {
            name: "zlib",
            headers: &["zlib.h"],
            modules: "zlib",
            packages: sysdeps::ZLIB,
        },
    },
    Module {
        name: "ctypes",
        required: true,
        import: "ctypes",
        import2: Some("ctypes"),
        library: Library {
            name: "ffi",
            headers: &["ffi.h", "ffi/ffi.h"],
            modules: "ctypes",
            packages: Packages {
                apt: "libffi-dev",
                rpm: "libffi-devel",
                zypper: "libffi-devel",
                pacman: "libffi",
                apk: "libffi-dev",
                brew: "libffi",
            },
        },
    },
    Module {
        name: "bz2",
        required: true,
        import: "bz2",
        import2: Some("bz2"),
        library: Library {
            name: "bz2",
            headers: &["bzlib.h"],
            modules: "bz2",
            packages: sysdeps::BZIP2,
        },
    },
    Module {
        name: "lzma",
        required: true,
        import: "lzma",
        import2: None,
        library: Library {
            name: "lzma",
            headers: &["lzma.h"],
            modules: "lzma",
            packages: Packages {
                apt: "liblzma-dev",
                rpm: "xz-devel",
                zypper: "xz-devel",
                pacman: "xz",
                apk: "xz-dev",
                brew: "xz",
            },
        },
    },
    Module {
        name: "sqlite3",
        required: true,
        import: "sqlite3",
        import2: Some("sqlite3"),
        library: Library {
            name: "sqlite3",
            headers: &["sqlite3.h"],
            modules: "sqlite3",
            packages: Packages {
                apt: "libsqlite3-dev",
                rpm: "sqlite-devel",
                zypper: "sqlite3-devel",
                pacman: "sqlite",
                apk: "sqlite-dev",
                brew: "sqlite",
            },
        },
    },
    Module {
        name: "readline",
        required: false,
        import: "readline",
        import2: Some("readline"),
        library: Library {
            name: "readline",
            headers: &["readline/readline.h"],
            modules: "readline",
            packages: Packages {
                apt: "libreadline-dev",
                rpm: "readline-devel",
                zypper: "readline-devel",
                pacman: "readline",
                apk: "readline-dev",
                brew: "readline",
            },
        },
    },
    Module {
        name: "curses",
        required: false,
        import: "curses",
        import2: Some("curses"),
        library: Library {
            name: "ncurses",
            headers: &["ncurses.h", "curses.h"],
            modules: "curses",
            packages: Packages {
                apt: "libncurses-dev",
                rpm: "ncurses-devel",
                zypper: "ncurses-devel",
                pacman: "ncurses",
                apk: "ncurses-dev",
                brew: "ncurses",
            },
        },
    },
    Module {
        name: "dbm",
        required: false,
        import: "dbm",
        import2: Some("dbm"),
        library: Library {
            name: "gdbm",
            headers: &["gdbm.h"],
            modules: "dbm.gnu",
            packages: Packages {
                apt: "libgdbm-dev",
                rpm: "gdbm-devel",
                zypper: "gdbm-devel",
                pacman: "gdbm",
                apk: "gdbm-dev",
                brew: "gdbm",
            },
        },
    },
    Module {
        name: "uuid",
        required: false,
        import: "_uuid",
        import2: Some("uuid"),
        library: Library {
            name: "uuid",
            headers: &["uuid/uuid.h", "uuid.h"],
            modules: "uuid (fast path)",
            packages: Packages {
                apt: "uuid-dev",
                rpm: "libuuid-devel",
                zypper: "libuuid-devel",
                pacman: "util-linux-libs",
                apk: "util-linux-dev",
                brew: "ossp-uuid",
            },
        },
    },
    Module {
        name: "tkinter",
        required: false,
        import: "tkinter",
        import2: Some("Tkinter"),
        library: Library {
            name: "tk",
            headers: &["tk.h"],
            modules: "tkinter",
            packages: Packages {
                apt: "tk-dev",
                rpm: "tk-devel",
                zypper: "tk-devel",
                pacman: "tk",
                apk: "tk-dev",
                brew: "tcl-tk",
            },
        },
    },
];

/// The module named `name`.
pub fn find(name: &str) -> Option<&'static Module> {
    MODULES.iter().find(|m| m.name == name)
}

/// The required modules' names.
pub fn required() -> impl Iterator<Item = &'static str> {
    MODULES.iter().filter(|m| m.required).map(|m| m.name)
}

/// The help of `strap install --allow-missing`, naming the required modules.
pub fn allow_missing_help() -> String {
    let names: Vec<&str> = required().collect();
    format!(
        "Accept a build without this required module ({}); repeatable",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_modules_are_those_design_names() {
        let names: Vec<&str> = required().collect();
        assert_eq!(names, ["ssl", "zlib", "ctypes", "bz2", "lzma", "sqlite3"]);
        assert_eq!(
            allow_missing_help(),
            "Accept a build without this required module \
             (ssl, zlib, ctypes, bz2, lzma, sqlite3); repeatable"
        );
    }

    #[test]
    fn every_module_is_listed_once_with_headers_and_a_package() {
        for module in MODULES {
            let same = MODULES.iter().filter(|m| m.name == module.name).count();
            assert_eq!(same, 1, "{}", module.name);
            assert!(!module.library.headers.is_empty(), "{}", module.name);
            assert!(!module.library.package(PackageManager::Apt).is_empty());
        }
    }

    #[test]
    fn optional_modules_name_their_package() {
        let package = |module, manager| find(module).unwrap().library.package(manager);
        assert_eq!(package("tkinter", PackageManager::Apt), "tk-dev");
        assert_eq!(package("readline", PackageManager::Pacman), "readline");
        assert_eq!(package("dbm", PackageManager::Dnf), "gdbm-devel");
    }
}
