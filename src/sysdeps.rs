//! The system's own software: which package manager it has, whether a package is installed,
//! the command that installs packages, and probes for a C compiler, build tools and headers.
//! Used by the build preflights (CPython, Boost) and by the recipes' `packages` step.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::os_release::OsRelease;
use crate::shell::quote_posix;
use crate::which::find_on_path;

/// A package-manager family.
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

/// Package names of one piece of software, per package-manager family.
#[derive(Debug, Clone, Copy)]
pub struct Packages {
    pub apt: &'static str,
    /// dnf and yum.
    pub rpm: &'static str,
    pub zypper: &'static str,
    pub pacman: &'static str,
    pub apk: &'static str,
    pub brew: &'static str,
}

impl Packages {
    /// The name under `manager`.
    pub fn name(&self, manager: PackageManager) -> &'static str {
        match manager {
            PackageManager::Apt => self.apt,
            PackageManager::Dnf | PackageManager::Yum => self.rpm,
            PackageManager::Zypper => self.zypper,
            PackageManager::Pacman => self.pacman,
            PackageManager::Apk => self.apk,
            PackageManager::Brew => self.brew,
        }
    }
}

/// The packages that provide a C compiler and `make`.
pub const COMPILER: Packages = Packages {
    apt: "build-essential",
    rpm: "gcc",
    zypper: "gcc",
    pacman: "base-devel",
    apk: "build-base",
    brew: "gcc",
};
/// The package that provides `make`.
pub const MAKE: Packages = Packages {
    apt: "make",
    rpm: "make",
    zypper: "make",
    pacman: "make",
    apk: "make",
    brew: "make",
};
/// The package that provides `perl`.
pub const PERL: Packages = Packages {
    apt: "perl",
    rpm: "perl",
    zypper: "perl",
    pacman: "perl",
    apk: "perl",
    brew: "perl",
};

/// The packages that provide a C++ compiler.
pub const CXX_COMPILER: Packages = Packages {
    apt: "g++",
    rpm: "gcc-c++",
    zypper: "gcc-c++",
    pacman: "gcc",
    apk: "g++",
    brew: "gcc",
};
/// zlib's headers.
pub const ZLIB: Packages = Packages {
    apt: "zlib1g-dev",
    rpm: "zlib-devel",
    zypper: "zlib-devel",
    pacman: "zlib",
    apk: "zlib-dev",
    brew: "zlib",
};
/// bzip2's headers.
pub const BZIP2: Packages = Packages {
    apt: "libbz2-dev",
    rpm: "bzip2-devel",
    zypper: "libbz2-devel",
    pacman: "bzip2",
    apk: "bzip2-dev",
    brew: "bzip2",
};
/// ICU's headers (Boost.Locale, Boost.Regex's Unicode support).
pub const ICU: Packages = Packages {
    apt: "libicu-dev",
    rpm: "libicu-devel",
    zypper: "libicu-devel",
    pacman: "icu",
    apk: "icu-dev",
    brew: "icu4c",
};
/// The distribution Python's headers and shared library.
pub const PYTHON_DEV: Packages = Packages {
    apt: "python3-dev",
    rpm: "python3-devel",
    zypper: "python3-devel",
    pacman: "python",
    apk: "python3-dev",
    brew: "python",
};

impl PackageManager {
    /// The package tools looked for on `PATH` when the os-release names no known distribution.
    pub const TOOLS: &[(&str, PackageManager)] = &[
        ("apt-get", PackageManager::Apt),
        ("dnf", PackageManager::Dnf),
        ("yum", PackageManager::Yum),
        ("zypper", PackageManager::Zypper),
        ("pacman", PackageManager::Pacman),
        ("apk", PackageManager::Apk),
    ];

    /// The package manager of the running system.
    pub fn detect() -> Option<PackageManager> {
        PackageManager::detect_in(Path::new("/"))
    }

    /// The package manager of the system at `sysroot`: from its os-release (by `ID`, then
    /// `ID_LIKE`), else the first package tool found on `PATH`.
    pub fn detect_in(sysroot: &Path) -> Option<PackageManager> {
        if cfg!(target_os = "macos") {
            return Some(PackageManager::Brew);
        }
        PackageManager::for_os(&OsRelease::read(sysroot)).or_else(|| {
            PackageManager::TOOLS
                .iter()
                .find(|(tool, _)| find_on_path(tool).is_some())
                .map(|(_, manager)| *manager)
        })
    }

