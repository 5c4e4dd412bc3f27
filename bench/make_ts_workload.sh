#!/usr/bin/env bash
# Remuxes the MP4 workload of bench/make_workload.sh to MPEG-TS with `ffmpeg -c copy` (what a live
# recorder writes): DIR/part_NN.mp4 -> DIR/part_NN.ts. Then, for the TS -> MP4 row:
#
#   IN=ts bash bench/compare.sh DIR OUTDIR [RUNS]
set -euo pipefail
DIR=${1:?usage: make_ts_workload.sh DIR}
for f in "$DIR"/part_*.mp4; do
    t=${f%.mp4}.ts
    [[ -s "$t" ]] || ffmpeg -nostdin -v error -y -i "$f" -c copy -f mpegts "$t"
done
ls -l "$DIR"/part_*.ts | head -3
