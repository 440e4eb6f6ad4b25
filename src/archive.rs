//! Safe unpacking of source archives and packed builds (`.tar.xz`, `.tgz`/`.tar.gz`, `.tar.bz2`,
//! `.tar.zst`): absolute paths, `..` components, links that lead out of the tree (alone or
//! through other links; the tree is the archive's single top directory when it has one) and
//! device files are refused; setuid, setgid, sticky and world-writable bits are dropped. Errors
//! say whether the archive or the destination is at fault.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc;

use tar::EntryType;

/// Why an archive could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The file is not xz, gzip, bzip2 or zstd data.
    #[error("{}: not a compressed tar archive (expected xz, gzip, bzip2 or zstd data)", .0.display())]
    UnknownFormat(PathBuf),
    /// An entry would escape the destination or is not allowed in a source archive.
    #[error("{}: refusing entry '{entry}': {why}", archive.display())]
    Unsafe {
        /// The archive.
        archive: PathBuf,
        /// The entry's path as the archive names it.
        entry: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// Reading the archive failed: it cannot be opened, does not decompress, is truncated, has
    /// bad tar headers or entries that contradict each other.
    #[error("{}: corrupt or unreadable archive: {source}", archive.display())]
    Corrupt {
        /// The archive.
        archive: PathBuf,
        /// What went wrong while reading it.
        source: io::Error,
    },
    /// Writing into the destination failed (no space left, permission denied, read-only file
    /// system...): the archive is fine, the local machine is not.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

impl ArchiveError {
    /// Whether the failure is in the local destination rather than in the archive, so that
    /// another copy of the archive would fail the same way.
    pub fn is_local_io(&self) -> bool {
        matches!(self, ArchiveError::Write { .. })
    }
}

const OUTSIDE: &str = "it is a link that points outside the tree";
const THROUGH_OUTSIDE: &str = "its path goes through a link that points outside the tree";
const ABSOLUTE_LINK: &str = "it is a link to an absolute path";
const LINK_LOOP: &str = "it is a link in a loop or in a chain of more than 40 links";
const EMPTY_LINK: &str = "it is a link with an empty target";
const THROUGH_LOOP: &str = "its path goes through a loop of links or a chain of more than 40 links";

/// Mode bits never unpacked: setuid, setgid, sticky and world-writable. Nothing strap installs
/// needs them, and an archive must not hand them out.
pub(crate) const STRIPPED_MODE_BITS: u32 = 0o7002;

/// The most links one path resolution may follow (the kernel's limit too).
const MAX_LINK_HOPS: usize = 40;

/// How many times its own size an archive may unpack to (sources and builds unpack to 3 to
/// 15 times theirs): more is a decompression bomb, refused before it fills the disk.
const MAX_EXPANSION: u64 = 100;
/// What any archive may unpack to, however small it is.
const MIN_ALLOWANCE: u64 = 1 << 30;

/// Unpacks `archive` into `dest` (which must be empty or absent) and returns the source tree:
/// the single top-level directory when there is one, else `dest`.
///
/// Symbolic and hard links are resolved against the links unpacked before them, so a chain of
/// links that each look harmless but together climb out of `dest` is refused, as is any entry
/// whose path passes through a link that leads outside. Once all is unpacked, every link is
/// checked again from the returned tree: a link out of the single top directory is refused too.
/// An archive whose tar stream is over [`MAX_EXPANSION`] times its size (and over
/// [`MIN_ALLOWANCE`]) is refused as corrupt.
pub fn unpack(archive: &Path, dest: &Path) -> Result<PathBuf, ArchiveError> {
    let size = fs::metadata(archive).map_or(0, |m| m.len());
    unpack_within(
        archive,
        dest,
        size.saturating_mul(MAX_EXPANSION).max(MIN_ALLOWANCE),
    )
}

/// [`unpack`], refusing a tar stream longer than `allowance` bytes.
fn unpack_within(archive: &Path, dest: &Path, allowance: u64) -> Result<PathBuf, ArchiveError> {
    let corrupt = |source| ArchiveError::Corrupt {
        archive: archive.to_owned(),
        source: with_causes(source),
    };
    let mut file = BufReader::new(File::open(archive).map_err(corrupt)?);
    // By content, not by name: a checksum-addressed mirror serves files without extensions.
    let magic = file.fill_buf().map_err(corrupt)?;
    let decoder: Box<dyn Read + Send> = if magic.starts_with(b"\xFD7zXZ\x00") {
        Box::new(xz2::read::XzDecoder::new(file))
    } else if magic.starts_with(b"\x1F\x8B") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else if magic.starts_with(b"BZh") {
        Box::new(bzip2::read::BzDecoder::new(file))
    } else if magic.starts_with(b"\x28\xB5\x2F\xFD") {
        Box::new(zstd::stream::read::Decoder::with_buffer(file).map_err(corrupt)?)
    } else {
        return Err(ArchiveError::UnknownFormat(archive.to_owned()));
    };
    fs::create_dir_all(dest).map_err(|e| write_error(dest, e))?;
    let read_state = Rc::new(Cell::new(ReadState::Fine));
    let mut tar = tar::Archive::new(ReadSide {
        inner: ReadAhead::new(decoder),
        state: Rc::clone(&read_state),
        left: allowance,
        allowance,
    });
    tar.set_preserve_permissions(true);
    tar.set_mask(STRIPPED_MODE_BITS);
    tar.set_preserve_mtime(true);
    tar.set_overwrite(true);
    let mut links = Links::default();
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry.path().map_err(corrupt)?.into_owned();
        let unsafe_entry = |why| ArchiveError::Unsafe {
            archive: archive.to_owned(),
            entry: crate::error::printable_name(&path.to_string_lossy()).into_owned(),
            why,
        };
        check_relative(&path).map_err(unsafe_entry)?;
        let Some(name) = path.file_name() else {
            continue; // `.` or `./`: the destination itself, nothing to unpack.
        };
        let parent = links
            .resolve(Path::new(""), path.parent().unwrap_or(Path::new("")), true)
            .map_err(|why| {
                unsafe_entry(match why {
                    OUTSIDE => THROUGH_OUTSIDE,
                    LINK_LOOP => THROUGH_LOOP,
                    other => other,
                })
            })?;
        let location = parent.join(name);
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {}
            EntryType::Directory => {
                if links.0.contains_key(&location) {
                    return Err(unsafe_entry(
                        "it is a directory in the place of a link unpacked before it",
                    ));
                }
            }
            EntryType::Symlink => {
                let target = link_name(&mut entry).map_err(corrupt)?;
                if target.as_os_str().is_empty() {
                    return Err(unsafe_entry(EMPTY_LINK));
                }
                if target.has_root() {
                    return Err(unsafe_entry(ABSOLUTE_LINK));
                }
                links.0.insert(location.clone(), target);
                links
                    .resolve(&parent, Path::new(name), true)
                    .map_err(unsafe_entry)?;
            }
            EntryType::Link => {
                // A hard link names its target from the top of the tree.
                let target = link_name(&mut entry).map_err(corrupt)?;
                check_relative(&target).map_err(unsafe_entry)?;
                let Some(target_name) = target.file_name() else {
                    return Err(unsafe_entry(EMPTY_LINK));
                };
                let target_parent = links
                    .resolve(
                        Path::new(""),
                        target.parent().unwrap_or(Path::new("")),
                        true,
                    )
                    .map_err(unsafe_entry)?;
                let target_location = target_parent.join(target_name);
                if let Some(text) = links.0.get(&target_location).cloned() {
                    // link(2) does not follow a symlink: the new entry is a second symlink with
                    // the same text, which must make sense from its own directory too.
                    links.0.insert(location.clone(), text);
                    links
                        .resolve(&parent, Path::new(name), true)
                        .map_err(unsafe_entry)?;
                } else if !fs::symlink_metadata(dest.join(&target_location))
                    .is_ok_and(|m| m.is_file())
                {
                    return Err(corrupt(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "hard link '{}' points at '{}', which is not a file unpacked before it",
                            crate::error::printable_name(&path.to_string_lossy()),
                            crate::error::printable_name(&target.to_string_lossy())
                        ),
                    )));
                }
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                return Err(unsafe_entry(
                    "device and FIFO entries are not allowed in a source archive",
                ))
            }
            // PAX and GNU long-name headers are consumed by the reader; anything else is skipped.
            _ => continue,
        }
        let unpacked = entry.unpack_in(dest).map_err(|e| match read_state.get() {
            ReadState::Fine => destination_error(dest, &dest.join(&location), e, &corrupt),
            ReadState::Failed => corrupt(e),
            // The tar crate words this as "failed to write entire file".
            ReadState::Ended => corrupt(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("it ends in the middle of '{}'", path.display()),
            )),
        })?;
        if !unpacked {
            return Err(unsafe_entry("it would be written outside the destination"));
        }
        if !matches!(kind, EntryType::Symlink | EntryType::Link) {
            // A file replaces a link of the same name (the tar crate unlinks it first).
            links.0.remove(&location);
        }
    }
    // A link checked when it was unpacked may lead elsewhere once later links exist: check all
    // of them again against the finished tree, from the directory that becomes its root.
    let root = single_top_dir(dest);
    let base = root
        .as_deref()
        .and_then(|root| root.strip_prefix(dest).ok())
        .unwrap_or(Path::new(""));
    links
        .check_within(base)
        .map_err(|(location, why)| ArchiveError::Unsafe {
            archive: archive.to_owned(),
            entry: crate::error::printable_name(&location.to_string_lossy()).into_owned(),
            why,
        })?;
    Ok(root.unwrap_or_else(|| dest.to_owned()))
}