    /// The package manager of a distribution (by `ID`, then `ID_LIKE`). Red Hat's family has
    /// dnf from release 8 on (Amazon Linux from 2022), yum before.
    pub fn for_os(os: &OsRelease) -> Option<PackageManager> {
        let major: u32 = os
            .field("VERSION_ID")
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(u32::MAX);
        let id = os.field("ID");
        let has_dnf = match id.as_str() {
            "fedora" => true,
            "amzn" => major >= 2022,
            _ => major >= 8,
        };
        os.ids().iter().find_map(|id| match id.as_str() {
            "debian" | "ubuntu" => Some(PackageManager::Apt),
            "fedora" | "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "amzn" => {
                Some(if has_dnf {
                    PackageManager::Dnf
                } else {
                    PackageManager::Yum
                })
            }
            "opensuse" | "suse" | "sles" | "opensuse-leap" | "opensuse-tumbleweed" => {
                Some(PackageManager::Zypper)
            }
            "arch" => Some(PackageManager::Pacman),
            "alpine" => Some(PackageManager::Apk),
            _ => None,
        })
    }

    /// The OS family name recipes see as the `os_family` fact.
    pub fn os_family(self) -> &'static str {
        match self {
            PackageManager::Apt => "debian",
            PackageManager::Dnf | PackageManager::Yum => "redhat",
            PackageManager::Zypper => "suse",
            PackageManager::Pacman => "arch",
            PackageManager::Apk => "alpine",
            PackageManager::Brew => "darwin",
        }
    }

    /// A shell command that exits 0 when `package` is installed.
    pub fn query_script(self, package: &str) -> String {
        let package = quote_posix(package);
        match self {
            PackageManager::Apt => {
                format!("dpkg-query -W -f='${{Status}}' {package} 2>&1 | grep -q 'install ok installed'")
            }
            PackageManager::Dnf | PackageManager::Yum | PackageManager::Zypper => {
                format!("rpm -q {package}")
            }
            PackageManager::Pacman => format!("pacman -Q {package}"),
            PackageManager::Apk => format!("apk info -e {package}"),
            PackageManager::Brew => format!("brew list --versions {package}"),
        }
    }

    /// The shell command that installs `packages` without asking (run as root); with `update`,
    /// the package index is refreshed first.
    pub fn install_script(self, packages: &[String], update: bool) -> String {
        let list = packages
            .iter()
            .map(|p| quote_posix(p))
            .collect::<Vec<_>>()
            .join(" ");
        let (refresh, install) = match self {
            PackageManager::Apt => (
                "DEBIAN_FRONTEND=noninteractive apt-get update",
                "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends",
            ),
            PackageManager::Dnf => ("dnf makecache", "dnf install -y"),
            PackageManager::Yum => ("yum makecache", "yum install -y"),
            PackageManager::Zypper => (
                "zypper --non-interactive refresh",
                "zypper --non-interactive install",
            ),
            PackageManager::Pacman => ("pacman -Sy --noconfirm", "pacman -S --needed --noconfirm"),
            PackageManager::Apk => ("apk update", "apk add"),
            PackageManager::Brew => ("brew update", "brew install"),
        };
        if update {
            format!("{refresh} && {install} {list}")
        } else {
            format!("{install} {list}")
        }
    }

    /// The command a user types to install `packages` (with `sudo` where root is needed).
    pub fn install_hint(self, packages: &[&str]) -> String {
        let list = packages.join(" ");
        match self {
            PackageManager::Apt => format!("sudo apt-get install -y {list}"),
            PackageManager::Dnf => format!("sudo dnf install -y {list}"),
            PackageManager::Yum => format!("sudo yum install -y {list}"),
            PackageManager::Zypper => format!("sudo zypper install -y {list}"),
            PackageManager::Pacman => format!("sudo pacman -S --needed {list}"),
            PackageManager::Apk => format!("sudo apk add {list}"),
            PackageManager::Brew => format!("brew install {list}"),
        }
    }
}

/// A language strap compiles: what it is called, the variable that names its compiler, the
/// compilers tried on PATH without that variable, and the language flag of `-x`.
#[derive(Debug)]
struct Language {
    name: &'static str,
    variable: &'static str,
    defaults: [&'static str; 3],
    flag: &'static str,
}

const C: Language = Language {
    name: "C",
    variable: "CC",
    defaults: ["cc", "gcc", "clang"],
    flag: "c",
};

const CXX: Language = Language {
    name: "C++",
    variable: "CXX",
    defaults: ["c++", "g++", "clang++"],
    flag: "c++",
};

fn language(cplusplus: bool) -> &'static Language {
    if cplusplus {
        &CXX
    } else {
        &C
    }
}

impl Language {
    /// The compiler the user chose in the environment (`$CC`), when set and not blank.
    fn chosen(&self) -> Option<String> {
        std::env::var(self.variable)
            .ok()
            .filter(|c| !c.trim().is_empty())
    }

