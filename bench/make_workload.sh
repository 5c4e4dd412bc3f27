#!/usr/bin/env bash
# Builds a stitching workload: COUNT distinct 1080p25 H.264 + AAC MP4 fragments of about
# TOTAL_MB/COUNT MB each (default 24 x ~52 MB = ~1.25 GB).
#
#   bash bench/make_workload.sh DIR [TOTAL_MB=1250] [COUNT=24]
#
# Only ONE fragment is encoded (libx264 ultrafast with 2 B-frames and CABAC, i.e. Main profile with
# ctts, GOP 50, 10 s, noise added so the bitrate target is actually reached, AAC-LC 48 kHz stereo
# 128 kb/s, +faststart); the inputs DIR/part_NN.mp4 are `cp` copies of it (distinct files, no hard
# links), so the workload costs ~30 s of encoding (2 CPUs) plus the copies. A 720p master is also encoded
# (DIR/masters/master-720p-*.mp4, not an input); WITH720=1 additionally makes DIR/720p/part_NN.mp4.
#
# Idempotent: masters (named after their target size) are reused when present, copies are skipped
# when their size matches the master's. Sizes are in 10^6 bytes.
set -euo pipefail

DIR=${1:?usage: make_workload.sh DIR [TOTAL_MB=1250] [COUNT=24]}
TOTAL_MB=${2:-1250}
COUNT=${3:-24}
SECONDS_PER_FRAGMENT=10
WITH720=${WITH720:-0}

mkdir -p "$DIR/masters"

# Video bitrate (bits/s) so that one fragment is about TOTAL_MB/COUNT MB: total bits over 10 s,
# minus 128 kb/s of audio and ~1% container overhead.
per_file_bytes=$(( TOTAL_MB * 1000000 / COUNT ))
vbit=$(( per_file_bytes * 8 / SECONDS_PER_FRAGMENT * 99 / 100 - 128000 ))
if (( vbit < 1000000 )); then vbit=1000000; fi

encode() { # encode OUT WIDTHxHEIGHT BITRATE TARGET_BYTES
    local out=$1 size=$2 rate=$3 target=$4
    if [[ -s "$out" ]]; then
        echo "have $out ($(stat -c %s "$out") bytes)"
        return
    fi
    local tmp="$out.tmp.mp4" got try
    # x264's rate control overshoots on pure noise; one corrective re-encode gets within ~3%.
    for try in 1 2; do
        echo "encoding $out ($size, video $rate b/s, try $try)..."
        # Main-profile-like stream: ultrafast but with 2 B-frames (ctts, as real recordings have)
        # and CABAC; GOP 2 s.
        ffmpeg -v error -y \
            -f lavfi -i "testsrc2=size=$size:rate=25:duration=$SECONDS_PER_FRAGMENT,noise=alls=24:allf=t+u,format=yuv420p" \
            -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$SECONDS_PER_FRAGMENT,aformat=channel_layouts=stereo" \
            -c:v libx264 -preset ultrafast -bf 2 -x264-params cabac=1 -profile:v high -g 50 \
            -b:v "$rate" -maxrate "$rate" -bufsize "$(( rate * 2 ))" \
            -c:a aac -b:a 128k -ar 48000 -ac 2 \
            -movflags +faststart "$tmp"
        got=$(stat -c %s "$tmp")
        if (( got * 100 > target * 97 && got * 100 < target * 103 )); then break; fi
        rate=$(( rate * target / got ))
    done
    mv "$tmp" "$out"
    echo "  -> $(stat -c %s "$out") bytes (target $target)"
}

copies() { # copies MASTER DESTDIR
    local master=$1 dest=$2 want
    want=$(stat -c %s "$master")
    mkdir -p "$dest"
    for i in $(seq -w 1 "$COUNT"); do
        local f="$dest/part_$(printf %02d "$((10#$i))").mp4"
        if [[ -f "$f" && $(stat -c %s "$f") == "$want" && $(stat -c %h "$f") == 1 ]]; then
            continue
        fi
        rm -f "$f"
        cp "$master" "$f.tmp" && mv "$f.tmp" "$f"
    done
    # Remove stale extra parts from an earlier run with a larger COUNT.
    for f in "$dest"/part_*.mp4; do
        local n=${f##*/part_}; n=${n%.mp4}
        if (( 10#$n > COUNT )); then rm -f "$f"; fi
    done
    echo "$dest: $COUNT inputs x $want bytes = $(( want * COUNT )) bytes"
}

M1080="$DIR/masters/master-1080p-${per_file_bytes}B.mp4" # the name pins the target size
encode "$M1080" 1920x1080 "$vbit" "$per_file_bytes"
copies "$M1080" "$DIR"

# 720p: same bitrate scaled by pixel count (cheap to encode; an extra, not part of the default run).
M720="$DIR/masters/master-720p-$(( per_file_bytes * 4 / 9 ))B.mp4"
encode "$M720" 1280x720 "$(( vbit * 4 / 9 ))" "$(( per_file_bytes * 4 / 9 ))"
if [[ "$WITH720" == 1 ]]; then
    copies "$M720" "$DIR/720p"
fi
