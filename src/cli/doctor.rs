//! `strap doctor`: checks the setup and names the fix for each problem — the shims on `PATH`
//! (and ahead of other version managers'), the shell integration, the root, the config and
//! manifest, the mirrors (source, binary, prebuilt), build prerequisites, installed versions
//! and virtualenvs that no longer run, stale shims and leftover work directories. Exit 1 when
//! something is wrong.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::Ctx;
use crate::binary::BinaryMirror;
use crate::config::{Config, PrebuiltMode};
use crate::env_vars;
use crate::error::{Reported, UsageError};
use crate::fetch::mirror;
use crate::python::prebuilt::Catalog;
use crate::settings::{self, MirrorSource};

/// The flags of `strap doctor`.
#[derive(clap::Args)]
pub struct DoctorArgs {
    /// Machine-readable findings on stdout
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for each mirror's answer (0.1 to 60; the mirrors are asked at once)
    #[arg(long, value_name = "SECONDS", default_value = "3", value_parser = mirror_timeout)]
    pub timeout: Duration,
}

/// The longest `--timeout` doctor accepts.
const MAX_TIMEOUT_SECONDS: f64 = 60.0;

/// `--timeout`: see [`crate::settings::seconds`].
fn mirror_timeout(text: &str) -> Result<Duration, String> {
    crate::settings::seconds(text, MAX_TIMEOUT_SECONDS)
        .map_err(|accepted| format!("expected {accepted}"))
}

/// One check's result.
#[derive(Debug, Serialize)]
struct Finding {
    check: &'static str,
    ok: bool,
    /// What was found.
    detail: String,
    /// What to do about it (when not ok).
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn problem(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            check,
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

pub(super) fn run(ctx: &Ctx, args: DoctorArgs, out: &mut dyn Write) -> Result<i32, Reported> {
    let timeout = args.timeout;
    let mut findings = vec![path_check(ctx), shell_check(), root_check(ctx)];
    let config = match Config::load() {
        Ok(config) => {
            findings.push(match config_values_problem(&config) {
                Some(problem) => Finding::problem("config", problem, "fix the value in the file"),
                None => Finding::ok("config", config_name(&config)),
            });
            Some(config)
        }
        Err(e) => {
            findings.push(Finding::problem(
                "config",
                e.to_string(),
                "fix the file at that line",
            ));
            None
        }
    };
    findings.extend(manifest_check(ctx));
    if let Some(config) = &config {
        findings.extend(mirror_checks(config, timeout));
    }
    findings.extend(prerequisite_checks());
    findings.extend(version_checks(ctx));
    findings.push(shims_check(ctx));
    findings.push(leftovers_check(ctx));
    let problems = findings.iter().filter(|f| !f.ok).count();
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &findings)?;
        writeln!(out)?;
    } else {
        for finding in &findings {
            let mark = if finding.ok { "ok     " } else { "PROBLEM" };
            writeln!(out, "{mark} {:<14} {}", finding.check, finding.detail)?;
            if let Some(fix) = &finding.fix {
                writeln!(out, "        {:<14} fix: {fix}", "")?;
            }
        }
        writeln!(
            out,
            "{}",
            match problems {
                0 => "strap doctor: no problem found".to_owned(),
                1 => "strap doctor: 1 problem".to_owned(),
                n => format!("strap doctor: {n} problems"),
            }
        )?;
    }
    Ok(if problems == 0 {
        0
    } else {
        crate::error::EXIT_FAILURE
    })
}

/// A value of the config that every build would refuse (checked as the builds check it).
fn config_values_problem(config: &Config) -> Option<String> {
    [
        (config.python.jobs, "python.jobs"),
        (config.boost.jobs, "boost.jobs"),
    ]
    .into_iter()
    .find_map(|(jobs, key)| {
        let jobs = jobs?;
        crate::settings::check_jobs(jobs, &config.origin(key))
            .err()
            .map(|e| e.to_string())
    })
}

fn config_name(config: &Config) -> String {
    if config.path.as_os_str().is_empty() {
        "no config file (defaults)".to_owned()
    } else {
        format!("{} parses", config.path.display())
    }
}

