//! Mirror URL templates: `{version}`, `{file}` and `{sha256}` placeholders, e.g.
//! `https://www.python.org/ftp/python/{version}/{file}` or `http://artifacts.local/{sha256}`;
//! prebuilt CPython mirrors have `{build}` and `{file}`
//! (`https://mirror.example/pbs/{build}/{file}`).

use std::path::PathBuf;

use crate::error::UsageError;

/// Where CPython archives come from when nothing else is configured.
pub const DEFAULT_PYTHON_MIRROR: &str = "https://www.python.org/ftp/python/{version}/{file}";
/// Where Boost archives come from when nothing else is configured.
pub const DEFAULT_BOOST_MIRROR: &str = "https://archives.boost.io/release/{version}/source/{file}";

/// What a template's placeholders stand for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placeholders<'a> {
    /// `{version}`: the release (for CPython, its directory on python.org).
    pub version: &'a str,
    /// `{file}`: the archive's name.
    pub file: &'a str,
    /// `{sha256}`: the archive's checksum.
    pub sha256: &'a str,
    /// `{build}`: a prebuilt archive's release tag (`20250115`); empty for source archives.
    pub build: &'a str,
}

impl<'a> Placeholders<'a> {
    /// A source archive's: `{version}`, `{file}`, `{sha256}`.
    pub fn source(version: &'a str, file: &'a str, sha256: &'a str) -> Placeholders<'a> {
        Placeholders {
            version,
            file,
            sha256,
            build: "",
        }
    }
}

/// What [`check`] and [`probe_url`] fill templates with.
const SAMPLE: Placeholders<'static> = Placeholders {
    version: "1.0.0",
    file: "archive.tar.gz",
    sha256: "0000000000000000000000000000000000000000000000000000000000000000",
    build: "20250101",
};

/// The URL `template` names for an archive with these `values`.
pub fn expand(template: &str, values: &Placeholders<'_>) -> String {
    template
        .replace("{version}", values.version)
        .replace("{file}", values.file)
        .replace("{sha256}", values.sha256)
        .replace("{build}", values.build)
}

/// True when `template` is a `file:` URL (in any case).
pub fn is_file_template(template: &str) -> bool {
    template
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("file:"))
}

/// What a template's archives are: that decides the placeholders it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archives {
    /// Source archives (CPython, Boost, the families): `{version}`, `{file}`, `{sha256}`.
    Sources,
    /// python-build-standalone's prebuilt CPython: `{build}`, `{file}`.
    Prebuilt,
}

impl Archives {
    /// How errors name a template of these archives.
    fn what(self) -> &'static str {
        match self {
            Archives::Sources => "mirror template",
            Archives::Prebuilt => "prebuilt mirror template",
        }
    }

    /// The hint of an error about a template: its placeholders and an example.
    fn hint(self) -> &'static str {
        match self {
            Archives::Sources => {
                "a mirror is an http://, https:// or file:// URL with {version}, {file} or \
                 {sha256}, e.g. https://mirror.example/python/{version}/{file}"
            }
            Archives::Prebuilt => {
                "a prebuilt mirror is an http://, https:// or file:// URL with {build} (the \
                 release tag) and {file}, e.g. https://mirror.example/pbs/{build}/{file}"
            }
        }
    }

    /// The settings that add a mirror of these archives, for hints.
    pub fn settings(self) -> &'static str {
        match self {
            Archives::Sources => "--mirror, the STRAP_*_MIRRORS variable or the config file",
            Archives::Prebuilt => {
                "--prebuilt-mirror, STRAP_PREBUILT_MIRRORS or [python] prebuilt_mirrors in the \
                 config file (e.g. https://mirror.example/pbs/{build}/{file})"
            }
        }
    }

    /// A `file://` mirror of these archives as a flag, for hints.
    pub fn file_mirror_example(self) -> &'static str {
        match self {
            Archives::Sources => "--mirror 'file:///srv/python/{file}'",
            Archives::Prebuilt => {
                "--prebuilt-mirror 'file:///srv/pbs/{build}/{file}' (or STRAP_PREBUILT_MIRRORS, \
                 [python] prebuilt_mirrors)"
            }
        }
    }

    /// The placeholders its templates may have: those [`expand`] fills for these archives.
    fn placeholders(self) -> &'static [&'static str] {
        match self {
            Archives::Sources => &["{version}", "{file}", "{sha256}"],
            Archives::Prebuilt => &["{build}", "{file}", "{version}", "{sha256}"],
        }
    }

    /// The first `{…}` in `template` that is not one of its placeholders.
    fn unknown_placeholder(self, template: &str) -> Option<&str> {
        template.match_indices('{').find_map(|(start, _)| {
            let end = template[start..]
                .find('}')
                .map_or(template.len(), |end| start + end + 1);
            let name = &template[start..end];
            (!self.placeholders().contains(&name)).then_some(name)
        })
    }

    /// Why `template` would fetch every archive from the same URL, if it would.
    fn same_url_for_all(self, template: &str) -> Option<&'static str> {
        match self {
            Archives::Sources if !template.contains("{file}") && !template.contains("{sha256}") => {
                Some("has neither {file} nor {sha256}")
            }
            Archives::Prebuilt if !template.contains("{file}") => Some("has no {file}"),
            _ => None,
        }
    }
}

