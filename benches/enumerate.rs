//! History enumeration and blob reading, apart from matching: how fast `source::git` turns a
//! repository into (blob, path, commit) work and then into blob bytes. Run with
//! `cargo bench --bench enumerate`.
//!
//! The corpus is a synthetic repository made by `benches/gen_repo.py` (5,000 commits, seed 1,
//! repacked like a cloned repository by the generator), generated once into
//! `target/bench-repos/` and reused until the generator changes; set
//! `LEAKHOUND_BENCH_REPO=/path/to/repo` to measure a real repository instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakhound::diagnostics::Diagnostics;
use leakhound::source::git::{enumerate, read_blobs, History, HistoryOptions};
use leakhound::source::{Blob, BlobVisitor, SkipReason};

const COMMITS: u32 = 5000;

fn corpus() -> PathBuf {
    if let Some(path) = std::env::var_os("LEAKHOUND_BENCH_REPO") {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = root.join(format!("target/bench-repos/synthetic-c{COMMITS}"));
    // The marker holds a hash of the generator, so editing gen_repo.py regenerates the corpus.
    let generator = std::fs::read(root.join("benches/gen_repo.py")).expect("gen_repo.py readable");
    let version = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        generator.hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    };
    let marker = repo.join(".git/leakhound-bench-ready");
    if std::fs::read_to_string(&marker).is_ok_and(|text| text == version) {
        return repo;
    }
    let _ = std::fs::remove_dir_all(&repo);
    let status = Command::new("python3")
        .arg(root.join("benches/gen_repo.py"))
        .arg(&repo)
        .args(["--commits", &COMMITS.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs benches/gen_repo.py");
    assert!(status.success(), "gen_repo.py failed");
    std::fs::write(&marker, version).expect("marker written");
    repo
}

fn options(repo: &Path) -> HistoryOptions {
    HistoryOptions {
        repo: repo.to_path_buf(),
        range: None,
        since: None,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        max_file_size: 10 << 20,
        admission: Default::default(),
        budget: std::sync::Arc::new(leakhound::source::budget::MemoryBudget::new(
            leakhound::source::budget::default_capacity(),
        )),
    }
}

/// Counts bytes and nothing else: reading without matching.
struct ByteCounter<'a>(&'a AtomicU64);

impl BlobVisitor for ByteCounter<'_> {
    fn visit(&mut self, blob: Blob<'_>) {
        self.0.fetch_add(blob.bytes.len() as u64, Ordering::Relaxed);
    }
    fn skipped(&mut self, _reason: SkipReason, _bytes: u64) {}
}

/// Reads every blob of `history` without matching; returns the bytes read.
fn read_all(history: &History, options: &HistoryOptions, diagnostics: &Diagnostics) -> u64 {
    let bytes = AtomicU64::new(0);
    read_blobs(
        history,
        options.max_file_size,
        options.threads,
        &options.budget,
        diagnostics,
        || ByteCounter(&bytes),
    );
    bytes.load(Ordering::Relaxed)
}

fn history(c: &mut Criterion) {
    let repo = corpus();
    let options = options(&repo);
    let diagnostics = Diagnostics::new(true);
    let walked = AtomicU64::new(0);
    let history =
        enumerate(&options, &diagnostics, &walked, &mut |_, _| {}).expect("repository enumerates");
    let commits = history.commits.len() as u64;
    let blob_bytes = read_all(&history, &options, &diagnostics);
    drop(history);

    let mut group = c.benchmark_group("history");
    group.sample_size(10);
    // Throughput in commits: enumeration cost follows commits and changed trees, not bytes.
    group.throughput(Throughput::Elements(commits));
    group.bench_function("enumerate", |b| {
        b.iter(|| {
            enumerate(&options, &diagnostics, &walked, &mut |_, _| {})
                .expect("repository enumerates")
                .blobs
                .len()
        })
    });
    let history =
        enumerate(&options, &diagnostics, &walked, &mut |_, _| {}).expect("repository enumerates");
    group.throughput(Throughput::Bytes(blob_bytes));
    group.bench_function("read-blobs", |b| {
        b.iter(|| read_all(&history, &options, &diagnostics))
    });
    group.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
