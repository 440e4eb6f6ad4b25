//! The command examples of README.md and docs/*.md run as tests, with `trycmd`: every
//! ```` ```console ```` block is a list of `$ command` lines, each followed by its expected output
//! (stdout and stderr together, `...` and `[..]` as wildcards), so a changed flag or message
//! fails here. Other fences (`sh`, `toml`, `text`, …) are not run.
//!
//! Each file runs on a machine of its own ([`DocMachine`]): a temporary `HOME` (`[HOME]` in the
//! docs) whose default strap root starts empty, `~/project` as the current directory, a loopback
//! mirror (`[MIRROR]`) serving generated CPython-shaped sources for a small catalog, the recipe
//! stub tools first on `PATH`, and nothing from the machine's environment: the programs the
//! examples name are wrappers that `exec` the real ones under `env -i`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fake_source::{fake_python_tgz, sha256_hex};
use crate::family_binary::fake_pypy;
use crate::mirror::{Behavior, Mirror};
use crate::support::{install_stub_tools, strap_bin, write_script, TestEnv};

/// The CPython releases the docs' catalog knows; the mirror serves a generated source of each.
const RELEASES: &[&str] = &["3.11.2", "3.11.9", "3.12.7"];
/// The PyPy the docs' catalog points at the mirror (its interpreter is the system Python).
const PYPY: &str = "pypy3.10-7.3.17";

/// A machine for one documentation file.
struct DocMachine {
    env: TestEnv,
    mirror: Mirror,
}

impl DocMachine {
    fn new() -> DocMachine {
        let machine = DocMachine {
            env: TestEnv::new(),
            mirror: Mirror::start(),
        };
        machine.serve_releases();
        machine.make_project();
        install_stub_tools(&machine.stubs());
        fs::create_dir_all(machine.env.dir.path().join("stub-state")).unwrap();
        // A compiler that finds every header: the preflight passes the same way on any machine
        // (the generated sources compile nothing).
        for compiler in ["cc", "c++"] {
            write_script(&machine.env.sysbin().join(compiler), "cat >/dev/null");
        }
        machine.env.fake_sudo();
        machine
    }

    fn home(&self) -> PathBuf {
        self.env.home()
    }

    /// `~/project`, the current directory of every example.
    fn project(&self) -> PathBuf {
        self.home().join("project")
    }

    /// The project holds a copy of `examples/` and a `sysroot/` (a Debian 12 `os-release`) for
    /// the recipes.
    fn make_project(&self) {
        let project = self.project();
        let sysroot = project.join("sysroot/etc");
        fs::create_dir_all(&sysroot).unwrap();
        fs::write(
            sysroot.join("os-release"),
            "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        )
        .unwrap();
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
            &project.join("examples"),
        );
    }

    fn stubs(&self) -> PathBuf {
        self.env.dir.path().join("stubs")
    }

    /// The mirror serves each release under `/python/`, and a PyPy-shaped archive under
    /// `/pypy/`; the catalog pins their checksums.
    fn serve_releases(&self) {
        let mut catalog = String::new();
        for version in RELEASES {
            let archive = fake_python_tgz(version);
            let file = format!("Python-{version}.tgz");
            catalog.push_str(&format!("{version} {file}:{}\n", sha256_hex(&archive)));
            self.mirror
                .route(&format!("/python/{file}"), Behavior::Serve(archive));
        }
        let (file, archive) = fake_pypy("3.10", "7.3.17", "linux64");
        let url = format!("{}/pypy/{file}#{}", self.mirror_url(), sha256_hex(&archive));
        catalog.push_str(&format!("{PYPY} pypy x86_64={url} aarch64={url}\n"));
        self.mirror
            .route(&format!("/pypy/{file}"), Behavior::Serve(archive));
        self.env.write("catalog.txt", &catalog);
    }

