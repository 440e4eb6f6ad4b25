//! Snapshots, the one way tests compare long outputs: insta, each stored as
//! `tests/it/snapshots/<name>.snap`, with what differs from run to run (the temporary directory,
//! and the patterns a test module names) replaced by placeholders before the comparison.

/// The insta settings for a snapshot: the temporary directories of [`super::TestEnv`] become
/// `[TMP]`, then each `(regex, replacement)` of `filters` is applied in order.
pub fn settings(filters: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    let tmp = std::env::temp_dir();
    let tmp = regex::escape(tmp.to_str().expect("a UTF-8 temporary directory"));
    settings.add_filter(
        &format!(r"{}/\.tmp[A-Za-z0-9]+", tmp.trim_end_matches('/')),
        "[TMP]",
    );
    for (pattern, replacement) in filters {
        settings.add_filter(pattern, *replacement);
    }
    settings
}
