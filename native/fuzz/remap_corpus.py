#!/usr/bin/env python3
"""Keeps the seed corpus on its entry points when entry_points (fuzz_api.c) changes.

An input's first byte picks the entry point (byte % ENTRY_COUNT) and the
process-wide ISA ((byte >> 4) % 3). After lines are added to or moved in
entry_points, each seed gets a first byte that picks the same entry point and
the same ISA in the new table; files are renamed to the SHA-1 of their
contents, as libFuzzer names them.

    native/fuzz/remap_corpus.py OLD_NAMES.txt NEW_NAMES.txt

each file holding the table's names (the first string of each line of
entry_points), one a line, in order: the old table and the new one.
"""
import hashlib
import os
import sys


def main():
    old = [l.strip() for l in open(sys.argv[1]) if l.strip()]
    new = [l.strip() for l in open(sys.argv[2]) if l.strip()]
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    changed = 0
    for name in sorted(os.listdir(corpus)):
        path = os.path.join(corpus, name)
        data = open(path, "rb").read()
        if len(data) < 2:
            continue  # too short to reach an entry point
        entry = new.index(old[data[0] % len(old)])
        isa = (data[0] >> 4) % 3
        first = next(b for b in range(256) if b % len(new) == entry and (b >> 4) % 3 == isa)
        moved = bytes([first]) + data[1:]
        if moved == data:
            continue
        os.remove(path)
        with open(os.path.join(corpus, hashlib.sha1(moved).hexdigest()), "wb") as f:
            f.write(moved)
        changed += 1
    print(f"remap_corpus: {changed} seeds remapped, {len(os.listdir(corpus))} in the corpus")


if __name__ == "__main__":
    main()
