//! The Boost libraries that need building (`b2 --with-<name>`): which releases have them, the
//! files they install under `lib/`, and what they need from the system.

use super::catalog::BoostVersion;

/// One separately built Boost library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Library {
    /// The `--with-<name>` name.
    pub name: &'static str,
    /// The first release that builds it.
    pub since: BoostVersion,
    /// The first release that no longer has it.
    pub until: Option<BoostVersion>,
    /// The stem of its library files (`boost_unit_test_framework` for `test`); `None` when
    /// nothing under `lib/` proves it (header-only since, or only CMake files).
    stem: Option<&'static str>,
}

const OLDEST: BoostVersion = BoostVersion(1, 55, 0);

const fn lib(name: &'static str, stem: &'static str) -> Library {
    Library {
        name,
        since: OLDEST,
        until: None,
        stem: Some(stem),
    }
}

const fn since(mut library: Library, major: u32, minor: u32) -> Library {
    library.since = BoostVersion(major, minor, 0);
    library
}

/// Every library strap can build, by name.
pub const LIBRARIES: &[Library] = &[
    lib("atomic", "boost_atomic"),
    since(lib("charconv", "boost_charconv"), 1, 85),
    lib("chrono", "boost_chrono"),
    since(lib("cobalt", "boost_cobalt"), 1, 84),
    since(lib("container", "boost_container"), 1, 56),
    lib("context", "boost_context"),
    since(lib("contract", "boost_contract"), 1, 67),
    lib("coroutine", "boost_coroutine"),
    lib("date_time", "boost_date_time"),
    lib("exception", "boost_exception"),
    since(lib("fiber", "boost_fiber"), 1, 62),
    lib("filesystem", "boost_filesystem"),
    lib("graph", "boost_graph"),
    Library {
        name: "headers",
        since: BoostVersion(1, 69, 0),
        until: None,
        stem: None,
    },
    lib("iostreams", "boost_iostreams"),
    since(lib("json", "boost_json"), 1, 75),
    lib("locale", "boost_locale"),
    lib("log", "boost_log"),
    lib("math", "boost_math"),
    since(lib("nowide", "boost_nowide"), 1, 73),
    since(lib("process", "boost_process"), 1, 86),
    lib("program_options", "boost_program_options"),
    lib("python", "boost_python"),
    lib("random", "boost_random"),
    lib("regex", "boost_regex"),
    lib("serialization", "boost_serialization"),
    Library {
        name: "signals",
        since: OLDEST,
        until: Some(BoostVersion(1, 69, 0)),
        stem: Some("boost_signals"),
    },
    since(lib("stacktrace", "boost_stacktrace"), 1, 65),
    // A stub library for compatibility from 1.69 on (header-only), dropped later.
    Library {
        name: "system",
        since: OLDEST,
        until: None,
        stem: None,
    },
    lib("test", "boost_unit_test_framework"),
    lib("thread", "boost_thread"),
    lib("timer", "boost_timer"),
    since(lib("type_erasure", "boost_type_erasure"), 1, 60),
    since(lib("url", "boost_url"), 1, 81),
    lib("wave", "boost_wave"),
];

/// Libraries in a source tree that strap never builds, and why.
pub const NOT_BUILT: &[(&str, &str)] = &[
    (
        "mpi",
        "it needs an MPI installation and a `using mpi` configuration",
    ),
    ("graph_parallel", "it needs Boost.MPI"),
];

impl Library {
    /// The library called `name`.
    pub fn named(name: &str) -> Option<&'static Library> {
        LIBRARIES.iter().find(|l| l.name == name)
    }

    /// True when `version` has it.
    pub fn in_release(&self, version: BoostVersion) -> bool {
        version >= self.since && self.until.is_none_or(|until| version < until)
    }

    /// The file-name stem that proves it was built (`python_version` is `311` for
    /// Boost.Python against 3.11).
    pub fn file_stem(&self, python_version: Option<&str>) -> Option<String> {
        let stem = self.stem?;
        match (self.name, python_version) {
            ("python", Some(v)) => Some(format!("{stem}{v}")),
            _ => Some(stem.to_owned()),
        }
    }

    /// Why `version` cannot build it, if it cannot.
    pub fn unavailable_in(&self, version: BoostVersion) -> Option<String> {
        if version < self.since {
            Some(format!(
                "Boost {version} has no {} library (it appeared in {})",
                self.name, self.since
            ))
        } else {
            self.until.filter(|until| version >= *until).map(|until| {
                format!(
                    "Boost {version} has no {} library (removed in {until})",
                    self.name
                )
            })
        }
    }
}

/// A `--with` name that is not a library strap can build.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UnknownLibrary {
    /// The name as given.
    pub name: String,
    pub message: String,
}

/// Checks the `--with` names for `version`: known, buildable, in that release.
pub fn check(names: &[String], version: BoostVersion) -> Result<(), UnknownLibrary> {
    for name in names {
        if let Some((_, why)) = NOT_BUILT.iter().find(|(n, _)| n == name) {
            return Err(UnknownLibrary {
                name: name.clone(),
                message: format!("strap does not build Boost.{name}: {why}"),
            });
        }
        match Library::named(name) {
            Some(library) => {
                if let Some(why) = library.unavailable_in(version) {
                    return Err(UnknownLibrary {
                        name: name.clone(),
                        message: why,
                    });
                }
            }
            None => {
                let mut known: Vec<&str> = LIBRARIES
                    .iter()
                    .filter(|l| l.in_release(version))
                    .map(|l| l.name)
                    .collect();
                known.sort_by_key(|k| strsim_distance(name, k));
                return Err(UnknownLibrary {
                    name: name.clone(),
                    message: format!(
                        "'{name}' is not a Boost library that needs building (did you mean {}?); \
                         header-only libraries need no --with",
                        known[..3.min(known.len())].join(", ")
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Edit distance between two short names (for "did you mean").
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_against_the_release() {
        let v181 = BoostVersion(1, 81, 0);
        assert!(check(&["python".into(), "filesystem".into()], v181).is_ok());
        let err = check(&["json".into()], BoostVersion(1, 70, 0)).unwrap_err();
        assert_eq!(
            err.message,
            "Boost 1.70.0 has no json library (it appeared in 1.75.0)"
        );
        let err = check(&["signals".into()], v181).unwrap_err();
        assert!(err.message.contains("removed in 1.69.0"), "{}", err.message);
        let err = check(&["filesystme".into()], v181).unwrap_err();
        assert!(
            err.message.contains("did you mean filesystem"),
            "{}",
            err.message
        );
        let err = check(&["mpi".into()], v181).unwrap_err();
        assert!(err.message.contains("MPI"), "{}", err.message);
    }

    #[test]
    fn file_stems() {
        let python = Library::named("python").unwrap();
        assert_eq!(
            python.file_stem(Some("311")).as_deref(),
            Some("boost_python311")
        );
        assert_eq!(
            Library::named("test").unwrap().file_stem(None).as_deref(),
            Some("boost_unit_test_framework")
        );
        assert_eq!(Library::named("system").unwrap().file_stem(None), None);
    }
}