    fn mirror_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.mirror.port)
    }

    /// The shims of the default root, `~/.local/share/strap/shims`.
    fn shims(&self) -> PathBuf {
        self.home().join(".local/share/strap/shims")
    }

    /// The whole environment of every command: nothing else reaches it.
    fn env_pairs(&self) -> Vec<(&'static str, String)> {
        let home = self.home();
        let dir = self.env.dir.path();
        vec![
            ("HOME", home.display().to_string()),
            (
                "PATH",
                format!(
                    "{}:{}:{}:/usr/bin:/bin",
                    self.shims().display(),
                    self.stubs().display(),
                    self.env.sysbin().display()
                ),
            ),
            ("LANG", "C.UTF-8".into()),
            ("SHELL", "/bin/bash".into()),
            ("STRAP_SHELL", "bash".into()),
            ("STUB_STATE", dir.join("stub-state").display().to_string()),
            ("CC", self.env.sysbin().join("cc").display().to_string()),
            ("CXX", self.env.sysbin().join("c++").display().to_string()),
            (
                "STRAP_PYTHON_CATALOG",
                dir.join("catalog.txt").display().to_string(),
            ),
            ("STRAP_PYTHON_MIRRORS", self.mirror.template("python")),
            (
                "STRAP_BOOST_MIRRORS",
                format!("{}/boost/{{version}}/{{file}}", self.mirror_url()),
            ),
        ]
    }

    /// `dir/NAME`: runs `target` in `~/project` with exactly [`DocMachine::env_pairs`].
    fn wrapper(&self, name: &str, target: &Path) -> PathBuf {
        let env: Vec<String> = self
            .env_pairs()
            .into_iter()
            .map(|(k, v)| format!("'{k}={v}'"))
            .collect();
        let path = self.env.dir.path().join("docbin").join(name);
        write_script(
            &path,
            &format!(
                "cd '{}' || exit 1\nexec env -i {} '{}' \"$@\"",
                self.project().display(),
                env.join(" "),
                target.display()
            ),
        );
        path
    }

    /// The programs the examples may name, each as a wrapper.
    fn programs(&self) -> Vec<(&'static str, PathBuf)> {
        let mut programs = vec![
            ("strap", self.wrapper("strap", &strap_bin())),
            ("cat", self.wrapper("cat", Path::new("/bin/cat"))),
        ];
        for shim in ["python", "python3", "pip"] {
            programs.push((shim, self.wrapper(shim, &self.shims().join(shim))));
        }
        let pyenv = self.home().join(".pyenv/bin/pyenv");
        programs.push(("pyenv", self.wrapper("pyenv", &pyenv)));
        programs
    }

    /// Runs the examples of `file` (relative to the repository).
    fn run(&self, file: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let programs = self.programs();
        let known: Vec<&str> = programs.iter().map(|(name, _)| *name).collect();
        check_commands(&path, &known);
        let cases = trycmd::TestCases::new();
        cases
            .case(&path)
            .timeout(Duration::from_secs(120))
            .register_bins(programs);
        cases
            .insert_var("[HOME]", self.home().display().to_string())
            .unwrap()
            .insert_var("[MIRROR]", self.mirror_url())
            .unwrap();
        cases.run();
    }
}

/// A code fence as trycmd sees it: a line starting with three or more backticks; the backticks
/// and the info string.
/// Copies the directory `from` to `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().filter_map(Result::ok) {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn fence(line: &str) -> Option<(&str, &str)> {
    let ticks = line.len() - line.trim_start_matches('`').len();
    (ticks >= 3).then(|| (&line[..ticks], line[ticks..].trim()))
}

/// True when trycmd runs a block with this info string: `console` or `trycmd`, unless `ignore`
/// follows.
fn runs(info: &str) -> bool {
    let mut words = info.split(',');
    matches!(words.next(), Some("console" | "trycmd")) && !words.any(|w| w == "ignore")
}

/// Every fence names a language (trycmd runs a bare one), and every `$ ` line of a block trycmd
/// runs names a program the machine provides (trycmd skips unknown ones silently) and sets no
/// variable (the wrappers pass none through).
fn check_commands(path: &Path, known: &[&str]) {
    let text = fs::read_to_string(path).unwrap();
    let mut open: Option<(String, bool)> = None;
    for (number, line) in text.lines().enumerate() {
        let at = || format!("{}:{}", path.display(), number + 1);
        match (&open, fence(line)) {
            (Some((ticks, _)), _) if line.starts_with(ticks.as_str()) => open = None,
            (None, Some((ticks, info))) => {
                assert!(
                    !info.is_empty(),
                    "{}: a fence needs a language (`console` runs, `sh`, `text`, … do not)",
                    at()
                );
                open = Some((ticks.to_owned(), runs(info)));
            }
            (Some((_, true)), _) => {
                let Some(command) = line.strip_prefix("$ ") else {
                    continue;
                };
                let program = command.split_whitespace().next().unwrap_or_default();
                assert!(
                    known.contains(&program),
                    "{}: `{program}` is not one of the programs the examples can run: {known:?}",
                    at()
                );
            }
            _ => {}
        }
    }
}

/// One test per documentation file, each on its own machine.
macro_rules! doc_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                DocMachine::new().run($file);
            }
        )*
        /// Every file the tests above run.
        const DOC_FILES: &[&str] = &[$($file),*];
    };
}

