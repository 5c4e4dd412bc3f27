#!/usr/bin/env python3
"""Stitch inputs with seam in each mode and judge the outputs with ffmpeg.

Two uses:

  stitch_check.py mutated DIR        each DIR/NNNNN_NAME stitched with its original
                                     (fixtures/NAME, or DIR/base_NAME for ff_* names)
  stitch_check.py differential DIR.. every file under the DIRs that ffmpeg reads without
                                     errors, stitched with itself

For every (input, mode) with mode in strict, --best-effort, --fragmented: run
`seam stitch -y -o OUT FILE OTHER [mode]`, then `ffmpeg -v error -i OUT -f null -`. An output
fails when ffmpeg reports "non monotonically increasing dts", cannot open it ("error reading
header" / nonzero exit), or prints an error line that neither input produces alone (pointer
addresses and numbers normalised away). A refusal must name the damaged file and say "at byte".

Prints one line per failure and a summary line; exits 1 when anything failed.
Environment: SEAM (binary, default target/debug/seam), JOBS (default 2).
"""

import concurrent.futures as cf
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEAM = os.environ.get("SEAM", str(ROOT / "target" / "debug" / "seam"))
JOBS = int(os.environ.get("JOBS", "2"))
MODES = {"strict": [], "best": ["--best-effort"], "frag": ["--fragmented"]}
# Pointers and numbers are normalised away: an error of the same kind as one the inputs already
# produce (e.g. the damaged input's own non-monotonic DTS) is not a new error.
PTR = re.compile(r"0x[0-9a-f]+|-?\d+")
TIMEOUT = 60


def ffmpeg_errors(path):
    """(exit ok, set of normalised error lines) of decoding `path` to null."""
    try:
        o = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
            capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, {"ffmpeg timed out"}
    lines = {PTR.sub("N", l.strip()) for l in o.stderr.decode("utf-8", "replace").splitlines()
             if l.strip() and "Last message repeated" not in l}
    return o.returncode == 0, lines


_cache = {}


def input_errors(path):
    key = str(path)
    if key not in _cache:
        _cache[key] = ffmpeg_errors(path)
    return _cache[key]


def classify(lines):
    joined = "\n".join(sorted(lines))
    if "non monotonically increasing dts" in joined or "non monotonous" in joined.lower():
        return "non-monotonic dts"
    if "error reading header" in joined.lower() or "Invalid data found" in joined:
        return "cannot open"
    return "new ffmpeg errors"


def run_case(damaged, other, mode, tmp):
    """Returns (status, detail). status: ok-refused / ok-written / FAIL:<cause>."""
    out = Path(tmp) / f"{damaged.name}.{mode}.mp4"
    args = [SEAM, "stitch", "-q", "-y", "-o", str(out), str(damaged), str(other)] + MODES[mode]
    t0 = time.time()
    try:
        o = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "FAIL:seam timeout", ""
    err = o.stderr.decode("utf-8", "replace").strip()
    if o.returncode != 0:
        if o.returncode not in (1,):
            return f"FAIL:exit {o.returncode}", err
        if damaged.name not in err or "at byte" not in err:
            return "FAIL:unlocated refusal", err
        return "ok-refused", err.splitlines()[-1] if err else ""
    ok, lines = ffmpeg_errors(out)
    out.unlink(missing_ok=True)
    _, a = input_errors(damaged)
    _, b = input_errors(other)
    new = lines - a - b
    if not ok or new:
        return "FAIL:" + classify(new or {"ffmpeg exit nonzero"}), "; ".join(sorted(new))[:400]
    return "ok-written", f"{time.time() - t0:.1f}s"


def mutated_pairs(d):
    d = Path(d)
    pairs = []
    for f in sorted(d.iterdir()):
        m = re.match(r"^\d{5}_(.+)$", f.name)
        if not m:
            continue
        name = m.group(1)
        other = d / f"base_{name}" if name.startswith("ff_") else ROOT / "fixtures" / name
        pairs.append((f, other))
    return pairs


def split_stitch_input(p, out_dir):
    """A stitch_e2e fuzz input holds two files: a 2-byte big-endian length, the first file, then
    the second (fuzz/checks.rs split_input). Returns the two halves written to out_dir."""
    data = p.read_bytes()
    if len(data) < 2:
        return []
    n = min(int.from_bytes(data[:2], "big"), len(data) - 2)
    halves = []
    for tag, part in (("a", data[2:2 + n]), ("b", data[2 + n:])):
        if part:
            q = Path(out_dir) / f"{p.parent.name}-{p.name}.{tag}.mp4"
            q.write_bytes(part)
            halves.append(q)
    return halves


def differential_pairs(dirs, tmp):
    files = []
    for d in dirs:
        for p in sorted(Path(d).rglob("*")):
            if not p.is_file() or p.name.startswith(".") or p.suffix in (".md", ".txt"):
                continue
            if "stitch_e2e" in p.parts:
                files.extend(split_stitch_input(p, tmp))
            else:
                files.append(p)
    # Only inputs ffmpeg reads without any error line are judged.
    with cf.ThreadPoolExecutor(JOBS) as ex:
        res = list(ex.map(input_errors, files))
    clean = [f for f, (ok, lines) in zip(files, res) if ok and not lines]
    return [(f, f) for f in clean], len(files)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("mutated", "differential"):
        print(__doc__)
        return 2
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="seam-check-") as tmp:
        return run(tmp, t0)


def run(tmp, t0):
    if sys.argv[1] == "mutated":
        pairs = mutated_pairs(sys.argv[2])
        tried = len(pairs)
    else:
        halves = Path(tmp) / "inputs"
        halves.mkdir()
        pairs, tried = differential_pairs(sys.argv[2:], halves)
    cases = [(d, o, m) for d, o in pairs for m in MODES]
    fails = Counter()
    status = Counter()
    refusals = Counter()
    with cf.ThreadPoolExecutor(JOBS) as ex:
        futs = {ex.submit(run_case, d, o, m, tmp): (d, m) for d, o, m in cases}
        rows = []
        for fu in cf.as_completed(futs):
            d, m = futs[fu]
            st, detail = fu.result()
            rows.append((d.name, m, st, detail))
    for name, m, st, detail in sorted(rows):
        status[st.split(":")[0]] += 1
        if st.startswith("FAIL"):
            fails[st[5:]] += 1
            print(f"FAIL {name} {m}: {st[5:]}: {detail}")
        elif os.environ.get("VERBOSE"):
            print(f"{st} {name} {m}: {detail}")
        if st == "ok-refused":
            # The rule, numbers and names removed: "edit list presents N s of track N ...".
            rule = re.sub(r"^.* at byte \d+: ", "", detail)
            refusals[re.sub(r"\d+(\.\d+)?", "N", rule)[:90]] += 1
    by_cause = ", ".join(f"{c}: {n}" for c, n in fails.most_common()) or "none"
    print(f"summary: {sys.argv[1]}: {tried} inputs, {len(pairs)} judged, {len(cases)} runs, "
          f"{status['ok-written']} written ok, {status['ok-refused']} refused with a location, "
          f"{status['FAIL']} failing ({by_cause}); {time.time() - t0:.0f}s")
    for rule, n in refusals.most_common():
        print(f"  refused {n}x: {rule}")
    return 1 if status["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
