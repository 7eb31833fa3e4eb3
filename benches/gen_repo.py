#!/usr/bin/env python3
"""Generate a synthetic git repository for benchmarks, deterministically and offline.

A realistic mix of source and config files (Python, JavaScript, Rust, YAML, JSON, Markdown,
.env) in nested directories, tens of thousands of commits on a main branch with feature
branches merged back, renames and deletions, and a few planted fake secrets (GitHub-format tokens with valid check
digits, some later removed). Written with `git fast-import`, so 20,000 commits take seconds.

    python3 benches/gen_repo.py OUT_DIR [--commits 20000] [--files 2500] [--seed 1] [--no-repack]

The planted secrets are listed in OUT_DIR/.git/planted-secrets.txt (redacted) with the commit
message that introduced each, so a benchmark can check recall as well as speed.
"""

import argparse
import os
import random
import subprocess
import sys
import zlib

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
WORDS = (
    "account buffer client config connect context data debug decode encode error event "
    "fetch file format handler header index input item key list load manager message "
    "model node number object option output parse path payload query queue record "
    "request response result retry route schema server session state status stream "
    "string table task timeout token user value version worker"
).split()


def base62_check(body):
    value = zlib.crc32(body.encode())
    digits = ""
    for _ in range(6):
        digits = BASE62[value % 62] + digits
        value //= 62
    return digits


def fake_github_token(rng):
    body = "".join(rng.choice(BASE62) for _ in range(30))
    return "ghp_" + body + base62_check(body)


def ident(rng):
    return "_".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))


def line_for(kind, rng):
    a, b, c = ident(rng), ident(rng), ident(rng)
    n = rng.randint(0, 10000)
    if kind == "py":
        return rng.choice([
            f"def {a}({b}, {c}=None):",
            f"    {a} = {b}.{c}({n})",
            f"    if {a} is None:\n        raise ValueError(\"{b} missing\")",
            f"    return {{\"{a}\": {b}, \"{c}\": {n}}}",
            f"# {a} handles {b} before {c}",
        ])
    if kind == "js":
        return rng.choice([
            f"export function {a}({b}) {{",
            f"  const {a} = await {b}.{c}({n});",
            f"  if (!{a}) throw new Error('{b} missing');",
            f"  return {{ {a}: {b}, {c}: {n} }};",
            "}",
        ])
    if kind == "rs":
        return rng.choice([
            f"pub fn {a}({b}: &str) -> Result<u64, Error> {{",
            f"    let {a} = {b}.{c}({n})?;",
            f"    // {a} is validated by {c}",
            f"    Ok({a}.len() as u64 + {n})",
            "}",
        ])
    if kind == "yml":
        return rng.choice([f"{a}:", f"  {b}: {n}", f"  {c}: \"{a}\"", f"  - {b}"])
    if kind == "json":
        return f"  \"{a}\": {{\"{b}\": {n}, \"{c}\": \"{a}-{n}\"}},"
    if kind == "md":
        return f"The {a} uses {b} to reach {c}; see section {n}."
    return f"{a.upper()}={b}-{n}"


KINDS = ["py", "js", "rs", "yml", "json", "md", "env"]


TOP_DIRS = ["src", "lib", "app", "config", "docs", "tools", "tests"]
MODULES = ["auth", "billing", "core", "db", "events", "http", "jobs", "mail", "search", "storage",
           "ui", "util"]
SUBMODULES = ["handlers", "models", "internal", "fixtures"]


def new_file(rng, index):
    """A file in a nested layout like a real project's: top-level dir, module, sometimes a
    submodule (~30 files per directory). A flat layout of a few huge directories makes every
    commit rewrite ~20 KB trees, so trees outweigh blobs and the benchmark measures tree
    decoding more than scanning."""
    kind = rng.choices(KINDS, weights=[5, 5, 5, 2, 2, 2, 1])[0]
    directory = f"{rng.choice(TOP_DIRS)}/{rng.choice(MODULES)}"
    if rng.random() < 0.4:
        directory += f"/{rng.choice(SUBMODULES)}"
    name = f"{directory}/{ident(rng)}_{index}.{kind}"
    lines = [line_for(kind, rng) for _ in range(rng.randint(20, 400))]
    return name, kind, lines


