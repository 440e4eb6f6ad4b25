//! HTTPS through the real binary: a loopback mirror behind TLS, with a certificate authority
//! made for the test (by `openssl`) and trusted through `SSL_CERT_FILE`, as the platform's
//! certificate store is on Linux. A certificate from another authority is refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::fake_source::{fake_python_tgz, sha256_hex};
use crate::mirror::{Behavior, Mirror};
use crate::support::{stderr_of, TestEnv};

const VERSION: &str = "3.99.1";
const FILE: &str = "Python-3.99.1.tgz";

/// Runs `openssl ARGS` in `dir`; it must succeed.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        stderr_of(&out)
    );
}

/// A certificate authority `<name>-ca.pem` in `dir`, and a server certificate for 127.0.0.1
/// signed by it (`<name>-server.pem`, key `<name>-server.key`).
fn authority(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let file = |suffix: &str| format!("{name}-{suffix}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test authority"),
            "-keyout",
            &file("ca.key"),
            "-out",
            &file("ca.pem"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &file("server.key"),
            "-out",
            &file("server.csr"),
        ],
    );
    std::fs::write(
        dir.join(file("server.ext")),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &file("server.csr"),
            "-days",
            "2",
            "-CA",
            &file("ca.pem"),
            "-CAkey",
            &file("ca.key"),
            "-CAcreateserial",
            "-extfile",
            &file("server.ext"),
            "-out",
            &file("server.pem"),
        ],
    );
    (
        dir.join(file("ca.pem")),
        dir.join(file("server.pem")),
        dir.join(file("server.key")),
    )
}

/// A TLS front for `backend` on 127.0.0.1 (its port): each request is read up to the end of its
/// headers, passed to the plain mirror, and its answer (the mirror closes after each) passed back.
fn tls_front(backend: u16, cert: &Path, key: &Path) -> u16 {
    let certs: Vec<_> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let connection = rustls::ServerConnection::new(config).unwrap();
                let _ = relay(rustls::StreamOwned::new(connection, client), backend);
            });
        }
    });
    port
}

fn relay(
    tls: rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
    backend: u16,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(tls);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        head.push_str(&line);
        if line.trim().is_empty() {
            break;
        }
    }
    let mut upstream = TcpStream::connect(("127.0.0.1", backend))?;
    upstream.write_all(head.as_bytes())?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    let mut tls = reader.into_inner();
    tls.write_all(&answer)?;
    tls.conn.send_close_notify();
    tls.flush()
}

/// A mirror serving the fake CPython source over HTTPS, and the directory holding the
/// authorities (`good`, which signed the server's certificate, and `other`).
struct Https {
    env: TestEnv,
    _mirror: Mirror,
    port: u16,
    sha: String,
    certs: tempfile::TempDir,
}

impl Https {
    fn start() -> Https {
        let certs = tempfile::tempdir().unwrap();
        let (_, cert, key) = authority(certs.path(), "good");
        authority(certs.path(), "other");
        let archive = fake_python_tgz(VERSION);
        let sha = sha256_hex(&archive);
        let mirror = Mirror::start();
        mirror.route(&format!("/a/{FILE}"), Behavior::Serve(archive));
        let port = tls_front(mirror.port, &cert, &key);
        Https {
            env: TestEnv::new(),
            _mirror: mirror,
            port,
            sha,
            certs,
        }
    }

    /// `strap install --fetch-only` from the HTTPS mirror, trusting only authority `trusted`.
    fn fetch(&self, trusted: &str) -> std::process::Output {
        self.env
            .strap(&["install", "--skip-preflight", "--fetch-only"])
            .args(["--sha256", &self.sha])
            .args([
                "--mirror",
                &format!("https://127.0.0.1:{}/a/{{file}}", self.port),
            ])
            .arg(VERSION)
            .env(
                "SSL_CERT_FILE",
                self.certs.path().join(format!("{trusted}-ca.pem")),
            )
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    }
}

#[test]
fn an_https_mirror_with_a_trusted_certificate_is_downloaded_from() {
    let s = Https::start();
    let out = s.fetch("good");
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("3.99.1 is in the cache, ready to install"),
        "{err}"
    );
    assert!(s.env.root().join("cache").join(FILE).is_file());
}

#[test]
fn an_https_mirror_with_an_untrusted_certificate_is_refused() {
    let s = Https::start();
    let out = s.fetch("other");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );
    assert!(!s.env.root().join("cache").join(FILE).exists());
}

#[test]
fn without_a_certificate_store_file_mirrors_still_serve_and_http_ones_say_why() {
    // A fresh container has no CA certificates (no ca-certificates package): an HTTP(S) client
    // cannot be set up there, but a file:// mirror needs none.
    let s = crate::support::Setup::new();
    let dir = s.env.dir.path().join("srv/python");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(crate::support::FILE), &s.archive).unwrap();
    let no_store = s.env.dir.path().join("no-certificates");
    let no_store = no_store.to_str().unwrap();

    let out = s
        .install(&["a"], &[])
        .env("SSL_CERT_FILE", no_store)
        .env("SSL_CERT_DIR", no_store)
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot set up HTTP(S)"), "{stderr}");
    assert!(stderr.contains("the ca-certificates package"), "{stderr}");
    assert!(s.mirror.requests().is_empty(), "nothing was asked");

    s.install(
        &[],
        &["--mirror", &format!("file://{}/{{file}}", dir.display())],
    )
    .env("SSL_CERT_FILE", no_store)
    .env("SSL_CERT_DIR", no_store)
    .assert()
    .success();
}
