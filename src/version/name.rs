//! Version name parsing, ordering and prefix matching.
//!
//! CPython names look like `3.12.7`, `3.13.0rc2`, `3.13.1t` (free-threaded) or `3.12.7-debug`.
//! Other names (`pypy3.10-7.3.12`, `miniconda3-latest`) are compared in natural order.

use std::cmp::Ordering;

/// A parsed CPython-style version name or request: `3`, `3.12`, `3.12.7`, `3.14.0rc1`,
/// `3.13t` (free-threaded), `3.12.7-debug`. The one parser of Python version names: selection,
/// install plans and the catalog all read names through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonName<'a> {
    release: Vec<u64>,
    pre: Option<PreRelease>,
    free_threaded: bool,
    /// Text after the first `-`, e.g. `debug` or `dev`.
    variant: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PreKind {
    Alpha,
    Beta,
    Rc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PreRelease {
    kind: PreKind,
    /// `None` in a request such as `3.13.0rc` ("any release candidate").
    number: Option<u64>,
}

impl<'a> PythonName<'a> {
    /// Parses a name; `None` when it is not CPython-style.
    pub fn parse(name: &'a str) -> Option<Self> {
        let (base, variant) = match name.split_once('-') {
            Some((base, variant)) if !variant.is_empty() => (base, Some(variant)),
            Some(_) => return None,
            None => (name, None),
        };
        let (base, free_threaded) = match base.strip_suffix('t') {
            Some(rest) => (rest, true),
            None => (base, false),
        };
        let numeric_end = base
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(base.len());
        let (numbers, pre_text) = base.split_at(numeric_end);
        if numbers.is_empty() || numbers.ends_with('.') {
            return None;
        }
        let release = crate::dotted::parse(numbers)?;
        let pre = if pre_text.is_empty() {
            None
        } else {
            Some(PreRelease::parse(pre_text)?)
        };
        Some(PythonName {
            release,
            pre,
            free_threaded,
            variant,
        })
    }

    /// True when `self`, read as a request, selects `candidate`: the release numbers match at
    /// component boundaries, and pre-releases, free-threaded and variant builds only when asked for.
    fn selects(&self, candidate: &PythonName<'_>) -> bool {
        if self.free_threaded != candidate.free_threaded || self.variant != candidate.variant {
            return false;
        }
        match (self.pre, candidate.pre) {
            (None, None) => candidate.release.starts_with(&self.release),
            (Some(want), Some(have)) => {
                candidate.release == self.release
                    && want.kind == have.kind
                    && want.number.is_none_or(|n| Some(n) == have.number)
            }
            _ => false,
        }
    }

    /// True for a free-threaded build (`t`).
    pub fn free_threaded(&self) -> bool {
        self.free_threaded
    }

    /// The text after `-` (`debug`), if any.
    pub fn variant(&self) -> Option<&'a str> {
        self.variant
    }

    /// True for an alpha, beta or release candidate.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }

    /// True when it names one release (`3.12.7`, `3.14.0rc1`), not a prefix (`3.12`).
    pub fn is_full(&self) -> bool {
        self.release.len() == 3 && self.pre.is_none_or(|p| p.number.is_some())
    }

    /// Major and minor (`3.12`), 0 where absent.
    pub fn major_minor(&self) -> (u64, u64) {
        (
            self.release.first().copied().unwrap_or(0),
            self.release.get(1).copied().unwrap_or(0),
        )
    }

    /// The release numbers joined (`3.14.0` for `3.14.0rc1t`): the directory python.org keeps a
    /// release in.
    pub fn release_dir(&self) -> String {
        self.release
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The name without the free-threading suffix and variant (`3.14.0rc1` for `3.14.0rc1t`).
    pub fn base(&self) -> String {
        let mut text = self.release_dir();
        if let Some(pre) = self.pre {
            text.push_str(match pre.kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            });
            if let Some(n) = pre.number {
                text.push_str(&n.to_string());
            }
        }
        text
    }

    fn cmp_release(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        let component = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        (0..len)
            .map(|i| component(&self.release, i).cmp(&component(&other.release, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PreRelease {
    fn parse(text: &str) -> Option<Self> {
        let (kind, rest) = if let Some(rest) = text.strip_prefix("rc") {
            (PreKind::Rc, rest)
        } else if let Some(rest) = text.strip_prefix('a') {
            (PreKind::Alpha, rest)
        } else if let Some(rest) = text.strip_prefix('b') {
            (PreKind::Beta, rest)
        } else {
            return None;
        };
        let number = if rest.is_empty() {
            None
        } else {
            Some(rest.parse().ok()?)
        };
        Some(PreRelease { kind, number })
    }
}

impl Ord for PythonName<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // A final release sorts after its pre-releases.
        let pre_key =
            |p: &Option<PreRelease>| p.map_or((3, 0), |p| (p.kind as u8, p.number.unwrap_or(0)));
        self.cmp_release(other)
            .then_with(|| pre_key(&self.pre).cmp(&pre_key(&other.pre)))
            .then_with(|| self.free_threaded.cmp(&other.free_threaded))
            .then_with(|| self.variant.cmp(&other.variant))
    }
}

impl PartialOrd for PythonName<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders version names: CPython names by version, anything else in natural order after them.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    match (PythonName::parse(a), PythonName::parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => natural_cmp(a, b),
    }
}

/// The newest of `candidates` that `request` selects as a prefix (see [`PythonName::selects`]).
/// A request that is not CPython-style (`pypy3.10`) selects as `pyenv latest` does: itself when
/// a candidate is named so, else the newest name continuing it with `-` or `.` that is not a
/// `-dev`, `-src`, `-latest`, pre-release or free-threaded name (`pypy3.10-7.3.17`).
pub fn newest_match<'c>(
    request: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let Some(parsed_request) = PythonName::parse(request) else {
        return pyenv_latest(request, candidates);
    };
    candidates
        .into_iter()
        .filter(|candidate| {
            PythonName::parse(candidate).is_some_and(|c| parsed_request.selects(&c))
        })
        .max_by(|a, b| compare_names(a, b))
}

/// `pyenv latest PREFIX` for a prefix that is not CPython-style.
fn pyenv_latest<'c>(
    prefix: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if let Some(exact) = candidates.iter().find(|c| **c == prefix) {
        return Some(exact);
    }
    let continues = |name: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(['-', '.']))
    };
    candidates
        .into_iter()
        .filter(|name| continues(name) && is_final_name(name))
        .min_by(|a, b| latest_order(a, b))
}

