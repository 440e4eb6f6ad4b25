//! python-build definition files of the user's own (`pyenv install PATH/TO/DEFINITION`, and
//! each file in the directories `PYTHON_BUILD_DEFINITIONS` names), read — never run — into
//! catalog definitions. The form python-build's own simple definitions take is understood:
//! `install_package` / `install_script` lines with `#sha256` URLs, the build step words, the
//! `verify_*` and pip words, `prefer_openssl11`/`prefer_openssl3`, and dependencies that only
//! macOS builds (`--if has_broken_mac_…`); any other line is refused, naming it.

use std::path::Path;

use super::{Definition, Family, ANY_ARCH};

/// Why a definition file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("cannot read the definition {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    /// The file, the line, and why.
    #[error("{file}:{line}: {why}")]
    Malformed {
        file: String,
        line: usize,
        why: String,
    },
}

impl crate::error::Explain for DefinitionError {
    fn hint(&self) -> Option<String> {
        matches!(self, DefinitionError::Malformed { .. }).then(|| {
            "strap reads python-build definitions made of `install_package \"NAME\" \
             \"URL#SHA256\" STEP...` (or `install_script`) lines, `prefer_openssl11`, \
             `prefer_openssl3` and comments; it does not run them as shell scripts"
                .to_owned()
        })
    }

    fn exit_code(&self) -> i32 {
        crate::error::EXIT_USAGE
    }
}

/// The definition the file at `path` describes, named as the file is.
pub fn read(path: &Path) -> Result<Definition, DefinitionError> {
    let file = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = crate::bounded::read_text(path).map_err(|source| DefinitionError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&name, &text).map_err(|(line, why)| DefinitionError::Malformed { file, line, why })
}

/// Parses definition `text` named `name`; errors carry the line number.
fn parse(name: &str, text: &str) -> Result<Definition, (usize, String)> {
    let mut main: Option<(usize, Vec<String>)> = None;
    let mut openssl11 = false;
    // python-build's `if has_tar_xz_support; then … else … fi`: the first branch (strap reads
    // .tar.xz), the other skipped.
    let mut branch = Branch::Outside;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let words = shlex::split(line).ok_or_else(|| {
            (
                number,
                format!("cannot read the line (unbalanced quotes): {line}"),
            )
        })?;
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        branch = match (branch, words.as_slice()) {
            (Branch::Outside, ["if", "has_tar_xz_support;", "then"]) => {
                branch = Branch::Taken;
                continue;
            }
            (Branch::Taken, ["else"]) => Branch::Skipped,
            (Branch::Taken | Branch::Skipped, ["fi"]) => Branch::Outside,
            (Branch::Skipped, _) => Branch::Skipped,
            (branch, _) => branch,
        };
        if matches!(words.as_slice(), ["else"] | ["fi"]) || branch == Branch::Skipped {
            continue;
        }
        match words.as_slice() {
            [] => {}
            [w, ..] if w.starts_with('#') => {}
            ["prefer_openssl11"] => openssl11 = true,
            ["prefer_openssl3"] => openssl11 = false,
            // python-build's build settings (`PYTHON_BUILD_CONFIGURE_WITH_OPENSSL=1`, …):
            // strap's build makes those choices itself.
            ["export", setting]
                if setting.starts_with("PYTHON_BUILD_") && setting.contains('=') => {}
            ["install_package" | "install_script", _, _, ..] => {
                let condition = words.iter().position(|w| *w == "--if");
                match condition.and_then(|at| words.get(at + 1)) {
                    // A macOS-only dependency (`--if has_broken_mac_openssl`).
                    Some(test) if test.starts_with("has_broken_mac_") => continue,
                    Some(test) => {
                        return Err((
                            number,
                            format!("strap does not evaluate python-build's condition `{test}`"),
                        ))
                    }
                    None => {}
                }
                if let Some((first, _)) = &main {
                    return Err((
                        number,
                        format!(
                            "a second package (the first is on line {first}): strap installs \
                             one package per definition"
                        ),
                    ));
                }
                main = Some((number, words.iter().map(|w| (*w).to_owned()).collect()));
            }
            _ => {
                return Err((
                    number,
                    format!("strap does not understand this line of a definition: {line}"),
                ))
            }
        }
    }
    let (number, words) =
        main.ok_or_else(|| (1, "no install_package or install_script line".to_owned()))?;
    let (url, steps) = (&words[2], &words[3..]);
    let family = family_of(name, &words[0], steps).map_err(|why| (number, why))?;
    let mut fields: Vec<String> = vec![format!("{ANY_ARCH}={url}")];
    let python = steps.iter().find_map(|s| {
        let digits = s.strip_prefix("verify_py")?;
        let (major, minor) = digits.split_at(1.min(digits.len()));
        (!minor.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("py={major}.{minor}"))
    });
    fields.extend(python);
    if openssl11 {
        fields.push("openssl11".to_owned());
    }
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    Definition::parse(name, family, &fields).map_err(|why| (number, why))
}

/// Where a line is in python-build's `if has_tar_xz_support; then … else … fi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    Outside,
    Taken,
    Skipped,
}

