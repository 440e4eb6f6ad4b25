//! What each step kind checks and does. A check says whether the system is already in the
//! desired state (and, if not, what would change); an apply brings it there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::exec::Exec;
use super::model::StepKind;
use super::vars::{substitute, Quoting, Value, Values};

/// The result of a check.
#[derive(Debug)]
pub enum State {
    /// Already as desired.
    Ok,
    /// Differs; with a description of the change when the kind can tell.
    Differs(Option<String>),
}

/// Everything a step needs to run.
pub struct StepEnv<'a> {
    pub values: &'a Values,
    pub sysroot: &'a Path,
    pub exec: &'a Exec,
    pub become_root: bool,
    pub timeout: Duration,
}

impl StepEnv<'_> {
    fn cmd(&self, template: &str) -> String {
        substitute(template, self.values, Quoting::Shell)
    }

    fn raw(&self, template: &str) -> String {
        substitute(template, self.values, Quoting::Raw)
    }

    /// A path inside the sysroot.
    fn path(&self, template: &str) -> PathBuf {
        let raw = self.raw(template);
        self.sysroot.join(raw.trim_start_matches('/'))
    }

    /// Runs a ready-made shell script; Ok(success, output).
    fn sh(&self, script: &str) -> Result<(bool, String), String> {
        self.exec
            .sh(script, self.become_root, self.timeout)
            .map(|o| (o.success, o.output))
    }

    /// Runs a script that must succeed.
    pub(super) fn must(&self, script: &str) -> Result<String, String> {
        match self.sh(script)? {
            (true, output) => Ok(output),
            (false, output) => Err(format!("`{script}` failed:\n{}", output.trim_end())),
        }
    }

    /// The value of a variable, if the recipe has it.
    fn var(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

/// Checks whether the step's desired state holds.
pub fn check(kind: &StepKind, env: &StepEnv<'_>) -> Result<State, String> {
    match kind {
        StepKind::Shell { check, .. } => match check {
            Some(check) => Ok(if env.sh(&env.cmd(check))?.0 {
                State::Ok
            } else {
                State::Differs(None)
            }),
            None => Ok(State::Differs(None)),
        },
        StepKind::Packages { packages, .. } => {
            let missing = missing_packages(packages, env)?;
            Ok(if missing.is_empty() {
                State::Ok
            } else {
                State::Differs(Some(format!("install {}", missing.join(" "))))
            })
        }
        StepKind::Service {
            service,
            enabled,
            started,
        } => {
            let changes = service_changes(&env.raw(service), *enabled, *started, env)?;
            Ok(if changes.is_empty() {
                State::Ok
            } else {
                State::Differs(Some(changes.join(", ")))
            })
        }
        StepKind::File {
            path,
            content,
            mode,
            owner,
        } => file_state(
            &env.path(path),
            &env.raw(content),
            *mode,
            owner.as_deref().map(|o| env.raw(o)),
            env,
        ),
        StepKind::Json { path, merge } => {
            let path = env.path(path);
            let (current, desired) = json_states(&path, merge, env)?;
            Ok(if current == desired {
                State::Ok
            } else {
                State::Differs(Some(json_diff(&path, &current, &desired)))
            })
        }
        StepKind::AptRepository {
            fingerprint,
            keyring,
            source,
            list_file,
            ..
        } => {
            let keyring = env.path(keyring);
            let list = env.path(list_file);
            let wanted_line = format!("{}\n", env.raw(source));
            let key_ok = keyring.exists()
                && key_fingerprints(&keyring, env)?.contains(&normalize_fpr(&env.raw(fingerprint)));
            let list_ok = std::fs::read_to_string(&list).is_ok_and(|t| t == wanted_line);
            let mut changes = Vec::new();
            if !key_ok {
                changes.push(format!("fetch the signing key into {}", keyring.display()));
            }
            if !list_ok {
                changes.push(format!(
                    "write {}: {}",
                    list.display(),
                    wanted_line.trim_end()
                ));
            }
            Ok(if changes.is_empty() {
                State::Ok
            } else {
                State::Differs(Some(changes.join("\n")))
            })
        }
        StepKind::GroupMember { group, users } => {
            let group = env.raw(group);
            let missing = users_missing_from(&group, &user_list(users, env), env)?;
            Ok(if missing.is_empty() {
                State::Ok
            } else {
                State::Differs(Some(format!("add {} to group {group}", missing.join(", "))))
            })
        }
        StepKind::CanInterface { interface } => super::can::check(&env.raw(interface), env),
        StepKind::Message { .. } => Ok(State::Ok),
    }
}

/// Brings the system to the step's desired state.
pub fn apply(kind: &StepKind, env: &StepEnv<'_>) -> Result<String, String> {
    match kind {
        StepKind::Shell { run, .. } => {
            let mut output = String::new();
            for command in run {
                output.push_str(&env.must(&env.cmd(command))?);
            }
            Ok(output)
        }
        StepKind::Packages { packages, update } => {
            let missing = missing_packages(packages, env)?;
            let quoted: Vec<String> = missing
                .iter()
                .map(|p| super::vars::shell_quote(p))
                .collect();
            if crate::which::find_on_path("dpkg-query").is_some() {
                if *update {
                    env.must("DEBIAN_FRONTEND=noninteractive apt-get update")?;
                }
                env.must(&format!(
                    "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}",
                    quoted.join(" ")
                ))
            } else {
                env.must(&format!("dnf install -y {}", quoted.join(" ")))
            }
        }
        StepKind::Service {
            service,
            enabled,
            started,
        } => {
            let service = super::vars::shell_quote(&env.raw(service));
            match (enabled, started) {
                (true, true) => env.must(&format!("systemctl enable --now {service}")),
                (true, false) => env.must(&format!("systemctl enable {service}")),
                (false, true) => env.must(&format!("systemctl start {service}")),
                (false, false) => Ok(String::new()),
            }
        }
        StepKind::File {
            path,
            content,
            mode,
            owner,
        } => {
            write_file(
                &env.path(path),
                &env.raw(content),
                *mode,
                owner.as_deref().map(|o| env.raw(o)),
                env,
            )?;
            Ok(String::new())
        }
        StepKind::Json { path, merge } => {
            let path = env.path(path);
            let (_, desired) = json_states(&path, merge, env)?;
            let text = serde_json::to_string_pretty(&desired).map_err(|e| e.to_string())? + "\n";
            write_file(&path, &text, None, None, env)?;
            Ok(String::new())
        }
        StepKind::AptRepository {
            key_url,
            fingerprint,
            keyring,
            source,
            list_file,
        } => {
            let keyring = env.path(keyring);
            let wanted = normalize_fpr(&env.raw(fingerprint));
            let download = keyring.with_extension("download");
            if let Some(dir) = keyring.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let url = env.raw(key_url);
            env.must(&format!(
                "curl -fsSL {} -o {}",
                super::vars::shell_quote(&url),
                super::vars::shell_quote(&download.to_string_lossy())
            ))?;
            let found = key_fingerprints(&download, env)?;
            if !found.contains(&wanted) {
                let _ = std::fs::remove_file(&download);
                return Err(format!(
                    "fingerprint mismatch: the key from {url} has {}, expected {wanted}; not trusting it",
                    if found.is_empty() { "no fingerprint".to_owned() } else { found.join(", ") }
                ));
            }
            std::fs::rename(&download, &keyring)
                .map_err(|e| format!("cannot write {}: {e}", keyring.display()))?;
            write_file(
                &env.path(list_file),
                &format!("{}\n", env.raw(source)),
                Some(0o644),
                None,
                env,
            )?;
            Ok(String::new())
        }
        StepKind::GroupMember { group, users } => {
            let group = env.raw(group);
            let mut output = String::new();
            for user in users_missing_from(&group, &user_list(users, env), env)? {
                output.push_str(&env.must(&format!(
                    "usermod -aG {} {}",
                    super::vars::shell_quote(&group),
                    super::vars::shell_quote(&user)
                ))?);
            }
            Ok(output)
        }
        StepKind::CanInterface { interface } => super::can::apply(&env.raw(interface), env),
        StepKind::Message { text } => Ok(env.raw(text)),
    }
}

fn missing_packages(packages: &[String], env: &StepEnv<'_>) -> Result<Vec<String>, String> {
    let apt = crate::which::find_on_path("dpkg-query").is_some();
    let mut missing = Vec::new();
    for package in packages {
        let package = env.raw(package);
        let quoted = super::vars::shell_quote(&package);
        let installed = if apt {
            let (ok, out) = env.sh(&format!("dpkg-query -W -f='${{Status}}' {quoted}"))?;
            ok && out.contains("install ok installed")
        } else {
            env.sh(&format!("rpm -q {quoted}"))?.0
        };
        if !installed {
            missing.push(package);
        }
    }
    Ok(missing)
}

fn service_changes(
    service: &str,
    enabled: bool,
    started: bool,
    env: &StepEnv<'_>,
) -> Result<Vec<String>, String> {
    let quoted = super::vars::shell_quote(service);
    let mut changes = Vec::new();
    if enabled && env.sh(&format!("systemctl is-enabled {quoted}"))?.1.trim() != "enabled" {
        changes.push(format!("enable {service}"));
    }
    if started && env.sh(&format!("systemctl is-active {quoted}"))?.1.trim() != "active" {
        changes.push(format!("start {service}"));
    }
    Ok(changes)
}

/// Compares a file with the desired content, mode and owner.
pub fn file_state(
    path: &Path,
    content: &str,
    mode: Option<u32>,
    owner: Option<String>,
    env: &StepEnv<'_>,
) -> Result<State, String> {
    use std::os::unix::fs::PermissionsExt;
    let current = match std::fs::read(path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut changes = Vec::new();
    match &current {
        Some(text) if text == content => {}
        Some(text) => changes.push(unified_diff(path, text, content)),
        None => changes.push(unified_diff(path, "", content)),
    }
    if let (Some(mode), Some(_)) = (mode, &current) {
        let actual = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0);
        if actual != mode {
            changes.push(format!("mode {actual:04o} -> {mode:04o}"));
        }
    }
    if let (Some(owner), Some(_)) = (&owner, &current) {
        let quoted = super::vars::shell_quote(&path.to_string_lossy());
        let actual = env
            .sh(&format!("stat -c %U:%G {quoted}"))?
            .1
            .trim()
            .to_owned();
        if actual != *owner && actual.split(':').next() != Some(owner.as_str()) {
            changes.push(format!("owner {actual} -> {owner}"));
        }
    }
    Ok(if changes.is_empty() {
        State::Ok
    } else {
        State::Differs(Some(changes.join("\n")))
    })
}

/// Writes a file atomically (temp file + rename) with its mode and owner.
pub fn write_file(
    path: &Path,
    content: &str,
    mode: Option<u32>,
    owner: Option<String>,
    env: &StepEnv<'_>,
) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_file_name(format!(
        ".{}.strap-tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&tmp, content).map_err(fail)?;
    let mode = mode
        .or_else(|| {
            std::fs::metadata(path)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777)
        })
        .unwrap_or(0o644);
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)?;
    if let Some(owner) = owner {
        let quoted = super::vars::shell_quote(&path.to_string_lossy());
        env.must(&format!(
            "chown {} {quoted}",
            super::vars::shell_quote(&owner)
        ))?;
    }
    Ok(())
}

fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string()
}

/// The current JSON file (or `{}`) and what it should become: `merge`'s keys set (values may be
/// `"{{ var }}"`, replaced by the variable's typed value), every other key kept.
fn json_states(
    path: &Path,
    merge: &serde_json::Map<String, serde_json::Value>,
    env: &StepEnv<'_>,
) -> Result<(serde_json::Value, serde_json::Value), String> {
    let current = match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => serde_json::json!({}),
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not valid JSON ({e}); refusing to overwrite it",
                path.display()
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut desired = current.clone();
    let object = desired.as_object_mut().ok_or_else(|| {
        format!(
            "{} holds JSON that is not an object; refusing to change it",
            path.display()
        )
    })?;
    for (key, value) in merge {
        object.insert(key.clone(), fill_json(value, env));
    }
    Ok((current, desired))
}

fn fill_json(value: &serde_json::Value, env: &StepEnv<'_>) -> serde_json::Value {
    match value {
        serde_json::Value::String(s) => {
            let whole = super::vars::referenced(s).next().filter(|name| {
                s.trim() == format!("{{{{ {name} }}}}") || s.trim() == format!("{{{{{name}}}}}")
            });
            match whole.and_then(|name| env.var(name)) {
                Some(var) => var.to_json(),
                None => env.raw(s).into(),
            }
        }
        serde_json::Value::Array(items) => items.iter().map(|i| fill_json(i, env)).collect(),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), fill_json(v, env)))
            .collect(),
        other => other.clone(),
    }
}