/// True for the names `pyenv latest` considers: no `-dev`, `-src`, `-latest`, pre-release or
/// free-threaded ending.
fn is_final_name(name: &str) -> bool {
    let pre = ["a", "b", "rc"].iter().any(|p| {
        let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
        stem.len() < name.len() && stem.ends_with(p)
    });
    let free_threaded = name
        .strip_suffix('t')
        .is_some_and(|s| s.ends_with(|c: char| c.is_ascii_digit()));
    let moving = ["-dev", "-src", "-latest"]
        .iter()
        .any(|end| name.ends_with(end));
    !(moving || pre || free_threaded)
}

/// `pyenv latest`'s order, newest first: a leading `NAME-` reads as `NAME.`, the first field
/// compared as text and the next three as numbers, all descending; then the whole, ascending.
fn latest_order(a: &str, b: &str) -> Ordering {
    let key = |name: &str| -> String {
        let alnum = name.find(|c: char| !c.is_ascii_alphanumeric());
        match alnum {
            Some(end) if end > 0 && name[end..].starts_with('-') => {
                format!("{}.{}..|{name}", &name[..end], &name[end + 1..])
            }
            _ => format!("{name}...|{name}"),
        }
    };
    let (a, b) = (key(a), key(b));
    let (fa, fb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    let field = |fields: &[&'_ str], n: usize| -> String {
        fields.get(n).copied().unwrap_or("").to_owned()
    };
    field(&fb, 0)
        .cmp(&field(&fa, 0))
        .then_with(|| {
            (1..4)
                .map(|n| crate::dotted::leading_number_cmp(&field(&fb, n), &field(&fa, n)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
        .then_with(|| a.cmp(&b))
}

/// Compares strings chunk by chunk, digit runs numerically (`py10` after `py9`).
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (chunk_a, rest_a) = split_chunk(a);
        let (chunk_b, rest_b) = split_chunk(b);
        let order = match (chunk_a.parse::<u64>(), chunk_b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => chunk_a.cmp(chunk_b),
        };
        if order.is_ne() {
            return order;
        }
        (a, b) = (rest_a, rest_b);
    }
}

fn split_chunk(s: &str) -> (&str, &str) {
    let digits = s.starts_with(|c: char| c.is_ascii_digit());
    let end = s
        .find(|c: char| c.is_ascii_digit() != digits)
        .unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newest<'a>(request: &str, names: &[&'a str]) -> Option<&'a str> {
        newest_match(request, names.iter().copied())
    }

    #[test]
    fn prefix_matches_at_component_boundary() {
        let names = ["3.1.5", "3.11.2", "3.11.9", "3.12.1"];
        assert_eq!(newest("3.11", &names), Some("3.11.9"));
        assert_eq!(newest("3.1", &names), Some("3.1.5"));
        assert_eq!(newest("3.1", &["3.12.1", "3.11.9"]), None);
        assert_eq!(newest("3", &names), Some("3.12.1"));
        assert_eq!(newest("3.11.2", &names), Some("3.11.2"));
    }

    #[test]
    fn numeric_not_lexical_ordering() {
        assert_eq!(newest("3.11", &["3.11.9", "3.11.10"]), Some("3.11.10"));
        assert_eq!(compare_names("3.9.1", "3.10.0"), Ordering::Less);
    }

    #[test]
    fn prereleases_only_when_asked() {
        let names = ["3.13.0rc2", "3.12.7", "3.13.0a1"];
        assert_eq!(newest("3", &names), Some("3.12.7"));
        assert_eq!(newest("3.13", &names), None);
        assert_eq!(newest("3.13.0rc", &names), Some("3.13.0rc2"));
        assert_eq!(newest("3.13.0a1", &names), Some("3.13.0a1"));
        assert_eq!(compare_names("3.13.0rc2", "3.13.0"), Ordering::Less);
        assert_eq!(compare_names("3.13.0a1", "3.13.0b1"), Ordering::Less);
    }

    #[test]
    fn free_threaded_and_variants_only_when_asked() {
        let names = ["3.13.1t", "3.13.0", "3.13.2-debug"];
        assert_eq!(newest("3.13", &names), Some("3.13.0"));
        assert_eq!(newest("3.13t", &names), Some("3.13.1t"));
        assert_eq!(newest("3.13-debug", &names), Some("3.13.2-debug"));
    }

    #[test]
    fn other_names_match_at_dot_or_dash() {
        let names = [
            "pypy3.10-7.3.12",
            "pypy3.10-7.3.9",
            "pypy3.9-7.3.12",
            "pypy3.10-7.3.13-src",
            "miniconda3-latest",
            "miniconda3-4.7.12",
            "miniconda3-3.9-4.10.1",
        ];
        assert_eq!(newest("pypy3.10", &names), Some("pypy3.10-7.3.12"));
        assert_eq!(newest("pypy3.1", &names), None);
        // As `pyenv latest`: `NAME-` reads as `NAME.`, so 4.7.12 is newer than 3.9-4.10.1.
        assert_eq!(newest("miniconda3", &names), Some("miniconda3-4.7.12"));
        assert_eq!(
            newest("miniconda3-latest", &names),
            Some("miniconda3-latest")
        );
        assert_eq!(
            newest("miniconda3-3.9", &names),
            Some("miniconda3-3.9-4.10.1")
        );
    }

    #[test]
    fn cpython_sorts_before_other_names() {
        let mut names = vec!["pypy3.10-7.3.12", "3.12.1", "2.7.18", "3.9.18"];
        names.sort_by(|a, b| compare_names(a, b));
        assert_eq!(names, ["2.7.18", "3.9.18", "3.12.1", "pypy3.10-7.3.12"]);
    }

    #[test]
    fn parts_of_a_name() {
        let name = PythonName::parse("3.14.0rc1t").unwrap();
        assert!(name.free_threaded() && name.is_prerelease() && name.is_full());
        assert_eq!(
            (name.base(), name.release_dir(), name.major_minor()),
            ("3.14.0rc1".to_owned(), "3.14.0".to_owned(), (3, 14))
        );
        assert!(!PythonName::parse("3.12").unwrap().is_full());
        assert!(!PythonName::parse("3.13.0rc").unwrap().is_full());
        assert_eq!(
            PythonName::parse("3.12.7-debug").unwrap().variant(),
            Some("debug")
        );
    }

    #[test]
    fn malformed_names_do_not_parse() {
        for bad in ["", "3.", ".3", "3..1", "3.x", "3.12-", "t"] {
            assert!(PythonName::parse(bad).is_none(), "{bad}");
        }
    }
}
