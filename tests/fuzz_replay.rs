//! Replays every committed fuzz input through the fuzz targets' bodies
//! (`appleshark::core::fuzz_bodies`, the same code `cargo fuzz run` drives), on stable Rust:
//! the seed corpora `fuzz/corpus/<target>/` and the crash reproducers
//! `fuzz/regressions/<target>/`. `APPLESHARK_FUZZ_EXTRA=<dir>` adds `<dir>/<target>/*`
//! (e.g. a corpus grown by a long fuzzing run).

use appleshark::core::fuzz_bodies::TARGETS;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

fn replay(target: &str, body: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut dirs = vec![root.join("corpus").join(target), root.join("regressions").join(target)];
    if let Ok(extra) = std::env::var("APPLESHARK_FUZZ_EXTRA") {
        dirs.push(Path::new(&extra).join(target));
    }
    let mut n = 0;
    for dir in dirs {
        for f in files(&dir) {
            let data = std::fs::read(&f).unwrap();
            let r = std::panic::catch_unwind(|| body(&data));
            assert!(r.is_ok(), "{target}: {} panicked", f.display());
            n += 1;
        }
    }
    n
}

#[test]
fn every_target_has_a_seed_corpus_and_replays_clean() {
    let mut total = 0;
    for (name, body) in TARGETS {
        let n = replay(name, *body);
        eprintln!("{name}: {n} inputs replayed");
        assert!(n >= 5, "{name}: only {n} corpus files (run tests/fuzz/make_corpus.py)");
        total += n;
    }
    eprintln!("{total} inputs replayed");
}

#[test]
fn fuzz_targets_match_the_bodies() {
    // Every body has a cargo-fuzz target of the same name, and vice versa.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut on_disk: Vec<String> = files(&dir)
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(on_disk, names);
    for n in &names {
        let src = std::fs::read_to_string(dir.join(format!("{n}.rs"))).unwrap();
        assert!(src.contains(&format!("fuzz_bodies::{n}(data)")), "{n}.rs calls its body");
    }
}
