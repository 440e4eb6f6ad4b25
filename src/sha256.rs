//! A sha256 as strap keeps and compares it: 64 lowercase hex digits. Every sha256 strap is
//! given — catalog lines, `--sha256`, a mirror's checksum file, a packed build's manifest — is
//! read by [`parse`], so either case is accepted everywhere and compared as lower case (what
//! strap computes).

use serde::{Deserialize, Deserializer};

/// The sha256 of `bytes`, as lowercase hex.
pub fn of(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// `text` as a sha256 in lower case, if it is 64 hex digits of either case.
pub fn parse(text: &str) -> Option<String> {
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// A sha256 field of a file strap reads (`#[serde(deserialize_with)]`): in lower case when it
/// is one ([`parse`]), else as written, for the reader's own check to name it.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(parse(&text).unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_case_is_read_as_lower_case() {
        let lower = "0123456789abcdef".repeat(4);
        assert_eq!(parse(&lower).as_deref(), Some(lower.as_str()));
        assert_eq!(
            parse(&lower.to_ascii_uppercase()).as_deref(),
            Some(lower.as_str())
        );
        assert_eq!(parse(&lower[1..]), None);
        assert_eq!(parse(&format!("{}g", &lower[1..])), None);
        assert_eq!(parse(&format!(" {}", &lower[1..])), None);
    }

    #[test]
    fn a_field_is_lowered_when_it_is_a_sha256_and_kept_otherwise() {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(deserialize_with = "deserialize")]
            sha256: String,
        }
        let read = |text: &str| {
            serde_json::from_str::<File>(&format!(r#"{{"sha256": "{text}"}}"#))
                .unwrap()
                .sha256
        };
        assert_eq!(read(&"AB".repeat(32)), "ab".repeat(32));
        assert_eq!(read("not hex"), "not hex");
    }
}