fn link_name<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<PathBuf> {
    Ok(entry.link_name()?.unwrap_or_default().into_owned())
}

/// What the archive's reader has met so far.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ReadState {
    Fine,
    /// A read failed (bad compressed data, unreadable file).
    Failed,
    /// The data ran out while more was wanted (a truncated archive, or its normal end).
    Ended,
}

/// Decompresses on a thread of its own, a few chunks ahead of the reader (as `tar` reads from a
/// separate `bzip2` process): unpacking takes as long as the slower of decompressing and
/// writing files, not their sum.
struct ReadAhead {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    position: usize,
    finished: bool,
}

impl ReadAhead {
    /// Chunks read ahead.
    const CHUNK: usize = 256 * 1024;
    const AHEAD: usize = 8;

    fn new(mut inner: Box<dyn Read + Send>) -> ReadAhead {
        let (sender, chunks) = mpsc::sync_channel(Self::AHEAD);
        std::thread::spawn(move || loop {
            let mut chunk = vec![0; Self::CHUNK];
            let sent = match inner.read(&mut chunk) {
                Ok(n) => {
                    chunk.truncate(n);
                    let end = n == 0;
                    sender.send(Ok(chunk)).is_ok() && !end
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
                Err(e) => {
                    let _ = sender.send(Err(e));
                    false
                }
            };
            // Stop at the end, after an error, or when the reader is gone.
            if !sent {
                break;
            }
        });
        ReadAhead {
            chunks,
            current: Vec::new(),
            position: 0,
            finished: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.position == self.current.len() {
            if self.finished {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => self.finished = true,
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.position = 0;
                }
                Ok(Err(e)) => {
                    self.finished = true;
                    return Err(e);
                }
                Err(mpsc::RecvError) => {
                    self.finished = true;
                    return Err(io::Error::other("the decompressing thread stopped"));
                }
            }
        }
        let n = out.len().min(self.current.len() - self.position);
        out[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// The archive's decompressing reader, noting in `state` when it failed or ran dry: an error
/// while unpacking after that is the archive's fault (corrupt, truncated); any other is the
/// destination's.
/// It fails (as the archive's fault) once more than `allowance` bytes come out.
struct ReadSide<R> {
    inner: R,
    state: Rc<Cell<ReadState>>,
    /// Bytes it may still give.
    left: u64,
    allowance: u64,
}

impl<R: Read> Read for ReadSide<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf).and_then(|n| {
            self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "it unpacks to more than {} bytes, over {MAX_EXPANSION} times its size \
                         (a decompression bomb?)",
                        self.allowance
                    ),
                )
            })?;
            Ok(n)
        });
        match &result {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => self.state.set(ReadState::Failed),
            Ok(0) if !buf.is_empty() => self.state.set(ReadState::Ended),
            _ => {}
        }
        result
    }
}

