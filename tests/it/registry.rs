//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry)
//! on 127.0.0.1 with its storage in a temporary directory, anonymous or behind htpasswd basic
//! authentication (the file made by `htpasswd` from apache2-utils). `.ci/run` installs both.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
        Registry::start(Some((user, password)))
    }

    fn start(login: Option<(&str, &str)>) -> Registry {
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
        if let Some((user, password)) = login {
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
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the registry did not start: {}",
                std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
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
