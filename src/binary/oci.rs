//! An OCI registry repository as a binary mirror (GitHub/GitLab container registries, Harbor,
//! Artifactory, ECR/ACR/GAR, the CNCF distribution registry): each pack is one artifact tagged
//! with its stem, whose config blob is the pack's manifest and whose one layer is the archive
//! (titled with its file name, so other OCI clients such as `oras pull` save it under that name).
//! Credentials come from `STRAP_REGISTRY_USER`/`STRAP_REGISTRY_PASSWORD`, else from the
//! Docker config (`docker login`, credential helpers); the registry's challenge decides between
//! basic authentication and a bearer token.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{
    OciDescriptor, OciImageManifest, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use sha2::{Digest, Sha256};

use super::{BinaryError, PackId};
use crate::atomic_file::AtomicFile;
use crate::bounded::SMALL_FILE_LIMIT;
use crate::env_vars;
use crate::error::IoContext;
use crate::fetch::{hosts, Fetcher, MirrorError};
use crate::layout::BUILDS_DIR;
use crate::pack::Manifest;
use crate::process::{Cancel, Interruptible};
use crate::report::{Progress, Reporter};

/// The media type of a pack's config blob: its manifest.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.strap.pack.manifest.v1+json";
/// The media type of a pack's one layer: the archive.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.strap.pack.layer.v1.tar+zstd";
/// The annotation OCI clients name a layer's file by.
const TITLE: &str = "org.opencontainers.image.title";

/// `REGISTRY/REPOSITORY`, reached over HTTPS (plain HTTP for a loopback registry or
/// `oci+http://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    registry: String,
    repository: String,
    plain_http: bool,
    /// Written as `oci+http://`.
    explicit_http: bool,
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.explicit_http {
            "oci+http"
        } else {
            "oci"
        };
        write!(f, "{scheme}://{}/{}", self.registry, self.repository)
    }
}

