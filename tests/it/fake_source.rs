//! A generated CPython-shaped source tree (a `configure` script and a `Makefile`) whose build
//! installs a tiny `bin/python3` that runs the system's Python (answering `--version` with its
//! own version), so the whole install pipeline runs in seconds. Build-time knobs come from the
//! environment of `strap install`: `FAKE_BUILD_SECONDS` (compile duration),
//! `FAKE_CONFIGURE_FAIL`; and from configure options: `--simulate-missing=MOD,...` (modules that
//! will fail to import).

use std::io::Write;

use sha2::{Digest, Sha256};

const CONFIGURE: &str = r#"#!/bin/sh
prefix=/usr/local
missing=
for a in "$@"; do
  case "$a" in
    --prefix=*) prefix=${a#--prefix=} ;;
    --simulate-missing=*) missing=$(echo "${a#--simulate-missing=}" | tr ',' ' ') ;;
  esac
done
printf '%s\n' "$@" > configure.args
echo "checking for a fake compiler... yes"
echo "checking the run path the linker gets... $LD_RUN_PATH"
if [ -n "$FAKE_CONFIGURE_FAIL" ]; then
  echo "configure: error: simulated configure failure"
  exit 1
fi
{
  echo "PREFIX=$prefix"
  echo "MISSING=$missing"
} > config.mk
"#;

const MAKEFILE: &str = "include config.mk\n\
all:\n\
\t@echo compiling the fake interpreter\n\
\tsleep $${FAKE_BUILD_SECONDS:-0}\n\
\tsed 's|@PREFIX@|$(PREFIX)|g' buildpython > python && chmod +x python\n\
\ttouch built\n\
install: built\n\
\tmkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/fake\n\
\tcp fakepython $(DESTDIR)$(PREFIX)/bin/python@MINOR@\n\
\tln -sf python@MINOR@ $(DESTDIR)$(PREFIX)/bin/python3\n\
\techo \"$(PREFIX)\" > $(DESTDIR)$(PREFIX)/lib/fake/prefix.txt\n\
\tfor m in $(MISSING); do echo 'raise ImportError(\"simulated\")' > $(DESTDIR)$(PREFIX)/lib/fake/$$m.py; done\n\
";

const FAKE_PYTHON: &str = r#"#!/bin/sh
here=$(cd "$(dirname "$0")/.." && pwd)
case "$1" in --version|-V) echo "Python @VERSION@"; exit 0 ;; esac
if [ "$1" = -m ] && [ "$2" = pip ]; then echo "pip 99.0 from $here"; exit 0; fi
PYTHONPATH="$here/lib/fake" exec /usr/bin/python3 "$@"
"#;

/// The build tree's `./python`: only running pip from its bundled wheel (`-c CODE WHEEL install
/// ... --root=DIR pip`) is needed of it. Like the real one, it sees the final prefix's
/// site-packages unless started with -S, and then finds pip "already satisfied" there.
const BUILD_PYTHON: &str = r#"#!/bin/sh
for a in "$@"; do case "$a" in --root=*) root=${a#--root=} ;; esac; done
case " $* " in *" -S "*) isolated=yes ;; esac
if [ -e "@PREFIX@/bin/pip3" ] && [ -z "$isolated" ]; then
  echo "Requirement already satisfied: pip in @PREFIX@"
  exit 0
fi
case "$*" in
  *"_bundled/pip-99.0-py3-none-any.whl install "*) mkdir -p "$root/@PREFIX@/bin" && cp fakepip "$root/@PREFIX@/bin/pip3" ;;
  *) echo "the fake build python only installs the bundled pip: $*" >&2; exit 1 ;;
esac
"#;

const FAKE_PIP: &str = "#!/bin/sh\necho \"pip 99.0 (fake)\"\n";

/// A `dep openssl11` line for a catalog of our own (`STRAP_PYTHON_CATALOG`), pinning a private
/// OpenSSL 1.1.1 that no fake release asks for (optional: a catalog file is laid over the
/// embedded one, whose OpenSSL pin stays without it).
pub const OPENSSL_DEP_LINE: &str = "dep openssl11 o.tgz http://127.0.0.1:9/o.tgz \
    0000000000000000000000000000000000000000000000000000000000000000\n";