/// The shims directory on `PATH`, before any other version manager's shims and any other
/// Python.
fn path_check(ctx: &Ctx) -> Finding {
    let shims = ctx.layout.shims_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<_> = std::env::split_paths(&path).collect();
    let fix = "add `eval \"$(strap init bash)\"` (or zsh/fish) to your shell's rc file — the one \
               a login shell reads too (~/.bash_profile or ~/.profile for bash) — and open a new shell";
    let Some(ours) = dirs.iter().position(|d| same_dir(d, &shims)) else {
        let detail = format!("{} is not on PATH", shims.display());
        return match rc_file_with_init() {
            Some(rc) => Finding::problem(
                "PATH",
                format!(
                    "{detail}, though {} loads strap's init code: this shell did not read it",
                    rc.display()
                ),
                "a login shell reads ~/.bash_profile (or ~/.profile), not ~/.bashrc: add \
                 `[ -f ~/.bashrc ] && . ~/.bashrc` to it, or open a new shell",
            ),
            None => Finding::problem("PATH", detail, fix),
        };
    };
    let ahead = dirs[..ours].iter().find(|dir| {
        let text = dir.to_string_lossy();
        text.ends_with("/shims") || dir.join("python3").exists() || dir.join("python").exists()
    });
    match ahead {
        Some(dir) if crate::shims::holds_strap_shims(dir) => {
            let other_root = dir.parent().unwrap_or(dir);
            Finding::problem(
                "PATH",
                format!(
                    "{} comes before this root's shims ({}): they are strap's shims too, for the \
                     root {}, so python is selected from there",
                    dir.display(),
                    shims.display(),
                    other_root.display()
                ),
                format!(
                    "use one root for both: export STRAP_ROOT={} (a pyenv root works as strap's), \
                     or remove {} from PATH",
                    other_root.display(),
                    dir.display()
                ),
            )
        }
        Some(dir) => Finding::problem(
            "PATH",
            format!(
                "{} comes before strap's shims ({}): its python runs instead",
                dir.display(),
                shims.display()
            ),
            "load strap's init code after the other version manager's (or remove that one's)",
        ),
        None => Finding::ok("PATH", format!("{} comes first", shims.display())),
    }
}

/// True when `a` and `b` name the same directory (also through a link).
fn same_dir(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let identity = |path: &Path| std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    a == b || identity(a).is_some_and(|id| identity(b) == Some(id))
}

/// The shell rc file that runs `strap init`, if one does.
fn rc_file_with_init() -> Option<std::path::PathBuf> {
    let home = dirs::home_dir()?;
    [".bashrc", ".zshrc", ".config/fish/config.fish"]
        .iter()
        .map(|rc| home.join(rc))
        .find(|rc| crate::bounded::read_text(rc).is_ok_and(|text| text.contains("strap init")))
}

fn shell_check() -> Finding {
    match std::env::var(env_vars::STRAP_SHELL) {
        Ok(shell) if !shell.is_empty() => {
            Finding::ok("shell", format!("strap's {shell} integration is loaded"))
        }
        _ => Finding::problem(
            "shell",
            "strap's shell integration is not loaded (`strap shell` and completions need it)",
            "add `eval \"$(strap init bash)\"` (or zsh/fish) to your shell's rc file",
        ),
    }
}

fn root_check(ctx: &Ctx) -> Finding {
    let root = ctx.layout.root();
    // A new file under a name nobody can plant a link at, removed again.
    let writable = std::fs::create_dir_all(root).and_then(|()| {
        crate::atomic_file::AtomicFile::create(&ctx.layout.doctor_probe()).map(drop)
    });
    match writable {
        Ok(()) => Finding::ok("root", format!("{} is writable", root.display())),
        Err(e) => Finding::problem(
            "root",
            format!("{} is not writable: {e}", root.display()),
            "fix its owner or permissions, or set STRAP_ROOT to a directory you own",
        ),
    }
}

fn manifest_check(ctx: &Ctx) -> Option<Finding> {
    let cwd = ctx.cwd.as_deref()?;
    let path = crate::bootstrap::manifest::find(cwd).ok()?;
    Some(match crate::bootstrap::manifest::load(&path) {
        Ok(_) => Finding::ok("manifest", format!("{} parses", path.display())),
        Err(e) => Finding::problem("manifest", e.to_string(), "fix the file at that line"),
    })
}

