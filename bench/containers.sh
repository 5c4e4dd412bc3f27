#!/usr/bin/env bash
# Rows for the README's container table: the 1.25 GB workload of bench/make_workload.sh remuxed
# (`-c copy`) to TS, FLV and an HLS playlist of the TS parts, then joined to one MP4 by `cat` (the
# floor), ffmpeg and seam; and TS -> TS.
#
#   cargo build --release
#   bash bench/make_workload.sh /dev/shm/seam-bench
#   bash bench/containers.sh /dev/shm/seam-bench /dev/shm/seam-out [RUNS=3]
#
# Per job and tool: RUNS timed runs after a warm-up, median wall time, peak RSS (/usr/bin/time).
# ffmpeg: `-f concat -safe 0 -i list -c copy` (+faststart for MP4), or `-i list.m3u8 -c copy` for
# HLS, each with a larger probe (PROBE): with the default 5 MB, ffmpeg finds no AAC packet at the
# start of these 40 Mb/s TS parts ("unspecified sample rate") and writes a video-only file. Outputs go to OUTDIR (tmpfs)
# and are removed after each run; the last output of each tool is checked first: as many video
# and audio packets as the inputs hold (ffprobe -count_packets), else the row fails; seam leaves out
# the audio that overlaps the next fragment (each part's audio runs 27 ms past its video, so one or
# two frames per join), ffmpeg keeps every packet.
set -euo pipefail
DIR=${1:?usage: containers.sh WORKDIR OUTDIR [RUNS]}
OUT=${2:?usage: containers.sh WORKDIR OUTDIR [RUNS]}
RUNS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEAM=${SEAM:-$ROOT/target/release/seam}
mkdir -p "$OUT"
shopt -s nullglob
MP4=("$DIR"/part_*.mp4)
(( ${#MP4[@]} > 0 )) || { echo "no $DIR/part_*.mp4 (bench/make_workload.sh)" >&2; exit 1; }
for f in "${MP4[@]}"; do
    [[ -s ${f%.mp4}.ts ]] || ffmpeg -nostdin -v error -y -i "$f" -c copy -f mpegts "${f%.mp4}.ts"
    [[ -s ${f%.mp4}.flv ]] || ffmpeg -nostdin -v error -y -i "$f" -c copy -f flv "${f%.mp4}.flv"
done
TS=("$DIR"/part_*.ts)
FLV=("$DIR"/part_*.flv)
HLS=$DIR/parts.m3u8
{
    echo "#EXTM3U"; echo "#EXT-X-VERSION:3"; echo "#EXT-X-TARGETDURATION:11"
    first=1
    for f in "${TS[@]}"; do
        (( first )) || echo "#EXT-X-DISCONTINUITY"
        first=0
        echo "#EXTINF:10.0,"; basename "$f"
    done
    echo "#EXT-X-ENDLIST"
} >"$HLS"
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
list() { for f in "$@"; do printf "file '%s'\n" "$(realpath "$f")"; done >"$SCRATCH/list.txt"; }

# catto OUT FILES...: cat FILES into OUT (the floor: a byte copy to a file, as the others write).
catto() { local o=$1; shift; cat "$@" >"$o"; }
export -f catto

# time_one NAME CMD... -> prints "wall rss_kb"
time_one() {
    local t0 t1
    rm -f "$OUT"/bench.*
    sync
    t0=$(date +%s%N)
    local cmd=("$@")
    [[ ${cmd[0]} == catto ]] && cmd=(bash -c 'o=$1; shift; cat "$@" >"$o"' _ "${cmd[@]:1}")
    /usr/bin/time -f "%M" -o "$SCRATCH/rss" "${cmd[@]}" >/dev/null 2>"$SCRATCH/err" || {
        echo "failed: $*" >&2; cat "$SCRATCH/err" >&2; return 1; }
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000000 )) $(cat "$SCRATCH/rss")"
}
# Video and audio frames of all the inputs (the MP4 parts the others were remuxed from).
frames() { ffprobe -v error -select_streams "$1" -show_entries stream=nb_frames -of csv=p=0 "$2"; }
EXPECT_V=0; EXPECT_A=0
for f in "${MP4[@]}"; do
    EXPECT_V=$(( EXPECT_V + $(frames v:0 "$f") )); EXPECT_A=$(( EXPECT_A + $(frames a:0 "$f") ))
done
# verify: the ffmpeg or seam output left by the last run holds every input frame.
verify() {
    local f v a
    for f in "$OUT"/bench.ff.* "$OUT"/bench.seam.*; do
        [[ -e $f ]] || continue
        v=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$f" | awk 'NF {print; exit}')
        a=$(ffprobe -v error -count_packets -select_streams a:0 -show_entries stream=nb_read_packets -of csv=p=0 "$f" | awk 'NF {print; exit}')
        local slack=0
        [[ $f == "$OUT"/bench.seam.* ]] && slack=$(( 2 * (${#MP4[@]} - 1) ))
        if [[ $v != "$EXPECT_V" ]] || (( ${a:-0} > EXPECT_A || ${a:-0} < EXPECT_A - slack )); then
            echo "wrong output $f: $v video / $a audio packets, inputs hold $EXPECT_V / $EXPECT_A" >&2
            return 1
        fi
    done
}
PROBE=(-probesize 100M -analyzeduration 20M)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

row() { # row LABEL INPUT_BYTES -- cat-cmd -- ff-cmd -- seam-cmd
    local label=$1 bytes=$2; shift 2
    local -a c f s; local which=c
    for a in "$@"; do
        if [[ $a == "--" ]]; then case $which in c) which=f;; f) which=s;; esac; continue; fi
        case $which in c) c+=("$a");; f) f+=("$a");; s) s+=("$a");; esac
    done
    local tool walls rss res
    declare -A W R
    for tool in c f s; do
        local -n cmd=$tool
        time_one "${cmd[@]}" >/dev/null # warm-up
        walls=(); rss=0
        for _ in $(seq "$RUNS"); do
            res=$(time_one "${cmd[@]}")
            walls+=("${res% *}")
            (( ${res#* } > rss )) && rss=${res#* }
        done
        verify
        W[$tool]=$(printf "%s\n" "${walls[@]}" | median)
        R[$tool]=$rss
    done
    awk -v l="$label" -v b="$bytes" -v c="${W[c]}" -v f="${W[f]}" -v s="${W[s]}" \
        -v rc="${R[c]}" -v rf="${R[f]}" -v rs="${R[s]}" 'BEGIN {
        printf "| %s | %.2f GB | %.3f | %.3f (%.0f MB) | %.3f (%.0f MB) | %.1fx | %.2fx |\n",
            l, b / 1e9, c / 1000, f / 1000, rf / 1024, s / 1000, rs / 1024, f / s, s / c }'
}
bytes() { stat -L -c %s "$@" | awk '{s+=$1} END {print s}'; }

echo "inputs: ${#MP4[@]} parts; runs: $RUNS (+1 warm-up); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| job | input | cat s | ffmpeg s (peak RSS) | seam s (peak RSS) | seam vs ffmpeg | seam / cat |"
echo "|---|---:|---:|---:|---:|---:|---:|"
list "${TS[@]}"
row "TS -> MP4" "$(bytes "${TS[@]}")" catto "$OUT/bench.cat" "${TS[@]}" -- \
    ffmpeg -nostdin -v error -y "${PROBE[@]}" -f concat -safe 0 -i "$SCRATCH/list.txt" -c copy -movflags +faststart "$OUT/bench.ff.mp4" -- \
    "$SEAM" stitch -q -y -o "$OUT/bench.seam.mp4" "${TS[@]}"
row "TS -> TS" "$(bytes "${TS[@]}")" catto "$OUT/bench.cat" "${TS[@]}" -- \
    ffmpeg -nostdin -v error -y "${PROBE[@]}" -f concat -safe 0 -i "$SCRATCH/list.txt" -c copy -f mpegts "$OUT/bench.ff.ts" -- \
    "$SEAM" stitch -q -y -o "$OUT/bench.seam.ts" "${TS[@]}"
list "${FLV[@]}"
row "FLV -> MP4" "$(bytes "${FLV[@]}")" catto "$OUT/bench.cat" "${FLV[@]}" -- \
    ffmpeg -nostdin -v error -y "${PROBE[@]}" -f concat -safe 0 -i "$SCRATCH/list.txt" -c copy -movflags +faststart "$OUT/bench.ff.mp4" -- \
    "$SEAM" stitch -q -y -o "$OUT/bench.seam.mp4" "${FLV[@]}"
row "HLS (TS segments) -> MP4" "$(bytes "${TS[@]}")" catto "$OUT/bench.cat" "${TS[@]}" -- \
    ffmpeg -nostdin -v error -y "${PROBE[@]}" -i "$HLS" -c copy -movflags +faststart "$OUT/bench.ff.mp4" -- \
    "$SEAM" stitch -q -y -o "$OUT/bench.seam.mp4" "$HLS"
