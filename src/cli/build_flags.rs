//! The flags every source build takes (`strap install`, `strap boost install`), and the
//! pipeline options they make with the config's settings for that kind.

use super::Ctx;
use crate::config::Config;
use crate::error::UsageError;
use crate::fetch::FetchSettings;
use crate::settings;
use crate::stage::{BuildCache, StageOptions};

/// Flags shared by the build commands.
#[derive(clap::Args, Debug, Default, PartialEq)]
pub struct BuildFlags {
    /// Show the build output
    #[arg(short, long)]
    pub verbose: bool,
    /// Keep the build tree after a failure
    #[arg(short, long)]
    pub keep: bool,
    /// Parallel build jobs (default: $STRAP_JOBS, config, the number of CPUs)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Mirror URL template with {version}, {file}, {sha256}; repeatable; replaces the configured ones
    #[arg(long, value_name = "URL")]
    pub mirror: Vec<String>,
    /// Download nothing: use the download cache and file:// mirrors only
    #[arg(long)]
    pub offline: bool,
    /// Build even when prerequisites seem missing
    #[arg(long)]
    pub skip_preflight: bool,
    /// Build from source even when the build cache or a binary mirror holds this build
    #[arg(long, conflicts_with = "binary_only")]
    pub no_binary: bool,
    /// Install a packed build (build cache or binary mirror) or fail; never build from source
    #[arg(long)]
    pub binary_only: bool,
    /// Binary mirror to look packed builds up in: file:///DIR, https://HOST/DIR or
    /// oci://REGISTRY/REPO; repeatable; replaces the configured ones
    #[arg(long, value_name = "URL")]
    pub binary_mirror: Vec<String>,
    /// Only download what the install needs (its pack or its sources) into the cache; build
    /// nothing
    #[arg(long)]
    pub fetch_only: bool,
}

/// Where a kind of build reads its settings: its mirrors, a job count python-build's make options
/// name (and which variable), and the config's `jobs` and its key.
pub struct Settings<'a> {
    pub mirrors: settings::MirrorSource<'a>,
    pub tool_jobs: Option<(usize, &'static str)>,
    pub config_jobs: (Option<usize>, &'static str),
}

impl BuildFlags {
    /// The mirror templates (flags, environment, config, default; each checked) and the
    /// pipeline's options.
    pub fn resolve(
        &self,
        ctx: &Ctx,
        config: &Config,
        kind: Settings<'_>,
        force: bool,
    ) -> Result<(Vec<String>, StageOptions), UsageError> {
        let mirrors = settings::mirrors(&self.mirror, kind.mirrors, config)?;
        let jobs = settings::jobs(
            self.jobs,
            kind.tool_jobs,
            kind.config_jobs.0,
            kind.config_jobs.1,
            config,
        )?;
        let options = StageOptions {
            fetch: FetchSettings {
                cache_dir: ctx.layout.cache_dir(),
                locks_dir: ctx.layout.download_locks_dir(),
                offline: self.offline,
                stall_timeout: settings::stall_timeout()?,
            },
            jobs,
            force,
            keep: self.keep,
            skip_preflight: self.skip_preflight,
            build_cache: BuildCache {
                use_it: (config.cache.builds || self.binary_only) && !self.no_binary,
                fill_it: config.cache.builds,
                mirrors: crate::binary::mirrors(&self.binary_mirror, config)?,
                binary_only: self.binary_only,
            },
        };
        Ok((mirrors, options))
    }
}