/// Each mirror an install would use answers, asked over the scheme the install would use
/// (any HTTP answer counts; a `file://` mirror's directory exists): the source mirrors of
/// CPython and Boost, the binary mirrors and the prebuilt ones (else, where installs use
/// prebuilts, the catalog's hosts), each list by the installs' own precedence
/// ([`settings::mirror_list`]: the environment over the config, else the default; CPython's
/// after python-build's `PYTHON_BUILD_MIRROR_URL`) and checked as installs check them (a
/// template or a binary mirror an install refuses is a problem).
fn mirror_checks(config: &Config, timeout: Duration) -> Vec<Finding> {
    let mut mirrors: Vec<(String, Result<String, UsageError>)> = Vec::new();
    // A template is checked as installs check it, then asked at its host (or directory).
    let probe = |template: &str, archives, origin: &str| {
        mirror::check(template, archives, origin).and_then(|()| {
            mirror::probe_url(template).map_err(|why| {
                UsageError::new(format!(
                    "mirror template '{template}' (from {origin}): {why}"
                ))
            })
        })
    };
    for source in [MirrorSource::python(config), MirrorSource::boost(config)] {
        let (templates, origin) = settings::mirror_list(&[], source, config);
        for (template, origin) in
            settings::with_python_build_mirror(&[], source, templates, &origin)
        {
            let url = probe(&template, mirror::Archives::Sources, &origin);
            mirrors.push((template, url));
        }
    }
    let (binary, origin) = settings::mirror_list(&[], MirrorSource::binary(config), config);
    for text in binary {
        let endpoint = BinaryMirror::parse(&text, &origin).map(|m| m.endpoint());
        mirrors.push((text, endpoint));
    }
    let (prebuilt, origin) = settings::mirror_list(&[], MirrorSource::prebuilt(config), config);
    for template in &prebuilt {
        mirrors.push((
            template.clone(),
            probe(template, mirror::Archives::Prebuilt, &origin),
        ));
    }
    if prebuilt.is_empty() && prebuilt_in_use(config) {
        mirrors.extend(catalog_hosts());
    }
    let mut seen = std::collections::HashSet::new();
    mirrors.retain(|(text, _)| seen.insert(text.clone()));
    let client = crate::fetch::client::blocking(timeout, Some(timeout));
    let client = client.as_ref().ok();
    // At once, up to MAX_PROBES at a time: N mirrors that do not answer cost one timeout,
    // not N, and a catalog naming a thousand hosts does not start a thousand threads.
    mirrors
        .chunks(MAX_PROBES)
        .flat_map(|chunk| probe_all(chunk, client))
        .collect()
}

/// The most mirrors doctor asks at the same time.
const MAX_PROBES: usize = 16;

/// [`mirror_checks`]'s findings for `mirrors`, asked at once.
fn probe_all(
    mirrors: &[(String, Result<String, UsageError>)],
    client: Option<&reqwest::blocking::Client>,
) -> Vec<Finding> {
    std::thread::scope(|scope| {
        let checks: Vec<_> = mirrors
            .iter()
            .map(|(text, url)| {
                (
                    text,
                    url.as_ref()
                        .map(|url| scope.spawn(move || reachable(url, client))),
                )
            })
            .collect();
        checks
            .into_iter()
            .map(|(mirror, check)| match check {
                Err(refused) => Finding::problem(
                    "mirror",
                    refused.message.clone(),
                    refused
                        .hint
                        .clone()
                        .unwrap_or_else(|| "correct or remove the mirror".to_owned()),
                ),
                Ok(check) => match check
                    .join()
                    .unwrap_or_else(|_| Err("the check failed".to_owned()))
                {
                    Ok(()) => Finding::ok("mirror", format!("{mirror} answers")),
                    Err(why) if mirror::is_local(mirror) => Finding::problem(
                        "mirror",
                        format!("{mirror}: {why}"),
                        "create it, correct the URL, or remove the mirror",
                    ),
                    Err(why) => Finding::problem(
                        "mirror",
                        format!("{mirror}: {why}"),
                        "check the URL and the network (a proxy: HTTPS_PROXY), or remove the \
                         mirror",
                    ),
                },
            })
            .collect()
    })
}

/// Whether installs download prebuilt CPythons by default (`STRAP_PYTHON_PREBUILT`, the
/// config's `[python] prebuilt`).
fn prebuilt_in_use(config: &Config) -> bool {
    settings::prebuilt_mode(None, config).is_ok_and(|mode| mode != PrebuiltMode::Never)
}

/// Where the prebuilt catalog's archives are published (with no prebuilt mirror, installs
/// download them there): each distinct host or `file://` directory, or why the catalog
/// cannot be read.
fn catalog_hosts() -> Vec<(String, Result<String, UsageError>)> {
    let catalog = match Catalog::from_env() {
        Ok(catalog) => catalog,
        Err(e) => return vec![(env_vars::STRAP_PREBUILT_CATALOG.to_owned(), Err(e))],
    };
    let mut hosts: Vec<String> = catalog
        .urls()
        .filter_map(|url| mirror::probe_url(url).ok())
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts.into_iter().map(|h| (h.clone(), Ok(h))).collect()
}

/// Whether the mirror at `url` is there: a `file://` directory exists; an HTTP server answers
/// a HEAD of `url`.
fn reachable(url: &str, client: Option<&reqwest::blocking::Client>) -> Result<(), String> {
    if mirror::is_local(url) {
        let path = mirror::local_path(url).map_err(|why| format!("it {why}"))?;
        return match path.is_dir() {
            true => Ok(()),
            false => Err(format!("the directory {} does not exist", path.display())),
        };
    }
    let client = client.ok_or("no HTTP client")?;
    client
        .head(url)
        .send()
        .map(drop)
        .map_err(|e| format!("no answer from {url}: {e}"))
}

