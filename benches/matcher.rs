//! Matcher throughput (MB/s) on a generated, realistic mixed corpus: source code, config files,
//! JSON and lockfile-like lines, with and without planted secrets. Run with `cargo bench --bench
//! matcher`; criterion prints throughput per case.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use leakhound::matcher::Matcher;

/// Deterministic xorshift so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..len)
            .map(|_| ALPHABET[(self.next() % 62) as usize] as char)
            .collect()
    }
}

const LINES: &[&str] = &[
    "fn parse_header(input: &[u8]) -> Result<Header, Error> {",
    "    let token = lexer.next_token()?;",
    "    if password.is_empty() { return Err(Error::MissingPassword); }",
    "import os, sys, json  # standard library",
    "def get_secret(name):\n    return os.environ[name]",
    "const apiClient = new ApiClient({ baseUrl: process.env.API_URL });",
    "  \"version\": \"4.17.21\",",
    "  integrity sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
    "server:\n  port: 8080\n  host: 0.0.0.0",
    "<div class=\"container\"><p>Enter your password to continue</p></div>",
    "    // TODO: the token refresh logic should back off exponentially",
    "SELECT id, name, created_at FROM users WHERE id = $1;",
    "color: #ff8800; background: url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==);",
    "commit 3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
    "    uuid = \"123e4567-e89b-12d3-a456-426614174000\"",
];

fn corpus(megabytes: usize, with_secrets: bool) -> Vec<u8> {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut out = String::with_capacity(megabytes << 20);
    let mut line_number = 0u64;
    while out.len() < megabytes << 20 {
        line_number += 1;
        if with_secrets && line_number.is_multiple_of(2000) {
            let secret = match rng.next() % 4 {
                0 => format!("GITHUB_TOKEN=ghp_{}", rng.token(36)),
                1 => format!("stripe_key = \"sk_live_{}\"", rng.token(24)),
                2 => format!("aws_access_key_id = AKIA{}", rng.token(16).to_uppercase()),
                _ => format!("db_password = \"{}\"", rng.token(20)),
            };
            out.push_str(&secret);
        } else {
            out.push_str(rng.pick(LINES));
        }
        out.push('\n');
    }
    out.into_bytes()
}

fn matcher() -> Matcher {
    let rules = leakhound::rules::load_builtin().expect("built-in rules load");
    Matcher::new(rules.into_iter().map(|rule| rule.spec).collect()).expect("matcher builds")
}

fn throughput(c: &mut Criterion) {
    let matcher = matcher();
    let mut group = c.benchmark_group("matcher");
    for (name, with_secrets) in [("clean", false), ("with-secrets", true)] {
        let bytes = corpus(8, with_secrets);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.sample_size(20);
        group.bench_with_input(BenchmarkId::new("scan", name), &bytes, |b, bytes| {
            let mut scratch = matcher.scratch();
            b.iter(|| matcher.scan(bytes, &mut scratch).len());
        });
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    c.bench_function("matcher/build", |b| b.iter(matcher));
}

criterion_group!(benches, throughput, build);
criterion_main!(benches);
