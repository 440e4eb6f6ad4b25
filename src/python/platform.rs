//! The machine prebuilt Pythons are chosen for, in one place: its architecture as python-build
//! names it (`uname -m`: `x86_64`, `aarch64`; `STRAP_ARCH` overrides it), the highest x86-64
//! microarchitecture level its CPU supports (from the flags in `/proc/cpuinfo`), and its C
//! library (glibc or musl: [`crate::identity::machine_libc`]). `STRAP_PLATFORM`
//! (`x86_64_v2-linux-musl`) overrides all three, for tests and for preparing another machine.

use std::fmt;

use crate::env_vars;

/// The machine's architecture as python-build's catalog names it (`uname -m`): `STRAP_ARCH`
/// when set, else the architecture `STRAP_PLATFORM` names, else the one strap was built for;
/// an error (for a usage error) when `STRAP_ARCH` is not an architecture's name.
pub fn this_arch() -> Result<String, String> {
    if let Some(arch) = strap_arch()? {
        return Ok(arch);
    }
    if let Some(Ok(platform)) = env_value(env_vars::STRAP_PLATFORM).map(|p| Machine::parse(&p)) {
        return Ok(platform.uname_arch().to_owned());
    }
    Ok(build_arch().to_owned())
}

/// `STRAP_ARCH` when set: a word of letters, digits and `_` (`x86_64`, `aarch64`, `ppc64le`;
/// the binary families' catalogs may name others), else an error naming the accepted forms.
fn strap_arch() -> Result<Option<String>, String> {
    let Some(arch) = env_value(env_vars::STRAP_ARCH) else {
        return Ok(None);
    };
    if arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(Some(arch));
    }
    Err(format!(
        "{}='{arch}' is not an architecture: name one as `uname -m` does (x86_64, aarch64, \
         i686, ppc64le, s390x, armv7l…), letters, digits and _ only",
        env_vars::STRAP_ARCH
    ))
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

/// The variable `name`, trimmed, when set and not empty; control characters escaped (see
/// [`crate::error::printable`]), since it may be shown in messages (no architecture or platform
/// has them, so an escaped one matches none).
fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| crate::error::printable(v.trim()).into_owned())
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

/// Architectures `uname -m` names otherwise than PBS does: (`uname -m`, PBS).
const UNAME_NAMES: [(&str, &str); 2] = [("armv7l", "armv7"), ("ppc64le", "powerpc64le")];

/// PBS's name of the architecture `uname -m` names `arch`.
fn pbs_arch(arch: &str) -> &str {
    UNAME_NAMES
        .iter()
        .find(|(uname, _)| *uname == arch)
        .map_or(arch, |(_, pbs)| pbs)
}

/// The C libraries of most architectures' builds.
const GNU_OR_MUSL: &[&str] = &["gnu", "musl"];

/// The architectures PBS builds for besides x86-64 (and its levels), with their C libraries.
const OTHER_ARCHES: [(&str, &[&str]); 6] = [
    ("i686", GNU_OR_MUSL),
    ("aarch64", GNU_OR_MUSL),
    ("armv7", &["gnueabi", "gnueabihf"]),
    ("powerpc64le", GNU_OR_MUSL),
    ("s390x", GNU_OR_MUSL),
    ("riscv64", GNU_OR_MUSL),
];

/// Every architecture PBS builds for, with its C libraries.
fn targets() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    let x86_64 = std::iter::once("x86_64").chain(X86_64_LEVELS.iter().map(|(name, _)| *name));
    x86_64.map(|name| (name, GNU_OR_MUSL)).chain(OTHER_ARCHES)
}

/// The platforms [`Machine::parse`] accepts, for its error: the architectures grouped by
/// their C libraries.
fn accepted_platforms() -> String {
    let mut by_libcs: Vec<(&[&str], Vec<&str>)> = Vec::new();
    for (arch, libcs) in targets() {
        match by_libcs.iter_mut().find(|(l, _)| *l == libcs) {
            Some((_, arches)) => arches.push(arch),
            None => by_libcs.push((libcs, vec![arch])),
        }
    }
    let forms: Vec<String> = by_libcs
        .iter()
        .map(|(libcs, arches)| {
            format!(
                "ARCH-linux-LIBC with ARCH {} and LIBC {}",
                arches.join(", "),
                libcs.join(" or ")
            )
        })
        .collect();
    forms.join("; ")
}

