#!/usr/bin/env python3
"""Many small inputs: wall time, peak RSS and per-input memory of seam vs ffmpeg's concat demuxer.

For each N in --counts, makes N real copies (`cp --reflink=auto`, not hard links) of a small fixture
(default fixtures/a.mp4: 2 s, 145 samples, 67 KB) in DIR, writes an ffmpeg concat list, and runs,
each under `ulimit -n 1024` and `/usr/bin/time -v`:

  ffmpeg -f concat -safe 0 -i list.txt -c copy -movflags +faststart OUT     (unless --no-ffmpeg)
  seam stitch -q -y -o OUT IN...                                            (N paths on the
                                                                             command line: fine
                                                                             below ARG_MAX, ~2 MB)
  seam stitch -q -y -o OUT2 OUT                                             (the "one big input"
                                                                             baseline: seam's own
                                                                             output, one input with
                                                                             the same sample count)

and prints wall time, CPU time (user + system), peak RSS, the speed and memory ratios, and the
per-input overhead:
(RSS of N inputs - RSS of one input with the same samples) / N. It checks seam's output has
N x the fixture's video frames (ffprobe, from the header).

Usage (from the repository root, after `cargo build --release`):
  python3 bench/many_inputs.py [--dir /dev/shm/seam-many] [--counts 10000,20000] [--runs 1]
                               [--fixture fixtures/a.mp4] [--no-ffmpeg] [--keep]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEAM = os.path.join(ROOT, "target", "release", "seam")


def timed(cmd, nofile=1024):
    """Runs cmd under `ulimit -n nofile` and /usr/bin/time -v; returns (wall s, peak RSS MB, CPU s)."""
    script = 'ulimit -n %d && exec /usr/bin/time -v "$@"' % nofile
    p = subprocess.run(["bash", "-c", script, "bash"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        raise SystemExit("failed (%d): %s ..." % (p.returncode, " ".join(cmd[:8])))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    h, m, s = wall.groups()
    secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    cpu = sum(float(re.search(r"%s time \(seconds\): ([\d.]+)" % k, p.stderr).group(1))
              for k in ("User", "System"))
    return secs, rss / 1024.0, cpu


def frames(path, kind="v"):
    out = subprocess.check_output(
        ["ffprobe", "-v", "error", "-select_streams", kind + ":0", "-show_entries",
         "stream=nb_frames", "-of", "csv=p=0", path], text=True)
    return int(out.strip())


def median_run(cmd, runs):
    results = [timed(cmd) for _ in range(runs)]
    return tuple(statistics.median(r[k] for r in results) for k in range(3))


def row(n, got, sw, sc, sr, ow, oc, orss, fw, fc, fr, pk):
    if fw is None:
        ff = ["-"] * 5
    else:
        ff = ["%.2f" % fw, "%.2f" % fc, "%.1f" % fr, "%.1fx" % (fw / max(sw, 0.01)),
              "%.2f" % (sr / fr)]
    print("| %d | %d | %.2f | %.2f | %.1f | %s | %.2f / %.2f / %.1f | %.2f |"
          % (n, got, sw, sc, sr, " | ".join(ff), ow, oc, orss, pk), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/dev/shm/seam-many")
    ap.add_argument("--counts", default="10000,20000")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--fixture", default=os.path.join(ROOT, "fixtures", "a.mp4"))
    ap.add_argument("--no-ffmpeg", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep DIR afterwards")
    args = ap.parse_args()
    if not os.path.exists(SEAM):
        raise SystemExit("build first: cargo build --release")
    counts = [int(c) for c in args.counts.split(",")]
    per_file_frames = frames(args.fixture)
    os.makedirs(args.dir, exist_ok=True)
    print("| inputs | video frames | seam wall s | seam CPU s | seam peak RSS MB "
          "| ffmpeg wall s | ffmpeg CPU s | ffmpeg peak RSS MB | seam speed vs ffmpeg (wall) "
          "| seam RSS / ffmpeg RSS | one input, same samples: wall s / CPU s / MB "
          "| per-input overhead KB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    try:
        have = 0
        for n in sorted(counts):
            # Real copies (reflinks where the file system has them): N distinct inodes.
            for i in range(have, n):
                dst = os.path.join(args.dir, "f%06d.mp4" % i)
                if not os.path.exists(dst):
                    subprocess.run(["cp", "--reflink=auto", args.fixture, dst], check=True)
            have = max(have, n)
            inputs = [os.path.join(args.dir, "f%06d.mp4" % i) for i in range(n)]
            lst = os.path.join(args.dir, "list.txt")
            with open(lst, "w") as f:
                f.writelines("file '%s'\n" % p for p in inputs)
            out = os.path.join(args.dir, "out_seam.mp4")
            big_out = os.path.join(args.dir, "out_big.mp4")
            ff_out = os.path.join(args.dir, "out_ffmpeg.mp4")

            seam_wall, seam_rss, seam_cpu = median_run([SEAM, "stitch", "-q", "-y", "-o", out] + inputs,
                                             args.runs)
            got = frames(out)
            if got != n * per_file_frames:
                raise SystemExit("seam output has %d video frames, expected %d"
                                 % (got, n * per_file_frames))
            one_wall, one_rss, one_cpu = median_run([SEAM, "stitch", "-q", "-y", "-o", big_out, out],
                                           args.runs)
            os.remove(big_out)
            ff_wall = ff_rss = ff_cpu = None
            if not args.no_ffmpeg:
                ff_wall, ff_rss, ff_cpu = median_run(
                    ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0",
                     "-i", lst, "-c", "copy", "-movflags", "+faststart", ff_out], args.runs)
                os.remove(ff_out)
            os.remove(out)
            per_input_kb = (seam_rss - one_rss) * 1024.0 / n
            row(n, got, seam_wall, seam_cpu, seam_rss, one_wall, one_cpu, one_rss, ff_wall,
                ff_cpu, ff_rss, per_input_kb)
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
