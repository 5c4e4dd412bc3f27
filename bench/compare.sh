#!/usr/bin/env bash
# Times `cat`, the equivalent ffmpeg concat command and `seam stitch` on the same inputs.
#
# The tables in bench/RESULTS.md were produced by (from the repository root):
#
#   cargo build --release
#   bash bench/make_workload.sh /dev/shm/seam-bench            # 24 x 52 MB 1080p25 H.264+AAC, 1.25 GB
#   VERIFY=1 bash bench/compare.sh /dev/shm/seam-bench /dev/shm/seam-out 5
#
# Usage: bench/compare.sh WORKDIR OUTDIR [RUNS=5]
#
#   WORKDIR      holds the inputs WORKDIR/part_*.mp4 (sorted by name = playback order); with
#                IN=ts, WORKDIR/part_*.ts instead (bench/make_ts_workload.sh remuxes the MP4 parts)
#   OUTDIR       where outputs go (tmpfs, e.g. /dev/shm/seam-out, for the first table)
#   RUNS         timed runs per tool, after one untimed warm-up run of each
#
# Environment:
#   DISK_OUTDIR=/work/bench-out   second table with outputs on disk; empty to skip
#   DISK_TOOLS="cat ff seam"      tools timed in the disk table
#   VERIFY=1                      decode the final seam output with ffmpeg (slow: full decode)
#   STRACE=1                      also print `strace -c -f` syscall counts of one seam run
#   SEAM=target/release/seam      the binary under test
#
# Per run the tools are interleaved (cat, ffmpeg, seam, in a different permutation every run), every
# output is removed before each timed command, and `sync` runs (untimed) before each command so
# write-back of the previous output does not land in the next measurement. Wall time is measured
# with `date +%s%N` around `/usr/bin/time -v`, which supplies peak RSS and user+sys CPU. Inputs are
# read once before the warm-up so they are in the page cache (on tmpfs they always are). Times do not
# include an fsync of the output (none of the three tools does one).
set -euo pipefail

WORKDIR=${1:?usage: compare.sh WORKDIR OUTDIR [RUNS=5]}
OUTDIR=${2:?usage: compare.sh WORKDIR OUTDIR [RUNS=5]}
RUNS=${3:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SEAM=${SEAM:-$ROOT/target/release/seam}
DISK_OUTDIR=${DISK_OUTDIR-/work/bench-out}
DISK_TOOLS=${DISK_TOOLS:-cat ff seam}
VERIFY=${VERIFY:-0}
IN=${IN:-mp4}
STRACE=${STRACE:-0}

[[ -x "$SEAM" ]] || { echo "no seam binary at $SEAM (cargo build --release)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "ffmpeg not found" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 1; }

shopt -s nullglob
INPUTS=("$WORKDIR"/part_*."$IN")
shopt -u nullglob
(( ${#INPUTS[@]} > 0 )) || { echo "no $WORKDIR/part_*.$IN (run bench/make_workload.sh)" >&2; exit 1; }
INPUT_BYTES=$(stat -c %s "${INPUTS[@]}" | awk '{s+=$1} END {print s}')

SCRATCH=$(mktemp -d /tmp/seam-compare.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
RAW=$SCRATCH/raw.tsv
: >"$RAW"
LIST=$SCRATCH/list.txt
for f in "${INPUTS[@]}"; do
    printf "file '%s'\n" "$(realpath "$f")" >>"$LIST"
done

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE=$(loadavg)
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN {exit !(l > 1.0)}'; then
    echo "warning: 1-minute load is $LOAD_BEFORE before starting; results may be noisy" >&2
fi

out_of() { # out_of TOOL DIR
    case $1 in
        cat) echo "$2/cat.out" ;;
        ff) echo "$2/ff.mp4" ;;
        seam) echo "$2/seam.mp4" ;;
    esac
}

run_tool() { # run_tool TOOL DIR TABLE RUN  (RUN=warmup: not recorded)
    local tool=$1 dir=$2 table=$3 run=$4 out tv t0 t1
    out=$(out_of "$tool" "$dir")
    rm -f "$dir/cat.out" "$dir/ff.mp4" "$dir/seam.mp4"
    sync
    tv=$SCRATCH/time.txt
    t0=$(date +%s%N)
    case $tool in
        cat) /usr/bin/time -v -o "$tv" cat "${INPUTS[@]}" >"$out" ;;
        ff) /usr/bin/time -v -o "$tv" ffmpeg -nostdin -v error -y -f concat -safe 0 -i "$LIST" \
                -c copy -movflags +faststart "$out" ;;
        seam) /usr/bin/time -v -o "$tv" "$SEAM" stitch -q -y -o "$out" "${INPUTS[@]}" ;;
    esac
    t1=$(date +%s%N)
    local rss user sys
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
    user=$(awk -F': ' '/User time \(seconds\)/ {print $2}' "$tv")
    sys=$(awk -F': ' '/System time \(seconds\)/ {print $2}' "$tv")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$table" "$tool" "$run" \
        "$(( t1 - t0 ))" "$rss" "$user" "$sys" "$(stat -c %s "$out")" >>"$RAW"
    printf '  %-5s %-4s run %-6s %6.3f s  rss %6d KB  out %d bytes\n' "$table" "$tool" "$run" \
        "$(awk -v n=$(( t1 - t0 )) 'BEGIN {print n/1e9}')" "$rss" "$(stat -c %s "$out")" >&2
}

