//! `apt_repository`: an apt source whose signing key is fetched and trusted only when its
//! fingerprint is the expected one.

use std::path::Path;

use super::{FieldError, Fields, State, StepKind};
use crate::atomic_file::AtomicFile;
use crate::error::IoContext;
use crate::recipe::error::StepError;
use crate::recipe::files::{self, Desired};
use crate::recipe::host::StepCtx;
use crate::shell::quote_posix;

#[derive(Debug)]
struct AptRepository {
    key_url: String,
    fingerprint: String,
    keyring: String,
    source: String,
    list_file: String,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    Ok(Box::new(AptRepository {
        key_url: fields.need("key_url")?,
        fingerprint: fields.need("fingerprint")?,
        keyring: fields.need("keyring")?,
        source: fields.need("source")?,
        list_file: fields.need("list_file")?,
    }))
}

fn normalize_fingerprint(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Fingerprints of the keys in a key file (armored or binary), from `gpg --show-keys`.
fn key_fingerprints(path: &Path, ctx: &StepCtx<'_>) -> Result<Vec<String>, StepError> {
    let script = format!(
        "gpg --batch --show-keys --with-colons {}",
        quote_posix(&path.to_string_lossy())
    );
    let shown = ctx.sh(&script)?;
    if !shown.success() {
        return Ok(Vec::new());
    }
    Ok(shown
        .output
        .lines()
        .filter_map(|l| l.strip_prefix("fpr:"))
        .filter_map(|rest| rest.split(':').find(|f| !f.is_empty()))
        .map(normalize_fingerprint)
        .collect())
}

impl AptRepository {
    fn list_line(&self, ctx: &StepCtx<'_>) -> String {
        format!("{}\n", ctx.raw(&self.source))
    }
}

impl StepKind for AptRepository {
    fn templates(&self) -> Vec<&str> {
        vec![
            &self.key_url,
            &self.fingerprint,
            &self.keyring,
            &self.source,
            &self.list_file,
        ]
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let keyring = ctx.path(&self.keyring);
        let list = ctx.path(&self.list_file);
        let wanted_line = self.list_line(ctx);
        let wanted_key = normalize_fingerprint(&ctx.raw(&self.fingerprint));
        let key_ok = keyring.exists() && key_fingerprints(&keyring, ctx)?.contains(&wanted_key);
        let list_ok = files::read_if_exists(&list)?.is_some_and(|t| t == wanted_line);
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
        Ok(State::from_changes(changes, |c| c.join("\n")))
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let keyring = ctx.path(&self.keyring);
        let wanted = normalize_fingerprint(&ctx.raw(&self.fingerprint));
        if let Some(dir) = keyring.parent() {
            std::fs::create_dir_all(dir).io_context("create", dir)?;
        }
        // Downloaded into a new file of strap's (removed unless it becomes the keyring).
        let download = AtomicFile::create(&keyring).io_context("write", &keyring)?;
        let url = ctx.raw(&self.key_url);
        ctx.must(&format!(
            "curl -fsSL {} -o {}",
            quote_posix(&url),
            quote_posix(&download.path().to_string_lossy())
        ))?;
        let found = key_fingerprints(download.path(), ctx)?;
        if !found.contains(&wanted) {
            return Err(StepError::FingerprintMismatch {
                url,
                found: if found.is_empty() {
                    "no fingerprint".to_owned()
                } else {
                    found.join(", ")
                },
                expected: wanted,
            });
        }
        download.replace().io_context("write", &keyring)?;
        let list = Desired {
            content: self.list_line(ctx),
            mode: Some(0o644),
            owner: None,
        };
        files::write(&ctx.path(&self.list_file), &list, ctx)?;
        Ok(String::new())
    }
}
