#!/usr/bin/env bash
# Issue 10 bars for `seam stitch --trim ... --accurate` (frame-accurate smart cut).
#
#   bash bench/smartcut.sh [WORKDIR=/tmp/seam-smartcut] [RUNS=3]
#
# Makes a 60 s 720p30 file (x264 veryfast High, B-frames, GOP 2 s, 2 Mb/s, AAC 48 kHz stereo) and
# times, in one run, interleaved:
#   * ffmpeg's accurate re-encoding trim of two clips (per clip `-ss A -to B -i in.mp4` with
#     libx264 veryfast + AAC, then the concat demuxer with -c copy),
#   * `seam stitch --trim 1=A1,B1 --trim 2=A2,B2 --accurate in.mp4 in.mp4`,
# checks seam's output (frame count, clean decode, re-encoded samples from the report), then makes
# a 1-hour file by joining 60 copies with seam and times a smart cut of it at two points
# (`--trim 1=00:10:07.3,00:50:23.7 --accurate`). Prints wall milliseconds and the ratio.
set -euo pipefail
W=${1:-/tmp/seam-smartcut}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEAM=${SEAM:-$ROOT/target/release/seam}
FF=(ffmpeg -nostdin -hide_banner -v error -y)
mkdir -p "$W"
cd "$W"

if [ ! -f in.mp4 ]; then
  "${FF[@]}" -f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi \
    -i "aevalsrc=sin(2*PI*(200+40*mod(t\,7))*t)|sin(2*PI*300*t):s=48000" -t 60 \
    -c:v libx264 -preset veryfast -profile:v high -bf 3 -g 60 -keyint_min 60 -sc_threshold 0 \
    -pix_fmt yuv420p -b:v 2M -c:a aac -b:a 128k in.mp4
fi

ms() { # wall milliseconds of the command
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>err.txt || { cat err.txt; exit 1; }
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

# Two clips, both starting and ending between keyframes (keyframes every 2 s).
A1=7.3 B1=23.7 A2=31.1 B2=52.9
ffmpeg_trim() {
  "${FF[@]}" -ss $A1 -to $B1 -i in.mp4 -c:v libx264 -preset veryfast -c:a aac c1.mp4
  "${FF[@]}" -ss $A2 -to $B2 -i in.mp4 -c:v libx264 -preset veryfast -c:a aac c2.mp4
  printf "file 'c1.mp4'\nfile 'c2.mp4'\n" >list.txt
  "${FF[@]}" -f concat -safe 0 -i list.txt -c copy ff.mp4
}
echo "uptime: $(uptime)"
echo "run ffmpeg_ms seam_ms ratio"
for r in $(seq 1 "$RUNS"); do
  rm -f ff.mp4 seam.mp4 c1.mp4 c2.mp4
  sync
  fms=$(ms ffmpeg_trim)
  sync
  sms=$(ms "$SEAM" stitch -q -y --accurate --trim 1=$A1,$B1 --trim 2=$A2,$B2 -o seam.mp4 in.mp4 in.mp4)
  echo "$r $fms $sms $(python3 -c "print(f'{$fms/$sms:.1f}')")"
done

"$SEAM" stitch -y --json --accurate --trim 1=$A1,$B1 --trim 2=$A2,$B2 -o seam.mp4 in.mp4 in.mp4 >report.json
python3 - <<'PY'
import json
r = json.load(open("report.json"))["report"]
print("re-encoded samples:", r["reencoded_samples"], "of", r["samples"], "(video+audio)")
for t in r["transcoded"]:
    print(f"  input {t['input']}: {t['reason']}: {t['input_samples']} samples decoded, "
          f"{t['output_samples']} re-encoded, {t['seconds']:.2f} s")
PY
want=$(python3 -c "print(round(($B1-$A1)*30)+round(($B2-$A2)*30))")
got=$(ffprobe -v error -select_streams v -count_packets -show_entries stream=nb_read_packets -of csv=p=0 seam.mp4)
echo "seam video frames: $got (want $want); ffmpeg's: $(ffprobe -v error -select_streams v -count_packets -show_entries stream=nb_read_packets -of csv=p=0 ff.mp4)"
echo "seam decode errors: $("${FF[@]}" -i seam.mp4 -f null - 2>&1 | wc -l) lines"

# The 1-hour file: 60 copies joined losslessly by seam.
if [ ! -f hour.mp4 ]; then
  "$SEAM" stitch -q -y -o hour.mp4 $(for i in $(seq 60); do echo in.mp4; done)
fi
echo "hour.mp4: $(stat -c %s hour.mp4) bytes, $(ffprobe -v error -show_entries format=duration -of csv=p=0 hour.mp4) s"
echo "run hour_cut_ms (40 min kept, MP4) hour_cut_ts_ms (TS)"
for r in $(seq 1 "$RUNS"); do
  rm -f hcut.mp4 hcut.ts
  sync
  a=$(ms "$SEAM" stitch -q -y --accurate --trim 1=00:10:07.3,00:50:23.7 -o hcut.mp4 hour.mp4)
  sync
  b=$(ms "$SEAM" stitch -q -y --accurate --trim 1=00:10:07.3,00:50:23.7 -o hcut.ts hour.mp4)
  echo "$r $a $b"
done
echo "hcut.mp4: $(ffprobe -v error -show_entries format=duration -of csv=p=0 hcut.mp4) s (want 2416.4)"
