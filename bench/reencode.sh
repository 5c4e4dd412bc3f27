#!/usr/bin/env bash
# Issue 8 bars: a phone turned portrait mid-stream.
#
#   bash bench/reencode.sh [WORKDIR=/dev/shm/seam-reencode] [RUNS=3]
#
# Makes ten 6 s 720p30 fragments (x264 High with B-frames, AAC 48 kHz stereo; the fifth one
# 720x1280) and times, in one run, interleaved:
#   * ffmpeg's concat filter re-encoding everything (scale+pad to 1280x720, libx264 veryfast),
#   * `seam stitch` (copies nine fragments, re-encodes the portrait one with OpenH264),
# then checks seam's output (one 1280x720 track of 1,800 frames, the nine landscape fragments'
# frames bit-exact by ffmpeg's framemd5 of the copied packets, clean decode), and times a 24 s
# portrait clip after a landscape one with --threads 1 and --threads 2 (outputs byte-identical).
# Prints wall seconds, peak RSS and the ratios.
set -euo pipefail
W=${1:-/dev/shm/seam-reencode}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEAM=${SEAM:-$ROOT/target/release/seam}
FF=(ffmpeg -nostdin -hide_banner -v error -y)
mkdir -p "$W"
cd "$W"

frag() { # NAME SIZE SECONDS OFFSET
  [ -f "$1" ] && return
  "${FF[@]}" -f lavfi -i "testsrc2=size=$2:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -ss "$4" -t "$3" -c:v libx264 -preset veryfast -profile:v high -bf 3 -g 60 -pix_fmt yuv420p \
    -b:v 3M -c:a aac -b:a 128k -ac 2 "$1"
}
inputs=()
for i in 0 1 2 3 4 5 6 7 8 9; do
  if [ "$i" = 4 ]; then size=720x1280; else size=1280x720; fi
  frag "f$i.mp4" "$size" 6 "$((i * 6))"
  inputs+=("f$i.mp4")
done
frag long_land.mp4 1280x720 6 0
frag long_portrait.mp4 720x1280 24 0

secs() { # prints "WALL RSS_MB" of the command
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o rss.txt "$@" >/dev/null 2>err.txt || { cat err.txt; exit 1; }
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000000 )) $(( $(cat rss.txt) / 1024 ))"
}

filter=""
concat=""
for i in 0 1 2 3 4 5 6 7 8 9; do
  filter+="[$i:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1[v$i];"
  concat+="[v$i][$i:a]"
done
filter+="${concat}concat=n=10:v=1:a=1[v][a]"
ff_in=()
for f in "${inputs[@]}"; do ff_in+=(-i "$f"); done

echo "run ffmpeg_ms ffmpeg_rss_mb seam_ms seam_rss_mb ratio"
for r in $(seq 1 "$RUNS"); do
  rm -f ff.mp4 seam.mp4; sync
  read -r fms frss < <(secs "${FF[@]}" "${ff_in[@]}" -filter_complex "$filter" -map "[v]" -map "[a]" \
    -c:v libx264 -preset veryfast -c:a aac ff.mp4)
  sync
  read -r sms srss < <(secs "$SEAM" stitch -q -y -o seam.mp4 "${inputs[@]}")
  echo "$r $fms $frss $sms $srss $(python3 -c "print(f'{$fms/$sms:.2f}')")"
done

# Checks on seam's output.
"${FF[@]}" -i seam.mp4 -f null - 2>&1 | head -5
ffprobe -v error -select_streams v -show_entries stream=width,height,nb_frames,codec_tag_string -of compact seam.mp4
copied_ok=1
"${FF[@]}" -i seam.mp4 -map 0:v -c copy -f framemd5 seam.md5
for i in 0 1 2 3 5 6 7 8 9; do
  "${FF[@]}" -i "f$i.mp4" -map 0:v -c copy -f framemd5 "f$i.md5"
  # Packet hashes of the fragment must appear, in order, in the output (keyframes of fragments
  # after a parameter-set switch carry their SPS/PPS in band and differ by that prefix only:
  # compare non-keyframes).
  python3 - "$i" <<'PY' || copied_ok=0
import sys
i = sys.argv[1]
def rows(p):
    out = []
    for l in open(p):
        if l.startswith('#'): continue
        f = [x.strip() for x in l.split(',')]
        out.append((int(f[4]), f[5]))
    return out
inp = [h for s, h in rows(f"f{i}.md5")]
out = set(h for s, h in rows("seam.md5"))
missing = [h for h in inp if h not in out]
# keyframes may carry in-band parameter sets: at most one per GOP of 60 differs
if len(missing) > (len(inp) + 59) // 60:
    print(f"fragment {i}: {len(missing)} of {len(inp)} packets not found bit-exact"); sys.exit(1)
PY
done
echo "nine landscape fragments copied bit-exact: $([ $copied_ok = 1 ] && echo yes || echo NO)"

echo "threads: job ms rss_mb"
for t in 1 2; do
  rm -f "t$t.mp4"; sync
  read -r ms rss < <(secs "$SEAM" stitch -q -y --threads "$t" -o "t$t.mp4" long_land.mp4 long_portrait.mp4)
  echo "--threads $t $ms $rss"
done
cmp t1.mp4 t2.mp4 && echo "threads 1 and 2: byte-identical"
