#!/usr/bin/env python3
"""Generate golden_cases.h, the C table of the PyTorch golden kl_div cases.

Reads tests/golden/manifest.json and tests/golden/data/*.bin (the copy of the
PyTorch 2.10 golden set, format in tests/golden/README.md) and writes
native/tests/golden/golden_cases.h for native/tests/test_golden.c.

Usage (from anywhere; paths default to this repository):

    python3 native/tests/golden/gen_golden.py            # rewrite the header
    python3 native/tests/golden/gen_golden.py --check    # exit 1 if it is stale

Every case with op "kl_div" becomes one nklg_case (op "distill" is skipped).
Arrays with at most --inline-limit elements are written inline as exact C99
hex-float literals (NaN and infinities through the NKLG_NAN / NKLG_INF
macros; identical arrays are written once). Larger arrays are referenced by
their .bin file name, element offset and stored dtype, and test_golden reads
them at run time from the tests/golden folder. Results the manifest only
summarizes carry the summary fields instead.

--summarize-over N is for testing the test: it replaces stored results of
more than N elements by summaries computed here the way the golden README
defines them, so the summary path of test_golden can be exercised with the
small cases. The committed header uses the defaults.

Python 3 standard library only. The output is deterministic (manifest order).
"""

import argparse
import hashlib
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_GOLDEN = os.path.join(REPO, "tests", "golden")
DEFAULT_OUT = os.path.join(HERE, "golden_cases.h")

REDUCTIONS = {
    "none": "NKL_REDUCTION_NONE",
    "sum": "NKL_REDUCTION_SUM",
    "mean": "NKL_REDUCTION_MEAN",
    "batchmean": "NKL_REDUCTION_BATCHMEAN",
}
BITS = {"float32": 32, "float64": 64}
FMT = {"float32": "<f", "float64": "<d"}
SIZE = {"float32": 4, "float64": 8}
RESULTS = ("output", "grad_input", "grad_target")
MAX_DIMS = 8


def fail(msg):
    sys.exit("gen_golden.py: error: " + msg)


def json_number(v, what):
    """A JSON number or one of the strings the golden README allows."""
    if v is None:
        return math.nan  # min/max of a summary without finite elements
    if isinstance(v, str):
        table = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if v not in table:
            fail("%s: unexpected string %r" % (what, v))
        return table[v]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        fail("%s: not a number: %r" % (what, v))
    return float(v)


def c_double(v):
    """Exact C literal of a double."""
    if math.isnan(v):
        neg = struct.pack("<d", v)[7] & 0x80
        return "-NKLG_NAN" if neg else "NKLG_NAN"
    if math.isinf(v):
        return "NKLG_INF" if v > 0 else "-NKLG_INF"
    h = v.hex()  # e.g. -0x1.8000000000000p-3, 0x0.0p+0, subnormals 0x0.00..1p-1022
    mant, exp = h.split("p")
    if "." in mant:
        mant = mant.rstrip("0")
        if mant.endswith("."):
            mant = mant[:-1]
    return mant + "p" + exp


def c_value(v, dtype):
    s = c_double(v)
    if dtype == "float32" and "NKLG_" not in s:
        s += "f"
    return s


class Golden:
    def __init__(self, folder):
        self.folder = folder
        self.cache = {}
        self.checked = set()

    def raw(self, rel):
        if rel not in self.cache:
            path = os.path.join(self.folder, rel)
            with open(path, "rb") as f:
                data = f.read()
            # data/<dtype>-<first 16 hex digits of SHA-256>.bin
            base = os.path.basename(rel)
            stem = base[:-4] if base.endswith(".bin") else base
            digest = stem.split("-", 1)[1] if "-" in stem else ""
            if len(digest) == 16 and hashlib.sha256(data).hexdigest()[:16] != digest:
                fail("%s: content does not match the hash in its name" % rel)
            self.cache[rel] = data
        return self.cache[rel]

    def values(self, desc, case_dtype, what):
        """The array's values as Python floats (exactly the case dtype's values)."""
        sdt = desc["dtype"]
        if sdt not in SIZE:
            fail("%s: unknown dtype %r" % (what, sdt))
        if sdt != case_dtype and not (sdt == "float32" and case_dtype == "float64"):
            fail("%s: %s data for a %s case" % (what, sdt, case_dtype))
        count = math.prod(desc["shape"])
        data = self.raw(desc["file"])
        start = desc["offset"] * SIZE[sdt]
        end = start + count * SIZE[sdt]
        if end > len(data):
            fail("%s: %s holds %d bytes, %d needed" % (what, desc["file"], len(data), end))
        return [v for (v,) in struct.iter_unpack(FMT[sdt], data[start:end])]