fn prerequisite_checks() -> Vec<Finding> {
    let python = crate::python::preflight::check(true);
    let mut findings = vec![if let Some(broken) = &python.broken_compiler {
        Finding::problem("build:python", broken.to_string(), broken.fix())
    } else if python.ok() {
        Finding::ok(
            "build:python",
            "compiler, make and the required headers are there",
        )
    } else {
        let missing: Vec<String> = python
            .missing_tools
            .iter()
            .map(|t| t.to_string())
            .chain(python.missing_required.iter().map(|l| l.name.to_owned()))
            .collect();
        Finding::problem(
            "build:python",
            format!("missing for CPython builds: {}", missing.join(", ")),
            python
                .fix_command()
                .unwrap_or_else(|| "install them with your package manager".to_owned()),
        )
    }];
    findings.push(match crate::sysdeps::cxx_compiler() {
        Some(cxx) => match crate::sysdeps::check_compiler(&cxx, true) {
            Ok(()) => Finding::ok("build:boost", format!("C++ compiler {cxx}")),
            Err(broken) => Finding::problem("build:boost", broken.to_string(), broken.fix()),
        },
        None => Finding::problem(
            "build:boost",
            "no C++ compiler for Boost builds",
            crate::sysdeps::PackageManager::detect().map_or_else(
                || "install g++ with your package manager".to_owned(),
                |m| m.install_hint(&["g++"]),
            ),
        ),
    });
    findings
}

/// Every installed version's and virtualenv's interpreter is there (examined as `strap which`
/// does) and runs; no virtualenv link dangles.
fn version_checks(ctx: &Ctx) -> Vec<Finding> {
    let mut findings = Vec::new();
    for name in crate::version::installed_versions(&ctx.layout).unwrap_or_default() {
        let prefix = ctx.layout.version_dir(&name);
        let python = match crate::which::examine_python(&prefix) {
            Ok(python) => python,
            Err(problem) => {
                findings.push(Finding::problem(
                    "version",
                    format!("{name}: {problem}"),
                    format!("reinstall it: strap install -f {name}"),
                ));
                continue;
            }
        };
        let ran = std::process::Command::new(&python)
            .args(["-c", "pass"])
            .stdin(std::process::Stdio::null())
            .output();
        findings.push(match ran {
            Ok(out) if out.status.success() => Finding::ok("version", format!("{name} runs")),
            Ok(out) => Finding::problem(
                "version",
                format!(
                    "{name}: {} fails: {}",
                    python.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                format!(
                    "reinstall it: strap install -f {name} (a system library it needs may be gone)"
                ),
            ),
            Err(e) => Finding::problem(
                "version",
                format!("{name}: {} does not start: {e}", python.display()),
                format!("reinstall it: strap install -f {name}"),
            ),
        });
    }
    for link in crate::virtualenv::dangling(&ctx.layout) {
        findings.push(Finding::problem(
            "virtualenv",
            format!(
                "{} points to {}, which is gone (its Python was uninstalled)",
                link.name,
                link.target.display()
            ),
            format!("strap virtualenv-delete {}", link.name),
        ));
    }
    findings
}

fn shims_check(ctx: &Ctx) -> Finding {
    match crate::shims::out_of_date(&ctx.layout) {
        Ok((missing, stale)) if missing.is_empty() && stale.is_empty() => {
            Finding::ok("shims", "match the installed executables")
        }
        Ok((missing, stale)) => {
            let counted: Vec<String> = [("missing", &missing), ("stale", &stale)]
                .into_iter()
                .filter(|(_, names)| !names.is_empty())
                .map(|(what, names)| format!("{} {what} ({})", names.len(), names.join(" ")))
                .collect();
            Finding::problem("shims", counted.join(", "), "strap rehash")
        }
        Err(e) => Finding::problem("shims", e.to_string(), "strap rehash"),
    }
}

/// No build tree was left in `tmp/`, as the pipeline and `strap cache clean` see them
/// ([`crate::workdir::leftovers`]): one a running strap uses, one being removed in the background
/// and one kept with `--keep` are not left over.
fn leftovers_check(ctx: &Ctx) -> Finding {
    let tmp = ctx.layout.tmp_dir();
    let left: Vec<String> = crate::workdir::leftovers(&ctx.layout)
        .into_iter()
        .filter(|l| l.running.is_none() && !l.being_removed && !l.kept)
        .filter_map(|l| Some(l.path.file_name()?.to_string_lossy().into_owned()))
        .collect();
    if left.is_empty() {
        Finding::ok("work dirs", "no leftover build trees")
    } else {
        Finding::problem(
            "work dirs",
            format!(
                "{} leftover in {}: {}",
                left.len(),
                tmp.display(),
                left.join(" ")
            ),
            "strap cache clean (keeps what a running strap holds)",
        )
    }
}
