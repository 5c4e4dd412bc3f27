#!/usr/bin/env bash
# Issue 9 bar: 100 recording sessions of 4 segments each, batch-processed with --jobs 1 and 2.
#
#   bash bench/sessions_batch.sh [WORKDIR=/dev/shm/seam-sessions] [RUNS=5]
#
# Each session is the fixture session of fixtures/sessions (video v1, audio a1 (ADTS), audio a2,
# video v2, A+V av3: separate audio and video files with wall-clock start times and absences),
# its four segments at the times of fixtures/sessions/session.txt, shifted per session; the job
# file gives every input's "start". Prints wall seconds, CPU and peak RSS per run and the
# median speed-up; checks that every output decodes (ffmpeg, first and last output).
set -euo pipefail
W=${1:-/dev/shm/seam-sessions}
RUNS=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEAM=${SEAM:-$ROOT/target/release/seam}
rm -rf "$W" && mkdir -p "$W/in"
python3 - "$ROOT/fixtures/sessions" "$W" <<'PY'
import json, os, shutil, sys
src, w = sys.argv[1], sys.argv[2]
starts = [(0.000, "v1.mp4"), (0.150, "a1.aac"), (7.000, "a2.m4a"), (7.500, "v2.mp4"), (12.500, "av3.mp4")]
outputs = []
for s in range(100):
    d = os.path.join(w, "in", f"s{s:03}")
    os.makedirs(d)
    inputs = []
    for t, f in starts:
        shutil.copy(os.path.join(src, f), os.path.join(d, f))
        inputs.append({"path": f"in/s{s:03}/{f}", "start": f"{1000 + 100 * s + t:.3f}"})
    outputs.append({"output": f"out/s{s:03}.mp4", "inputs": inputs})
json.dump({"outputs": outputs}, open(os.path.join(w, "job.json"), "w"), indent=1)
PY
cd "$W"
echo "jobs run wall_s user_s sys_s rss_mb"
declare -A walls
for r in $(seq 1 "$RUNS"); do
  for j in 1 2; do
    rm -rf out; sync
    t0=$(date +%s%N)
    /usr/bin/time -f "%U %S %M" -o t.txt "$SEAM" batch job.json --jobs "$j" -q
    t1=$(date +%s%N)
    read -r u s m < t.txt
    wall=$(python3 -c "print(f'{($t1-$t0)/1e9:.3f}')")
    walls[$j]+="$wall "
    echo "$j $r $wall $u $s $((m / 1024))"
  done
done
python3 - "${walls[1]}" "${walls[2]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
print(f"median --jobs 1 {statistics.median(a):.3f} s, --jobs 2 {statistics.median(b):.3f} s, speed-up {statistics.median(a)/statistics.median(b):.2f}x")
PY
ls out | wc -l
for f in out/s000.mp4 out/s099.mp4; do ffmpeg -v error -i "$f" -f null - && echo "$f decodes cleanly"; done
