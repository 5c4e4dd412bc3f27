#!/usr/bin/env python3
"""Probe/stitch speed on a file with a huge sample table.

Writes DIR/big_1M.mp4 (and a copy DIR/big_1M_b.mp4): ftyp + moov + mdat with one H.264 video track
of N samples (default 1,000,000, i.e. 11.1 hours at 25 fps) of 1 byte each, so every sample range is
inside the file. The moov looks like a real B-frame recording: stts (one run of 512 ticks at 12800
Hz), ctts v0 (I P B B pattern, ~2 entries per 3 samples), stss (a keyframe every 48 samples), stsz
(one entry per sample), stsc + stco (PER_CHUNK samples per chunk; default 1, i.e. 1M chunk offsets, as
in an interleaved A/V file), an edit list, and the stsd/hdlr/vmhd/dinf boxes copied verbatim from
fixtures/a.mp4's video track (real avcC).

Then it times, with /usr/bin/time -v (wall, peak RSS, CPU), RUNS times each (median shown):
  seam probe DIR/big_1M.mp4
  seam stitch -q -y -o DIR/big_2M_out.mp4 DIR/big_1M.mp4 DIR/big_1M_b.mp4
and checks the bar: probe under 1 s.

Usage (from the repository root, after `cargo build --release`):
  python3 bench/big_samples.py [--dir /dev/shm/seam-big] [--samples 1000000] [--per-chunk 1] [--runs 3]
"""
import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from array import array

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def box(kind, *payload):
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full(kind, version, flags, *payload):
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def children(data, start, end):
    """Yields (kind, start, end) of the boxes packed in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        elif size == 0:
            size = end - pos
        yield kind, pos, pos + size
        pos += size


def find(data, path, start=0, end=None):
    end = len(data) if end is None else end
    for kind, s, e in children(data, start, end):
        if kind == path[0]:
            if len(path) == 1:
                return s, e
            hdr = 8
            r = find(data, path[1:], s + hdr, e)
            if r:
                return r
    return None


def video_boxes_from_fixture():
    """hdlr, vmhd, dinf and stsd of the first video trak of fixtures/a.mp4, verbatim."""
    data = open(os.path.join(ROOT, "fixtures", "a.mp4"), "rb").read()
    ms, me = find(data, [b"moov"])
    for kind, ts, te in children(data, ms + 8, me):
        if kind != b"trak":
            continue
        hs, he = find(data, [b"mdia", b"hdlr"], ts + 8, te)
        if data[hs + 16:hs + 20] != b"vide":
            continue
        out = {"hdlr": data[hs:he]}
        s, e = find(data, [b"mdia", b"minf", b"vmhd"], ts + 8, te)
        out["vmhd"] = data[s:e]
        s, e = find(data, [b"mdia", b"minf", b"dinf"], ts + 8, te)
        out["dinf"] = data[s:e]
        s, e = find(data, [b"mdia", b"minf", b"stbl", b"stsd"], ts + 8, te)
        out["stsd"] = data[s:e]
        return out
    raise SystemExit("no video track in fixtures/a.mp4")


def be32(values):
    a = array("I", values)
    assert a.itemsize == 4
    if sys.byteorder == "little":
        a.byteswap()
    return a.tobytes()


def build(n, per_chunk, varied=False):
    fx = video_boxes_from_fixture()
    ts, delta = 12800, 512
    # Decode order: I, then (P, B, B) groups. Offsets in frames, shifted by 1 frame of delay:
    # I -> 1, P -> 3, B -> 0, B -> 0 (presentation order I B B P B B P ...).
    ctts_pairs = [(1, 1 * delta)]
    k = 1
    while k < n:
        ctts_pairs.append((1, 3 * delta))
        b = min(2, n - k - 1)
        if b:
            ctts_pairs.append((b, 0))
        k += 1 + b
    ctts = full(b"ctts", 0, 0, struct.pack(">I", len(ctts_pairs)),
                be32(v for p in ctts_pairs for v in p))
    sync = [1] + [i + 1 for i in range(1, n) if (i - 1) % 48 == 0]
    stss = full(b"stss", 0, 0, struct.pack(">I", len(sync)), be32(sync))
    stts = full(b"stts", 0, 0, struct.pack(">III", 1, n, delta))
    sizes = [1 + k % 3 for k in range(n)] if varied else [1] * n
    stsz = full(b"stsz", 0, 0, struct.pack(">II", 0, n), be32(sizes))
    chunk_starts = []
    pos = 0
    for k in range(n):
        if k % per_chunk == 0:
            chunk_starts.append(pos)
        pos += sizes[k]
    total = pos
    chunks = (n + per_chunk - 1) // per_chunk
    last = n - (chunks - 1) * per_chunk
    rows = [(1, per_chunk, 1)]
    if last != per_chunk:
        rows.append((chunks, last, 1))
    stsc = full(b"stsc", 0, 0, struct.pack(">I", len(rows)), be32(v for r in rows for v in r))
    duration_media = n * delta
    mvhd_ts = 1000
    duration_movie = duration_media * mvhd_ts // ts

    def moov(base):
        stco = full(b"stco", 0, 0, struct.pack(">I", chunks),
                    be32(base + c for c in chunk_starts))
        stbl = box(b"stbl", fx["stsd"], stts, stss, ctts, stsc, stsz, stco)
        minf = box(b"minf", fx["vmhd"], fx["dinf"], stbl)
        mdhd = full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, ts, duration_media, 0x55C4, 0))
        mdia = box(b"mdia", mdhd, fx["hdlr"], minf)
        matrix = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
        tkhd = full(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, duration_movie),
                    b"\0" * 8, struct.pack(">hhhH", 0, 0, 0, 0), matrix,
                    struct.pack(">II", 320 << 16, 240 << 16))
        elst = full(b"elst", 0, 0, struct.pack(">IIiI", 1, duration_movie, delta, 0x10000))
        trak = box(b"trak", tkhd, box(b"edts", elst), mdia)
        mvhd = full(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, mvhd_ts, duration_movie),
                    struct.pack(">iH", 0x10000, 0x100), b"\0" * 10, matrix, b"\0" * 24,
                    struct.pack(">I", 2))
        return box(b"moov", mvhd, trak)

    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    probe = moov(0)
    base = len(ftyp) + len(probe) + 8
    m = moov(base)
    assert len(m) == len(probe)
    # 1-byte samples: a repeating byte pattern (the payload is never parsed by probe/stitch).
    mdat = struct.pack(">I4s", 8 + total, b"mdat") + (bytes(range(256)) * (total // 256 + 1))[:total]
    return ftyp + m + mdat, len(m)


def timed(cmd):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        info = {}
        for line in open(tf.name):
            k, _, v = line.strip().rpartition(": ")
            info[k] = v
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return (wall, int(info["Maximum resident set size (kbytes)"]) / 1024,
            float(info["User time (seconds)"]) + float(info["System time (seconds)"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/dev/shm/seam-big")
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--per-chunk", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--varied-sizes", action="store_true",
                    help="sample sizes 1, 2, 3, 1, 2, 3... (a size per sample, as in real files) "
                         "instead of all 1 byte")
    ap.add_argument("--seam", default=os.path.join(ROOT, "target", "release", "seam"))
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    tag = f"{a.samples // 1000}k" if a.samples % 1_000_000 else f"{a.samples // 1_000_000}M"
    v = "_v" if a.varied_sizes else ""
    f1 = os.path.join(a.dir, f"big_{tag}_c{a.per_chunk}{v}.mp4")
    f2 = os.path.join(a.dir, f"big_{tag}_c{a.per_chunk}{v}_b.mp4")
    out = os.path.join(a.dir, f"big_{tag}_c{a.per_chunk}{v}_x2_out.mp4")
    if not (os.path.exists(f1) and os.path.exists(f2)):
        t0 = time.perf_counter()
        data, moov_len = build(a.samples, a.per_chunk, a.varied_sizes)
        with open(f1 + ".tmp", "wb") as f:
            f.write(data)
        os.replace(f1 + ".tmp", f1)
        shutil.copyfile(f1, f2)
        print(f"wrote {f1} ({len(data):,} bytes, moov {moov_len:,} bytes) and a copy "
              f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    size = os.path.getsize(f1)
    jobs = [
        (f"`seam probe` 1 file ({a.samples:,} samples)", [a.seam, "probe", f1]),
        (f"`seam stitch` 2 files ({2 * a.samples:,} samples)",
         [a.seam, "stitch", "-q", "-y", "-o", out, f1, f2]),
    ]
    print(f"File: {os.path.basename(f1)}, {size:,} bytes, {a.samples:,} video samples, "
          f"{a.per_chunk} sample(s) per chunk, {'varied' if a.varied_sizes else '1-byte'} sizes; "
          f"{a.runs} runs, median wall; load before: "
          f"{open('/proc/loadavg').read().split()[:3]}")
    print()
    print("| job | median wall s | all walls s | peak RSS MB | CPU s |")
    print("|---|---:|---|---:|---:|")
    probe_wall = None
    stitch_rss = None
    for name, cmd in jobs:
        timed(cmd)  # warm-up
        rs = [timed(cmd) for _ in range(a.runs)]
        wall = statistics.median(r[0] for r in rs)
        if probe_wall is None:
            probe_wall = wall
        stitch_rss = max(r[1] for r in rs)
        print(f"| {name} | {wall:.3f} | {' '.join(f'{r[0]:.3f}' for r in rs)} | "
              f"{max(r[1] for r in rs):.1f} | {statistics.median(r[2] for r in rs):.2f} |")
    if os.path.exists(out):
        os.remove(out)
    print()
    print(f"Bar: probe of {a.samples:,} samples under 1 s: {probe_wall:.3f} s -> "
          f"{'met' if probe_wall < 1 else '**NOT met**'}.")
    per = stitch_rss * 1024 * 1024 / (2 * a.samples)
    print(f"Bar: stitch peak under 32 bytes per input sample: {per:.1f} -> "
          f"{'met' if per < 32 else '**NOT met**'}. Load after: "
          f"{open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
