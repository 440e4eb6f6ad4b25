//! Moving an install to another prefix: the text files that name the old prefix (script
//! shebangs, `_sysconfigdata_*.py`, `pythonX.Y-config`, `config-X.Y/Makefile`, `pkgconfig/*.pc`,
//! CMake package files) are rewritten to the new one, and binaries are checked to find their
//! libraries relative to themselves: an absolute run path under the old prefix would load the
//! old install's libraries, or none.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::atomic_file::{self, AtomicFile};
use crate::error::{Io, IoContext};

/// Files larger than this are not text files worth rewriting (and are not read whole).
const MAX_TEXT_FILE: u64 = 64 * 1024 * 1024;
/// How much of a file is read to tell a binary one.
const HEAD: u64 = 8 * 1024;

/// Why an install cannot be moved.
#[derive(Debug, thiserror::Error)]
pub enum RelocateError {
    #[error(transparent)]
    Io(#[from] Io),
    #[error("{} loads its libraries from the absolute path {run_path} under the old prefix {old}; the build is not relocatable", file.display())]
    AbsoluteRunPath {
        file: PathBuf,
        run_path: String,
        old: String,
    },
}

/// What a relocation changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Relocated {
    /// The text files whose old prefix was rewritten, relative to the root.
    pub rewritten: Vec<PathBuf>,
}

/// Moves the install under `root` (unpacked there, built for `old`) to the prefix `new`:
/// checks every ELF file's run paths, then rewrites `old` to `new` in every text file. Links
/// are neither followed nor written through.
pub fn relocate(root: &Path, old: &str, new: &str) -> Result<Relocated, RelocateError> {
    relocate_as(root, old, new, Match::Anywhere)
}

/// [`relocate`] for a short prefix that other paths contain (python-build-standalone's
/// `/install`, also in `pip/_internal/operations/install/`): `old` is rewritten only where it
/// is a whole path of its own, see [`whole_path_at`].
pub fn relocate_whole_path(root: &Path, old: &str, new: &str) -> Result<Relocated, RelocateError> {
    relocate_as(root, old, new, Match::WholePath)
}

/// Where the old prefix is rewritten.
#[derive(Clone, Copy)]
enum Match {
    Anywhere,
    WholePath,
}

fn relocate_as(root: &Path, old: &str, new: &str, how: Match) -> Result<Relocated, RelocateError> {
    let files = regular_files(root)?;
    // The files are independent: read and rewritten on up to 8 cores, as unpacking left them.
    // The first failure stops every thread, and the failure of the first file in the walk's
    // order among those that failed is the one reported.
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    type Done = Result<Vec<PathBuf>, (usize, RelocateError)>;
    let results: Vec<Done> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut rewritten = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(index) else { break };
                        match rewrite(path, old, new, how) {
                            Ok(true) => {
                                rewritten.push(path.strip_prefix(root).unwrap_or(path).to_owned())
                            }
                            Ok(false) => {}
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err((index, e));
                            }
                        }
                    }
                    Ok(rewritten)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a relocation thread panicked"))
            .collect()
    });
    let mut relocated = Relocated::default();
    let mut first_failure: Option<(usize, RelocateError)> = None;
    for result in results {
        match result {
            Ok(rewritten) => relocated.rewritten.extend(rewritten),
            Err((index, e)) if first_failure.as_ref().is_none_or(|(i, _)| index < *i) => {
                first_failure = Some((index, e));
            }
            Err(_) => {}
        }
    }
    if let Some((_, e)) = first_failure {
        return Err(e);
    }
    relocated.rewritten.sort();
    Ok(relocated)
}