/// Errors of the file system that, in a fresh destination, only the archive's own entries can
/// cause (a file where a directory is needed, a link to nothing, a name longer than a file
/// system takes...). The tar crate keeps the system's error code, or at least its kind when it
/// rewords the error.
fn is_entry_conflict(code: Option<i32>, kind: io::ErrorKind) -> bool {
    use io::ErrorKind::{AlreadyExists, InvalidFilename, IsADirectory, NotADirectory, NotFound};
    match code {
        Some(code) => [
            libc::ENOENT,
            libc::EEXIST,
            libc::ENOTDIR,
            libc::EISDIR,
            libc::ELOOP,
            libc::ENAMETOOLONG,
        ]
        .contains(&code),
        None => matches!(
            kind,
            NotFound | AlreadyExists | NotADirectory | IsADirectory | InvalidFilename
        ),
    }
}

/// Classifies an error from unpacking the entry meant for `file_dst` when the archive was read
/// without trouble: a local write failure, unless the entries themselves conflict.
fn destination_error(
    dest: &Path,
    file_dst: &Path,
    error: io::Error,
    corrupt: &dyn Fn(io::Error) -> ArchiveError,
) -> ArchiveError {
    let code = os_error_code(&error);
    if is_entry_conflict(code, error.kind()) {
        return corrupt(error);
    }
    match code {
        Some(code) => ArchiveError::Write {
            path: failed_path(dest, file_dst),
            source: io::Error::from_raw_os_error(code),
        },
        None => ArchiveError::Write {
            path: failed_path(dest, file_dst),
            source: error,
        },
    }
}

/// A write error on `path` (created by strap itself, not from an entry).
fn write_error(path: &Path, error: io::Error) -> ArchiveError {
    ArchiveError::Write {
        path: failed_path(Path::new("/"), path),
        source: error,
    }
}

