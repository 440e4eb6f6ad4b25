//! The real prebuilt install, with `STRAP_FIXTURES` (`#[ignore]`d, as `real.rs`): CPython
//! 3.11.2 built from the fixture (once per run, shared with `real.rs`) is turned into a
//! python-build-standalone-shaped archive (its prefix moved to `/install` in its text files,
//! `CC=clang` written into its sysconfig, laid under `python/`, `.tar.gz`) and installed
//! through `--prebuilt` from a `file://` mirror with its sha256, offline: ssl, sqlite3 and
//! ctypes import, pip works, and a generated C extension sdist builds with this machine's
//! compiler and imports.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fake_source::sha256_hex;
use crate::real;
use crate::support::{stderr_of, stdout_of, TestEnv};

/// The release tag the archive is given.
const BUILD: &str = "20990101";

#[test]
#[ignore = "builds the real CPython 3.11.2 (minutes); run with STRAP_FIXTURES set"]
fn the_fixture_s_3_11_2_shaped_as_pbs_installs_prebuilt_fixed_and_verified() {
    let built = real::built_3_11_2();
    let env = TestEnv::new();
    let arch = std::env::consts::ARCH;
    let file = format!("cpython-3.11.2+{BUILD}-{arch}-unknown-linux-gnu-install_only.tar.gz");
    let dir = env.dir.path().join("pbs");
    fs::create_dir_all(&dir).unwrap();
    let archive = pbs_archive(&built.root().join("versions/3.11.2"));
    let sha = sha256_hex(&archive);
    fs::write(dir.join(&file), archive).unwrap();
    let catalog = env.write(
        "pbs.tsv",
        &format!(
            "version\tarch\tlibc\tvariant\tbuild\turl\tsha256\n\
             3.11.2\t{arch}\tgnu\tdefault\t{BUILD}\thttps://pbs.invalid/{BUILD}/{file}\t{sha}\n"
        ),
    );
    let out = env
        .strap(&["install", "--prebuilt", "--offline", "3.11.2"])
        .args([
            "--prebuilt-mirror",
            &format!("file://{}/{{file}}", dir.display()),
        ])
        .env("STRAP_PREBUILT_CATALOG", &catalog)
        .env("STRAP_PLATFORM", format!("{arch}-linux-gnu"))
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    eprintln!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("==> CPython 3.11.2 (prebuilt, python-build-standalone {BUILD}, {arch}-gnu, install_only)")),
        "{text}"
    );
    assert!(!text.contains("==> configure"), "{text}");
    assert!(text.contains("builds a C extension that imports"), "{text}");
    let python = env.root().join("versions/3.11.2/bin/python3");
    let cc = env
        .command(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_config_var('CC'))",
        ])
        .output()
        .unwrap();
    assert!(!stdout_of(&cc).contains("clang"), "{}", stdout_of(&cc));
    real::works_at_its_prefix(&env);
}

/// The install at `prefix` as PBS ships a build: under `python/`, its text files naming
/// `/install` instead of `prefix`, clang in its sysconfig, without strap's receipt.
fn pbs_archive(prefix: &Path) -> Vec<u8> {
    let old = prefix.display().to_string();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut pending: Vec<PathBuf> = vec![prefix.to_owned()];
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let relative = path.strip_prefix(prefix).unwrap();
            let name = Path::new("python").join(relative);
            let meta = fs::symlink_metadata(&path).unwrap();
            let mut header = tar::Header::new_gnu();
            if meta.file_type().is_symlink() {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                header.set_mode(0o777);
                builder
                    .append_link(&mut header, &name, fs::read_link(&path).unwrap())
                    .unwrap();
            } else if meta.is_dir() {
                if relative.as_os_str() == "__pycache__" || path.ends_with("__pycache__") {
                    continue;
                }
                pending.push(path);
            } else if relative != Path::new("strap-receipt.json") {
                let mut bytes = fs::read(&path).unwrap();
                if !bytes.contains(&0) {
                    if let Ok(text) = String::from_utf8(bytes.clone()) {
                        let mut text = text.replace(&old, "/install");
                        let file_name = path.file_name().unwrap().to_string_lossy();
                        if file_name.starts_with("_sysconfigdata_") && file_name.ends_with(".py") {
                            text.push_str(
                                "\nbuild_time_vars.update({'CC': 'clang -pthread', \
                                 'LDSHARED': 'clang -pthread -shared -fuse-ld=lld -L/tools/deps/lib'})\n",
                            );
                        }
                        bytes = text.into_bytes();
                    }
                }
                use std::os::unix::fs::PermissionsExt;
                header.set_size(bytes.len() as u64);
                header.set_mode(meta.permissions().mode() & 0o7777);
                header.set_cksum();
                builder.append_data(&mut header, &name, &bytes[..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap().finish().unwrap()
}