/// The family a definition installs as, from its build step (`standard`, `pypy`, …).
fn family_of(name: &str, function: &str, steps: &[String]) -> Result<Family, String> {
    let by_name = Family::ALL
        .into_iter()
        .filter(|f| *f != Family::CPython)
        .find(|f| name.to_ascii_lowercase().starts_with(f.id()));
    let known_words = |s: &&String| {
        !(s.starts_with("verify_")
            || matches!(s.as_str(), "ensurepip" | "get_pip" | "copy_python_gdb"))
    };
    let step = steps.iter().find(known_words).map(String::as_str);
    let family = match (function, step) {
        ("install_script", Some("anaconda" | "miniconda")) => by_name
            .filter(|f| f.method() == super::Method::CondaInstaller)
            .unwrap_or(Family::Miniconda),
        (_, Some("standard")) => by_name
            .filter(|f| f.method() == super::Method::ForkBuild)
            .unwrap_or(Family::CPython),
        (_, Some("pypy")) => Family::PyPy,
        (_, Some("pyston")) => Family::Pyston,
        (_, Some("copy")) => Family::GraalPy,
        (_, Some("graalpython")) => Family::GraalPython,
        (_, Some("activepython")) => Family::ActivePython,
        (_, Some("micropython")) => Family::MicroPython,
        (_, Some("jython")) => Family::Jython,
        (_, Some("ironpython")) => Family::IronPython,
        (_, Some(other)) => return Err(format!("strap does not know the build step '{other}'")),
        (_, None) => return Err("no build step (standard, pypy, copy, miniconda, …)".to_owned()),
    };
    Ok(family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_builds_simple_definitions_are_read() {
        let sha = "a".repeat(64);
        let text = format!(
            "# mine\nprefer_openssl11\n\
             install_package \"openssl-1.1.1k\" \"https://h/openssl-1.1.1k.tar.gz#{sha}\" mac_openssl --if has_broken_mac_openssl\n\
             install_package \"Python-3.12.7\" \"https://h/Python-3.12.7.tgz#{sha}\" standard verify_py312 copy_python_gdb ensurepip\n"
        );
        let d = parse("3.12.7-patched", &text).unwrap();
        assert_eq!(d.family, Family::CPython);
        assert_eq!(d.python.as_deref(), Some("3.12"));
        assert!(d.needs_openssl11);
        assert_eq!(d.downloads[0].arch, ANY_ARCH);
        assert_eq!(d.downloads[0].url, format!("https://h/Python-3.12.7.tgz"));
        let pypy = parse(
            "mypypy",
            &format!("install_package \"pypy3.10\" \"https://h/pypy3.10-v7.3.17-linux64.tar.bz2#{sha}\" pypy verify_py310 ensurepip\n"),
        )
        .unwrap();
        assert_eq!(pypy.family, Family::PyPy);
        let conda = parse(
            "miniforge3-mine",
            &format!("install_script \"Miniforge3\" \"https://h/Miniforge3-1-Linux-x86_64.sh#{sha}\" miniconda verify_py312\n"),
        )
        .unwrap();
        assert_eq!(conda.family, Family::Miniforge);
    }

    #[test]
    fn a_copy_of_python_builds_own_cpython_definition_is_read() {
        let sha = "a".repeat(64);
        let text = format!(
            "prefer_openssl3\nexport PYTHON_BUILD_CONFIGURE_WITH_OPENSSL=1\n\
             install_package \"openssl-3.5.1\" \"https://h/openssl-3.5.1.tar.gz#{sha}\" mac_openssl --if has_broken_mac_openssl\n\
             if has_tar_xz_support; then\n\
             \x20 install_package \"Python-3.12.7\" \"https://h/Python-3.12.7.tar.xz#{sha}\" standard verify_py312 copy_python_gdb ensurepip\n\
             else\n\
             \x20 install_package \"Python-3.12.7\" \"https://h/Python-3.12.7.tgz#{sha}\" standard verify_py312 copy_python_gdb ensurepip\n\
             fi\n"
        );
        let d = parse("my-3.12.7", &text).unwrap();
        assert_eq!(d.family, Family::CPython);
        assert_eq!(d.downloads[0].url, "https://h/Python-3.12.7.tar.xz");
        assert!(!d.needs_openssl11);
    }

    #[test]
    fn anything_else_is_refused_with_its_line() {
        let sha = "a".repeat(64);
        let err = parse(
            "x",
            "install_package a https://h/Python-3.1.1.tgz#abc standard\nrm -rf /\n",
        )
        .unwrap_err();
        assert_eq!(err.0, 2);
        assert!(err.1.contains("does not understand this line"), "{}", err.1);
        // No checksum: read, and installed only with --sha256 (as a catalog line without one).
        let d = parse(
            "x",
            "install_package a https://h/Python-3.1.1.tgz standard\n",
        )
        .unwrap();
        assert_eq!(d.downloads[0].sha256, None);
        let err = parse(
            "x",
            "install_package a https://h/x.tgz standard --if needs_yaml\n",
        )
        .unwrap_err();
        assert!(err.1.contains("condition `needs_yaml`"), "{}", err.1);
        let err = parse("x", "install_git a https://h/x master standard\n").unwrap_err();
        assert_eq!(err.0, 1);
        let err = parse(
            "x",
            &format!("install_package a \"https://h/Python-3.1.1.tgz#{sha}\" bogus_step\n"),
        )
        .unwrap_err();
        assert!(err.1.contains("build step 'bogus_step'"), "{}", err.1);
        assert!(parse("x", "# nothing\n")
            .unwrap_err()
            .1
            .contains("no install_package"));
    }
}
