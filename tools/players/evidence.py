#!/usr/bin/env python3
"""Plays seam's joins of fragments whose H.264/H.265 parameter sets differ in real players.

    python3 tools/players/evidence.py SEAM_BINARY WORK_DIR > table.md

For each pair of fixtures/param_sets/ (fixtures/make_param_sets.sh) and each
`--parameter-sets` mode (refuse, entries, inband), progressive and `--fragmented`, the output is
played in:
  * ffmpeg, default (frame) threads and `-threads 1`: `-f framemd5` of the decoded video, compared
    frame by frame with the inputs decoded one by one; messages on stderr counted (`-v error`);
  * GStreamer: `filesrc ! qtdemux ! h264parse ! avdec_h264 ! checksumsink` (h265 likewise),
    frames compared with the inputs' the same way; exit status and ERROR lines;
  * headless Chromium (chromium_play.js beside this file): `<video src>` and, for fragmented
    outputs, Media Source Extensions; frames decoded (getVideoPlaybackQuality) and the media
    element's error.
Prints a Markdown table per player. A cell reads `ok N` when all N frames decoded equal to the
inputs' with no message, otherwise what went wrong.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "fixtures", "param_sets")

PAIRS = [
    ("x264 High → Main → Baseline (profile, 8x8 transform, CABAC/CAVLC)",
     ["ff_high.mp4", "ff_main.mp4", "ff_baseline.mp4"]),
    ("x264 level 1.3, 3 refs → level 4.1, 1 ref", ["ff_high.mp4", "ff_high_l41_ref1.mp4"]),
    ("x264 CABAC → CAVLC (PPS only)", ["ff_high.mp4", "ff_high_cavlc.mp4"]),
    ("ffmpeg x264 → GStreamer x264enc", ["ff_high_601.mp4", "gst_x264.mp4"]),
    ("ffmpeg x264 → GStreamer openh264enc", ["ff_high_601.mp4", "gst_openh264.mp4"]),
    ("GStreamer openh264enc → x264enc", ["gst_openh264.mp4", "gst_x264.mp4"]),
    ("x265 → x265 1 ref, no B-frames (VPS/SPS/PPS)", ["ff_hevc_a.mp4", "ff_hevc_b.mp4"]),
]
MODES = ["refuse", "entries", "inband"]


def run(args, **kw):
    return subprocess.run(args, capture_output=True, **kw)


def codec(path):
    o = run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
             "stream=codec_name", "-of", "csv=p=0", path])
    return o.stdout.decode().strip()


def ffmpeg_frames(path, threads):
    args = ["ffmpeg", "-v", "error"]
    if threads:
        args += ["-threads", str(threads)]
    o = run(args + ["-i", path, "-map", "0:v", "-f", "framemd5", "-"])
    md5s = [l.split(",")[5].strip() for l in o.stdout.decode().splitlines()
            if not l.startswith("#") and l.count(",") >= 5]
    msgs = [l for l in o.stderr.decode().splitlines() if l.strip()]
    return md5s, msgs, o.returncode


def gst_frames(path):
    dec = "h265parse ! avdec_h265" if codec(path) == "hevc" else "h264parse ! avdec_h264"
    o = run(["sh", "-c", f"gst-launch-1.0 -q filesrc location='{path}' ! qtdemux ! {dec} "
             "! checksumsink"])
    sums = [l.split()[-1] for l in o.stdout.decode().splitlines() if l.strip()]
    errs = [l for l in o.stderr.decode().splitlines() if "ERROR" in l or "WARN" in l]
    return sums, errs, o.returncode


def verdict(got, want, msgs, rc):
    differ = sum(1 for a, b in zip(got, want) if a != b) + abs(len(got) - len(want))
    if rc == 0 and not msgs and got == want:
        return f"ok {len(got)}"
    parts = [f"{len(got)}/{len(want)} frames"]
    if differ:
        parts.append(f"{differ} differ")
    if msgs:
        parts.append(f"{len(msgs)} msgs (`{msgs[0][:60]}`)")
    if rc != 0:
        parts.append(f"exit {rc}")
    return ", ".join(parts)


def main():
    seam, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rows = []  # (pair, mode, layout, path or None)
    for pi, (label, files) in enumerate(PAIRS):
        ins = [os.path.join(FIX, f) for f in files]
        for mode in MODES:
            for frag in (False, True):
                out = os.path.join(work, f"p{pi}_{mode}_{'f' if frag else 'p'}.mp4")
                args = [seam, "stitch", "-q", "-y", "--parameter-sets", mode]
                if frag:
                    args.append("--fragmented")
                o = run(args + ["-o", out] + ins)
                rows.append((pi, mode, frag, out if o.returncode == 0 else None,
                             o.stderr.decode().strip().splitlines()[-1:] or [""]))
    want_ff, want_gst = {}, {}
    for pi, (_, files) in enumerate(PAIRS):
        ins = [os.path.join(FIX, f) for f in files]
        want_ff[pi] = [m for p in ins for m in ffmpeg_frames(p, 1)[0]]
        want_gst[pi] = [m for p in ins for m in gst_frames(p)[0]]
    outs = [r[3] for r in rows if r[3]]
    chrome = {}
    for mse in (False, True):
        files = [p for p in outs if not mse or p.endswith("_f.mp4")]
        o = run(["node", os.path.join(HERE, "chromium_play.js")] + (["--mse"] if mse else [])
                + files, timeout=1800)
        for line in o.stdout.decode().splitlines():
            r = json.loads(line)
            chrome[(r["file"], r["mode"])] = r
        if o.returncode != 0:
            print(f"chromium_play.js failed: {o.stderr.decode()[-500:]}", file=sys.stderr)

    def chrome_cell(path, mode, want):
        r = chrome.get((path, mode))
        if r is None:
            return "—"
        if r["ended"] and not r["error"]:
            ok = "ok" if r["decoded"] == want else "ended"
            return f"{ok} {r['decoded']}"
        err = (r["error"] or "")[:70]
        return f"{r['decoded']}/{want} frames, stopped at {r['currentTime']:.2f} s: `{err}`"

    print("| fragments | mode | layout | ffmpeg (frame threads) | ffmpeg -threads 1 | "
          "GStreamer | Chromium `<video src>` | Chromium MSE |")
    print("|---|---|---|---|---|---|---|---|")
    for pi, mode, frag, out, err in rows:
        label = PAIRS[pi][0]
        layout = "fragmented" if frag else "progressive"
        if out is None:
            print(f"| {label} | {mode} | {layout} | refused: `{err[0][:80]}` | | | | |")
            continue
        want = len(want_ff[pi])
        cells = []
        for threads in (None, 1):
            got, msgs, rc = ffmpeg_frames(out, threads)
            cells.append(verdict(got, want_ff[pi], msgs, rc))
        got, msgs, rc = gst_frames(out)
        cells.append(verdict(got, want_gst[pi], msgs, rc))
        cells.append(chrome_cell(out, "src", want))
        cells.append(chrome_cell(out, "mse", want) if frag else "—")
        print(f"| {label} | {mode} | {layout} | " + " | ".join(cells) + " |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
