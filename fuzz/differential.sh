#!/bin/sh
# Differential replay of the fuzz corpora against ffmpeg: every corpus input (stitch_e2e inputs
# split into their two files) that `ffmpeg -v error -i IN -f null -` reads without a single error
# line is stitched with itself in the three modes (strict, --best-effort, --fragmented), and the
# output must decode in ffmpeg without new errors (or seam must refuse with a located error).
# Prints failures and one summary line; exit status 1 when anything failed.
# Usage: fuzz/differential.sh   (SEAM=path/to/seam, JOBS=n; default target/debug/seam, 2 jobs)
set -eu
cd "$(dirname "$0")/.."
[ -n "${SEAM:-}" ] || cargo build --quiet
exec python3 fuzz/stitch_check.py differential \
    fuzz/corpus/mp4_demux fuzz/corpus/stitch_e2e fuzz/seeds/mp4 fuzz/seeds/stitch_e2e
