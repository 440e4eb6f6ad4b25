//! The module graph of `src/`: the top-level modules (`src/X.rs` or `src/X/`) form a DAG, read
//! from their `crate::…` paths as the workplace's `modcycles.py` reads them (test code after
//! `#[cfg(test)]` does not count; `main`, `lib` and `bin/` are entry points).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::Path;

/// Module → the top-level modules its code names.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn top_level_modules_form_a_dag() {
    let graph = graph_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let cycles: Vec<String> = cycles(&graph).iter().map(|c| c.join(" -> ")).collect();
    assert!(
        cycles.is_empty(),
        "module cycles in src/ (a module must not depend, even through others, on one that \
         depends on it):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn crate_paths_are_read_from_paths_and_use_groups_but_not_tests() {
    let text = "use crate::error::Explain;\n\
                use crate::{layout, stage::{Artifact, Key}, fetch};\n\
                fn f() { crate::pack::write(); }\n\
                #[cfg(test)]\nmod tests { use crate::cli; }\n";
    let names: Vec<String> = crate_modules(text).into_iter().collect();
    assert_eq!(names, ["error", "fetch", "layout", "pack", "stage"]);
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")]
        .iter()
        .fold(Graph::new(), |mut g, (from, to)| {
            g.entry(from.to_string())
                .or_default()
                .insert(to.to_string());
            g
        });
    assert_eq!(cycles(&graph), [["a", "b", "c", "a"]]);
}

/// The graph of the top-level modules under `src`.
fn graph_of(src: &Path) -> Graph {
    let mut graph = Graph::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
        if ["main", "lib", "bin"].contains(&module.as_str()) {
            continue;
        }
        let deps = crate_modules(&fs::read_to_string(&file).unwrap());
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(deps.into_iter().filter(|d| *d != module));
    }
    graph
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The top-level modules named by `crate::name` paths and `use crate::{a, b::c}` groups in
/// `text`, up to its first `#[cfg(test)]`.
fn crate_modules(text: &str) -> BTreeSet<String> {
    let text = text.split("#[cfg(test)]").next().unwrap();
    let path = regex::Regex::new(r"crate::([a-z_][a-z0-9_]*)").unwrap();
    let mut names: BTreeSet<String> = path.captures_iter(text).map(|c| c[1].to_owned()).collect();
    for (start, _) in text.match_indices("crate::{") {
        names.extend(group_heads(&text[start + "crate::{".len()..]));
    }
    names
}

/// The first name of each item of a `{…}` group whose opening brace was just read.
fn group_heads(group: &str) -> Vec<String> {
    let mut outer = String::new();
    let mut depth = 1;
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => break,
            '}' => depth -= 1,
            c if depth == 1 => outer.push(c),
            _ => {}
        }
    }
    outer
        .split(',')
        .map(|item| {
            item.trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|head| !head.is_empty() && head != "self")
        .collect()
}

/// One shortest cycle through each strongly connected group of modules, as the path
/// `a -> … -> a` from the group's first module.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut covered = BTreeSet::new();
    for start in graph.keys() {
        if covered.contains(start) {
            continue;
        }
        if let Some(cycle) = shortest_path(graph, start, start) {
            let reaches = |a: &str, b: &str| shortest_path(graph, a, b).is_some();
            let group = graph
                .keys()
                .filter(|m| reaches(start, m) && reaches(m, start));
            covered.extend(group.cloned());
            found.push(cycle);
        }
    }
    found
}

/// The shortest path `from -> … -> to` of at least one edge, when there is one.
fn shortest_path(graph: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::from([from]);
    while let Some(module) = queue.pop_front() {
        for next in graph.get(module).into_iter().flatten() {
            if next == to {
                let mut path = vec![to.to_owned(), module.to_owned()];
                let mut at = module;
                while at != from {
                    at = previous[at];
                    path.push(at.to_owned());
                }
                path.reverse();
                return Some(path);
            }
            if next != from && !previous.contains_key(next.as_str()) {
                previous.insert(next, module);
                queue.push_back(next);
            }
        }
    }
    None
}
