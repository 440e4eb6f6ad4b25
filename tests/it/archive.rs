//! Unpacking through the real `strap install`: links that climb out of the tree together, and a
//! destination that fills up (reported as the local disk's fault, not the archive's).

use std::io::Read;

use crate::fake_source::{fake_python_tgz, raw_tgz};
use crate::support::Setup;
use crate::support::{noise, stderr_of, Tmpfs};

const VERSION: &str = "3.99.1";

#[test]
fn a_chain_of_links_that_climbs_out_of_the_tree_is_refused() {
    use tar::EntryType::{Regular, Symlink};
    // Each link only climbs one level from the last: `up1 -> ..`, `up2 -> up1/..`, ... Read
    // alone, none leaves the tree; followed, `up12` is `/`.
    let escape = format!("strap-chain-escape-{}", std::process::id());
    let mut entries = vec![("Python-3.99.1/up1".to_owned(), Symlink, "..".to_owned())];
    for i in 2..=12 {
        entries.push((
            format!("Python-3.99.1/up{i}"),
            Symlink,
            format!("up{}/..", i - 1),
        ));
    }
    entries.push((
        format!("Python-3.99.1/up12/{escape}"),
        Regular,
        String::new(),
    ));
    let entries: Vec<_> = entries
        .iter()
        .map(|(name, kind, link)| (name.as_str(), *kind, link.as_str()))
        .collect();
    let s = Setup::new();
    let out = s.install_archive(raw_tgz(&entries)).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("refusing entry 'Python-3.99.1/up2'"), "{err}");
    assert!(err.contains("outside the tree"), "{err}");
    s.assert_nothing_installed();
    // Nowhere the chain could have led holds the file.
    for dir in s.env.root().ancestors() {
        assert!(
            !dir.join(&escape).exists(),
            "{} was written",
            dir.join(&escape).display()
        );
    }
}

/// The fake source tree of `fake_python_tgz` plus `Python-<version>/big` of `big` bytes.
fn fake_python_tgz_with(version: &str, big: &[u8]) -> Vec<u8> {
    fake_python_tgz_plus(version, &[("big", tar::EntryType::Regular, big, 0o644)])
}

/// The fake source tree of `fake_python_tgz` plus `(path, type, content, mode)` entries under
/// `Python-<version>/`.
fn fake_python_tgz_plus(version: &str, extra: &[(&str, tar::EntryType, &[u8], u32)]) -> Vec<u8> {
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(&fake_python_tgz(version)[..])
        .read_to_end(&mut tar_bytes)
        .unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut original = tar::Archive::new(&tar_bytes[..]);
    for entry in original.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header().clone();
        builder.append(&header, entry).unwrap();
    }
    for (path, kind, body, mode) in extra.iter().copied() {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(body.len() as u64);
        header.set_mode(mode);
        builder
            .append_data(&mut header, format!("Python-{version}/{path}"), body)
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn setuid_setgid_sticky_and_world_writable_bits_of_a_source_archive_are_not_unpacked() {
    use std::os::unix::fs::PermissionsExt;
    use tar::EntryType::{Directory, Regular};
    let s = Setup::new();
    let archive = fake_python_tgz_plus(
        VERSION,
        &[
            ("suid-helper", Regular, b"#!/bin/sh\n", 0o4777),
            ("sgid.txt", Regular, b"x\n", 0o2666),
            ("Tools/tmp", Directory, b"", 0o1777),
        ],
    );
    // A failed build kept with --keep shows the unpacked tree.
    let out = s
        .install_archive(archive)
        .arg("--keep")
        .env("FAKE_CONFIGURE_FAIL", "1")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let kept = err
        .lines()
        .find_map(|l| l.strip_prefix("the build tree is kept at "))
        .unwrap_or_else(|| panic!("no kept path in: {err}"));
    let tree = std::path::Path::new(kept).join("src/Python-3.99.1");
    let mode = |path: &str| {
        std::fs::metadata(tree.join(path))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(
        [mode("suid-helper"), mode("sgid.txt"), mode("Tools/tmp")],
        [0o775, 0o664, 0o775]
    );
}

#[test]
#[ignore = "needs root to mount a tmpfs; .ci/run runs it with --ignored"]
fn a_full_disk_while_unpacking_is_named_and_not_called_corrupt() {
    let s = Setup::new();
    let archive = fake_python_tgz_with(VERSION, &noise(1024 * 1024));
    // The download goes to an ordinary directory, the unpacked tree to a 256 KiB STRAP_ROOT.
    let cache = s.env.dir.path().join("cache");
    let root = Tmpfs::mount(&s.env.root(), "256k");
    let out = s
        .install_archive(archive)
        .env("STRAP_CACHE_DIR", &cache)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains(&root.0.display().to_string()), "{err}");
    assert!(!err.to_lowercase().contains("corrupt"), "{err}");
    s.assert_nothing_installed();
}
