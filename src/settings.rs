//! Settings that come from flags, environment variables and the config file, each validated
//! once before anything runs: a bad value is a usage error (exit 2) that names where it came
//! from and what is accepted.

use std::time::Duration;

use crate::config::{Config, PrebuiltMode};
use crate::env_vars;
use crate::error::UsageError;
use crate::fetch::mirror;

/// The most build jobs strap accepts.
const MAX_JOBS: usize = 1024;
/// The longest stall timeout strap accepts (one day).
const MAX_STALL_SECONDS: f64 = 86_400.0;
/// The shortest timeout strap accepts.
const MIN_SECONDS: f64 = 0.1;
/// The stall timeout without `STRAP_DOWNLOAD_TIMEOUT`.
const DEFAULT_STALL_SECONDS: f64 = 30.0;

/// An environment variable's value, unless unset or blank.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Build parallelism: `--jobs`, else `STRAP_JOBS`, else a `-j` in python-build's make options
/// (`tool_jobs`, with the variable that named it), else the config's `jobs`, else the number of
/// CPUs. Each must be a whole number from 1 to 1024.
pub fn jobs(
    flag: Option<usize>,
    tool_jobs: Option<(usize, &str)>,
    config_jobs: Option<usize>,
    config_key: &str,
    config: &Config,
) -> Result<usize, UsageError> {
    let config_jobs = match tool_jobs {
        Some((jobs, origin)) if flag.is_none() && env_value(env_vars::STRAP_JOBS).is_none() => {
            return check_jobs(jobs, origin)
        }
        _ => config_jobs,
    };
    let (jobs, origin) = match (flag, env_value(env_vars::STRAP_JOBS), config_jobs) {
        (Some(jobs), _, _) => (jobs, "--jobs".to_owned()),
        (None, Some(text), _) => (
            text.trim().parse::<usize>().map_err(|_| {
                UsageError::new(format!(
                    "{} must be a whole number of build jobs from 1 to {MAX_JOBS}, not '{text}'",
                    env_vars::STRAP_JOBS
                ))
            })?,
            env_vars::STRAP_JOBS.to_owned(),
        ),
        (None, None, Some(jobs)) => (jobs, config.origin(config_key)),
        (None, None, None) => {
            return Ok(std::thread::available_parallelism().map_or(1, usize::from))
        }
    };
    check_jobs(jobs, &origin)
}

/// `jobs` when it is from 1 to 1024; else a usage error naming where it came from (`origin`).
pub fn check_jobs(jobs: usize, origin: &str) -> Result<usize, UsageError> {
    if (1..=MAX_JOBS).contains(&jobs) {
        Ok(jobs)
    } else {
        Err(UsageError::new(format!(
            "{origin} must be from 1 to {MAX_JOBS} build jobs, not {jobs}"
        )))
    }
}

/// How long a download may receive nothing before the mirror is given up:
/// `STRAP_DOWNLOAD_TIMEOUT` seconds (a positive number up to a day), default 30.
pub fn stall_timeout() -> Result<Duration, UsageError> {
    let Some(text) = env_value(env_vars::STRAP_DOWNLOAD_TIMEOUT) else {
        return Ok(Duration::from_secs_f64(DEFAULT_STALL_SECONDS));
    };
    seconds(&text, MAX_STALL_SECONDS).map_err(|accepted| {
        UsageError::new(format!(
            "{} must be {accepted}",
            env_vars::STRAP_DOWNLOAD_TIMEOUT
        ))
    })
}

/// The one parser of a duration given in seconds (a flag's or an environment variable's
/// value): a number from 0.1 to `max`, fractions allowed; `NaN`, infinities, negative and
/// larger numbers are refused with what is accepted.
pub fn seconds(text: &str, max: f64) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| (MIN_SECONDS..=max).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            format!(
                "a number of seconds from {MIN_SECONDS} to {max} (e.g. 30 or 2.5), not '{text}'"
            )
        })
}

/// The prebuilt mode: `flag` (`--prebuilt[=MODE]`, `--no-prebuilt` is `never`; a bootstrap
/// manifest's `[settings] prebuilt` arrives as `--prebuilt=MODE`), else
/// `STRAP_PYTHON_PREBUILT`, else the config's `[python] prebuilt`, else `never`.
pub fn prebuilt_mode(
    flag: Option<PrebuiltMode>,
    config: &Config,
) -> Result<PrebuiltMode, UsageError> {
    if let Some(mode) = flag {
        return Ok(mode);
    }
    if let Some(text) = env_value(env_vars::STRAP_PYTHON_PREBUILT) {
        return PrebuiltMode::named(text.trim()).ok_or_else(|| {
            UsageError::new(format!(
                "{} must be never, prefer or only, not '{text}'",
                env_vars::STRAP_PYTHON_PREBUILT
            ))
        });
    }
    Ok(config.python.prebuilt.unwrap_or_default())
}

