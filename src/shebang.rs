//! Scripts whose `#!` line the kernel cannot run: an interpreter under a prefix with whitespace
//! (the kernel ends the path at the first blank: `/ci/my job/…/python3.12` runs `/ci/my`) or a
//! line longer than the kernel reads (127 bytes, the bound distlib uses for Linux). As pip's
//! script writer (distlib) and uv do, such a script is started by `/bin/sh`, which runs the
//! interpreter on it; the lines `/bin/sh` reads are a string to Python:
//!
//! ```text
//! #!/bin/sh
//! '''exec' "/ci/my job/versions/3.12.7/bin/python3.12" "$0" "$@"
//! ' '''
//! ```

use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// The longest `#!` line every Linux kernel runs whole.
const MAX_SHEBANG: usize = 127;

/// Rewrites the scripts directly in `bin` whose `#!` line names an interpreter under `prefix`
/// (the install's final prefix) and cannot run as it is; returns how many. Links and other
/// files are left alone.
pub fn fit(bin: &Path, prefix: &Path) -> io::Result<usize> {
    let Some(prefix) = prefix.to_str() else {
        return Ok(0);
    };
    let mut fitted = 0;
    for entry in fs::read_dir(bin).into_iter().flatten() {
        let path = entry?.path();
        if !fs::symlink_metadata(&path)?.is_file() || !starts_with_shebang(&path, prefix)? {
            continue;
        }
        let text = fs::read(&path)?;
        if let Some(new) = fitted_script(&text, prefix) {
            fs::write(&path, new)?;
            fitted += 1;
        }
    }
    Ok(fitted)
}

/// True when the file at `path` begins `#!<prefix>/`: read no more than that.
fn starts_with_shebang(path: &Path, prefix: &str) -> io::Result<bool> {
    let wanted = format!("#!{prefix}/");
    let mut head = Vec::with_capacity(wanted.len());
    fs::File::open(path)?
        .take(wanted.len() as u64)
        .read_to_end(&mut head)?;
    Ok(head == wanted.as_bytes())
}

/// `script` started through `/bin/sh` when its `#!<prefix>/…` line cannot run; `None` when it
/// can, or when its interpreter's path cannot be written in that form.
fn fitted_script(script: &[u8], prefix: &str) -> Option<Vec<u8>> {
    let end = script.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&script[..end]).ok()?;
    let after_prefix = line.strip_prefix("#!")?.strip_prefix(prefix)?;
    let (rest, argument) = match after_prefix.split_once([' ', '\t']) {
        Some((rest, argument)) => (rest, argument.trim()),
        None => (after_prefix, ""),
    };
    let interpreter = format!("{prefix}{rest}");
    let runs = !interpreter.contains(char::is_whitespace) && line.len() <= MAX_SHEBANG;
    // A path that would end the Python string, or the shell's line, cannot be written here.
    if runs || interpreter.contains("'''") || interpreter.contains(['\n', '\r']) {
        return None;
    }
    let mut words = vec![sh_quoted(&interpreter)];
    if !argument.is_empty() {
        words.push(sh_quoted(argument));
    }
    let mut new = format!(
        "#!/bin/sh\n'''exec' {} \"$0\" \"$@\"\n' '''\n",
        words.join(" ")
    )
    .into_bytes();
    new.extend_from_slice(&script[end + 1..]);
    Some(new)
}

/// `text` as one word in `sh`: double-quoted, its `\`, `"`, `$` and `` ` `` escaped.
fn sh_quoted(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    #[test]
    fn a_prefix_with_a_blank_gets_the_sh_form_and_a_short_plain_one_is_kept() {
        let script = b"#!/ci/my job/bin/python3.12 -E\nimport pip\n";
        assert_eq!(
            String::from_utf8(fitted_script(script, "/ci/my job").unwrap()).unwrap(),
            "#!/bin/sh\n'''exec' \"/ci/my job/bin/python3.12\" \"-E\" \"$0\" \"$@\"\n' '''\nimport pip\n"
        );
        assert_eq!(
            fitted_script(b"#!/ci/job/bin/python3.12\nx\n", "/ci/job"),
            None
        );
        let long = format!("/ci/{}", "d".repeat(130));
        let fitted = fitted_script(format!("#!{long}/bin/python3\n").as_bytes(), &long).unwrap();
        assert!(String::from_utf8(fitted)
            .unwrap()
            .starts_with("#!/bin/sh\n"));
        assert_eq!(
            sh_quoted("/a \"b\" $HOME `x` \\"),
            "\"/a \\\"b\\\" \\$HOME \\`x\\` \\\\\""
        );
    }

    /// Run for real: `/bin/sh` starts the interpreter under a prefix with blanks and `$`, which
    /// gets the script and its arguments, and Python reads the lines `/bin/sh` ran as a string.
    #[test]
    fn the_fitted_script_runs_through_sh_and_parses_as_python() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("my job $HOME");
        let bin = prefix.join("bin");
        fs::create_dir_all(&bin).unwrap();
        let python = bin.join("python3");
        std::os::unix::fs::symlink("/usr/bin/python3", &python).unwrap();
        let tool = bin.join("tool");
        fs::write(
            &tool,
            format!(
                "#!{}\nimport sys\nprint('args', sys.argv[1:])\n",
                python.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(bin.join("data"), "#!not a script\n").unwrap();
        assert_eq!(fit(&bin, &prefix).unwrap(), 1);
        let out = Command::new(&tool).args(["a b", "c"]).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "args ['a b', 'c']\n",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            fs::read_to_string(bin.join("data")).unwrap(),
            "#!not a script\n"
        );
        assert_eq!(fit(&bin, &prefix).unwrap(), 0, "fitted once");
    }
}