/// Every regular file under `root`, links not followed.
fn regular_files(root: &Path) -> Result<Vec<PathBuf>, Io> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).io_context("read", &dir)? {
            let entry = entry.io_context("read", &dir)?;
            let path = entry.path();
            let kind = entry.file_type().io_context("inspect", &path)?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Checks an ELF file's run paths, or rewrites a text file that names `old`; true when it
/// rewrote it. The file is read and replaced without following links (see
/// [`crate::atomic_file`]).
fn rewrite(path: &Path, old: &str, new: &str, how: Match) -> Result<bool, RelocateError> {
    let mut file = atomic_file::open_regular(path).io_context("read", path)?;
    let metadata = file.metadata().io_context("read", path)?;
    if metadata.len() > MAX_TEXT_FILE {
        return Ok(false);
    }
    // Most files are binary (bytecode, archives) and show it in their first bytes: those are
    // not read further, except ELF files, whose run paths are checked.
    let mut bytes = Vec::with_capacity(metadata.len().min(HEAD) as usize);
    (&mut file)
        .take(HEAD)
        .read_to_end(&mut bytes)
        .io_context("read", path)?;
    let elf = bytes.starts_with(b"\x7fELF");
    if !elf && memchr::memchr(0, &bytes).is_some() {
        return Ok(false);
    }
    file.read_to_end(&mut bytes).io_context("read", path)?;
    if elf {
        check_run_paths(path, &bytes, old)?;
        return Ok(false);
    }
    if memchr::memchr(0, &bytes).is_some() || memchr::memmem::find(&bytes, old.as_bytes()).is_none()
    {
        return Ok(false);
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(false);
    };
    let text = match how {
        Match::Anywhere => text.replace(old, new),
        Match::WholePath => match replace_whole_paths(&text, old, new) {
            Some(text) => text,
            None => return Ok(false),
        },
    };
    let mut replacement = AtomicFile::create(path).io_context("write next to", path)?;
    let mode = fs::Permissions::from_mode(metadata.permissions().mode());
    replacement
        .file()
        .set_permissions(mode)
        .io_context("set the permissions of", path)?;
    replacement
        .file()
        .write_all(text.as_bytes())
        .io_context("write", path)?;
    replacement.commit().io_context("replace", path)?;
    Ok(true)
}

/// `text` with `old` rewritten to `new` where it is a whole path; `None` when it is nowhere.
fn replace_whole_paths(text: &str, old: &str, new: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut replaced = false;
    for (at, _) in text.match_indices(old) {
        if at >= rest && whole_path_at(text, at, old.len()) {
            out.push_str(&text[rest..at]);
            out.push_str(new);
            rest = at + old.len();
            replaced = true;
        }
    }
    out.push_str(&text[rest..]);
    replaced.then_some(out)
}

/// True when the `len` bytes of `text` at `at` are a path of their own: not the end of a
/// longer one (preceded by a path's character, except a one-letter flag's `-L`, `-I`), and not
/// the start of a longer name (followed by `/` or no path character).
fn whole_path_at(text: &str, at: usize, len: usize) -> bool {
    let bytes = text.as_bytes();
    let path_byte = |b: u8| b.is_ascii_alphanumeric() || b"_.-+/~".contains(&b);
    let starts = match at.checked_sub(1).map(|i| bytes[i]) {
        None => true,
        Some(b) if !path_byte(b) => true,
        Some(b) => b.is_ascii_alphabetic() && at >= 2 && bytes[at - 2] == b'-',
    };
    let ends = bytes
        .get(at + len)
        .is_none_or(|&b| b == b'/' || !path_byte(b));
    starts && ends
}

/// Fails when the ELF file's `DT_RPATH`/`DT_RUNPATH` names a directory under `old` (relative
/// entries, `$ORIGIN/…`, and system directories are fine).
fn check_run_paths(path: &Path, bytes: &[u8], old: &str) -> Result<(), RelocateError> {
    let Ok(elf) = goblin::elf::Elf::parse(bytes) else {
        return Ok(()); // not an ELF file we can read: nothing that loads libraries
    };
    let old_dir = Path::new(old);
    let absolute_under_old = elf
        .rpaths
        .iter()
        .chain(&elf.runpaths)
        .flat_map(|list| list.split(':'))
        .find(|entry| Path::new(entry).starts_with(old_dir));
    match absolute_under_old {
        Some(entry) => Err(RelocateError::AbsoluteRunPath {
            file: path.to_owned(),
            run_path: entry.to_owned(),
            old: old.to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn compile(dir: &Path, name: &str, run_path: &str) -> PathBuf {
        let source = dir.join("main.c");
        fs::write(&source, "int main(void) { return 0; }\n").unwrap();
        let out = dir.join(name);
        let status = Command::new(crate::sysdeps::c_compiler().expect("a C compiler"))
            .arg("-o")
            .arg(&out)
            .arg(&source)
            .arg(format!("-Wl,-rpath,{run_path}"))
            .status()
            .unwrap();
        assert!(status.success());
        out
    }

    #[test]
    fn text_files_naming_the_old_prefix_are_rewritten_and_keep_their_mode() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        fs::create_dir_all(bin.join("sub")).unwrap();
        fs::write(
            bin.join("pip3"),
            "#!/old/prefix/bin/python3.11\nimport pip\n",
        )
        .unwrap();
        fs::set_permissions(bin.join("pip3"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(
            bin.join("sub/config.pc"),
            "prefix=/old/prefix\nlibdir=/old/prefix/lib\n",
        )
        .unwrap();
        fs::write(bin.join("untouched.txt"), "nothing here\n").unwrap();
        fs::write(bin.join("data.bin"), b"/old/prefix\0binary").unwrap();
        std::os::unix::fs::symlink("/old/prefix/bin/pip3", bin.join("link")).unwrap();
        let done = relocate(root.path(), "/old/prefix", "/new/longer/prefix").unwrap();
        assert_eq!(
            done.rewritten,
            [
                PathBuf::from("bin/pip3"),
                PathBuf::from("bin/sub/config.pc")
            ]
        );
        assert_eq!(
            fs::read_to_string(bin.join("pip3")).unwrap(),
            "#!/new/longer/prefix/bin/python3.11\nimport pip\n"
        );
        assert_eq!(
            fs::metadata(bin.join("pip3")).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(
            fs::read_to_string(bin.join("sub/config.pc")).unwrap(),
            "prefix=/new/longer/prefix\nlibdir=/new/longer/prefix/lib\n"
        );
        assert_eq!(
            fs::read(bin.join("data.bin")).unwrap(),
            b"/old/prefix\0binary"
        );
        assert_eq!(
            fs::read_link(bin.join("link")).unwrap(),
            Path::new("/old/prefix/bin/pip3"),
            "links are not followed or changed"
        );
    }

    #[test]
    fn a_short_prefix_is_rewritten_only_where_it_is_a_whole_path() {
        let text = "#!/install/bin/python3\n'prefix': '/install', 'X': '-L/install/lib -I/install/include'\n\
                    pip/_internal/operations/install/x.py /installer /install";
        assert_eq!(
            replace_whole_paths(text, "/install", "/p").unwrap(),
            "#!/p/bin/python3\n'prefix': '/p', 'X': '-L/p/lib -I/p/include'\n\
             pip/_internal/operations/install/x.py /installer /p"
        );
        assert_eq!(replace_whole_paths("a/install/b", "/install", "/p"), None);
    }

    #[test]
    fn binaries_must_find_their_libraries_relative_to_themselves() {
        let root = tempfile::tempdir().unwrap();
        compile(root.path(), "relative", "$ORIGIN/../lib");
        compile(root.path(), "system", "/usr/lib/extra");
        assert!(relocate(root.path(), "/old/prefix", "/new").is_ok());
        compile(root.path(), "absolute", "/old/prefix/lib");
        let err = relocate(root.path(), "/old/prefix", "/new").unwrap_err();
        assert!(
            matches!(&err, RelocateError::AbsoluteRunPath { run_path, .. } if run_path == "/old/prefix/lib"),
            "{err}"
        );
        assert!(err.to_string().contains("not relocatable"), "{err}");
    }
}