doc_tests! {
    readme => "README.md",
    installing_python => "docs/installing-python.md",
    selecting_versions => "docs/selecting-versions.md",
    virtualenvs => "docs/virtualenvs.md",
    boost => "docs/boost.md",
    bootstrap => "docs/bootstrap.md",
    binary_cache => "docs/binary-cache.md",
    recipes => "docs/recipes.md",
    pyenv => "docs/pyenv.md",
    configuration => "docs/configuration.md",
    troubleshooting => "docs/troubleshooting.md",
    architecture => "docs/architecture.md",
    benchmarks => "docs/benchmarks.md",
    contributing => "docs/contributing.md",
    docs_index => "docs/README.md",
}

#[test]
fn every_documentation_file_runs_as_a_test() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    for entry in fs::read_dir(docs).unwrap().filter_map(Result::ok) {
        let name = format!("docs/{}", entry.file_name().to_string_lossy());
        if name.ends_with(".md") {
            assert!(
                DOC_FILES.contains(&name.as_str()),
                "{name} is not in doc_tests! (tests/it/docs.rs)"
            );
        }
    }
}

/// The commands `strap ARGS --help` lists under `Commands:` (`help` aside).
fn subcommands(args: &[&str]) -> Vec<String> {
    let help = strap_help(args);
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// `strap ARGS --help`.
fn strap_help(args: &[&str]) -> String {
    let out = std::process::Command::new(strap_bin())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "strap {args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Every command the binary has (`boost install`, not `boost`), as its words.
fn leaf_commands() -> Vec<Vec<String>> {
    let mut leaves = Vec::new();
    let mut pending: Vec<Vec<String>> = subcommands(&[]).into_iter().map(|c| vec![c]).collect();
    while let Some(command) = pending.pop() {
        let words: Vec<&str> = command.iter().map(String::as_str).collect();
        let children = subcommands(&words);
        if children.is_empty() {
            leaves.push(command);
        } else {
            pending.extend(children.into_iter().map(|child| {
                let mut path = command.clone();
                path.push(child);
                path
            }));
        }
    }
    leaves
}

/// The options of a command's `--help` but `--help` and `--root` (every command has them), as
/// the forms that may name them: `--long`, and `-s` when there is a short one.
fn options_of(command: &[String]) -> Vec<Vec<String>> {
    let words: Vec<&str> = command.iter().map(String::as_str).collect();
    let option = regex::Regex::new(r"^\s+(?:(-[a-zA-Z]), )?(--[a-z0-9-]+)").unwrap();
    strap_help(&words)
        .lines()
        .filter_map(|line| option.captures(line))
        .map(|c| {
            let mut forms = vec![c[2].to_owned()];
            forms.extend(c.get(1).map(|s| s.as_str().to_owned()));
            forms
        })
        .filter(|forms| forms[0] != "--help" && forms[0] != "--root")
        .collect()
}

/// True when `text` holds `word` not followed by more of an option's characters.
fn names_option(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        !text[at + word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[test]
fn the_command_table_names_every_command_and_option() {
    let table =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/README.md")).unwrap();
    let leaves = leaf_commands();
    assert!(leaves.len() > 30, "too few commands found: {leaves:?}");
    for command in leaves {
        let name = format!("`strap {}", command.join(" "));
        let rows: Vec<&str> = table
            .lines()
            .filter(|line| {
                line.strip_prefix("| ")
                    .and_then(|rest| rest.strip_prefix(name.as_str()))
                    .is_some_and(|rest| rest.starts_with([' ', '`']))
            })
            .collect();
        assert!(!rows.is_empty(), "docs/README.md has no row for {name}`");
        let rows = rows.join("\n");
        for forms in options_of(&command) {
            assert!(
                forms.iter().any(|form| names_option(&rows, form)),
                "the row of {name}` in docs/README.md does not name {}",
                forms[0]
            );
        }
    }
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens.
fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors_in(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut anchors = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            anchors.push(anchor_of(line.trim_start_matches('#')));
        }
    }
    anchors
}

#[test]
fn every_link_between_the_docs_resolves() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    for file in DOC_FILES {
        let path = repo.join(file);
        let text = fs::read_to_string(&path).unwrap();
        for target in link.captures_iter(&text).map(|c| c[1].to_owned()) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let (target_file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let linked = if target_file.is_empty() {
                path.clone()
            } else {
                path.parent().unwrap().join(target_file)
            };
            assert!(linked.exists(), "{file}: the link ({target}) names no file");
            if !anchor.is_empty() {
                let anchors = anchors_in(&fs::read_to_string(&linked).unwrap());
                assert!(
                    anchors.iter().any(|a| a == anchor),
                    "{file}: the link ({target}) names no heading; there are {anchors:?}"
                );
            }
        }
    }
}