    /// The chosen compiler (its first word must exist), else the first default on PATH.
    fn compiler(&self) -> Option<String> {
        if let Some(cc) = self.chosen() {
            let program = cc.split_whitespace().next().unwrap_or_default().to_owned();
            let found = Path::new(&program).is_absolute() && Path::new(&program).exists()
                || find_on_path(&program).is_some();
            return found.then_some(cc);
        }
        self.defaults
            .iter()
            .find(|c| find_on_path(c).is_some())
            .map(|c| (*c).to_owned())
    }
}

/// The C compiler: `$CC` (its first word must exist), else `cc`, `gcc`, `clang` on PATH.
pub fn c_compiler() -> Option<String> {
    C.compiler()
}

/// The C++ compiler: `$CXX` (its first word must exist), else `c++`, `g++`, `clang++` on PATH.
pub fn cxx_compiler() -> Option<String> {
    CXX.compiler()
}

/// True when `make` (or `gmake`) is on PATH.
pub fn has_make() -> bool {
    find_on_path("make").is_some() || find_on_path("gmake").is_some()
}

/// A compiler that is there but does not work (`CC=/bin/false`, a broken installation).
#[derive(Debug)]
pub struct BrokenCompiler {
    language: &'static Language,
    /// The compiler command as strap runs it.
    command: String,
    /// Its language's variable (`CC`) chose it; otherwise it was found on PATH.
    chosen: bool,
    /// What went wrong when it preprocessed an empty input.
    why: Failure,
}

impl std::fmt::Display for BrokenCompiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} compiler `{}`", self.language.name, self.command)?;
        if self.chosen {
            write!(f, " (from {})", self.language.variable)?;
        }
        match &self.why {
            Failure::Run(e) => write!(f, " cannot be run: {e}"),
            Failure::Status(status) => {
                write!(f, " does not work: it fails on an empty input ({status})")
            }
            Failure::TimedOut => write!(
                f,
                " does not work: it did not preprocess an empty input within {} s",
                PREPROCESS_LIMIT.as_secs()
            ),
        }
    }
}

impl std::error::Error for BrokenCompiler {}

impl BrokenCompiler {
    /// True when the compiler was killed by SIGINT, SIGTERM or SIGHUP: the terminal's Ctrl-C (or
    /// a stop) reached the probe, maybe before strap's own handler saw it — an interruption,
    /// not a broken compiler.
    pub fn was_interrupted(&self) -> bool {
        use std::os::unix::process::ExitStatusExt;
        matches!(&self.why, Failure::Status(status)
            if matches!(status.signal(), Some(libc::SIGINT | libc::SIGTERM | libc::SIGHUP)))
    }

    /// The next step: another value of the variable that chose it, else repairing the compiler.
    pub fn fix(&self) -> String {
        let language = self.language;
        if self.chosen {
            format!(
                "set {} to a working {} compiler, or unset it to use the first of {} on PATH",
                language.variable,
                language.name,
                language.defaults.join(", ")
            )
        } else {
            format!(
                "repair or reinstall it (`{} --version` shows which compiler it is)",
                self.command
            )
        }
    }
}

/// The C compiler `$CC` names when [`c_compiler`] finds none because that one is not there
/// (`CC=/opt/x/cc`, `CC="ccache gcc"` without ccache): a broken choice to name, not a missing
/// compiler to install.
pub fn unfound_chosen_c_compiler() -> Option<BrokenCompiler> {
    C.chosen().map(|command| BrokenCompiler {
        language: &C,
        why: Failure::Run(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "`{}` is neither on PATH nor an existing path",
                command.split_whitespace().next().unwrap_or_default()
            ),
        )),
        command,
        chosen: true,
    })
}

/// Checks that `compiler` (C, or C++ with `cplusplus`) works: it preprocesses an empty input.
/// The header probes mean nothing with a compiler that fails on everything.
pub fn check_compiler(compiler: &str, cplusplus: bool) -> Result<(), BrokenCompiler> {
    let language = language(cplusplus);
    preprocess(compiler, "", cplusplus, &[]).map_err(|why| BrokenCompiler {
        language,
        command: compiler.to_owned(),
        chosen: language.chosen().is_some_and(|chosen| chosen == compiler),
        why,
    })
}

/// True when `#include <header>` preprocesses with `compiler` (C, or C++ with `cplusplus`),
/// also looking in `extra_include_dirs`.
pub fn header_available(
    compiler: &str,
    header: &str,
    cplusplus: bool,
    extra_include_dirs: &[&str],
) -> bool {
    preprocess(
        compiler,
        &format!("#include <{header}>\n"),
        cplusplus,
        extra_include_dirs,
    )
    .is_ok()
}

/// How long one preprocessor run may take (one header, on a busy machine).
const PREPROCESS_LIMIT: Duration = Duration::from_secs(60);

