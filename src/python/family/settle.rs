//! What an installer or `make install` left in the staging area, made fit to be renamed into
//! place: the staged prefix it wrote into files rewritten to the final one, links that leave
//! the install refused (absolute ones into it made relative), and the mode bits no install
//! needs (setuid, setgid, sticky, world-writable) dropped, as the unpacker drops them.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::archive::STRIPPED_MODE_BITS;
use crate::error::{Io, IoContext};
use crate::relocate::RelocateError;
use crate::stage::StageError;

/// All of it, for what a program (an installer, `make install`) wrote into `staged`, which is
/// renamed to `prefix`.
pub fn settle(name: &str, staged: &Path, prefix: &Path) -> Result<(), StageError> {
    unstage(name, staged, prefix)?;
    check_links(staged)?;
    strip_modes(staged)
}

/// Rewrites what was written naming the staged prefix (`staged`) to the final one (`prefix`),
/// which the rename makes true.
pub fn unstage(name: &str, staged: &Path, prefix: &Path) -> Result<(), StageError> {
    let (old, new) = (staged.display().to_string(), prefix.display().to_string());
    match crate::relocate::relocate(staged, &old, &new) {
        Ok(_) => Ok(()),
        Err(RelocateError::Io(io)) => Err(io.into()),
        Err(e) => Err(StageError::Verify {
            what: name.to_owned(),
            why: e.to_string(),
            hint: None,
        }),
    }
}

/// Drops the mode bits the unpacker drops ([`STRIPPED_MODE_BITS`]) from every file and directory under `root` (not through links).
fn strip_modes(root: &Path) -> Result<(), StageError> {
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let meta = fs::symlink_metadata(&path).io_context("inspect", &path)?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode();
        if mode & STRIPPED_MODE_BITS != 0 {
            let kept = fs::Permissions::from_mode(mode & 0o777 & !STRIPPED_MODE_BITS);
            fs::set_permissions(&path, kept).io_context("set the mode of", &path)?;
        }
        if meta.is_dir() {
            for entry in fs::read_dir(&path).io_context("read", &path)? {
                pending.push(entry.io_context("read", &path)?.path());
            }
        }
    }
    Ok(())
}

/// Every link under `prefix` must stay inside it, as the rename into place keeps it working:
/// an absolute one into the prefix (an installer's) is made relative, any other that leaves it
/// is refused. (The unpacker already refused such links in archives.)
pub fn check_links(prefix: &Path) -> Result<(), StageError> {
    let root = fs::canonicalize(prefix).io_context("resolve", prefix)?;
    let mut pending = vec![prefix.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).io_context("read", &dir)? {
            let path = entry.io_context("read", &dir)?.path();
            let meta = fs::symlink_metadata(&path).io_context("inspect", &path)?;
            if meta.is_dir() {
                pending.push(path);
            } else if meta.file_type().is_symlink() {
                check_link(prefix, &root, &path)?;
            }
        }
    }
    Ok(())
}

/// Checks the link `link` under `prefix` (`root` once resolved): where it leads when it leads
/// anywhere, else where its text says.
fn check_link(prefix: &Path, root: &Path, link: &Path) -> Result<(), StageError> {
    let target = fs::read_link(link).io_context("read the link", link)?;
    let parent = link.parent().unwrap_or(prefix);
    let lexical = normalize(&parent.join(&target));
    let inside = match fs::canonicalize(link) {
        Ok(real) => real.starts_with(root),
        Err(_) => lexical.starts_with(prefix),
    };
    let inside = inside.then(|| lexical.strip_prefix(prefix).ok()).flatten();
    let Some(inside) = inside else {
        return Err(StageError::Verify {
            what: link
                .strip_prefix(prefix)
                .unwrap_or(link)
                .display()
                .to_string(),
            why: format!(
                "a link to {} leaves the install; it was not installed",
                target.display()
            ),
            hint: None,
        });
    };
    if target.is_absolute() {
        let from: Vec<Component<'_>> = parent
            .strip_prefix(prefix)
            .unwrap_or(parent)
            .components()
            .collect();
        let to: Vec<Component<'_>> = inside.components().collect();
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        let relative: PathBuf = std::iter::repeat_n(Component::ParentDir, from.len() - common)
            .chain(to[common..].iter().copied())
            .collect();
        let relative = if relative.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            relative
        };
        fs::remove_file(link).io_context("replace", link)?;
        symlink(&relative, link).map_err(|e| Io::new("link", link, e))?;
    }
    Ok(())
}

/// `path` with `.` and `..` resolved by its text.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A file holding `x` with `mode`, its directories made (for the layouts' tests too).
    pub(in crate::python::family) fn write(path: &Path, mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "x").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn absolute_links_into_the_prefix_become_relative_and_links_out_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("stage/versions/x");
        write(&prefix.join("bin/python3.6"), 0o755);
        symlink(prefix.join("bin/python3.6"), prefix.join("bin/python3")).unwrap();
        write(&prefix.join("lib/deep/er/file"), 0o644);
        symlink(prefix.join("bin/python3.6"), prefix.join("lib/deep/er/py")).unwrap();
        symlink("../../bin", prefix.join("lib/deep/bin")).unwrap();
        check_links(&prefix).unwrap();
        let link = |p: &str| fs::read_link(prefix.join(p)).unwrap();
        assert_eq!(link("bin/python3"), Path::new("python3.6"));
        assert_eq!(link("lib/deep/er/py"), Path::new("../../../bin/python3.6"));
        assert_eq!(link("lib/deep/bin"), Path::new("../../bin"));

        symlink("/etc/passwd", prefix.join("lib/passwd")).unwrap();
        let err = check_links(&prefix).unwrap_err().to_string();
        assert_eq!(
            err,
            "lib/passwd: a link to /etc/passwd leaves the install; it was not installed"
        );
        fs::remove_file(prefix.join("lib/passwd")).unwrap();
        symlink("../../../..", prefix.join("bin/up")).unwrap();
        assert!(check_links(&prefix).is_err());
        fs::remove_file(prefix.join("bin/up")).unwrap();
        // Inside by its text, outside by where it leads: lib/deep/bin is bin/, two levels up.
        symlink("bin/../../..", prefix.join("lib/deep/sneaky")).unwrap();
        assert!(check_links(&prefix).is_err());
    }

    #[test]
    fn settling_rewrites_the_staged_prefix_and_drops_setuid() {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("stage/versions/x");
        let prefix = dir.path().join("versions/x");
        write(&staged.join("bin/suid"), 0o4755);
        fs::write(
            staged.join("bin/script"),
            format!("#!{}/bin/python\n", staged.display()),
        )
        .unwrap();
        settle("x", &staged, &prefix).unwrap();
        let mode = fs::metadata(staged.join("bin/suid"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755);
        assert_eq!(
            fs::read_to_string(staged.join("bin/script")).unwrap(),
            format!("#!{}/bin/python\n", prefix.display())
        );
    }
}
