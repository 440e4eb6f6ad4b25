//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry)
//! on 127.0.0.1 with its storage in a temporary directory: anonymous, behind htpasswd basic
//! authentication (the file made by `htpasswd` from apache2-utils), or behind bearer tokens from
//! a token server run here (the Docker token protocol: the client trades its basic credentials
//! at the realm the registry names for a JWT the registry checks against a certificate; signed
//! with the `openssl` command). `.ci/run` installs them.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

/// A running registry; stopped when dropped.
pub struct Registry {
    pub port: u16,
    dir: TempDir,
    child: Child,
}

impl Registry {
    /// A registry anyone may push to and pull from.
    pub fn anonymous() -> Registry {
        Registry::start(None)
    }

    /// A registry that takes only `user` with `password` (HTTP basic authentication).
    pub fn with_password(user: &str, password: &str) -> Registry {
        Registry::start(Some(Auth::Basic(user, password)))
    }

    /// A registry that takes only bearer tokens, which its token server gives `user` with
    /// `password`.
    pub fn with_tokens(user: &str, password: &str) -> Registry {
        Registry::start(Some(Auth::Token(user, password)))
    }

    fn start(auth: Option<Auth<'_>>) -> Registry {
        assert!(
            crate::support::on_path("docker-registry"),
            "these tests need Debian's docker-registry package (apt-get install docker-registry; .ci/run installs it)"
        );
        let dir = TempDir::new().unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some(Auth::Token(user, password)) = auth {
            let realm = token::serve(dir.path(), user, password);
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                token::SERVICE,
                token::ISSUER,
                dir.path().join("token.crt").display()
            ));
        }
        if let Some(Auth::Basic(user, password)) = auth {
            assert!(
                crate::support::on_path("htpasswd"),
                "this test needs htpasswd (apt-get install apache2-utils; .ci/run installs it)"
            );
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .unwrap();
            assert!(out.status.success());
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, &out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: strap-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_file)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .unwrap();
        let registry = Registry { port, dir, child };
        registry.wait_until_up();
        registry
    }

    fn wait_until_up(&self) {
        let up = crate::support::wait_until(crate::support::PATIENCE, || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        });
        assert!(up, "the registry did not start: {}", self.log());
    }

    /// `oci://127.0.0.1:PORT/<repository>`.
    pub fn url(&self, repository: &str) -> String {
        format!("oci://127.0.0.1:{}/{repository}", self.port)
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The stored bytes of the blob with this sha256 (hex).
    pub fn blob_file(&self, sha256: &str) -> PathBuf {
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&sha256[..2])
            .join(sha256)
            .join("data")
    }

    fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The registry's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

/// How the registry lets clients in.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Basic(&'a str, &'a str),
    Token(&'a str, &'a str),
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The token server: `GET /token?service=…&scope=repository:NAME:ACTIONS` with the right basic
/// credentials answers a JWT granting those actions, signed RS256 by a key whose self-signed
/// certificate the registry trusts (carried in the token's `x5c` header).
mod token {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;

    pub const SERVICE: &str = "strap-test-registry";
    pub const ISSUER: &str = "strap-test-token-server";

    /// Makes the key and certificate in `dir`, starts the server; returns its realm URL.
    pub fn serve(dir: &Path, user: &str, password: &str) -> String {
        let (key, cert) = (dir.join("token.key"), dir.join("token.crt"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=strap-test-token-server", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl (the token server signs with it)");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap()
            .stdout;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!(
            "http://127.0.0.1:{}/token",
            listener.local_addr().unwrap().port()
        );
        let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        let chain = STANDARD.encode(der);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer(stream, &expected, &chain, &key);
            }
        });
        realm
    }

    fn answer(stream: std::net::TcpStream, expected: &str, chain: &str, key: &PathBuf) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut authorized = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("authorization") && value.trim() == expected {
                    authorized = true;
                }
            }
        }
        let (status, body) = if authorized {
            let scope = query_value(&target, "scope").unwrap_or_default();
            let token = sign(&claims(&scope), chain, key);
            (
                "200 OK",
                format!(
                    "{{\"token\":\"{token}\",\"access_token\":\"{token}\",\"expires_in\":300}}"
                ),
            )
        } else {
            (
                "401 Unauthorized",
                "{\"details\":\"wrong credentials\"}".to_owned(),
            )
        };
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }

    /// The JWT claims granting `scope` (`repository:NAME:pull,push`) for five minutes.
    fn claims(scope: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let access: Vec<String> = scope
            .split(' ')
            .filter_map(|s| {
                let mut parts = s.splitn(3, ':');
                let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                let actions: Vec<String> = actions.split(',').map(|a| format!("\"{a}\"")).collect();
                Some(format!(
                    "{{\"type\":\"{kind}\",\"name\":\"{name}\",\"actions\":[{}]}}",
                    actions.join(",")
                ))
            })
            .collect();
        format!(
            "{{\"iss\":\"{ISSUER}\",\"sub\":\"builder\",\"aud\":\"{SERVICE}\",\"exp\":{},\"nbf\":{},\"iat\":{now},\"jti\":\"{now}\",\"access\":[{}]}}",
            now + 300,
            now - 10,
            access.join(",")
        )
    }

    fn sign(claims: &str, chain: &str, key: &PathBuf) -> String {
        let header = format!("{{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5c\":[\"{chain}\"]}}");
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut openssl = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(key)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        openssl
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let signature = openssl.wait_with_output().unwrap().stdout;
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The percent-decoded value of `name` in the query of `target`.
    fn query_value(target: &str, name: &str) -> Option<String> {
        let query = target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
    }

    fn percent_decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