impl Machine {
    /// This machine: `STRAP_PLATFORM` when set (an error when it is not a platform), else
    /// detected (see the module's doc).
    pub fn current() -> Result<Machine, String> {
        if let Some(text) = env_value(env_vars::STRAP_PLATFORM) {
            let machine = Machine::parse(&text)
                .map_err(|why| format!("{}='{text}' {why}", env_vars::STRAP_PLATFORM))?;
            if let Some(arch) = strap_arch()? {
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
        let uname = this_arch()?;
        let musl = crate::identity::machine_libc() == "musl";
        let (arch, libc) = match uname.as_str() {
            "x86_64" if uname == build_arch() => {
                let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
                (x86_64_level(&flags).to_owned(), "gnu")
            }
            "armv7l" => ("armv7".to_owned(), "gnueabihf"),
            other => (pbs_arch(other).to_owned(), "gnu"),
        };
        let libc = if musl { "musl" } else { libc };
        Ok(Machine {
            arch,
            libc: libc.to_owned(),
        })
    }

    /// Parses `ARCH-linux-LIBC` (`x86_64_v3-linux-gnu`; `-unknown-linux-` is accepted too, and
    /// ARCH as `uname -m` names it: `ppc64le`, `armv7l`): a platform PBS builds for, else an
    /// error (a clause after the text) naming the forms that are.
    pub fn parse(text: &str) -> Result<Machine, String> {
        let (arch, libc) = text
            .split_once("-unknown-linux-")
            .or_else(|| text.split_once("-linux-"))
            .unwrap_or((text, ""));
        let arch = pbs_arch(arch);
        if !targets().any(|(a, libcs)| a == arch && libcs.contains(&libc)) {
            return Err(format!(
                "is not a platform python-build-standalone builds for (e.g. \
                 x86_64_v2-linux-musl, aarch64-linux-gnu): {}",
                accepted_platforms()
            ));
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
        if self.arch.starts_with("x86_64") {
            return "x86_64";
        }
        UNAME_NAMES
            .iter()
            .find(|(_, pbs)| *pbs == self.arch)
            .map_or(&self.arch, |(uname, _)| uname)
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
        // `uname -m`'s spelling names PBS's architecture.
        let ppc = Machine::parse("ppc64le-linux-gnu").unwrap();
        assert_eq!(
            (ppc.arch.as_str(), ppc.uname_arch()),
            ("powerpc64le", "ppc64le")
        );
        for good in [
            "x86_64_v4-linux-musl",
            "i686-linux-gnu",
            "armv7-unknown-linux-gnueabi",
            "powerpc64le-linux-gnu",
            "ppc64le-linux-musl",
            "armv7l-linux-gnueabihf",
            "s390x-linux-gnu",
            "riscv64-linux-gnu",
        ] {
            assert!(Machine::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "x86_64",
            "x86_64-linux-glibc",
            "-linux-gnu",
            "x/y-linux-gnu",
            "x86_64_v9-linux-gnu",
            "mips64-linux-gnu",
            "ppc64-linux-gnu",
            "x86_64-linux-gnueabihf",
            "armv7-linux-gnu",
        ] {
            let err = Machine::parse(bad).unwrap_err();
            assert_eq!(
                err,
                "is not a platform python-build-standalone builds for (e.g. x86_64_v2-linux-musl, \
                 aarch64-linux-gnu): ARCH-linux-LIBC with ARCH x86_64, x86_64_v2, x86_64_v3, \
                 x86_64_v4, i686, aarch64, powerpc64le, s390x, riscv64 and LIBC gnu or musl; \
                 ARCH-linux-LIBC with ARCH armv7 and LIBC gnueabi or gnueabihf",
                "{bad}"
            );
        }
    }
}
