//! Dotted version numbers (`3.12.1`, `1.81.0`, glibc's `2.35`): the one parser of their numbers
//! and the one prefix matcher at component boundaries, for every kind of version strap reads.

use std::str::FromStr;

/// One component: ASCII digits only (no sign, not empty), within `N`.
fn part<N: FromStr>(text: &str) -> Option<N> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

/// The numbers of `3.12.1`; `None` when a component is not a number (`3.12.x`, `3..1`, `3.`).
pub fn parse<N: FromStr>(text: &str) -> Option<Vec<N>> {
    text.split('.').map(part).collect()
}

/// As [`parse`], refusing leading zeros (`1.08.0`): the text is how the numbers print.
pub fn parse_canonical<N: FromStr>(text: &str) -> Option<Vec<N>> {
    let plain = text.split('.').all(|p| p == "0" || !p.starts_with('0'));
    plain.then(|| parse(text)).flatten()
}

/// The numbers of a version for ordering: a component that is not a number counts as 0.
pub fn lenient<N: FromStr + Default>(text: &str) -> Vec<N> {
    text.split('.')
        .map(|p| part(p).unwrap_or_default())
        .collect()
}

/// True when `name` is `prefix` or goes on after it with one of `boundaries` (`.` for release
/// numbers, `-` before a variant): `3.1` is a prefix of `3.1.5`, not of `3.10.0`.
pub fn is_under(prefix: &str, name: &str, boundaries: &[char]) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(boundaries))
}

/// `sort -n` on one field: its leading number (none is 0).
pub fn leading_number_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let number = |s: &str| {
        let digits: &str = &s[..s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len())];
        let digits = digits.trim_start_matches('0');
        (digits.len(), digits.to_owned())
    };
    number(a).cmp(&number(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_refuses_the_rest() {
        assert_eq!(parse::<u64>("3.12.1"), Some(vec![3, 12, 1]));
        assert_eq!(parse::<u32>("2.35"), Some(vec![2, 35]));
        assert_eq!(parse::<u64>("3.012"), Some(vec![3, 12]));
        for bad in ["", "3.", ".3", "3..1", "3.12.x", "+3", "3.-1", "3.12rc1"] {
            assert_eq!(parse::<u64>(bad), None, "{bad}");
        }
        assert_eq!(parse::<u32>("1.99999999999.0"), None);
        assert_eq!(parse_canonical::<u32>("1.86.0"), Some(vec![1, 86, 0]));
        assert_eq!(parse_canonical::<u32>("1.08.0"), None);
    }

    #[test]
    fn lenient_numbers_count_what_is_not_a_number_as_zero() {
        assert_eq!(lenient::<u64>("2.35"), [2, 35]);
        assert_eq!(lenient::<u32>("1.81.x"), [1, 81, 0]);
        assert_eq!(lenient::<u32>(""), [0]);
    }

    #[test]
    fn prefixes_match_at_component_boundaries() {
        assert!(is_under("3.1", "3.1", &['.']));
        assert!(is_under("3.1", "3.1.5", &['.']));
        assert!(!is_under("3.1", "3.10.0", &['.']));
        assert!(!is_under("1.81", "1.81.0-py3.11", &['-']));
        assert!(is_under("1.81.0", "1.81.0-py3.11", &['.', '-']));
        assert!(!is_under("3.12.7", "3.12", &['.']));
    }
}
