//! Naming this machine's compilers where a python-build-standalone build names its own: PBS
//! builds with clang from its build tree (`/tools/llvm/bin/clang`, `-L/tools/deps/lib`,
//! `-fuse-ld=lld`), and `sysconfig` hands those to every C extension build (setuptools,
//! meson-python), which then fails on machines without them. As uv does, the compiler words of
//! `CC`, `CXX`, `LDSHARED`… become this machine's C and C++ compilers and the build tree's
//! flags are dropped, in `_sysconfigdata_*.py` (an `update` appended to its dictionary, so
//! whatever shape it has), `config-*/Makefile` and `pythonX.Y-config`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::IoContext;
use crate::process::Runner;
use crate::python::verify::Staged;
use crate::stage::StageError;

/// Variables whose first word is the C compiler.
const C_COMPILER_VARS: &[&str] = &["CC", "LDSHARED", "BLDSHARED", "LINKCC", "MAINCC"];
/// Variables whose first word is the C++ compiler.
const CXX_COMPILER_VARS: &[&str] = &["CXX", "LDCXXSHARED"];
/// Variables of flags that may name the build tree.
const FLAG_VARS: &[&str] = &[
    "CFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "CCSHARED",
    "PY_CFLAGS",
    "PY_CPPFLAGS",
    "PY_LDFLAGS",
    "PY_CORE_CFLAGS",
    "PY_CORE_LDFLAGS",
    "PY_STDMODULE_CFLAGS",
    "CONFIGURE_CFLAGS",
    "CONFIGURE_CPPFLAGS",
    "CONFIGURE_LDFLAGS",
];

/// Prints the variables and the file of the `_sysconfigdata` module the interpreter reads.
const READ: &str = "import json, sys, sysconfig\n\
name = sysconfig._get_sysconfigdata_name()\n\
module = __import__(name)\n\
print('strap-sysconfig: ' + json.dumps({'file': module.__file__, 'vars': dict((k, sysconfig.get_config_var(k)) for k in sys.argv[1:])}))\n";

/// The machine's compilers.
pub struct Compilers {
    pub c: String,
    pub cxx: String,
}

impl Compilers {
    /// This machine's (`$CC`/`cc`…, `$CXX`/`c++`…), `cc` and `c++` when none is found (the
    /// C extension check then says so).
    pub fn here() -> Compilers {
        Compilers {
            c: crate::sysdeps::c_compiler().unwrap_or_else(|| "cc".to_owned()),
            cxx: crate::sysdeps::cxx_compiler().unwrap_or_else(|| "c++".to_owned()),
        }
    }

    /// `value` of the variable `var` with this machine's compiler and without the build
    /// tree's flags; `None` when it is not a variable that names them.
    fn fix(&self, var: &str, value: &str) -> Option<String> {
        let compiler = if C_COMPILER_VARS.contains(&var) {
            Some(&self.c)
        } else if CXX_COMPILER_VARS.contains(&var) {
            Some(&self.cxx)
        } else if FLAG_VARS.contains(&var) {
            None
        } else {
            return None;
        };
        let mut words = value.split_whitespace().peekable();
        let mut out: Vec<&str> = Vec::new();
        // The compiler word itself; a Makefile's `$(CC) -shared` names it through `CC`.
        if let Some(compiler) = compiler {
            if words.peek().is_some_and(|first| is_compiler(first)) {
                words.next();
                out.push(compiler);
            }
        }
        while let Some(word) = words.next() {
            if word == "-isystem" && words.peek().is_some_and(|p| names_build_tree(p)) {
                words.next();
            } else if !names_build_tree(word) && !word.starts_with("-fuse-ld=") {
                out.push(word);
            }
        }
        Some(out.join(" "))
    }
}

/// True for a word that is a compiler driver (`clang`, `/tools/llvm/bin/clang-18`, `gcc`,
/// `x86_64-linux-gnu-gcc`, `cc`, `c++`).
fn is_compiler(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    ["clang", "clang++", "gcc", "g++", "cc", "c++"]
        .iter()
        .any(|c| {
            base == *c || base.starts_with(&format!("{c}-")) || base.ends_with(&format!("-{c}"))
        })
}

/// True for a flag or path of PBS's build tree (`-L/tools/deps/lib`, `/tools/...`); a path
/// that merely has a `tools` directory in it (`/opt/tools/strap/...`) is not.
fn names_build_tree(word: &str) -> bool {
    let path = [
        "-Wl,-rpath-link,",
        "-Wl,-rpath,",
        "-isystem",
        "-I",
        "-L",
        "-B",
    ]
    .iter()
    .find_map(|flag| word.strip_prefix(flag))
    .unwrap_or(word);
    path.starts_with("/tools/")
}

