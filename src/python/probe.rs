//! What a build that links against a Python needs to know about it (Boost.Python, extension
//! modules): asked of the interpreter itself through `sysconfig`, once.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// Prints the facts as one JSON line; works with Python 2.7 and 3.x.
const SCRIPT: &str = r#"
import json, sys, sysconfig
v = sysconfig.get_config_var
r = {
    "version": "%d.%d" % sys.version_info[:2],
    "include": sysconfig.get_paths()["include"],
    "libdir": v("LIBDIR") or "",
    "ldlibrary": v("LDLIBRARY") or "",
    "shared": bool(v("Py_ENABLE_SHARED")),
    "ext_suffix": v("EXT_SUFFIX") or v("SO") or ".so",
    "abiflags": getattr(sys, "abiflags", ""),
}
try:
    import numpy
    r["numpy_include"] = numpy.get_include()
except Exception:
    r["numpy_include"] = None
print("strap-python: " + json.dumps(r))
"#;

const MARK: &str = "strap-python: ";

/// A Python interpreter as a build sees it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PythonInfo {
    /// The interpreter to configure builds with (set by [`probe`], not by the script).
    #[serde(skip)]
    pub executable: PathBuf,
    /// `3.11`.
    pub version: String,
    /// The directory of `Python.h`.
    pub include: PathBuf,
    /// `LIBDIR`: where `libpythonX.Y` is.
    pub libdir: PathBuf,
    /// `LDLIBRARY`: `libpython3.11.so` for a shared build, `libpython3.11.a` otherwise.
    pub ldlibrary: String,
    /// Built with `--enable-shared`.
    pub shared: bool,
    /// The file suffix of extension modules (`.cpython-311-x86_64-linux-gnu.so`).
    pub ext_suffix: String,
    /// `t` for a free-threaded build, `d` for a debug one.
    pub abiflags: String,
    /// numpy's include directory when the interpreter can import numpy.
    pub numpy_include: Option<PathBuf>,
}

impl PythonInfo {
    /// `(major, minor)`.
    pub fn major_minor(&self) -> (u32, u32) {
        let parts = crate::dotted::lenient(&self.version);
        (parts[0], parts.get(1).copied().unwrap_or(0))
    }

    /// The version without the dot (`311`), as Boost.Python's library names carry it.
    pub fn nodot(&self) -> String {
        self.version.replace('.', "")
    }

    /// `Python.h`, which must exist for anything to compile against this Python.
    pub fn header(&self) -> PathBuf {
        self.include.join("Python.h")
    }

    /// The shared `libpythonX.Y.so`, when the interpreter has one.
    pub fn shared_library(&self) -> Option<PathBuf> {
        let by_config = self.libdir.join(&self.ldlibrary);
        let plain = self
            .libdir
            .join(format!("libpython{}{}.so", self.version, self.abiflags));
        [by_config, plain]
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "so") && p.exists())
    }
}

/// Why an interpreter could not be probed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot run {}: {source}", python.display())]
    Spawn {
        python: PathBuf,
        source: std::io::Error,
    },
    #[error("{} cannot report its build settings (sysconfig): {output}", python.display())]
    Failed { python: PathBuf, output: String },
}

impl crate::error::Explain for ProbeError {}

/// Asks `python` about itself.
pub fn probe(python: &Path) -> Result<PythonInfo, ProbeError> {
    let output = Command::new(python)
        .args(["-c", SCRIPT])
        .env_remove("PYTHONHOME")
        .output()
        .map_err(|source| ProbeError::Spawn {
            python: python.to_owned(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let parsed = stdout
        .lines()
        .find_map(|l| l.strip_prefix(MARK))
        .and_then(|json| serde_json::from_str::<PythonInfo>(json).ok());
    match parsed {
        Some(info) if output.status.success() => Ok(PythonInfo {
            executable: python.to_owned(),
            ..info
        }),
        _ => Err(ProbeError::Failed {
            python: python.to_owned(),
            output: format!("{stdout}{}", String::from_utf8_lossy(&output.stderr))
                .trim()
                .lines()
                .last()
                .unwrap_or("no output")
                .to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_python_reports_its_build_settings() {
        let info = probe(Path::new("/usr/bin/python3")).expect("the tests need /usr/bin/python3");
        assert!(info.version.starts_with("3."), "{info:?}");
        assert_eq!(info.nodot(), info.version.replace('.', ""));
        assert!(info.ext_suffix.ends_with(".so"), "{info:?}");
        assert_eq!(info.executable, Path::new("/usr/bin/python3"));
        let err = probe(Path::new("/bin/false")).unwrap_err();
        assert!(err.to_string().contains("cannot report"), "{err}");
    }
}