bench_table() { # bench_table TABLE DIR TOOLS...
    local table=$1 dir=$2; shift 2
    local tools=("$@") n=$# r i order
    mkdir -p "$dir"
    for t in "${tools[@]}"; do run_tool "$t" "$dir" "$table" warmup; done
    # Run r uses the r-th permutation of the tools (cycling), so every tool runs first, last and
    # after each other tool about equally often.
    mapfile -t ORDERS < <(python3 -c 'import itertools, sys; n = int(sys.argv[1]); r = int(sys.argv[2])
perms = list(itertools.permutations(range(n)))
for k in range(r): print(" ".join(map(str, perms[(k + 1) % len(perms)])))' "$n" "$RUNS")
    for (( r = 1; r <= RUNS; r++ )); do
        for i in ${ORDERS[$(( r - 1 ))]}; do
            run_tool "${tools[$i]}" "$dir" "$table" "$r"
        done
    done
}

echo "inputs: ${#INPUTS[@]} files, $INPUT_BYTES bytes; runs: $RUNS (+1 warm-up); load before: $LOAD_BEFORE" >&2
cat "${INPUTS[@]}" >/dev/null # page cache
bench_table tmpfs "$OUTDIR" cat ff seam
if [[ -n "$DISK_OUTDIR" ]]; then
    # shellcheck disable=SC2086
    bench_table disk "$DISK_OUTDIR" $DISK_TOOLS
    rm -f "$DISK_OUTDIR/cat.out" "$DISK_OUTDIR/ff.mp4"
fi
LOAD_AFTER=$(loadavg)

# Leave the last seam output of the tmpfs table for inspection / verification.
if [[ ! -f "$OUTDIR/seam.mp4" ]]; then
    "$SEAM" stitch -q -y -o "$OUTDIR/seam.mp4" "${INPUTS[@]}"
fi
rm -f "$OUTDIR/cat.out" "$OUTDIR/ff.mp4"

VIDEO_PACKETS=$(ffprobe -v error -select_streams v:0 -count_packets \
    -show_entries stream=nb_read_packets -of csv=p=0 "$OUTDIR/seam.mp4")
EXPECT_PACKETS=0
for f in "${INPUTS[@]}"; do
    n=$(ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$f")
    EXPECT_PACKETS=$(( EXPECT_PACKETS + n ))
done

VERIFY_MSG="not run (VERIFY=1 to decode the output)"
if [[ "$VERIFY" == 1 ]]; then
    echo "decoding $OUTDIR/seam.mp4 ..." >&2
    VERR=$(ffmpeg -nostdin -v error -i "$OUTDIR/seam.mp4" -f null - 2>&1 || echo "ffmpeg exit status $?")
    if [[ -z "$VERR" ]]; then
        VERIFY_MSG="ok: \`ffmpeg -v error -i seam.mp4 -f null -\` printed nothing"
    else
        VERIFY_MSG="FAILED: $(printf %s "$VERR" | head -c 400)"
    fi
fi

STRACE_OUT=""
if [[ "$STRACE" == 1 ]] && command -v strace >/dev/null; then
    rm -f "$OUTDIR/seam.mp4"
    STRACE_OUT=$(strace -f -c -e trace=copy_file_range,sendfile,splice,read,write,pread64,pwrite64,lseek \
        "$SEAM" stitch -q -y -o "$OUTDIR/seam.mp4" "${INPUTS[@]}" 2>&1 >/dev/null)
fi

CMDLINE="$(printf '%q ' env VERIFY="$VERIFY" DISK_OUTDIR="$DISK_OUTDIR" bash bench/compare.sh "$WORKDIR" "$OUTDIR" "$RUNS")"
python3 - "$RAW" "$INPUT_BYTES" "${#INPUTS[@]}" "$RUNS" "$LOAD_BEFORE" "$LOAD_AFTER" \
    "$VIDEO_PACKETS" "$EXPECT_PACKETS" "$VERIFY_MSG" "$CMDLINE" "$(uname -r)" \
    "$(nproc)" "$(ffmpeg -version | head -1 | cut -d' ' -f1-3)" "$STRACE_OUT" \
    "$OUTDIR ($(findmnt -n -o FSTYPE -T "$OUTDIR" 2>/dev/null | head -1 || echo '?'))" \
    "$DISK_OUTDIR ($(findmnt -n -o FSTYPE -T "${DISK_OUTDIR:-/}" 2>/dev/null | head -1 || echo '?'))" \
    "$WORKDIR ($(findmnt -n -o FSTYPE -T "$WORKDIR" 2>/dev/null | head -1 || echo '?'))" <<'PY'
import sys, statistics
(raw, in_bytes, n_in, runs, load_before, load_after, vpk, vexp, verify, cmd, kernel, ncpu, ffv,
 strace_out, tmpfs_dir, disk_dir, in_dir) = sys.argv[1:]
in_bytes = int(in_bytes)
rows = [l.rstrip("\n").split("\t") for l in open(raw) if l.strip()]
names = {"cat": "`cat` inputs > out", "ff": "ffmpeg concat `-c copy +faststart`", "seam": "`seam stitch`"}
print(f"Command: `{cmd.strip()}`  ")
print(f"Inputs: {n_in} files in {in_dir}, {in_bytes/1e6:.1f} MB; {runs} timed runs per tool after 1 warm-up, "
      f"interleaved; medians shown. Machine: {ncpu} CPUs, Linux {kernel}, {ffv}.  ")
print(f"Load average (1/5/15 min) before: {load_before}; after: {load_after}.")
results = {}
for table in ["tmpfs", "disk"]:
    sel = [r for r in rows if r[0] == table and r[2] != "warmup"]
    if not sel:
        continue
    med = {}
    for tool in ["cat", "ff", "seam"]:
        rs = [r for r in sel if r[1] == tool]
        if not rs:
            continue
        wall = statistics.median(int(r[3]) / 1e9 for r in rs)
        rss = max(int(r[4]) for r in rs) / 1024
        cpu = statistics.median(float(r[5]) + float(r[6]) for r in rs)
        walls = sorted(int(r[3]) / 1e9 for r in rs)
        med[tool] = (wall, rss, cpu, walls, int(rs[-1][7]))
    results[table] = med
    print()
    print(f"**Output in {tmpfs_dir if table == 'tmpfs' else disk_dir}:**")
    print()
    print("| tool | median wall s | MB/s (input bytes / wall) | ratio vs cat | peak RSS MB | CPU s (user+sys) | min wall s | all walls s (sorted) | output bytes |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for tool, (wall, rss, cpu, walls, ob) in med.items():
        ratio = wall / med["cat"][0] if "cat" in med else float("nan")
        print(f"| {names[tool]} | {wall:.3f} | {in_bytes/1e6/wall:,.0f} | {ratio:.2f}x | {rss:.1f} | {cpu:.2f} | "
              f"{walls[0]:.3f} | {' '.join(f'{w:.2f}' for w in walls)} | {ob:,} |")
    if "ff" in med and "seam" in med:
        print()
        print(f"seam vs ffmpeg: **{med['ff'][0]/med['seam'][0]:.2f}x faster** (median wall).")
print()
t = results.get("tmpfs", {})
if all(k in t for k in ("cat", "ff", "seam")):
    r_cat = t["seam"][0] / t["cat"][0]
    r_ff = t["ff"][0] / t["seam"][0]
    rss = t["seam"][1]
    ok = lambda b: "met" if b else "**NOT met**"
    print("Bars (tmpfs table):")
    print(f"- seam wall <= 1.2x cat: {r_cat:.2f}x -> {ok(r_cat <= 1.2)} "
          f"(best-of-{runs} walls: {t['seam'][3][0] / t['cat'][3][0]:.2f}x)")
    print(f"- seam >= 2.5x faster than ffmpeg: {r_ff:.2f}x -> {ok(r_ff >= 2.5)} "
          f"(best-of-{runs} walls: {t['ff'][3][0] / t['seam'][3][0]:.2f}x)")
    print(f"- seam peak RSS < 32 MB: {rss:.1f} MB -> {ok(rss < 32)}")
print()
print(f"Output check: seam.mp4 has {vpk} video packets (inputs: {vexp}) -> "
      f"{'ok' if vpk.strip() == vexp.strip() else 'MISMATCH'}; decode: {verify}")
if strace_out.strip():
    print()
    print("`strace -f -c` of one seam run (tmpfs output):")
    print()
    print("```")
    print(strace_out.strip())
    print("```")
PY