/// What was changed, for the log: `VAR: old → new`.
pub type Changes = Vec<String>;

/// Rewrites the staged install at `prefix` (interpreter `python`) to name `compilers`.
pub fn rewrite(
    runner: &Runner,
    python: &Staged,
    prefix: &Path,
    compilers: &Compilers,
) -> Result<Changes, String> {
    let vars: Vec<&str> = C_COMPILER_VARS
        .iter()
        .chain(CXX_COMPILER_VARS)
        .chain(FLAG_VARS)
        .copied()
        .collect();
    let output = python
        .run(runner, python.command().args(["-c", READ]).args(&vars))
        .map_err(|e| format!("cannot read its sysconfig: {e}"))?;
    let line = output
        .lines()
        .find_map(|l| l.strip_prefix("strap-sysconfig: "))
        .ok_or_else(|| format!("its sysconfig did not answer: {}", output.trim()))?;
    #[derive(serde::Deserialize)]
    struct Read {
        file: PathBuf,
        vars: BTreeMap<String, Option<serde_json::Value>>,
    }
    let read: Read = serde_json::from_str(line).map_err(|e| format!("its sysconfig: {e}"))?;
    let mut fixed = BTreeMap::new();
    let mut changes = Vec::new();
    for (var, value) in &read.vars {
        let Some(serde_json::Value::String(value)) = value else {
            continue;
        };
        if let Some(new) = compilers.fix(var, value).filter(|new| new != value) {
            changes.push(format!("{var}: {value} → {new}"));
            fixed.insert(var.clone(), new);
        }
    }
    if !read.file.starts_with(prefix) {
        return Err(format!(
            "it reads its sysconfig from {}, outside the install",
            read.file.display()
        ));
    }
    if !fixed.is_empty() {
        append_update(&read.file, &fixed).map_err(|e| e.to_string())?;
    }
    for file in make_style_files(prefix) {
        rewrite_lines(&file, compilers).map_err(|e| e.to_string())?;
    }
    Ok(changes)
}

/// Appends `build_time_vars.update({...})` with `fixed` to the `_sysconfigdata` module `file`
/// and removes its compiled copies, which would be read instead.
fn append_update(file: &Path, fixed: &BTreeMap<String, String>) -> Result<(), crate::error::Io> {
    let mut text = fs::read_to_string(file).io_context("read", file)?;
    let json = serde_json::to_string(fixed).unwrap_or_default();
    text.push_str(&format!(
        "\n# strap: this machine's compilers, not those python-build-standalone was built with\n\
         build_time_vars.update({json})\n"
    ));
    fs::write(file, text).io_context("write", file)?;
    let stem = file
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    if let Some(cache) = file.parent().map(|d| d.join("__pycache__")) {
        for entry in fs::read_dir(&cache).into_iter().flatten().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{stem}."))
            {
                fs::remove_file(entry.path()).io_context("remove", entry.path())?;
            }
        }
    }
    Ok(())
}

/// `lib/python*/config-*/Makefile` and `bin/python*-config` under `prefix`.
fn make_style_files(prefix: &Path) -> Vec<PathBuf> {
    let children = |dir: &Path| -> Vec<PathBuf> {
        fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect()
    };
    let named = |p: &Path, start: &str, end: &str| {
        p.file_name()
            .map(|n| n.to_string_lossy())
            .is_some_and(|n| n.starts_with(start) && n.ends_with(end))
    };
    let mut files: Vec<PathBuf> = children(&prefix.join("lib"))
        .into_iter()
        .filter(|d| named(d, "python", ""))
        .flat_map(|d| children(&d))
        .filter(|d| named(d, "config-", ""))
        .map(|d| d.join("Makefile"))
        .chain(
            children(&prefix.join("bin"))
                .into_iter()
                .filter(|f| named(f, "python", "-config")),
        )
        .filter(|f| fs::symlink_metadata(f).is_ok_and(|m| m.is_file()))
        .collect();
    files.sort();
    files
}

/// Rewrites `VAR= value` lines of the variables [`Compilers::fix`] knows in `file`.
fn rewrite_lines(file: &Path, compilers: &Compilers) -> Result<(), crate::error::Io> {
    let Ok(text) = fs::read_to_string(file) else {
        return Ok(()); // not text: nothing to rewrite
    };
    let mut changed = false;
    let lines: Vec<String> = text
        .split_inclusive('\n')
        .map(|line| {
            let Some((var, value)) = line.split_once('=') else {
                return line.to_owned();
            };
            let body = value.trim_end_matches('\n');
            let Some(new) = (var.trim() == var)
                .then(|| fixed_value(compilers, var, body))
                .flatten()
                .filter(|new| new != body)
            else {
                return line.to_owned();
            };
            changed = true;
            let newline = if line.ends_with('\n') { "\n" } else { "" };
            format!("{var}={new}{newline}")
        })
        .collect();
    if changed {
        fs::write(file, lines.concat()).io_context("write", file)?;
    }
    Ok(())
}