fn json_diff(path: &Path, current: &serde_json::Value, desired: &serde_json::Value) -> String {
    let old = serde_json::to_string_pretty(current).unwrap_or_default() + "\n";
    let new = serde_json::to_string_pretty(desired).unwrap_or_default() + "\n";
    unified_diff(path, &old, &new)
}

fn normalize_fpr(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Fingerprints of the keys in a key file (armored or binary), from `gpg --show-keys`.
fn key_fingerprints(path: &Path, env: &StepEnv<'_>) -> Result<Vec<String>, String> {
    let quoted = super::vars::shell_quote(&path.to_string_lossy());
    let (ok, output) = env.sh(&format!("gpg --batch --show-keys --with-colons {quoted}"))?;
    if !ok {
        return Ok(Vec::new());
    }
    Ok(output
        .lines()
        .filter_map(|l| l.strip_prefix("fpr:"))
        .filter_map(|rest| rest.split(':').find(|f| !f.is_empty()))
        .map(normalize_fpr)
        .collect())
}

/// Users named by a `users` field: a list variable (`{{ users }}`) or comma/space separated text.
fn user_list(template: &str, env: &StepEnv<'_>) -> Vec<String> {
    let single = super::vars::referenced(template)
        .next()
        .and_then(|n| env.var(n));
    match single {
        Some(Value::List(items))
            if template.trim().starts_with("{{") && template.trim().ends_with("}}") =>
        {
            items.clone()
        }
        _ => env
            .raw(template)
            .split([',', ' '])
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

fn users_missing_from(
    group: &str,
    users: &[String],
    env: &StepEnv<'_>,
) -> Result<Vec<String>, String> {
    let mut missing = Vec::new();
    for user in users {
        let (ok, output) = env.sh(&format!("id -nG {}", super::vars::shell_quote(user)))?;
        if !ok {
            return Err(format!("user '{user}' does not exist"));
        }
        if !output.split_whitespace().any(|g| g == group) {
            missing.push(user.clone());
        }
    }
    Ok(missing)
}
