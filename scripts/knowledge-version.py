#!/usr/bin/env python3
"""Record a new knowledge version in hooks/version.json (docs/governance.md).

    python3 scripts/knowledge-version.py check              # exit 1 if hooks/ changed
    python3 scripts/knowledge-version.py bump patch|minor|major

`bump` hashes hooks/ as src/knowledge/version.rs does (SHA-256 over "path NUL
hex(SHA-256(bytes)) LF" per file, sorted by path, without version.json and keys/), raises
the version, and records it in the history. Nothing changes when the hash is already the
recorded one. Python standard library only.
"""

import datetime
import hashlib
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hooks")
VERSION_FILE = "version.json"
NOT_KNOWLEDGE = ("keys/",)
COMMENT = (
    "Version of the clinical knowledge in hooks/. contentHash is the hash of every file here "
    "except this one and keys/; a test fails when they differ. After changing a knowledge "
    "file run: python3 scripts/knowledge-version.py bump patch|minor|major"
)


def content_hash(root):
    entries = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if rel == VERSION_FILE or rel.startswith(NOT_KNOWLEDGE):
                continue
            with open(path, "rb") as f:
                entries.append((rel.encode(), hashlib.sha256(f.read()).hexdigest()))
    h = hashlib.sha256()
    for rel, digest in sorted(entries):
        h.update(rel + b"\0" + digest.encode() + b"\n")
    return h.hexdigest()


def load(root):
    path = os.path.join(root, VERSION_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def bumped(version, part):
    major, minor, patch = (int(x) for x in version.split("."))
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def main(argv):
    root = os.path.normpath(ROOT)
    if len(argv) < 2 or argv[1] not in ("check", "bump"):
        print(__doc__, file=sys.stderr)
        return 2
    current = load(root)
    digest = content_hash(root)
    if argv[1] == "check":
        if current and current["contentHash"] == digest:
            print(f"knowledge version {current['version']}: hooks/ unchanged")
            return 0
        print(f"hooks/ changed since the recorded knowledge version; run: "
              f"python3 scripts/knowledge-version.py bump patch|minor|major", file=sys.stderr)
        return 1
    if len(argv) != 3 or argv[2] not in ("patch", "minor", "major"):
        print(__doc__, file=sys.stderr)
        return 2
    if current and current["contentHash"] == digest:
        print(f"knowledge version {current['version']}: hooks/ unchanged, nothing to record")
        return 0
    version = bumped(current["version"], argv[2]) if current else "1.0.0"
    history = current["history"] if current else []
    history.append({
        "version": version,
        "contentHash": digest,
        "date": datetime.date.today().isoformat(),
    })
    data = {"_comment": COMMENT, "version": version, "contentHash": digest, "history": history}
    with open(os.path.join(root, VERSION_FILE), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    print(f"knowledge version {version} recorded ({digest[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