impl Repository {
    /// Parses `REGISTRY/REPOSITORY` (after `oci://`); the repository is lowercase path
    /// components as the distribution spec allows.
    pub fn parse(text: &str, plain_http: bool) -> Result<Repository, String> {
        let (registry, repository) = text
            .trim_end_matches('/')
            .split_once('/')
            .ok_or("names no repository (oci://REGISTRY/REPOSITORY)")?;
        if registry.is_empty() || registry.contains(['@', '?', '#']) {
            return Err("names no registry host (oci://REGISTRY/REPOSITORY)".to_owned());
        }
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        };
        if !repository.split('/').all(component_ok) {
            return Err(format!(
                "has the repository '{repository}': use lowercase letters, digits, '.', '_', '-' and '/'"
            ));
        }
        let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
        let loopback = host == "localhost"
            || host == "[::1]"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        Ok(Repository {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            plain_http: plain_http || loopback,
            explicit_http: plain_http,
        })
    }

    /// The registry's API, `http(s)://REGISTRY/v2/`, over the scheme the client uses for it
    /// (plain HTTP for a loopback registry or `oci+http://`).
    pub fn api_base(&self) -> String {
        let scheme = if self.plain_http { "http" } else { "https" };
        format!("{scheme}://{}/v2/", self.registry)
    }

    fn reference(&self, tag: String) -> Reference {
        Reference::with_tag(self.registry.clone(), self.repository.clone(), tag)
    }

    fn client(&self, stall_timeout: Duration) -> Client {
        let protocol = if self.plain_http {
            ClientProtocol::HttpsExcept(vec![self.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        crate::fetch::tls::install_provider();
        Client::new(ClientConfig {
            protocol,
            use_monolithic_push: true,
            read_timeout: Some(stall_timeout),
            connect_timeout: Some(stall_timeout),
            user_agent: crate::fetch::client::USER_AGENT,
            ..ClientConfig::default()
        })
    }

    /// The credentials for this registry: the environment's, else the Docker config's, else
    /// none.
    fn auth(&self) -> RegistryAuth {
        if let Some((user, password)) = credentials_from_env() {
            return RegistryAuth::Basic(user, password);
        }
        match docker_credential::get_credential(&self.registry) {
            Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => {
                RegistryAuth::Basic(user, password)
            }
            _ => RegistryAuth::Anonymous,
        }
    }

    /// The manifest of the artifact tagged with the stem of `id` (its config blob), once the
    /// artifact is seen to be a strap pack with a layer of the manifest's archive digest.
    pub(super) fn lookup(
        &self,
        id: PackId<'_>,
        fetcher: &Fetcher,
    ) -> Result<Manifest, BinaryError> {
        self.not_given_up()?;
        let stall_timeout = fetcher.settings().stall_timeout;
        let client = self.client(stall_timeout);
        let reference = self.reference(id.stem());
        let auth = self.auth();
        runtime()?.block_on(async {
            let image = self
                .image_manifest(&client, &reference, &auth, stall_timeout)
                .await?;
            if image.config.media_type != CONFIG_MEDIA_TYPE {
                return Err(BinaryError::Refused(format!(
                    "{reference} is not a strap pack (its config is {})",
                    image.config.media_type
                )));
            }
            let config_size = u64::try_from(image.config.size)
                .ok()
                .filter(|&size| size <= SMALL_FILE_LIMIT)
                .ok_or_else(|| {
                    BinaryError::Refused(format!(
                        "{reference}: its config blob has {} bytes",
                        image.config.size
                    ))
                })?;
            let mut config = Vec::new();
            client
                .pull_blob(
                    &reference,
                    &image.config,
                    BlobSink::new(&mut config, config_size, fetcher.cancel()),
                )
                .await
                .map_err(|e| self.error(e))?;
            let manifest = Manifest::from_json(&config).map_err(|e| {
                BinaryError::Refused(format!(
                    "{reference}: its config is not a pack manifest: {e}"
                ))
            })?;
            let digest = layer_digest(&manifest);
            if !image.layers.iter().any(|layer| layer.digest == digest) {
                return Err(BinaryError::Refused(format!(
                    "{reference} has no layer with the manifest's archive digest {digest}"
                )));
            }
            Ok(manifest)
        })
    }

    /// Downloads the archive layer of the pack `id` into the build cache as `manifest`'s
    /// archive; the registry client checks its digest as it streams.
    pub(super) fn download(
        &self,
        id: PackId<'_>,
        manifest: &Manifest,
        fetcher: &Fetcher,
        reporter: &dyn Reporter,
    ) -> Result<(), BinaryError> {
        self.not_given_up()?;
        let cancel = fetcher.cancel();
        let client = self.client(fetcher.settings().stall_timeout);
        let reference = self.reference(id.stem());
        let auth = self.auth();
        let builds = fetcher.settings().cache_dir.join(BUILDS_DIR);
        let target = builds.join(&manifest.archive.file);
        let mut part = AtomicFile::create(&target).io_context("write", &target)?;
        let layer = OciDescriptor {
            media_type: LAYER_MEDIA_TYPE.to_owned(),
            digest: layer_digest(manifest),
            size: manifest.archive.size as i64,
            ..OciDescriptor::default()
        };
        let result = runtime()?.block_on(async {
            client
                .store_auth_if_needed(reference.resolve_registry(), &auth)
                .await;
            let file = part.file();
            let progress = reporter.download(&reference.whole(), Some(manifest.archive.size), 0);
            let sink = BlobSink {
                progress: Some(progress.as_ref()),
                ..BlobSink::new(file, manifest.archive.size, cancel)
            };
            let pulled = client.pull_blob(&reference, &layer, sink).await;
            progress.finish();
            if cancel.is_cancelled() {
                return Err(BinaryError::Interrupted);
            }
            pulled.map_err(|e| self.error(e))
        });
        // Dropped without a commit, the partial file is removed.
        result.and_then(|()| Ok(part.commit().io_context("move into the cache", &target)?))
    }

    /// `Err` when the registry did not answer in time earlier in this run.
    fn not_given_up(&self) -> Result<(), BinaryError> {
        hosts::not_given_up(&self.registry).map_err(|e| BinaryError::Mirror(e.to_string()))
    }

    /// The image manifest `reference` names, read up to [`SMALL_FILE_LIMIT`] bytes (the
    /// registry client would read any size whole).
    async fn image_manifest(
        &self,
        client: &Client,
        reference: &Reference,
        auth: &RegistryAuth,
        stall_timeout: Duration,
    ) -> Result<OciImageManifest, BinaryError> {
        let token = client
            .auth(reference, auth, RegistryOperation::Pull)
            .await
            .map_err(|e| self.error(e))?;
        let url = format!(
            "{}{}/manifests/{}",
            self.api_base(),
            reference.repository(),
            reference.tag().unwrap_or_default()
        );
        let http = crate::fetch::client::asynchronous(stall_timeout)
            .map_err(|e| BinaryError::Mirror(e.to_string()))?;
        let mut request = http.get(&url).header(
            reqwest::header::ACCEPT,
            format!("{OCI_IMAGE_MEDIA_TYPE}, {IMAGE_MANIFEST_MEDIA_TYPE}"),
        );
        request = match (token, auth) {
            (Some(token), _) => request.bearer_auth(token),
            (None, RegistryAuth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            (None, _) => request,
        };
        let mut response = request.send().await.map_err(|e| self.error(e.into()))?;
        match response.status() {
            reqwest::StatusCode::NOT_FOUND => return Err(BinaryError::NotThere),
            reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => {
                return Err(self.unauthorized())
            }
            status if !status.is_success() => {
                return Err(BinaryError::Mirror(format!("{url}: HTTP {status}")))
            }
            _ => {}
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.error(e.into()))? {
            if (body.len() + chunk.len()) as u64 > SMALL_FILE_LIMIT {
                return Err(BinaryError::Refused(format!(
                    "the manifest of {reference} is not read: {}",
                    crate::bounded::Refusal::TooLarge(SMALL_FILE_LIMIT)
                )));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| {
            BinaryError::Refused(format!("{reference}: not an OCI image manifest: {e}"))
        })
    }

    /// Pushes the pack as an artifact tagged with its stem (the archive blob only when the
    /// registry lacks it); returns its reference.
    pub(super) fn push(
        &self,
        archive: &Path,
        manifest: &Manifest,
        reporter: &dyn Reporter,
        stall_timeout: Duration,
        cancel: &Cancel,
    ) -> Result<String, BinaryError> {
        let id = PackId::of(manifest);
        let archive_file = manifest.archive.file.clone();
        let client = self.client(stall_timeout);
        let reference = self.reference(id.stem());
        let auth = self.auth();
        let config = manifest.to_json().into_bytes();
        let config_digest = format!("sha256:{}", hex::encode(Sha256::digest(&config)));
        let layer_digest = layer_digest(manifest);
        let size = manifest.archive.size;
        let image = OciImageManifest {
            schema_version: 2,
            media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_owned()),
            config: OciDescriptor {
                media_type: CONFIG_MEDIA_TYPE.to_owned(),
                digest: config_digest.clone(),
                size: config.len() as i64,
                ..OciDescriptor::default()
            },
            layers: vec![OciDescriptor {
                media_type: LAYER_MEDIA_TYPE.to_owned(),
                digest: layer_digest.clone(),
                size: size as i64,
                annotations: Some(BTreeMap::from([(TITLE.to_owned(), archive_file)])),
                ..OciDescriptor::default()
            }],
            annotations: Some(annotations(manifest)),
            ..OciImageManifest::default()
        };
        runtime()?.block_on(async {
            client
                .store_auth_if_needed(reference.resolve_registry(), &auth)
                .await;
            let present = client
                .blob_exists(&reference, &layer_digest)
                .await
                .map_err(|e| self.error(e))?;
            if present {
                reporter.message(&format!("{self} already has the archive {layer_digest}"));
            } else {
                reporter.message(&format!(
                    "uploading {} ({}) to {self}",
                    archive.display(),
                    indicatif::HumanBytes(size)
                ));
                let file = Interruptible {
                    inner: crate::bounded::open_regular(archive).io_context("read", archive)?,
                    cancel: cancel.clone(),
                };
                client
                    .push_blob_stream(&reference, chunks(file), &layer_digest, Some(size))
                    .await
                    .map_err(|e| self.error(e))?;
            }
            client
                .push_blob(&reference, config, &config_digest)
                .await
                .map_err(|e| self.error(e))?;
            client
                .push_manifest(&reference, &image.into())
                .await
                .map_err(|e| self.error(e))?;
            Ok(reference.whole())
        })
    }

    /// What an error from the registry means here.
    fn error(&self, e: OciDistributionError) -> BinaryError {
        let not_found = |code: &OciErrorCode| {
            matches!(
                code,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
                    | OciErrorCode::BlobUnknown
            )
        };
        match e {
            OciDistributionError::ImageManifestNotFoundError(_) => BinaryError::NotThere,
            OciDistributionError::RegistryError { ref envelope, .. }
                if envelope.errors.iter().any(|e| not_found(&e.code)) =>
            {
                BinaryError::NotThere
            }
            OciDistributionError::ServerError { code: 404, .. } => BinaryError::NotThere,
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => self.unauthorized(),
            OciDistributionError::RequestError(ref e)
                if e.status() == Some(reqwest::StatusCode::UNAUTHORIZED) =>
            {
                self.unauthorized()
            }
            OciDistributionError::DigestError(e) => {
                BinaryError::Refused(format!("the archive is not what the registry lists: {e}"))
            }
            OciDistributionError::RequestError(ref e) if e.is_timeout() => {
                hosts::give_up(&self.registry);
                BinaryError::Mirror(MirrorError::TimedOut(e.to_string()).to_string())
            }
            // A size overrun from a `BlobSink` reads as itself (the I/O error is transparent).
            e => BinaryError::Mirror(e.to_string()),
        }
    }

    fn unauthorized(&self) -> BinaryError {
        BinaryError::Mirror(format!(
            "not authorized; set {} and {} or run `docker login {}`",
            env_vars::STRAP_REGISTRY_USER,
            env_vars::STRAP_REGISTRY_PASSWORD,
            self.registry
        ))
    }
}

/// The digest of a pack's archive layer.
fn layer_digest(manifest: &Manifest) -> String {
    format!("sha256:{}", manifest.archive.sha256)
}

/// `STRAP_REGISTRY_USER` and `STRAP_REGISTRY_PASSWORD`, when the user is set.
pub fn credentials_from_env() -> Option<(String, String)> {
    let user = std::env::var(env_vars::STRAP_REGISTRY_USER)
        .ok()
        .filter(|u| !u.is_empty())?;
    let password = std::env::var(env_vars::STRAP_REGISTRY_PASSWORD).unwrap_or_default();
    Some((user, password))
}

/// The artifact's annotations: what the pack is, readable in a registry's web interface.
fn annotations(manifest: &Manifest) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("dev.strap.kind".to_owned(), manifest.kind.clone()),
        ("dev.strap.name".to_owned(), manifest.name.clone()),
        ("dev.strap.key".to_owned(), manifest.key.clone()),
        (
            "dev.strap.platform".to_owned(),
            manifest.platform.to_string(),
        ),
        (
            "dev.strap.strap-version".to_owned(),
            manifest.strap_version.clone(),
        ),
    ])
}