/// True when a template can serve any file, not only one laid out by CPython version
/// (it has `{sha256}`, or `{file}` without `{version}`).
pub fn serves_any_file(template: &str) -> bool {
    template.contains("{sha256}")
        || (template.contains("{file}") && !template.contains("{version}"))
}

/// Where a mirror `template` is asked whether it is there: the root of its host; for a `file:`
/// template, the directory before its first placeholder (`file:///srv/m/{version}/{file}`:
/// `file:///srv/m/`), which must exist.
pub fn probe_url(template: &str) -> Result<String, String> {
    let filled = expand(template, &SAMPLE);
    let mut url = url::Url::parse(&filled).map_err(|e| e.to_string())?;
    if url.scheme() == "file" {
        let fixed = &template[..template.find('{').unwrap_or(template.len())];
        return Ok(fixed[..=fixed.rfind('/').unwrap_or(0)].to_owned());
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.to_string())
}

/// True for a `file://` URL: a directory on this machine, which `--offline` still reads.
pub fn is_local(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.scheme() == "file")
}

/// The path the `file:` URL `text` names on this machine, for every `file:` URL strap is given
/// (source and binary mirrors). Only an absolute path is one: `file:///srv/x` (also
/// `file:/srv/x` and `file://localhost/srv/x`). A relative one (`file:builds`, `file:./x`) is
/// refused, since a URL has no current directory and `file:builds` would be read as `/builds`;
/// so is `file://HOST/x`, a path on another machine. The error, a clause that follows the URL
/// in a sentence, shows the form to use.
pub fn local_path(text: &str) -> Result<PathBuf, String> {
    const FORM: &str = "file:///absolute/path";
    let url = url::Url::parse(text).map_err(|e| format!("is not a URL: {e}"))?;
    // What the URL parser ignores around a URL; the scheme itself may be in any case.
    let written = text.trim_matches(|c: char| c <= ' ');
    let after_scheme = written
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("file:"))
        .and_then(|_| written.get(5..));
    if !after_scheme.is_some_and(|path| path.starts_with('/')) {
        return Err(format!(
            "is a relative file URL; a file URL names an absolute path: {FORM}"
        ));
    }
    url.to_file_path().map_err(|()| {
        format!(
            "names the host '{}'; a file URL names a path on this machine: {FORM}",
            url.host_str().unwrap_or_default()
        )
    })
}

/// Checks a template of `archives` before anything runs: it must have the placeholders that
/// tell archives apart, and with them filled be an `http://`, `https://` or `file://` URL.
/// `origin` names where it came from (a flag, an environment variable, a config file) for the
/// error.
pub fn check(template: &str, archives: Archives, origin: &str) -> Result<(), UsageError> {
    let what = archives.what();
    if let Some(unknown) = archives.unknown_placeholder(template) {
        let known = archives.placeholders();
        return Err(UsageError::new(format!(
            "{what} '{template}' (from {origin}) has an unknown placeholder {unknown}: it may \
             have {} and {}",
            known[..known.len() - 1].join(", "),
            known[known.len() - 1]
        ))
        .with_hint(archives.hint()));
    }
    if let Some(lacks) = archives.same_url_for_all(template) {
        return Err(UsageError::new(format!(
            "{what} '{template}' (from {origin}) {lacks}: every archive would be fetched from \
             the same URL"
        )));
    }
    let filled = expand(template, &SAMPLE);
    let problem = match url::Url::parse(&filled) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => return Ok(()),
        Ok(url) if url.scheme() == "file" => match local_path(&filled) {
            Ok(_) => return Ok(()),
            Err(why) => format!("it {why}"),
        },
        Ok(url) => format!("the scheme '{}' is not http, https or file", url.scheme()),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            "it does not start with http://, https:// or file://".to_owned()
        }
        Err(e) => e.to_string(),
    };
    Err(UsageError::new(format!(
        "{what} '{template}' (from {origin}) is not a URL strap can download from: {problem}"
    ))
    .with_hint(archives.hint()))
}