class Stream:
    def __init__(self, out):
        self.out = out
        self.mark = 0

    def write(self, text):
        self.out.write(text.encode() if isinstance(text, str) else text)

    def data(self, payload):
        raw = payload.encode()
        self.write(f"data {len(raw)}\n")
        self.write(raw)
        self.write("\n")

    def commit(self, branch, time, message, parents, changes):
        self.mark += 1
        self.write(f"commit refs/heads/{branch}\nmark :{self.mark}\n")
        self.write(f"committer Bench Author <bench@example.test> {time} +0000\n")
        self.data(message)
        if parents:
            self.write(f"from :{parents[0]}\n")
            for other in parents[1:]:
                self.write(f"merge :{other}\n")
        for change in changes:
            if change[0] == "M":
                self.write(f"M 100644 inline {change[1]}\n")
                self.data(change[2])
            else:
                self.write(f"D {change[1]}\n")
        self.write("\n")
        return self.mark


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-repack", action="store_true",
                        help="keep fast-import's pack instead of repacking like a clone")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"{args.out} exists and is not empty")
    os.makedirs(args.out, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", args.out], check=True)
    importer = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=args.out, stdin=subprocess.PIPE
    )
    stream = Stream(importer.stdin)
    files = {}
    next_index = 0
    time = 1_600_000_000
    planted = []

    initial = []
    for _ in range(args.files):
        name, kind, lines = new_file(rng, next_index)
        next_index += 1
        files[name] = (kind, lines)
        initial.append(("M", name, "\n".join(lines) + "\n"))
    head = stream.commit("main", time, "initial import", [], initial)

    made = 1
    while made < args.commits:
        time += rng.randint(60, 7200)
        if made % 400 == 0:
            # A feature branch of a few commits, merged back.
            branch = f"feature-{made}"
            tip = head
            for step in range(rng.randint(2, 6)):
                name = rng.choice(list(files))
                kind, lines = files[name]
                lines = lines + [line_for(kind, rng) for _ in range(rng.randint(1, 10))]
                files[name] = (kind, lines)
                tip = stream.commit(branch, time + step, f"{branch}: work {step}", [tip],
                                    [("M", name, "\n".join(lines) + "\n")])
                made += 1
            head = stream.commit("main", time + 10, f"Merge {branch}", [head, tip], [])
            made += 1
            continue
        changes = []
        roll = rng.random()
        if roll < 0.05:
            name, kind, lines = new_file(rng, next_index)
            next_index += 1
            files[name] = (kind, lines)
            changes.append(("M", name, "\n".join(lines) + "\n"))
        elif roll < 0.07 and len(files) > 100:
            old = rng.choice(list(files))
            kind, lines = files.pop(old)
            new = old.rsplit("/", 1)[0] + f"/renamed_{next_index}." + kind
            next_index += 1
            files[new] = (kind, lines)
            changes.append(("D", old))
            changes.append(("M", new, "\n".join(lines) + "\n"))
        elif roll < 0.08 and len(files) > 100:
            gone = rng.choice(list(files))
            files.pop(gone)
            changes.append(("D", gone))
        else:
            for _ in range(rng.randint(1, 4)):
                name = rng.choice(list(files))
                kind, lines = files[name]
                lines = list(lines)
                for _ in range(rng.randint(1, 8)):
                    position = rng.randint(0, len(lines))
                    if rng.random() < 0.3 and lines:
                        del lines[min(position, len(lines) - 1)]
                    else:
                        lines.insert(position, line_for(kind, rng))
                files[name] = (kind, lines)
                changes.append(("M", name, "\n".join(lines) + "\n"))
        message = f"{rng.choice(['fix', 'add', 'update', 'refactor'])} {ident(rng)}"
        if made % 2500 == 1250:
            name = rng.choice([n for n in files if files[n][0] in ("py", "yml", "env")] or list(files))
            kind, lines = files[name]
            token = fake_github_token(rng)
            lines = lines + [f"GITHUB_TOKEN = \"{token}\""]
            files[name] = (kind, lines)
            changes.append(("M", name, "\n".join(lines) + "\n"))
            message = f"planted secret {len(planted) + 1}"
            planted.append((message, name, token[:4] + "****"))
        head = stream.commit("main", time, message, [head], changes)
        made += 1

    importer.stdin.close()
    if importer.wait() != 0:
        sys.exit("git fast-import failed")
    if not args.no_repack:
        # fast-import's pack has few, shallow deltas; a cloned repository has been repacked
        # (delta chains up to 50 deep), which is what a history scan meets in practice.
        subprocess.run(["git", "repack", "-a", "-d", "-f", "-q"], cwd=args.out, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=args.out, check=True)
    with open(os.path.join(args.out, ".git", "planted-secrets.txt"), "w") as out:
        for message, name, redacted in planted:
            out.write(f"{message}\t{name}\t{redacted}\n")
    print(f"{args.out}: {made} commits, {len(files)} files in HEAD, {len(planted)} planted secrets")


if __name__ == "__main__":
    main()