/// A `.tgz` of `Python-<version>/` with the fake build, which installs `bin/python<X.Y>` and
/// `bin/python3` linking to it.
pub fn fake_python_tgz(version: &str) -> Vec<u8> {
    fake_python_tgz_with(version, CONFIGURE)
}

/// [`fake_python_tgz`] whose `configure` also logs the `CFLAGS`, `CPPFLAGS` and `LDFLAGS` it
/// sees (`checking flags... CFLAGS=… CPPFLAGS=… LDFLAGS=…`).
pub fn flag_logging_python_tgz(version: &str) -> Vec<u8> {
    let logging = format!(
        "{CONFIGURE}echo \"checking flags... CFLAGS=$CFLAGS CPPFLAGS=$CPPFLAGS LDFLAGS=$LDFLAGS\"\n"
    );
    fake_python_tgz_with(version, &logging)
}

/// [`fake_python_tgz`] under another top directory (a CPython fork's: `stackless-3.7.5-slp`).
pub fn fake_fork_tgz(top: &str, version: &str) -> Vec<u8> {
    fake_source_tgz(top, version, CONFIGURE)
}

fn fake_python_tgz_with(version: &str, configure: &str) -> Vec<u8> {
    fake_source_tgz(&format!("Python-{version}"), version, configure)
}

fn fake_source_tgz(top: &str, version: &str, configure: &str) -> Vec<u8> {
    let minor: Vec<&str> = version.splitn(3, '.').take(2).collect();
    tgz(
        top,
        &[
            ("configure", configure, 0o755),
            (
                "Makefile",
                &MAKEFILE.replace("@MINOR@", &minor.join(".")),
                0o644,
            ),
            (
                "fakepython",
                &FAKE_PYTHON.replace("@VERSION@", version),
                0o755,
            ),
            ("fakepip", FAKE_PIP, 0o755),
            ("buildpython", BUILD_PYTHON, 0o755),
            (
                "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl",
                "not a real wheel",
                0o644,
            ),
        ],
    )
}

/// A `.tar.gz` of `openssl-<version>/` whose `./config` + `make install_sw` install a marker
/// header and library under `$(DESTDIR)<prefix>`.
pub fn fake_openssl_tgz(version: &str) -> Vec<u8> {
    const CONFIG: &str = "#!/bin/sh\nprintf '%s\\n' \"$@\" > config.args\n\
for a in \"$@\"; do case \"$a\" in --prefix=*) echo \"PREFIX=${a#--prefix=}\" > config.mk ;; esac; done\n";
    const MAKEFILE: &str = "include config.mk\n\
all:\n\t@echo building the fake openssl\n\
install_sw:\n\tmkdir -p $(DESTDIR)$(PREFIX)/include/openssl $(DESTDIR)$(PREFIX)/lib\n\
\techo '/* fake */' > $(DESTDIR)$(PREFIX)/include/openssl/ssl.h\n\
\ttouch $(DESTDIR)$(PREFIX)/lib/libssl.so.1.1\n";
    tgz(
        &format!("openssl-{version}"),
        &[("config", CONFIG, 0o755), ("Makefile", MAKEFILE, 0o644)],
    )
}

/// A `.tar.gz` of `top/` holding `(name, content, mode)` files.
pub fn tgz(top: &str, files: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, body, mode) in files.iter().copied() {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{top}/{name}"), body.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A tar.gz with one raw entry whose name, type and link target are written byte for byte (so
/// that hostile names the `tar` crate's builder refuses can be produced).
pub fn raw_tgz(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for (name, kind, link) in entries {
        let mut header = tar::Header::new_old();
        {
            let old = header.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        let body: &[u8] = if *kind == tar::EntryType::Regular {
            b"data\n"
        } else {
            b""
        };
        header.set_size(body.len() as u64);
        header.set_cksum();
        out.write_all(header.as_bytes()).unwrap();
        out.write_all(body).unwrap();
        if !body.is_empty() {
            out.write_all(&vec![0; 512 - body.len()]).unwrap();
        }
    }
    out.write_all(&[0; 1024]).unwrap();
    out.finish().unwrap()
}

/// sha256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