/// `body` of the variable `var` fixed: a Makefile's value (`\t\tclang -pthread`), or in a
/// `pythonX.Y-config` shell script only the quoted value (`$(echo "-O3 -I/tools/…" | sed …)`), so
/// its quoting stays whole.
fn fixed_value(compilers: &Compilers, var: &str, body: &str) -> Option<String> {
    let (head, value, tail) = match body.find('"') {
        Some(open) => {
            let close = open + 1 + body[open + 1..].find('"')?;
            (&body[..=open], &body[open + 1..close], &body[close..])
        }
        None => {
            let gap = body.len() - body.trim_start().len();
            (&body[..gap], body[gap..].trim_end(), "")
        }
    };
    let new = compilers.fix(var, value.trim())?;
    Some(format!("{head}{new}{tail}"))
}

/// Why an install failed the rewrite.
pub fn failed(name: &str, why: String) -> StageError {
    StageError::Verify {
        what: name.to_owned(),
        why: format!("cannot name this machine's compiler in its sysconfig: {why}"),
        hint: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compilers() -> Compilers {
        Compilers {
            c: "cc".to_owned(),
            cxx: "c++".to_owned(),
        }
    }

    #[test]
    fn pbs_compilers_and_build_tree_flags_are_replaced() {
        let c = compilers();
        assert_eq!(c.fix("CC", "clang -pthread").unwrap(), "cc -pthread");
        assert_eq!(
            c.fix(
                "LDSHARED",
                "/tools/llvm/bin/clang -pthread -shared -fuse-ld=lld -L/tools/deps/lib -Wl,-O1"
            )
            .unwrap(),
            "cc -pthread -shared -Wl,-O1"
        );
        assert_eq!(c.fix("CXX", "clang++ -pthread").unwrap(), "c++ -pthread");
        assert_eq!(
            c.fix(
                "CFLAGS",
                "-O3 -isystem /tools/deps/include -I/tools/deps/include -Wall"
            )
            .unwrap(),
            "-O3 -Wall"
        );
        assert_eq!(c.fix("prefix", "/install"), None);
        // Only PBS's build tree goes, not an install under a `tools` directory.
        assert_eq!(
            c.fix(
                "LDFLAGS",
                "-L/opt/tools/strap/lib -L/tools/deps/lib -Wl,-rpath,/tools/deps/lib"
            )
            .unwrap(),
            "-L/opt/tools/strap/lib"
        );
    }

    #[test]
    fn makefile_references_and_config_script_quoting_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let makefile = dir.path().join("Makefile");
        let text = "LDSHARED=\t$(CC) -shared -L/tools/deps/lib\nBLDSHARED=\t$(CC) -shared\n\
                    LINKCC=\t\t$(PURIFY) $(CC)\nMAINCC=\t\t$(CC)\nLDCXXSHARED=\t$(CXX) -shared\n";
        fs::write(&makefile, text).unwrap();
        rewrite_lines(&makefile, &compilers()).unwrap();
        assert_eq!(
            fs::read_to_string(&makefile).unwrap(),
            text.replace(" -L/tools/deps/lib", "")
        );

        let script = dir.path().join("python3.11-config");
        fs::write(
            &script,
            "CFLAGS=$(echo \"-O3 -Wall -I/tools/deps/include\" | sed \"s#$prefix#$prefix_real#\")\n\
             LDFLAGS=$(echo \"-L/tools/deps/lib\" | sed \"s#$prefix#$prefix_real#\")\n",
        )
        .unwrap();
        rewrite_lines(&script, &compilers()).unwrap();
        assert_eq!(
            fs::read_to_string(&script).unwrap(),
            "CFLAGS=$(echo \"-O3 -Wall\" | sed \"s#$prefix#$prefix_real#\")\n\
             LDFLAGS=$(echo \"\" | sed \"s#$prefix#$prefix_real#\")\n"
        );
    }

    #[test]
    fn makefile_lines_are_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Makefile");
        fs::write(
            &file,
            "# CC=clang in a comment\nCC=\t\tclang -pthread\nCXX=\t\tclang++ -pthread\nOPT=\t-O3\n",
        )
        .unwrap();
        rewrite_lines(&file, &compilers()).unwrap();
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "# CC=clang in a comment\nCC=\t\tcc -pthread\nCXX=\t\tc++ -pthread\nOPT=\t-O3\n"
        );
    }
}