def summarize(vals, shape):
    finite = [v for v in vals if math.isfinite(v)]
    s = 0.0
    a = 0.0
    for v in finite:
        s += v
    for v in finite:
        a += abs(v)
    return {
        "shape": shape,
        "count": len(vals),
        "nan": sum(1 for v in vals if math.isnan(v)),
        "posinf": sum(1 for v in vals if v == math.inf),
        "neginf": sum(1 for v in vals if v == -math.inf),
        "sum": s,
        "abs_sum": a,
        "min": min(finite) if finite else None,
        "max": max(finite) if finite else None,
    }


def generate(golden_dir, inline_limit, summarize_over):
    with open(os.path.join(golden_dir, "manifest.json"), "rb") as f:
        manifest_bytes = f.read()
    m = json.loads(manifest_bytes.decode("utf-8"))
    if m.get("format") != "nativekl-golden":
        fail("manifest format is %r" % m.get("format"))
    if m.get("format_version") != 1:
        fail("manifest format_version %r is not 1" % m.get("format_version"))
    if m.get("byte_order") != "little":
        fail("byte_order %r is not little" % m.get("byte_order"))
    g = Golden(golden_dir)

    arrays = []  # (c name, dtype, values) in order of first use
    array_ids = {}
    cases = []
    skipped = 0
    counts = {"float32": 0, "float64": 0}

    def inline_array(key, dtype, vals):
        if key not in array_ids:
            array_ids[key] = "nklg_a%d" % len(arrays)
            arrays.append((array_ids[key], dtype, vals))
        return array_ids[key]

    for c in m["cases"]:
        if c["op"] != "kl_div":
            if c["op"] != "distill":
                fail("%s: unknown op %r" % (c["name"], c["op"]))
            skipped += 1
            continue
        name, dtype, shape = c["name"], c["dtype"], c["shape"]
        if dtype not in BITS:
            fail("%s: dtype %r" % (name, dtype))
        if c["reduction"] not in REDUCTIONS:
            fail("%s: reduction %r" % (name, c["reduction"]))
        if len(shape) > MAX_DIMS:
            fail("%s: more than %d dimensions" % (name, MAX_DIMS))
        numel = math.prod(shape)
        arrs, sums = c.get("arrays", {}), c.get("summaries", {})
        fields = {}
        for key in ("input", "target") + RESULTS:
            what = "%s: %s" % (name, key)
            if key in arrs and key in sums:
                fail(what + " is both stored and summarized")
            if key in arrs:
                d = arrs[key]
                cnt = math.prod(d["shape"])
                vals = g.values(d, dtype, what)  # also validates the file
                if key in RESULTS and summarize_over is not None and cnt > summarize_over:
                    fields[key] = ("summary", summarize(vals, d["shape"]))
                elif cnt > inline_limit:
                    fields[key] = ("file", d, cnt)
                else:
                    ident = (d["file"], d["offset"], cnt, d["dtype"], dtype)
                    fields[key] = ("inline", inline_array(ident, dtype, vals), cnt)
            elif key in sums:
                if key in ("input", "target"):
                    fail(what + ": inputs must be stored")
                s = sums[key]
                fields[key] = ("summary", {k: s[k] for k in s})
            elif key in ("input", "target", "output"):
                fail(what + " missing")
            else:
                fields[key] = ("absent",)
        for key in ("input", "target"):
            if fields[key][2] != numel:
                fail("%s: %s has %d elements, shape says %d" % (name, key, fields[key][2], numel))
        out_n = numel if c["reduction"] == "none" else 1
        f = fields["output"]
        n = f[2] if f[0] != "summary" else f[1]["count"]
        if n != out_n:
            fail("%s: output has %d elements, expected %d" % (name, n, out_n))
        counts[dtype] += 1
        cases.append((c, numel, fields))

    # ---- emit
    L = []
    rel_manifest = "tests/golden/manifest.json"
    L.append("/* GENERATED by native/tests/golden/gen_golden.py from %s - do not edit; "
             "regenerate: python3 native/tests/golden/gen_golden.py */" % rel_manifest)
    L.append("/*")
    L.append(" * PyTorch 2.10 golden cases of torch.nn.functional.kl_div (op \"kl_div\"; the")
    L.append(" * \"distill\" cases are skipped), for native/tests/test_golden.c.")
    L.append(" * manifest.json SHA-256: %s" % hashlib.sha256(manifest_bytes).hexdigest())
    L.append(" * %d cases: %d float32, %d float64 (%d distill cases skipped)."
             % (len(cases), counts["float32"], counts["float64"], skipped))
    L.append(" * Inline arrays hold the exact values in the case's dtype. NKLG_FILE values")
    L.append(" * are read at run time from the tests/golden folder: file (relative to it),")
    L.append(" * offset in elements of file_bits-wide floats, widened to the case's dtype.")
    L.append(" */")
    L.append("#ifndef NKL_GOLDEN_CASES_H")
    L.append("#define NKL_GOLDEN_CASES_H")
    L.append("")
    L.append("#include <math.h>")
    L.append("#include <stddef.h>")
    L.append("")
    L.append('#include "nativekl.h"')
    L.append("")
    L.append("#define NKLG_NAN NAN")
    L.append("#define NKLG_INF INFINITY")
    L.append("")
    L.append("typedef enum nklg_kind {")
    L.append("    NKLG_ABSENT = 0,  /* not in the golden set */")
    L.append("    NKLG_INLINE = 1,  /* data: count values of the case's dtype */")
    L.append("    NKLG_FILE = 2,    /* file/offset/file_bits: read from tests/golden at run time */")
    L.append("    NKLG_SUMMARY = 3  /* only the summary fields (see tests/golden/README.md) */")
    L.append("} nklg_kind;")
    L.append("")
    L.append("typedef struct nklg_value {")
    L.append("    nklg_kind kind;")
    L.append("    size_t count;          /* elements */")
    L.append("    const void *data;      /* NKLG_INLINE: const float * or const double * */")
    L.append("    const char *file;      /* NKLG_FILE: e.g. \"data/f32-0123456789abcdef.bin\" */")
    L.append("    size_t offset;         /* NKLG_FILE: first element, in file_bits-wide floats */")
    L.append("    int file_bits;         /* NKLG_FILE: 32 or 64 (32 in a 64-bit case: widen) */")
    L.append("    size_t nan, posinf, neginf; /* NKLG_SUMMARY: counts */")
    L.append("    double sum, abs_sum;   /* NKLG_SUMMARY: of the finite elements, index order */")
    L.append("    double min, max;       /* NKLG_SUMMARY: NaN when no element is finite */")
    L.append("} nklg_value;")
    L.append("")
    L.append("typedef struct nklg_case {")
    L.append("    const char *name;")
    L.append("    const char *group;     /* seed, random, edge */")
    L.append("    int bits;              /* 32: float32 case, 64: float64 case */")
    L.append("    int ndim;              /* 0 for a 0-d input */")
    L.append("    size_t shape[%d];" % MAX_DIMS)
    L.append("    size_t numel;          /* elements of input and target (1 for 0-d) */")
    L.append("    nkl_reduction reduction;")
    L.append("    int log_target;")
    L.append("    nklg_value input, target;")
    L.append("    nklg_value output;     /* numel values for NONE, else 1 */")
    L.append("    double output_scalar;  /* reduced (stored) output: its value, widened; else 0 */")
    L.append("    nklg_value grad_input, grad_target; /* d(output.sum())/d(input, target) */")
    L.append("} nklg_case;")
    L.append("")

    for cname, dtype, vals in arrays:
        ctype = "float" if dtype == "float32" else "double"
        per = 6 if dtype == "float32" else 4
        L.append("static const %s %s[%d] = {" % (ctype, cname, len(vals)))
        for i in range(0, len(vals), per):
            L.append("    " + ", ".join(c_value(v, dtype) for v in vals[i:i + per]) + ",")
        L.append("};")
    L.append("")

    def c_string(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def value_init(f):
        if f[0] == "absent":
            return "{.kind = NKLG_ABSENT}"
        if f[0] == "inline":
            return "{.kind = NKLG_INLINE, .count = %d, .data = %s}" % (f[2], f[1])
        if f[0] == "file":
            d = f[1]
            return ("{.kind = NKLG_FILE, .count = %d, .file = %s, .offset = %d, .file_bits = %d}"
                    % (f[2], c_string(d["file"]), d["offset"], BITS[d["dtype"]]))
        s = f[1]
        def cnt(k):
            v = s[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                fail("summary field %s: %r" % (k, v))
            return v
        return ("{.kind = NKLG_SUMMARY, .count = %d, .nan = %d, .posinf = %d, .neginf = %d,\n"
                "             .sum = %s, .abs_sum = %s, .min = %s, .max = %s}"
                % (cnt("count"), cnt("nan"), cnt("posinf"), cnt("neginf"),
                   c_double(json_number(s["sum"], "sum")),
                   c_double(json_number(s["abs_sum"], "abs_sum")),
                   c_double(json_number(s.get("min"), "min")),
                   c_double(json_number(s.get("max"), "max"))))

    L.append("static const nklg_case nklg_cases[] = {")
    for c, numel, fields in cases:
        shape = c["shape"]
        L.append("    {.name = %s, .group = %s, .bits = %d, .ndim = %d, .shape = {%s}, .numel = %d,"
                 % (c_string(c["name"]), c_string(c["group"]), BITS[c["dtype"]], len(shape),
                    ", ".join(str(d) for d in shape) if shape else "0", numel))
        L.append("     .reduction = %s, .log_target = %d,"
                 % (REDUCTIONS[c["reduction"]], 1 if c["log_target"] else 0))
        for key in ("input", "target") + RESULTS:
            L.append("     .%s = %s," % (key, value_init(fields[key])))
            if key == "output" and c["reduction"] != "none" and fields[key][0] == "inline":
                L.append("     .output_scalar = %s," % c_double(arrays[int(fields[key][1][6:])][2][0]))
        L.append("    },")
    L.append("};")
    L.append("")
    L.append("#define NKLG_CASE_COUNT %d" % len(cases))
    L.append("#define NKLG_CASE_COUNT_F32 %d" % counts["float32"])
    L.append("#define NKLG_CASE_COUNT_F64 %d" % counts["float64"])
    L.append("")
    L.append("#endif /* NKL_GOLDEN_CASES_H */")
    return "\n".join(L) + "\n", len(cases), counts, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--golden", default=DEFAULT_GOLDEN, help="golden folder (default: tests/golden)")
    ap.add_argument("-o", "--output", default=DEFAULT_OUT, help="header to write")
    ap.add_argument("--inline-limit", type=int, default=5000,
                    help="arrays with more elements are read from the .bin at test time (default 5000)")
    ap.add_argument("--summarize-over", type=int, default=None,
                    help="testing only: summarize stored results with more elements than this")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the output file differs from what would be written")
    a = ap.parse_args()
    text, n, counts, skipped = generate(a.golden, a.inline_limit, a.summarize_over)
    data = text.encode("utf-8")
    if a.check:
        try:
            with open(a.output, "rb") as f:
                old = f.read()
        except OSError:
            old = None
        if old != data:
            print("%s is stale: run python3 native/tests/golden/gen_golden.py" % a.output)
            return 1
        print("%s is up to date (%d cases)" % (a.output, n))
        return 0
    with open(a.output, "wb") as f:
        f.write(data)
    print("wrote %s: %d kl_div cases (%d float32, %d float64), %d distill skipped"
          % (a.output, n, counts["float32"], counts["float64"], skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