/// Why a preprocessor run failed.
#[derive(Debug)]
enum Failure {
    /// It could not be started (or its input not passed, or its end not waited for).
    Run(std::io::Error),
    /// It exited with an error (or was killed by a signal).
    Status(ExitStatus),
    /// It ran past [`PREPROCESS_LIMIT`] and was killed.
    TimedOut,
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Run(e)
    }
}

/// Preprocesses `source` with `compiler`, output discarded.
fn preprocess(
    compiler: &str,
    source: &str,
    cplusplus: bool,
    include_dirs: &[&str],
) -> Result<(), Failure> {
    let mut words = compiler.split_whitespace();
    let program = words.next().unwrap_or_default();
    let mut child = Command::new(program)
        .args(words)
        .args(include_dirs.iter().map(|d| format!("-I{d}")))
        .args(["-E", "-x", language(cplusplus).flag, "-"])
        .args(["-o", "/dev/null"])
        .stdin(stdin_holding(source)?)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    match wait_at_most(&mut child, PREPROCESS_LIMIT)? {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(Failure::Status(status)),
        None => Err(Failure::TimedOut),
    }
}

/// The most a probe's input may hold: what any pipe holds without a reader (POSIX's
/// `_POSIX_PIPE_BUF`).
const PIPE_CAPACITY: usize = 512;

/// A child's stdin that already holds `input` and then ends. strap writes nothing to a running
/// child, so a program that exits without reading (`CC=/bin/false`) cannot make a write fail
/// with EPIPE or kill strap with SIGPIPE (which the C `main` leaves at its default). `input`
/// must fit in the pipe: at most [`PIPE_CAPACITY`] bytes.
fn stdin_holding(input: &str) -> std::io::Result<Stdio> {
    if input.len() > PIPE_CAPACITY {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} bytes are more than a pipe holds", input.len()),
        ));
    }
    let (reader, mut writer) = std::io::pipe()?;
    writer.write_all(input.as_bytes())?;
    drop(writer);
    Ok(reader.into())
}

/// Waits for `child` for at most `limit`; past it, kills it and returns `None`.
fn wait_at_most(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
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
            (
                "ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\"\n",
                PackageManager::Yum,
            ),
            (
                "ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n",
                PackageManager::Dnf,
            ),
            (
                "ID=\"ol\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"7.9\"\n",
                PackageManager::Yum,
            ),
            ("ID=fedora\nVERSION_ID=40\n", PackageManager::Dnf),
            ("ID=alpine\n", PackageManager::Apk),
        ];
        for (text, expected) in cases {
            assert_eq!(
                PackageManager::for_os(&OsRelease::parse(text)),
                Some(expected),
                "{text}"
            );
        }
        assert_eq!(
            PackageManager::for_os(&OsRelease::parse("ID=plan9\n")),
            None
        );
    }

    #[test]
    fn each_manager_has_its_own_query_and_install_commands() {
        let pkgs = ["can-utils".to_owned(), "it's".to_owned()];
        assert_eq!(
            PackageManager::Zypper.install_script(&pkgs, false),
            "zypper --non-interactive install can-utils \"it's\""
        );
        assert_eq!(
            PackageManager::Pacman.install_script(&pkgs[..1], true),
            "pacman -Sy --noconfirm && pacman -S --needed --noconfirm can-utils"
        );
        assert_eq!(PackageManager::Apk.query_script("x"), "apk info -e x");
        assert_eq!(PackageManager::Yum.query_script("x"), "rpm -q x");
        assert!(PackageManager::Apt
            .query_script("x")
            .starts_with("dpkg-query -W"));
        assert_eq!(
            PackageManager::Apk.install_hint(&["zlib-dev"]),
            "sudo apk add zlib-dev"
        );
    }

    #[test]
    fn headers_are_probed_with_the_compiler() {
        let Some(cc) = c_compiler() else {
            panic!("no C compiler on PATH (the tests need one)");
        };
        assert!(header_available(&cc, "stdio.h", false, &[]));
        assert!(!header_available(&cc, "no/such/header.h", false, &[]));
        assert!(check_compiler(&cc, false).is_ok());
    }

    #[test]
    fn a_compiler_that_exits_without_reading_is_broken() {
        let broken = check_compiler("/bin/false", true).unwrap_err();
        assert!(
            broken
                .to_string()
                .starts_with("the C++ compiler `/bin/false` "),
            "{broken}"
        );
        assert!(matches!(broken.why, Failure::Status(_)), "{broken:?}");
        assert!(!header_available("/bin/false", "stdio.h", false, &[]));
    }

    #[test]
    fn a_probe_input_must_fit_in_a_pipe() {
        assert!(stdin_holding(&"x".repeat(PIPE_CAPACITY)).is_ok());
        assert!(stdin_holding(&"x".repeat(PIPE_CAPACITY + 1)).is_err());
    }
}
