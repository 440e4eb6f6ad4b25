//! The machine prebuilt Pythons are chosen for, in one place: its architecture as python-build
//! names it (`uname -m`: `x86_64`, `aarch64`; `STRAP_ARCH` overrides it), the highest x86-64
//! microarchitecture level its CPU supports (from the flags in `/proc/cpuinfo`), and its C
//! library (glibc or musl, by the dynamic loader `/bin/sh` names). `STRAP_PLATFORM`
//! (`x86_64_v2-linux-musl`) overrides all three, for tests and for preparing another machine.

use std::fmt;

use crate::env_vars;

/// The machine's architecture as python-build's catalog names it (`uname -m`): `STRAP_ARCH`
/// when set, else the architecture `STRAP_PLATFORM` names, else the one strap was built for.
pub fn this_arch() -> String {
    if let Some(arch) = env_value(env_vars::STRAP_ARCH) {
        return arch;
    }
    if let Some(Ok(platform)) = env_value(env_vars::STRAP_PLATFORM).map(|p| Machine::parse(&p)) {
        return platform.uname_arch().to_owned();
    }
    build_arch().to_owned()
}

/// The architecture strap was built for, as `uname -m` names it.
fn build_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "i686",
        "arm" => "armv7l",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A machine as python-build-standalone names its builds' targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// PBS's architecture: `x86_64`, `x86_64_v2`…`x86_64_v4`, `aarch64`, `i686`, `armv7`,
    /// `powerpc64le`, `riscv64`, `s390x`.
    pub arch: String,
    /// `gnu`, `musl`, `gnueabi`, `gnueabihf`.
    pub libc: String,
}

/// The x86-64 levels, lowest first, with the `/proc/cpuinfo` flags each adds (psABI).
const X86_64_LEVELS: [(&str, &[&str]); 3] = [
    (
        "x86_64_v2",
        &[
            "cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3",
        ],
    ),
    (
        "x86_64_v3",
        &[
            "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave",
        ],
    ),
    (
        "x86_64_v4",
        &["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"],
    ),
];

/// The C libraries PBS builds for.
const LIBCS: [&str; 4] = ["gnu", "musl", "gnueabi", "gnueabihf"];

impl Machine {
    /// This machine: `STRAP_PLATFORM` when set (an error when it is not a platform), else
    /// detected (see the module's doc).
    pub fn current() -> Result<Machine, String> {
        if let Some(text) = env_value(env_vars::STRAP_PLATFORM) {
            let machine = Machine::parse(&text)
                .map_err(|why| format!("{}='{text}' {why}", env_vars::STRAP_PLATFORM))?;
            if let Some(arch) = env_value(env_vars::STRAP_ARCH) {
                if arch != machine.uname_arch() {
                    return Err(format!(
                        "{}={arch} and {}={text} name different architectures",
                        env_vars::STRAP_ARCH,
                        env_vars::STRAP_PLATFORM
                    ));
                }
            }
            return Ok(machine);
        }
        let uname = this_arch();
        let musl = is_musl();
        let (arch, libc) = match uname.as_str() {
            "x86_64" if uname == build_arch() => {
                let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
                (x86_64_level(&flags).to_owned(), "gnu")
            }
            "armv7l" => ("armv7".to_owned(), "gnueabihf"),
            "ppc64le" => ("powerpc64le".to_owned(), "gnu"),
            other => (other.to_owned(), "gnu"),
        };
        let libc = if musl { "musl" } else { libc };
        Ok(Machine {
            arch,
            libc: libc.to_owned(),
        })
    }

    /// Parses `ARCH-linux-LIBC` (`x86_64_v3-linux-gnu`; `-unknown-linux-` is accepted too).
    pub fn parse(text: &str) -> Result<Machine, String> {
        let form = "is not a platform: expected ARCH-linux-LIBC, e.g. x86_64_v2-linux-musl or \
                    aarch64-linux-gnu (LIBC: gnu, musl, gnueabi, gnueabihf)";
        let (arch, libc) = text
            .split_once("-unknown-linux-")
            .or_else(|| text.split_once("-linux-"))
            .ok_or(form)?;
        let arch_ok =
            !arch.is_empty() && arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !arch_ok || !LIBCS.contains(&libc) {
            return Err(form.to_owned());
        }
        Ok(Machine {
            arch: arch.to_owned(),
            libc: libc.to_owned(),
        })
    }

