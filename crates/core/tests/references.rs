//! The references table against `docs/CITATION.bib` (the file must be the table's rendering, so
//! the two cannot drift), and the table's own consistency.
//!
//! To regenerate the file after editing the table:
//! `DICELENS_BLESS=1 cargo test -p dicelens-core --test references`.

mod common;

use dicelens_core::references::{citation_bib, paper_bibtex, reference, PAPER_KEY, REFERENCES};
use std::collections::HashSet;
use std::path::PathBuf;

fn bib_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/CITATION.bib")
}

#[test]
fn citation_bib_file_is_the_tables_rendering() {
    let want = citation_bib();
    let have = common::blessed_file(&bib_path(), &want);
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
        panic!(
            "docs/CITATION.bib differs from crates/core/src/references.rs from line {}: \
             file {:?}, table {:?}. Regenerate with \
             DICELENS_BLESS=1 cargo test -p dicelens-core --test references",
            line + 1,
            have.lines().nth(line),
            want.lines().nth(line)
        );
    }
}

/// One parsed entry: kind, key, fields in order.
type Entry = (String, String, Vec<(String, String)>);

/// A small independent reader of the file: `@kind{key,` headers and `name = {value},` lines.
fn parse_bib(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix('@') {
            let (kind, key) = rest.split_once('{').expect("@kind{key,");
            let key = key.strip_suffix(',').expect("key ends with a comma");
            entries.push((kind.to_string(), key.to_string(), Vec::new()));
        } else if let Some((name, value)) = line.trim().split_once(" = ") {
            let value = value
                .strip_prefix('{')
                .and_then(|v| v.strip_suffix("},"))
                .unwrap_or_else(|| panic!("field value in braces: {line:?}"));
            let e = entries.last_mut().expect("field inside an entry");
            e.2.push((name.trim().to_string(), value.to_string()));
        }
    }
    entries
}

#[test]
fn the_rendering_holds_seven_entries_the_paper_first() {
    // The rendering read back by an independent parser (the file equals it, tested above).
    let entries = parse_bib(&citation_bib());
    assert_eq!(entries.len(), 7);
    assert_eq!(entries[0].1, PAPER_KEY);
    let keys: HashSet<_> = entries.iter().map(|e| e.1.clone()).collect();
    assert_eq!(keys.len(), 7, "keys are unique");
    for (kind, key, fields) in &entries {
        let r = reference(key).unwrap_or_else(|| panic!("{key} in the table"));
        assert_eq!(kind, r.kind);
        let table: Vec<(String, String)> = r
            .fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(fields, &table, "{key}: every field round-trips");
    }
}

#[test]
fn entries_are_well_formed() {
    let known = ["article", "inproceedings", "misc"];
    for r in &REFERENCES {
        assert!(known.contains(&r.kind), "{}: kind {}", r.key, r.kind);
        assert!(
            r.key.chars().all(|c| c.is_ascii_alphanumeric()),
            "{}: key",
            r.key
        );
        assert!(r.field("title").is_some(), "{}: title", r.key);
        assert!(r.url.starts_with("https://"), "{}: url", r.key);
        assert!(!r.used_for.is_empty());
        let names: HashSet<_> = r.fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), r.fields.len(), "{}: a field twice", r.key);
        for (name, value) in r.fields {
            // Balanced braces, never closing before opening.
            let mut depth = 0i32;
            for c in value.chars() {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                assert!(depth >= 0, "{}.{name}: brace closes early", r.key);
            }
            assert_eq!(depth, 0, "{}.{name}: unbalanced braces", r.key);
            assert!(
                !value.contains('\n') && !value.trim().is_empty(),
                "{}.{name}",
                r.key
            );
        }
        match r.kind {
            "article" => assert!(r.field("journal").is_some() && r.field("year").is_some()),
            "inproceedings" => assert!(r.field("booktitle").is_some() && r.field("year").is_some()),
            _ => {}
        }
        // An arXiv entry links to its abstract page or its DOI.
        if let Some(e) = r.field("eprint") {
            assert_eq!(r.field("archiveprefix"), Some("arXiv"), "{}", r.key);
            let doi = r.field("doi").map(|d| format!("https://doi.org/{d}"));
            assert!(
                r.url == format!("https://arxiv.org/abs/{e}") || Some(r.url.to_string()) == doi,
                "{}: url {}",
                r.key,
                r.url
            );
        }
        let c = r.citation();
        assert!(
            !c.contains(['{', '}']),
            "{}: citation keeps TeX braces: {c}",
            r.key
        );
    }
}

#[test]
fn the_paper_entry_is_what_cite_copies() {
    let b = paper_bibtex();
    assert!(b.starts_with("@article{liu2024dice,\n") && b.ends_with("}\n"));
    for needle in [
        "Medical Image Analysis",
        "{91}",
        "{103015}",
        "{2024}",
        "{2104.08717}",
        "Ben Ayed, Ismail",
    ] {
        assert!(b.contains(needle), "paper entry lacks {needle}: {b}");
    }
    let c = REFERENCES[0].citation();
    assert!(
        c.starts_with("Bingyuan Liu, Jose Dolz, Adrian Galdran, Riadh Kobbi, Ismail Ben Ayed. Do we really need Dice?"),
        "{c}"
    );
    assert!(
        c.ends_with("Medical Image Analysis 91, 103015, 2024."),
        "{c}"
    );
}