/// `error` with the message of the error at the bottom of what it wraps appended: the tar
/// crate's errors only show their own description ("failed to unpack `x`"), not the cause
/// ("incomplete deflate stream").
fn with_causes(error: io::Error) -> io::Error {
    let mut cause = None;
    let mut next: Option<&(dyn std::error::Error + 'static)> = error
        .get_ref()
        .map(|inner| inner as &(dyn std::error::Error + 'static));
    for _ in 0..16 {
        let Some(current) = next else { break };
        cause = Some(current.to_string());
        next = match current.downcast_ref::<io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    let message = error.to_string();
    match cause {
        Some(cause) if !message.contains(&cause) => {
            io::Error::new(error.kind(), format!("{message}: {cause}"))
        }
        _ => error,
    }
}

/// The operating system's error code under the tar crate's wrapping (its errors are `io::Error`s
/// holding a description that holds the original `io::Error`).
fn os_error_code(error: &io::Error) -> Option<i32> {
    let mut current: &(dyn std::error::Error + 'static) = error;
    for _ in 0..16 {
        if let Some(io) = current.downcast_ref::<io::Error>() {
            if let Some(code) = io.raw_os_error() {
                return Some(code);
            }
            if let Some(inner) = io.get_ref() {
                current = inner;
                continue;
            }
        }
        current = current.source()?;
    }
    None
}

/// The path that could not be written while unpacking `file_dst`: the file itself, or the
/// outermost of its missing directories (below `dest`) when those could not be created.
fn failed_path(dest: &Path, file_dst: &Path) -> PathBuf {
    let mut failed = file_dst;
    while let Some(parent) = failed.parent() {
        if parent == dest || !parent.starts_with(dest) || fs::symlink_metadata(parent).is_ok() {
            break;
        }
        failed = parent;
    }
    failed.to_owned()
}

/// A path inside the tree: relative, no `..`.
fn check_relative(path: &Path) -> Result<(), &'static str> {
    for component in path.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err("its path contains '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("its path is absolute"),
        }
    }
    Ok(())
}

/// The symbolic links unpacked so far: where each one is, relative to the destination and
/// through no other link, and its target as written in the archive.
#[derive(Debug, Default)]
struct Links(HashMap<PathBuf, PathBuf>);

/// One step of a path being resolved.
enum Step {
    Up,
    Down(OsString),
}

/// Pushes the steps of `path` on `stack` so that its first component is popped first.
fn push_steps(stack: &mut Vec<Step>, path: &Path) -> Result<(), &'static str> {
    for component in path.components().rev() {
        match component {
            Component::Normal(name) => stack.push(Step::Down(name.to_owned())),
            Component::ParentDir => stack.push(Step::Up),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err(ABSOLUTE_LINK),
        }
    }
    Ok(())
}

impl Links {
    /// Resolves `path`, taken from the directory `from` (relative to the destination, through no
    /// link), component by component the way the kernel would on the unpacked tree: a component
    /// that is a known link is replaced by the link's target, read from the link's directory.
    /// The last component is followed too when `follow_last`. Components that are not known links
    /// are taken as directories (or not yet existing names). Returns where the path leads,
    /// relative to the destination and through no link; an error when it climbs above the
    /// destination, or follows more than [`MAX_LINK_HOPS`] links (which is how loops end).
    fn resolve(
        &self,
        from: &Path,
        path: &Path,
        follow_last: bool,
    ) -> Result<PathBuf, &'static str> {
        let mut at = from.to_owned();
        let mut stack = Vec::new();
        push_steps(&mut stack, path)?;
        let mut hops = 0;
        while let Some(step) = stack.pop() {
            match step {
                Step::Up => {
                    if !at.pop() {
                        return Err(OUTSIDE);
                    }
                }
                Step::Down(name) => {
                    let next = at.join(&name);
                    match self.0.get(&next) {
                        Some(target) if follow_last || !stack.is_empty() => {
                            hops += 1;
                            if hops > MAX_LINK_HOPS {
                                return Err(LINK_LOOP);
                            }
                            push_steps(&mut stack, target)?;
                        }
                        _ => at = next,
                    }
                }
            }
        }
        Ok(at)
    }
}

impl Links {
    /// Checks every link as seen from `base` (relative to the destination: the directory that
    /// becomes the unpacked tree's root): a link that leads above `base` is refused even when it
    /// stays inside the destination. Returns the first refused link's location and why.
    fn check_within(&self, base: &Path) -> Result<(), (PathBuf, &'static str)> {
        let rebased = Links(
            self.0
                .iter()
                .filter_map(|(at, to)| Some((at.strip_prefix(base).ok()?.to_owned(), to.clone())))
                .collect(),
        );
        let mut locations: Vec<&PathBuf> = rebased.0.keys().collect();
        locations.sort();
        for location in locations {
            let parent = location.parent().unwrap_or(Path::new(""));
            let name = Path::new(location.file_name().unwrap_or_default());
            rebased
                .resolve(parent, name, true)
                .map_err(|why| (base.join(location), why))?;
        }
        Ok(())
    }
}

/// The destination's only entry, when that is a directory (not a link to one).
fn single_top_dir(dest: &Path) -> Option<PathBuf> {
    let mut entries = fs::read_dir(dest).ok()?.filter_map(Result::ok);
    let first = entries.next()?;
    (entries.next().is_none() && first.file_type().ok()?.is_dir()).then(|| first.path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn links(pairs: &[(&str, &str)]) -> Links {
        Links(
            pairs
                .iter()
                .map(|(at, to)| (PathBuf::from(at), PathBuf::from(to)))
                .collect(),
        )
    }

    /// Where the link at `at` leads.
    fn target_of(links: &Links, at: &str) -> Result<PathBuf, &'static str> {
        let at = Path::new(at);
        links.resolve(
            at.parent().unwrap(),
            Path::new(at.file_name().unwrap()),
            true,
        )
    }

    #[test]
    fn a_link_alone_is_resolved_from_its_directory() {
        let none = Links::default();
        let from = |dir: &str, target: &str| none.resolve(Path::new(dir), Path::new(target), true);
        assert_eq!(from("top/sub", "../file"), Ok(PathBuf::from("top/file")));
        assert_eq!(from("top", "../../etc/passwd"), Err(OUTSIDE));
        assert_eq!(from("", ".."), Err(OUTSIDE));
        assert_eq!(from("top", ".."), Ok(PathBuf::new()));
        assert_eq!(from("top", "/etc/passwd"), Err(ABSOLUTE_LINK));
        assert_eq!(from("top", "a/../../b"), Ok(PathBuf::from("b")));
        assert_eq!(from("top", "a/../../../b"), Err(OUTSIDE));
        assert_eq!(from("top", "./a/./b/"), Ok(PathBuf::from("top/a/b")));
    }

    #[test]
    fn a_chain_of_links_that_climbs_out_is_refused() {
        let mut chain = links(&[("top/up1", "..")]);
        assert_eq!(target_of(&chain, "top/up1"), Ok(PathBuf::new()));
        chain
            .0
            .insert(PathBuf::from("top/up2"), PathBuf::from("up1/.."));
        assert_eq!(target_of(&chain, "top/up2"), Err(OUTSIDE));
        // Each link of the chain, and anything below one, leaves the tree.
        for i in 3..=12 {
            chain.0.insert(
                PathBuf::from(format!("top/up{i}")),
                PathBuf::from(format!("up{}/..", i - 1)),
            );
        }
        for i in 2..=12 {
            assert_eq!(
                target_of(&chain, &format!("top/up{i}")),
                Err(OUTSIDE),
                "up{i}"
            );
        }
        assert_eq!(
            chain.resolve(Path::new(""), Path::new("top/up12/etc"), true),
            Err(OUTSIDE)
        );
    }

    #[test]
    fn a_link_into_the_tree_resolves_through_its_target() {
        let tree = links(&[("top/lib", "sub/dir")]);
        assert_eq!(
            tree.resolve(Path::new(""), Path::new("top/lib/../x"), true),
            Ok(PathBuf::from("top/sub/x"))
        );
        assert_eq!(
            tree.resolve(Path::new(""), Path::new("top/lib/../../../x"), true),
            Ok(PathBuf::from("x"))
        );
        assert_eq!(
            tree.resolve(Path::new(""), Path::new("top/lib/../../../../x"), true),
            Err(OUTSIDE)
        );
        // The last component is a link itself unless told not to follow it.
        assert_eq!(
            tree.resolve(Path::new(""), Path::new("top/lib"), false),
            Ok(PathBuf::from("top/lib"))
        );
    }

    #[test]
    fn a_link_to_a_link_to_a_directory() {
        let tree = links(&[("top/a", "b"), ("top/b", "real/dir")]);
        assert_eq!(target_of(&tree, "top/a"), Ok(PathBuf::from("top/real/dir")));
        assert_eq!(
            tree.resolve(Path::new(""), Path::new("top/a/../f"), true),
            Ok(PathBuf::from("top/real/f"))
        );
        let deep = links(&[("top/x/a", "../y/b"), ("top/y/b", "../../..")]);
        assert_eq!(target_of(&deep, "top/y/b"), Err(OUTSIDE));
        assert_eq!(target_of(&deep, "top/x/a"), Err(OUTSIDE));
    }

    #[test]
    fn loops_and_long_chains_end() {
        let loop_ = links(&[("top/a", "b"), ("top/b", "a")]);
        assert_eq!(target_of(&loop_, "top/a"), Err(LINK_LOOP));
        assert_eq!(target_of(&loop_, "top/b"), Err(LINK_LOOP));
        let selfish = links(&[("top/s", "s/x")]);
        assert_eq!(target_of(&selfish, "top/s"), Err(LINK_LOOP));
        // 40 hops are allowed, 41 are not.
        let chain = |n: usize| {
            let mut pairs: Vec<(String, String)> = (1..n)
                .map(|i| (format!("top/l{i}"), format!("l{}", i + 1)))
                .collect();
            pairs.push((format!("top/l{n}"), "dir".to_owned()));
            Links(
                pairs
                    .into_iter()
                    .map(|(a, b)| (PathBuf::from(a), PathBuf::from(b)))
                    .collect(),
            )
        };
        assert_eq!(
            target_of(&chain(40), "top/l1"),
            Ok(PathBuf::from("top/dir"))
        );
        assert_eq!(target_of(&chain(41), "top/l1"), Err(LINK_LOOP));
    }

    #[test]
    fn relative_paths_only() {
        assert!(check_relative(Path::new("top/./a")).is_ok());
        assert!(check_relative(Path::new("/abs")).is_err());
        assert!(check_relative(Path::new("top/../../x")).is_err());
    }

    fn tar_bytes() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o755);
        header.set_cksum();
        builder
            .append_data(&mut header, "Python-9.9.9/configure", &b"echo\n"[..])
            .unwrap();
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn xz_gzip_bzip2_and_zstd_archives_unpack_to_their_top_directory() {
        let tar = tar_bytes();
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&tar).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&tar).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("a.tar.xz", xz.finish().unwrap()),
            ("a.tgz", gzip(&tar)),
            ("a.tar.bz2", bz.finish().unwrap()),
            ("a.tar.zst", zstd::encode_all(&tar[..], 3).unwrap()),
        ] {
            let archive = dir.path().join(name);
            fs::write(&archive, bytes).unwrap();
            let dest = dir.path().join(format!("out-{name}"));
            let top = unpack(&archive, &dest).unwrap();
            assert_eq!(top, dest.join("Python-9.9.9"));
            let configure = top.join("configure");
            assert_eq!(fs::read(&configure).unwrap(), b"echo\n");
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&configure).unwrap().permissions().mode() & 0o777,
                0o755
            );
        }
        let plain = dir.path().join("plain.tar");
        fs::write(&plain, tar_bytes()).unwrap();
        assert!(matches!(
            unpack(&plain, &dir.path().join("x")),
            Err(ArchiveError::UnknownFormat(_))
        ));
    }

    /// A gzipped tar of `(path, type, link target)` entries; regular files hold `data\n`.
    fn tgz(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, link) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(if *kind == EntryType::Directory {
                0o755
            } else {
                0o644
            });
            let body: &[u8] = if *kind == EntryType::Regular {
                b"data\n"
            } else {
                b""
            };
            header.set_size(body.len() as u64);
            if !link.is_empty() {
                header.set_link_name(link).unwrap();
            }
            header.set_path(path).unwrap();
            header.set_cksum();
            builder.append(&header, body).unwrap();
        }
        gzip(&builder.into_inner().unwrap())
    }

    fn unpack_entries(
        entries: &[(&str, EntryType, &str)],
    ) -> (tempfile::TempDir, Result<PathBuf, ArchiveError>) {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tgz");
        fs::write(&archive, tgz(entries)).unwrap();
        let result = unpack(&archive, &dir.path().join("dest"));
        (dir, result)
    }

    fn refusal(result: Result<PathBuf, ArchiveError>) -> (String, &'static str) {
        match result {
            Err(ArchiveError::Unsafe { entry, why, .. }) => (entry, why),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn an_archive_that_unpacks_to_more_than_its_allowance_is_refused_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(4 << 20);
        header.set_mode(0o644);
        header.set_path("top/zeros").unwrap();
        header.set_cksum();
        builder
            .append(&header, io::repeat(0).take(4 << 20))
            .unwrap();
        let archive = dir.path().join("bomb.tgz");
        fs::write(&archive, gzip(&builder.into_inner().unwrap())).unwrap();
        let result = unpack_within(&archive, &dir.path().join("dest"), 1 << 20);
        match result {
            Err(ArchiveError::Corrupt { source, .. }) => assert!(
                source
                    .to_string()
                    .contains("it unpacks to more than 1048576 bytes, over 100 times its size"),
                "{source}"
            ),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let written = fs::metadata(dir.path().join("dest/top/zeros")).map_or(0, |m| m.len());
        assert!(written <= 1 << 20, "{written}");
        // The same archive within its allowance unpacks.
        unpack_within(&archive, &dir.path().join("whole"), 8 << 20).unwrap();
    }

    #[test]
    fn a_name_too_long_for_the_file_system_is_the_archive_s_fault() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_mode(0o644);
        let name = format!("top/{}", "n".repeat(300));
        builder.append_data(&mut header, &name, &b"x"[..]).unwrap();
        let archive = dir.path().join("long.tgz");
        fs::write(&archive, gzip(&builder.into_inner().unwrap())).unwrap();
        let result = unpack(&archive, &dir.path().join("dest"));
        assert!(
            matches!(&result, Err(e @ ArchiveError::Corrupt { .. }) if !e.is_local_io()),
            "{result:?}"
        );
    }

    #[test]
    fn unpacking_refuses_a_chain_of_links_out_of_the_tree() {
        use EntryType::{Regular, Symlink};
        let mut entries = vec![("top/up1".to_owned(), Symlink, "..".to_owned())];
        for i in 2..=12 {
            entries.push((format!("top/up{i}"), Symlink, format!("up{}/..", i - 1)));
        }
        entries.push(("top/up12/escaped".to_owned(), Regular, String::new()));
        let entries: Vec<_> = entries
            .iter()
            .map(|(p, k, l)| (p.as_str(), *k, l.as_str()))
            .collect();
        let (dir, result) = unpack_entries(&entries);
        let (entry, why) = refusal(result);
        assert_eq!(entry, "top/up2");
        assert!(why.contains("outside the tree"), "{why}");
        assert!(!dir.path().join("escaped").exists());
        let links: Vec<_> = fs::read_dir(dir.path().join("dest/top"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(links, ["up1"]);
    }

    #[test]
    fn unpacking_refuses_entries_through_a_link_that_leads_out() {
        use EntryType::{Directory, Regular, Symlink};
        // `top/a -> x/..` is harmless until `top/x -> ..` turns it into `../..`.
        let (_dir, result) = unpack_entries(&[
            ("top/a", Symlink, "x/.."),
            ("top/x", Symlink, ".."),
            ("top/a/escaped", Regular, ""),
        ]);
        let (entry, why) = refusal(result);
        assert_eq!(entry, "top/a/escaped");
        assert_eq!(why, THROUGH_OUTSIDE);
        // Without an entry below it, the finished tree is checked again.
        let (_dir, result) =
            unpack_entries(&[("top/a", Symlink, "x/.."), ("top/x", Symlink, "..")]);
        assert_eq!(refusal(result), ("top/a".to_owned(), OUTSIDE));
        // A loop is refused when it closes.
        let (_dir, result) = unpack_entries(&[("top/a", Symlink, "b"), ("top/b", Symlink, "a")]);
        assert_eq!(refusal(result), ("top/b".to_owned(), LINK_LOOP));
        // A hard link to a symlink is a copy of it, read from its own directory.
        let (_dir, result) = unpack_entries(&[
            ("top/sub/l", Symlink, "../x"),
            ("top/sub/deeper", Directory, ""),
            ("hl", EntryType::Link, "top/sub/l"),
        ]);
        assert_eq!(refusal(result), ("hl".to_owned(), OUTSIDE));
    }

    #[test]
    fn links_inside_the_tree_unpack() {
        use EntryType::{Directory, Link, Regular, Symlink};
        let (dir, result) = unpack_entries(&[
            ("top/sub/dir", Directory, ""),
            ("top/lib", Symlink, "sub/dir"),
            ("top/lib/file", Regular, ""),
            ("top/sub/x", Regular, ""),
            ("top/y", Symlink, "lib/../x"),
            ("top/alias", Symlink, "lib"),
            ("top/alias/hard", Link, "top/lib/file"),
            ("top/sub/up", Symlink, ".."),
        ]);
        let top = result.unwrap();
        assert_eq!(top, dir.path().join("dest/top"));
        assert_eq!(fs::read(top.join("sub/dir/file")).unwrap(), b"data\n");
        assert_eq!(fs::read(top.join("y")).unwrap(), b"data\n");
        assert_eq!(fs::read(top.join("sub/dir/hard")).unwrap(), b"data\n");
        assert_eq!(fs::read_link(top.join("alias")).unwrap(), Path::new("lib"));
    }

    #[test]
    fn links_are_checked_from_the_directory_that_becomes_the_tree() {
        use EntryType::{Directory, Symlink};
        // One top directory is the tree: a link to its parent leads out of it.
        let (_dir, result) =
            unpack_entries(&[("top/bin", Directory, ""), ("top/bin/up", Symlink, "../..")]);
        assert_eq!(refusal(result), ("top/bin/up".to_owned(), OUTSIDE));
        let (_dir, result) = unpack_entries(&[("top/a", Symlink, "../top/b")]);
        assert_eq!(refusal(result), ("top/a".to_owned(), OUTSIDE));
        // With two top entries the destination is the tree.
        let (dir, result) =
            unpack_entries(&[("top/bin/up", Symlink, "../.."), ("other", Directory, "")]);
        assert_eq!(result.unwrap(), dir.path().join("dest"));
    }

    #[test]
    fn setuid_setgid_sticky_and_world_writable_bits_are_dropped() {
        use std::os::unix::fs::PermissionsExt;
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, mode) in [
            ("top/suid", EntryType::Regular, 0o4755),
            ("top/sgid", EntryType::Regular, 0o2775),
            ("top/open", EntryType::Regular, 0o666),
            ("top/tmp", EntryType::Directory, 0o1777),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(kind);
            header.set_mode(mode);
            header.set_size(0);
            builder.append_data(&mut header, path, &b""[..]).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tgz");
        fs::write(&archive, gzip(&builder.into_inner().unwrap())).unwrap();
        let top = unpack(&archive, &dir.path().join("dest")).unwrap();
        let mode = |name: &str| fs::metadata(top.join(name)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(
            [mode("suid"), mode("sgid"), mode("open"), mode("tmp")],
            [0o755, 0o775, 0o664, 0o775]
        );
    }

    #[test]
    fn a_hard_link_to_nothing_is_the_archives_fault() {
        let (_dir, result) = unpack_entries(&[("top/hl", EntryType::Link, "top/missing")]);
        match result {
            Err(e @ ArchiveError::Corrupt { .. }) => {
                assert!(!e.is_local_io());
                assert!(e.to_string().contains("top/missing"), "{e}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn conflicting_entries_are_the_archives_fault() {
        use EntryType::{Directory, Regular};
        for entries in [
            [("top/f", Regular, ""), ("top/f", Directory, "")],
            [("top/f", Regular, ""), ("top/f/g", Regular, "")],
        ] {
            let (_dir, result) = unpack_entries(&entries);
            match result {
                Err(e @ ArchiveError::Corrupt { .. }) => assert!(!e.is_local_io()),
                other => panic!("{entries:?}: expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_destination_that_cannot_be_created_is_a_write_error() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tgz");
        fs::write(&archive, gzip(&tar_bytes())).unwrap();
        let blocker = dir.path().join("a-file");
        fs::write(&blocker, "").unwrap();
        let dest = blocker.join("dest");
        let error = unpack(&archive, &dest).unwrap_err();
        assert!(error.is_local_io(), "{error:?}");
        match &error {
            ArchiveError::Write { path, source } => {
                assert_eq!(path, &dest);
                assert_eq!(source.raw_os_error(), Some(libc::ENOTDIR));
            }
            other => panic!("expected Write, got {other:?}"),
        }
        assert_eq!(
            error.to_string(),
            format!(
                "cannot write {}: Not a directory (os error 20)",
                dest.display()
            )
        );
    }

    #[test]
    fn errors_not_from_reading_are_classified_by_the_os_error() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("dest");
        fs::create_dir_all(dest.join("top")).unwrap();
        let file = dest.join("top/sub/deeper/file");
        let corrupt = |source| ArchiveError::Corrupt {
            archive: PathBuf::from("a.tgz"),
            source,
        };
        // Shaped like the tar crate's errors: an io::Error holding a description holding the
        // io::Error of the system call.
        let tar_error = |code| io::Error::other(Described(io::Error::from_raw_os_error(code)));
        let full = destination_error(&dest, &file, tar_error(libc::ENOSPC), &corrupt);
        assert!(full.is_local_io());
        // The outermost directory that could not be created is named.
        assert_eq!(
            full.to_string(),
            format!(
                "cannot write {}: No space left on device (os error 28)",
                dest.join("top/sub").display()
            )
        );
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        let denied = destination_error(&dest, &file, tar_error(libc::EACCES), &corrupt);
        assert!(
            matches!(&denied, ArchiveError::Write { path, .. } if path == &file),
            "{denied:?}"
        );
        // A file where a directory is needed: the archive's entries conflict.
        let conflict = destination_error(&dest, &file, tar_error(libc::ENOTDIR), &corrupt);
        assert!(
            matches!(conflict, ArchiveError::Corrupt { .. }),
            "{conflict:?}"
        );
        assert!(!conflict.is_local_io());
    }

    #[test]
    fn corrupt_errors_show_their_causes() {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected end of file");
        let tar_like = io::Error::new(io::ErrorKind::UnexpectedEof, Described(eof));
        assert_eq!(
            with_causes(tar_like).to_string(),
            "failed to unpack `x`: unexpected end of file"
        );
        let plain = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(with_causes(plain).raw_os_error(), Some(libc::ENOENT));
    }

    /// Like the tar crate's error: displays only its description, the cause is its source.
    #[derive(Debug)]
    struct Described(io::Error);

    impl std::fmt::Display for Described {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("failed to unpack `x`")
        }
    }

    impl std::error::Error for Described {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_wrapped_os_error_is_found() {
        let inner = io::Error::from_raw_os_error(libc::ENOSPC);
        let wrapped = io::Error::new(io::ErrorKind::StorageFull, io::Error::other(inner));
        assert_eq!(os_error_code(&wrapped), Some(libc::ENOSPC));
        assert_eq!(os_error_code(&io::Error::other("no code")), None);
        assert_eq!(
            io::Error::from_raw_os_error(libc::ENOSPC).to_string(),
            "No space left on device (os error 28)"
        );
    }

    #[test]
    fn a_truncated_archive_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        // Half a gzip stream: the decompressor fails.
        let mut big = tar::Builder::new(Vec::new());
        let body: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        big.append_data(&mut header, "top/big", &body[..]).unwrap();
        let full = gzip(&big.into_inner().unwrap());
        let cut_gzip = dir.path().join("cut.tgz");
        fs::write(&cut_gzip, &full[..full.len() / 2]).unwrap();
        // A whole gzip stream of half a tar: the data runs out inside a file.
        let tar = {
            let mut b = tar::Builder::new(Vec::new());
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            b.append_data(&mut header, "top/big", &body[..]).unwrap();
            b.into_inner().unwrap()
        };
        let cut_tar = dir.path().join("cut-tar.tgz");
        fs::write(&cut_tar, gzip(&tar[..tar.len() / 2])).unwrap();
        // A bad header checksum.
        let mut bad = tar_bytes();
        bad[148] ^= 1;
        let bad_header = dir.path().join("bad-header.tgz");
        fs::write(&bad_header, gzip(&bad)).unwrap();
        for (i, (archive, why)) in [
            (cut_gzip, "incomplete deflate stream"),
            (cut_tar, "it ends in the middle of 'top/big'"),
            (bad_header, "checksum"),
        ]
        .iter()
        .enumerate()
        {
            let error = unpack(archive, &dir.path().join(format!("dest{i}"))).unwrap_err();
            assert!(
                matches!(error, ArchiveError::Corrupt { .. }),
                "{}: {error:?}",
                archive.display()
            );
            assert!(!error.is_local_io());
            let text = error.to_string();
            assert!(text.contains("corrupt or unreadable archive"), "{text}");
            assert!(text.contains(why), "{text}");
        }
    }
}