/// Where a list of mirrors comes from: a flag, an environment variable (comma-separated), a
/// config key, and the default when none of them names one.
#[derive(Debug, Clone, Copy)]
pub struct MirrorSource<'a> {
    /// The flag (`--mirror`).
    pub flag: &'static str,
    /// `STRAP_PYTHON_MIRRORS`.
    pub env_var: &'static str,
    /// The config's list and its key (`python.mirrors`).
    pub config: (&'a [String], &'static str),
    /// Used when nothing names a mirror (binary mirrors have none).
    pub default: Option<&'static str>,
    /// python-build's variable naming a mirror put before the others unless `flag` names
    /// mirrors (`PYTHON_BUILD_MIRROR_URL`: files by sha256).
    pub first: Option<&'static str>,
}

impl<'a> MirrorSource<'a> {
    /// CPython's source mirrors.
    pub fn python(config: &'a Config) -> MirrorSource<'a> {
        MirrorSource {
            flag: "--mirror",
            env_var: env_vars::STRAP_PYTHON_MIRRORS,
            config: (&config.python.mirrors, "python.mirrors"),
            default: Some(mirror::DEFAULT_PYTHON_MIRROR),
            first: Some(env_vars::PYTHON_BUILD_MIRROR_URL),
        }
    }

    /// Boost's source mirrors.
    pub fn boost(config: &'a Config) -> MirrorSource<'a> {
        MirrorSource {
            flag: "--mirror",
            env_var: env_vars::STRAP_BOOST_MIRRORS,
            config: (&config.boost.mirrors, "boost.mirrors"),
            default: Some(mirror::DEFAULT_BOOST_MIRROR),
            first: None,
        }
    }

    /// python-build-standalone's mirrors (`{build}`, `{file}`): none by default, where the
    /// catalog's own URL (the project's GitHub releases) is the only one.
    pub fn prebuilt(config: &'a Config) -> MirrorSource<'a> {
        MirrorSource {
            flag: "--prebuilt-mirror",
            env_var: env_vars::STRAP_PREBUILT_MIRRORS,
            config: (&config.python.prebuilt_mirrors, "python.prebuilt_mirrors"),
            default: None,
            first: None,
        }
    }

    /// The binary mirrors packed builds are looked up in.
    pub fn binary(config: &'a Config) -> MirrorSource<'a> {
        MirrorSource {
            flag: "--binary-mirror",
            env_var: env_vars::STRAP_BINARY_MIRRORS,
            config: (&config.cache.binary, "cache.binary"),
            default: None,
            first: None,
        }
    }
}

/// The one precedence of mirrors: the `flags`, else the environment variable, else the
/// config's, else the default; with where they came from (`--mirror`, `STRAP_PYTHON_MIRRORS`,
/// `key python.mirrors in FILE`, `the default`). Not checked: see [`mirrors`].
pub fn mirror_list(
    flags: &[String],
    source: MirrorSource<'_>,
    config: &Config,
) -> (Vec<String>, String) {
    if !flags.is_empty() {
        (flags.to_vec(), source.flag.to_owned())
    } else if let Some(list) = env_value(source.env_var) {
        (
            mirror::split_list(&list).collect(),
            source.env_var.to_owned(),
        )
    } else if !source.config.0.is_empty() || source.default.is_none() {
        (source.config.0.to_vec(), config.origin(source.config.1))
    } else {
        let default = source.default.into_iter().map(str::to_owned).collect();
        (default, "the default".to_owned())
    }
}

/// Source mirror templates by [`mirror_list`]'s precedence, python-build's mirror first (see
/// [`with_python_build_mirror`]), each checked (see [`mirror::check`]).
pub fn mirrors(
    flags: &[String],
    source: MirrorSource<'_>,
    config: &Config,
) -> Result<Vec<String>, UsageError> {
    let (templates, origin) = mirror_list(flags, source, config);
    if templates.is_empty() {
        return Err(UsageError::new(format!("{origin} names no mirror")));
    }
    let entries = with_python_build_mirror(flags, source, templates, &origin);
    for (template, origin) in &entries {
        mirror::check(template, mirror::Archives::Sources, origin)?;
    }
    Ok(entries.into_iter().map(|(template, _)| template).collect())
}

/// Every template an install asks, in order, each with where it came from: python-build's
/// mirror (`PYTHON_BUILD_MIRROR_URL`, files named by their sha256) first where `source` has
/// one, unless `flags` name mirrors or `PYTHON_BUILD_SKIP_MIRROR` is set; then `templates`
/// (from `origin`). Not checked: installs check them in [`mirrors`], doctor reports them.
pub fn with_python_build_mirror(
    flags: &[String],
    source: MirrorSource<'_>,
    templates: Vec<String>,
    origin: &str,
) -> Vec<(String, String)> {
    let first = source
        .first
        .filter(|_| flags.is_empty() && env_value(env_vars::PYTHON_BUILD_SKIP_MIRROR).is_none())
        .and_then(|var| {
            let url = env_value(var)?;
            let template = format!("{}/{{sha256}}", url.trim().trim_end_matches('/'));
            Some((template, var.to_owned()))
        });
    first
        .into_iter()
        .chain(templates.into_iter().map(|t| (t, origin.to_owned())))
        .collect()
}

/// Words of a shell-like option string (quotes group words; nothing is expanded).
pub fn split_options(text: &str, origin: &str) -> Result<Vec<String>, UsageError> {
    shlex::split(text).ok_or_else(|| {
        UsageError::new(format!(
            "{origin}: cannot split '{text}' into words (an unbalanced quote?)"
        ))
    })
}

/// Words of one of python-build's option variables (`PYTHON_CONFIGURE_OPTS`, …), split as
/// python-build's shell splits them: on whitespace, quotes not special. None when unset.
pub fn python_build_words(name: &str) -> Vec<String> {
    std::env::var(name)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `make` options without their job counts, and the last count they name (`-j4`, `-j 4`,
/// `--jobs=4`, `--jobs 4`); `origin` names where the words came from in errors.
pub fn split_make_jobs(
    words: &[String],
    origin: &str,
) -> Result<(Option<usize>, Vec<String>), UsageError> {
    let mut jobs = None;
    let mut rest = Vec::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let count = match word.as_str() {
            "-j" | "--jobs" => words.next().map(String::as_str),
            w => match w.strip_prefix("--jobs=").or_else(|| w.strip_prefix("-j")) {
                Some(count) => Some(count),
                None => {
                    rest.push(word.clone());
                    continue;
                }
            },
        };
        let count = count.and_then(|c| c.parse::<usize>().ok()).ok_or_else(|| {
            UsageError::new(format!(
                "{origin}: '{word}' must name a number of build jobs (e.g. -j4)"
            ))
        })?;
        jobs = Some(count);
    }
    Ok((jobs, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_like_a_shell() {
        assert_eq!(
            split_options(
                r#"--enable-optimizations  CFLAGS="-O2 -g" --with-x='a b'"#,
                "t"
            )
            .unwrap(),
            ["--enable-optimizations", "CFLAGS=-O2 -g", "--with-x=a b"]
        );
        assert!(split_options("   ", "t").unwrap().is_empty());
        let err = split_options("CFLAGS='-O2", "--configure-opts").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("--configure-opts: cannot split"));
    }

    #[test]
    fn make_jobs_are_taken_out_in_every_spelling() {
        let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let (jobs, rest) = split_make_jobs(&words("-j 4 V=1 --jobs=6 -s"), "MAKE_OPTS").unwrap();
        assert_eq!((jobs, rest), (Some(6), words("V=1 -s")));
        let (jobs, rest) = split_make_jobs(&words("-j3 --jobs 2"), "MAKE_OPTS").unwrap();
        assert_eq!((jobs, rest), (Some(2), Vec::new()));
        assert_eq!(split_make_jobs(&[], "M").unwrap(), (None, Vec::new()));
        let err = split_make_jobs(&words("-j"), "MAKE_OPTS").unwrap_err();
        assert!(
            err.to_string().starts_with("MAKE_OPTS: '-j' must name"),
            "{err}"
        );
    }

    #[test]
    fn seconds_are_finite_numbers_in_range() {
        assert_eq!(seconds(" 2.5 ", 60.0), Ok(Duration::from_millis(2500)));
        for bad in [
            "NaN", "nan", "inf", "-inf", "-1", "0", "61", "1e400", "", "3s",
        ] {
            let err = seconds(bad, 60.0).unwrap_err();
            assert!(
                err.starts_with("a number of seconds from 0.1 to 60 "),
                "{err}"
            );
        }
    }

    #[test]
    fn jobs_are_bounded_and_name_their_origin() {
        let config = Config::default();
        assert_eq!(
            jobs(Some(3), None, None, "python.jobs", &config).unwrap(),
            3
        );
        assert_eq!(
            jobs(Some(3), Some((5, "MAKE_OPTS")), None, "k", &config).unwrap(),
            3
        );
        assert_eq!(
            jobs(None, Some((5, "MAKE_OPTS")), Some(2), "k", &config).unwrap(),
            5
        );
        let err = jobs(None, Some((0, "MAKE_OPTS")), None, "k", &config).unwrap_err();
        assert!(
            err.to_string().contains("MAKE_OPTS must be from 1"),
            "{err}"
        );
        let err = jobs(Some(0), None, None, "python.jobs", &config)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--jobs must be from 1"), "{err}");
        let err = jobs(None, None, Some(5000), "boost.jobs", &config)
            .unwrap_err()
            .to_string();
        assert!(err.contains("key boost.jobs must be from 1"), "{err}");
    }
}