/// Splits a comma-separated list of templates (as in `STRAP_PYTHON_MIRRORS`).
pub fn split_list(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        let source = Placeholders::source("3.11.2", "Python-3.11.2.tgz", "ab");
        assert_eq!(
            expand(DEFAULT_PYTHON_MIRROR, &source),
            "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz"
        );
        assert_eq!(
            expand("http://m/{sha256}", &Placeholders::source("1", "f", "abc")),
            "http://m/abc"
        );
        let prebuilt = Placeholders {
            build: "20250115",
            ..source
        };
        assert_eq!(
            expand("file:///m/{build}/{file}", &prebuilt),
            "file:///m/20250115/Python-3.11.2.tgz"
        );
        assert!(is_file_template("FILE:///m/{file}"));
        assert!(!is_file_template("https://m/{file}"));
        assert!(serves_any_file("file:///srv/{file}"));
        assert!(!serves_any_file(DEFAULT_PYTHON_MIRROR));
        assert_eq!(split_list(" a, ,b ").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn mirrors_are_asked_at_their_hosts_root() {
        assert_eq!(
            probe_url("http://127.0.0.1:8080/python/{version}/{file}?x=1").unwrap(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(probe_url("file:m/{file}").unwrap(), "file:m/");
        assert_eq!(
            probe_url("file:///srv/m/Python-{version}/{file}").unwrap(),
            "file:///srv/m/"
        );
        assert!(probe_url("{file}").is_err());
    }

    #[test]
    fn only_file_urls_are_local() {
        assert!(is_local("file:///srv/python/Python-3.11.2.tgz"));
        assert!(is_local("FILE:///srv/x"));
        for remote in [
            "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz",
            "http://127.0.0.1:8080/x",
            "/srv/x",
        ] {
            assert!(!is_local(remote), "{remote}");
        }
    }

    #[test]
    fn file_urls_name_absolute_paths_on_this_machine() {
        for (url, path) in [
            ("file:///srv/builds", "/srv/builds"),
            ("FILE:///srv/builds", "/srv/builds"),
            ("file:/srv/builds", "/srv/builds"),
            ("file://localhost/srv/builds", "/srv/builds"),
            (" file:///srv/builds ", "/srv/builds"),
        ] {
            assert_eq!(local_path(url), Ok(PathBuf::from(path)), "{url}");
        }
        for relative in ["file:builds", "file:./x", "file:../x", "file:", "file:~/x"] {
            let err = local_path(relative).unwrap_err();
            assert!(
                err.starts_with("is a relative file URL"),
                "{relative}: {err}"
            );
            assert!(err.ends_with("file:///absolute/path"), "{err}");
        }
        let err = local_path("file://builds/x").unwrap_err();
        assert!(err.starts_with("names the host 'builds'"), "{err}");
    }

    #[test]
    fn templates_must_be_downloadable_urls() {
        for good in [
            DEFAULT_PYTHON_MIRROR,
            "http://127.0.0.1:8080/{sha256}",
            "file:///srv/mirror/{file}",
        ] {
            assert!(check(good, Archives::Sources, "a test").is_ok(), "{good}");
        }
        for bad in [
            "{file}",
            "ftp://host/{file}",
            "mirror.example/{file}",
            "http://host/",
            "file:m/{file}",
            "file://m/{file}",
        ] {
            let err = check(bad, Archives::Sources, "STRAP_PYTHON_MIRRORS")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("'{bad}' (from STRAP_PYTHON_MIRRORS)")),
                "{err}"
            );
        }
    }

    #[test]
    fn prebuilt_templates_need_their_file_and_are_checked_with_their_build_filled() {
        let check = |t| check(t, Archives::Prebuilt, "--prebuilt-mirror");
        assert!(check("https://mirror.example/pbs/{build}/{file}").is_ok());
        assert!(check("file:///srv/pbs/{file}").is_ok());
        // What the URL is checked as: every placeholder filled, `{build}` too.
        assert_eq!(
            expand("file:///srv/pbs/{build}/{file}", &SAMPLE),
            "file:///srv/pbs/20250101/archive.tar.gz"
        );
        for same in ["https://m/pbs/{build}", "https://m/pbs/{sha256}"] {
            let err = check(same).unwrap_err();
            assert_eq!(
                err.message,
                format!(
                    "prebuilt mirror template '{same}' (from --prebuilt-mirror) has no {{file}}: \
                     every archive would be fetched from the same URL"
                )
            );
        }
        for (template, unknown, known) in [
            (
                "https://m/{bogus}/{file}",
                "{bogus}",
                "{build}, {file}, {version} and {sha256}",
            ),
            (
                "https://m/{build}/{file",
                "{file",
                "{build}, {file}, {version} and {sha256}",
            ),
        ] {
            assert_eq!(
                check(template).unwrap_err().message,
                format!(
                    "prebuilt mirror template '{template}' (from --prebuilt-mirror) has an \
                     unknown placeholder {unknown}: it may have {known}"
                )
            );
        }
        let err = super::check("https://m/{build}/{file}", Archives::Sources, "--mirror");
        assert!(err
            .unwrap_err()
            .message
            .ends_with("unknown placeholder {build}: it may have {version}, {file} and {sha256}"));
        let hint = check("ftp://m/{build}/{file}").unwrap_err().hint.unwrap();
        assert!(
            hint.contains("{build}") && !hint.contains("{version}"),
            "{hint}"
        );
    }
}
