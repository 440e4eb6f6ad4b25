//! Mirror URL templates: `{version}`, `{file}` and `{sha256}` placeholders, e.g.
//! `https://www.python.org/ftp/python/{version}/{file}` or `http://artifacts.local/{sha256}`.

/// Where CPython archives come from when nothing else is configured.
pub const DEFAULT_PYTHON_MIRROR: &str = "https://www.python.org/ftp/python/{version}/{file}";

/// The URL of `file` on the mirror `template`. `version` fills `{version}`.
pub fn expand(template: &str, version: &str, file: &str, sha256: &str) -> String {
    template
        .replace("{version}", version)
        .replace("{file}", file)
        .replace("{sha256}", sha256)
}

/// True when a template can serve any file, not only one laid out by CPython version
/// (it has `{sha256}`, or `{file}` without `{version}`).
pub fn serves_any_file(template: &str) -> bool {
    template.contains("{sha256}")
        || (template.contains("{file}") && !template.contains("{version}"))
}

/// Splits a comma-separated list of templates (as in `STRAP_PYTHON_MIRRORS`).
pub fn split_list(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            expand(DEFAULT_PYTHON_MIRROR, "3.11.2", "Python-3.11.2.tgz", "ab"),
            "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz"
        );
        assert_eq!(expand("http://m/{sha256}", "1", "f", "abc"), "http://m/abc");
        assert!(serves_any_file("file:///srv/{file}"));
        assert!(!serves_any_file(DEFAULT_PYTHON_MIRROR));
        assert_eq!(split_list(" a, ,b ").collect::<Vec<_>>(), ["a", "b"]);
    }
}
