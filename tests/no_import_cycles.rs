//! No module of any crate imports, directly or through others, a module that imports it back.
//! Reads every `.rs` file, collects the `crate::a::b` and `super::x` paths outside comments and
//! test modules, maps each to the longest module it names, and looks for strongly connected
//! components (Tarjan) of more than one module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`views::family`, `""` for the crate root) → source.
fn modules(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("source directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                if parts.len() == 1 && (parts[0] == "main" || parts[0] == "lib") {
                    parts.clear();
                }
                if parts.first().is_some_and(|p| p == "bin") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("source");
                out.insert(parts.join("::"), text);
            }
        }
    }
    out
}

/// The source without line comments and without its `#[cfg(test)] mod tests { … }` tail.
fn code(src: &str) -> String {
    let body = match src.find("#[cfg(test)]\nmod tests") {
        Some(i) => &src[..i],
        None => src,
    };
    body.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths following each occurrence of `prefix` (`crate::` or `super::`).
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':')
            .collect();
        out.push(path.trim_end_matches(':').to_string());
    }
    out
}

fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(root);
    let longest = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        (1..=parts.len())
            .rev()
            .map(|k| parts[..k].join("::"))
            .find(|c| mods.contains_key(c))
    };
    let mut g = BTreeMap::new();
    for (m, src) in &mods {
        let code = code(src);
        let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets = BTreeSet::new();
        let named = paths_after(&code, "crate::").into_iter().chain(
            paths_after(&code, "super::")
                .into_iter()
                .map(|p| format!("{parent}::{p}")),
        );
        for p in named {
            if let Some(t) = longest(&p) {
                let nested = t.starts_with(&format!("{m}::")) || m.starts_with(&format!("{t}::"));
                if t != *m && !nested {
                    targets.insert(t);
                }
            }
        }
        g.insert(m.clone(), targets);
    }
    g
}

/// Strongly connected components with more than one module.
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.g[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn the_checker_finds_a_cycle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    let found = cycles(&g);
    assert_eq!(found.len(), 1);
    let mut c = found[0].clone();
    c.sort();
    assert_eq!(c, ["a", "b", "c"]);
    assert_eq!(
        paths_after(
            "use crate::views::family::{x};\nlet y = super::perf::now();",
            "crate::"
        ),
        ["views::family"]
    );
}

#[test]
fn no_crate_has_an_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        "src",
        "crates/core/src",
        "crates/plot/src",
        "crates/cli/src",
        "crates/worker/src",
    ] {
        let g = graph(&root.join(dir));
        assert!(g.len() > 3, "{dir}: read {} modules", g.len());
        let found = cycles(&g);
        assert!(found.is_empty(), "{dir}: import cycles {found:?}");
    }
}