fn runtime() -> Result<tokio::runtime::Runtime, BinaryError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BinaryError::Mirror(format!("cannot start the network runtime: {e}")))
}

/// A file read as a stream of chunks for an upload.
fn chunks(
    file: impl Read + Send + 'static,
) -> impl futures_util::Stream<Item = oci_client::errors::Result<bytes::Bytes>> + Send + 'static {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0; 1 << 20];
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((bytes::Bytes::from(buf), file)))
    })
}

/// Where a pulled blob goes: a file or memory, with progress, stopped by Ctrl-C and by a byte
/// past its declared size.
struct BlobSink<'a, W> {
    out: W,
    written: u64,
    limit: u64,
    progress: Option<&'a dyn Progress>,
    cancel: &'a Cancel,
}

impl<'a, W: Write> BlobSink<'a, W> {
    /// A sink into `out` for a blob of `limit` bytes, without progress.
    fn new(out: W, limit: u64, cancel: &'a Cancel) -> Self {
        BlobSink {
            out,
            written: 0,
            limit,
            progress: None,
            cancel,
        }
    }
}

impl<W: Write + Unpin> tokio::io::AsyncWrite for BlobSink<'_, W> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.cancel.is_cancelled() {
            return Poll::Ready(Err(io::Error::other("interrupted")));
        }
        if this.written + buf.len() as u64 > this.limit {
            return Poll::Ready(Err(io::Error::other(MirrorError::Oversized(this.limit))));
        }
        Poll::Ready(this.out.write(buf).inspect(|&n| {
            this.written += n as u64;
            if let Some(progress) = this.progress {
                progress.set_position(this.written);
            }
        }))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().out.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