    /// The architectures whose builds run here, best first: an x86-64 level and every lower
    /// one, down to the baseline; else the architecture itself.
    pub fn compatible_arches(&self) -> Vec<String> {
        let Some(level) = self.x86_64_level() else {
            return vec![self.arch.clone()];
        };
        let lower = X86_64_LEVELS[..level.saturating_sub(1)]
            .iter()
            .rev()
            .map(|(name, _)| (*name).to_owned());
        std::iter::once(self.arch.clone())
            .filter(|_| level > 0)
            .chain(lower)
            .chain(std::iter::once("x86_64".to_owned()))
            .collect()
    }

    /// For x86-64: 0 for the baseline, else the level (1 for v2…); `None` for others.
    fn x86_64_level(&self) -> Option<usize> {
        if self.arch == "x86_64" {
            return Some(0);
        }
        X86_64_LEVELS
            .iter()
            .position(|(name, _)| *name == self.arch)
            .map(|i| i + 1)
    }

    /// The architecture as `uname -m` names it (python-build's catalog, `STRAP_ARCH`).
    pub fn uname_arch(&self) -> &str {
        match self.arch.as_str() {
            a if a.starts_with("x86_64") => "x86_64",
            "armv7" => "armv7l",
            "powerpc64le" => "ppc64le",
            other => other,
        }
    }
}

impl fmt::Display for Machine {
    /// `x86_64_v3-gnu`, as the plan line shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.arch, self.libc)
    }
}

/// The highest x86-64 level whose flags all appear in `/proc/cpuinfo`'s text (`x86_64` when
/// not even v2's do).
fn x86_64_level(cpuinfo: &str) -> &'static str {
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, flags)| flags.split_whitespace().collect())
        .unwrap_or_default();
    let mut level = "x86_64";
    for (name, needed) in X86_64_LEVELS {
        if !needed.iter().all(|f| flags.contains(f)) {
            break;
        }
        level = name;
    }
    level
}

/// True when the machine's programs load musl's dynamic loader: the loader `/bin/sh` names (in
/// its first pages, where ELF keeps it) is `ld-musl-*`.
fn is_musl() -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let read = std::fs::File::open("/bin/sh").and_then(|f| f.take(8192).read_to_end(&mut head));
    read.is_ok() && head.windows(8).any(|w| w == b"/ld-musl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_come_from_the_cpu_flags() {
        let v2 = "cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3";
        let v3 = format!("{v2} avx avx2 bmi1 bmi2 f16c fma abm movbe xsave");
        let v4 = format!("{v3} avx512f avx512bw avx512cd avx512dq avx512vl");
        let info = |flags: &str| format!("processor\t: 0\nflags\t\t: fpu {flags}\n");
        assert_eq!(x86_64_level(&info("sse2")), "x86_64");
        assert_eq!(x86_64_level(&info(v2)), "x86_64_v2");
        assert_eq!(x86_64_level(&info(&v3)), "x86_64_v3");
        assert_eq!(x86_64_level(&info(&v4)), "x86_64_v4");
        // v4's flags without v3's are v2.
        assert_eq!(
            x86_64_level(&info(&format!(
                "{v2} avx512f avx512bw avx512cd avx512dq avx512vl"
            ))),
            "x86_64_v2"
        );
    }

    #[test]
    fn platforms_parse_and_list_what_runs_on_them() {
        let m = Machine::parse("x86_64_v3-linux-musl").unwrap();
        assert_eq!(m.to_string(), "x86_64_v3-musl");
        assert_eq!(m.uname_arch(), "x86_64");
        assert_eq!(m.compatible_arches(), ["x86_64_v3", "x86_64_v2", "x86_64"]);
        let base = Machine::parse("x86_64-unknown-linux-gnu").unwrap();
        assert_eq!(base.compatible_arches(), ["x86_64"]);
        let arm = Machine::parse("aarch64-linux-gnu").unwrap();
        assert_eq!(arm.compatible_arches(), ["aarch64"]);
        assert_eq!(
            Machine::parse("armv7-linux-gnueabihf")
                .unwrap()
                .uname_arch(),
            "armv7l"
        );
        for bad in [
            "x86_64",
            "x86_64-linux-glibc",
            "-linux-gnu",
            "x/y-linux-gnu",
        ] {
            assert!(Machine::parse(bad).is_err(), "{bad}");
        }
    }
}
