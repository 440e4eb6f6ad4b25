//! Files that steps own: how one differs from its desired content, mode and owner (as a unified
//! diff), and writing it atomically with that mode and owner.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::error::StepError;
use super::host::StepCtx;
use crate::atomic_file::AtomicFile;
use crate::error::{Io, IoContext};
use crate::shell::quote_posix;

/// The desired state of a file.
#[derive(Debug, Clone)]
pub(crate) struct Desired {
    pub(crate) content: String,
    /// Without one, an existing file keeps its mode and a new one gets 0644.
    pub(crate) mode: Option<u32>,
    /// `user` or `user:group`.
    pub(crate) owner: Option<String>,
}

/// What differs between the file at `path` and `want` (None: nothing).
pub(crate) fn changes(
    path: &Path,
    want: &Desired,
    ctx: &StepCtx<'_>,
) -> Result<Option<String>, StepError> {
    let Some(current) = read_if_exists(path)? else {
        return Ok(Some(unified_diff(path, "", &want.content)));
    };
    let mut changes = Vec::new();
    if current != want.content {
        changes.push(unified_diff(path, &current, &want.content));
    }
    if let Some(mode) = want.mode {
        let actual = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0);
        if actual != mode {
            changes.push(format!("mode {actual:04o} -> {mode:04o}"));
        }
    }
    if let Some(owner) = want.owner.as_deref() {
        let stat = format!("stat -c %U:%G {}", quote_posix(&path.to_string_lossy()));
        let actual = ctx.sh(&stat)?.output.trim().to_owned();
        if actual != owner && actual.split(':').next() != Some(owner) {
            changes.push(format!("owner {actual} -> {owner}"));
        }
    }
    Ok((!changes.is_empty()).then(|| changes.join("\n")))
}

/// The most bytes of a file a step manages that strap reads to compare it (a configuration file
/// has a few KiB).
const MANAGED_FILE_LIMIT: u64 = 16 << 20;

/// The file's text, or None when it does not exist. Only a regular file is read (a FIFO or a
/// device in its place is refused at once), and at most [`MANAGED_FILE_LIMIT`] bytes of it.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<String>, StepError> {
    match crate::bounded::read(path, MANAGED_FILE_LIMIT) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Io::new("read", path, e).into()),
    }
}

/// Writes a file atomically (a new temporary file, then a rename that replaces a link at
/// `path` rather than writing through it) with its mode and owner.
pub(crate) fn write(path: &Path, want: &Desired, ctx: &StepCtx<'_>) -> Result<(), StepError> {
    let fail = |e| Io::new("write", path, e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).io_context("create", dir)?;
    }
    let mode = want
        .mode
        .or_else(|| {
            std::fs::metadata(path)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777)
        })
        .unwrap_or(0o644);
    let mut file = AtomicFile::create(path).map_err(fail)?;
    file.file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| file.file().write_all(want.content.as_bytes()))
        .and_then(|()| file.replace())
        .map_err(fail)?;
    if let Some(owner) = &want.owner {
        ctx.must(&format!(
            "chown {} {}",
            quote_posix(owner),
            quote_posix(&path.to_string_lossy())
        ))?;
    }
    Ok(())
}

/// A unified diff from `old` to `new`, both named by `path`.
pub(crate) fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string()
}
