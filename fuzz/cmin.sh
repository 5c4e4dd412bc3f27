#!/bin/bash
# Minimises the committed corpora against the seeds: keeps the smallest corpus files that add
# coverage beyond fuzz/seeds/ (and fixtures/ for the MP4 targets), since those are read at every
# run anyway. Like `cargo fuzz cmin`, which would instead copy seed coverage into the corpus.
# -use_counters=0 keeps one file per new edge rather than per new hit count: a third of the size.
#
#   bash fuzz/cmin.sh [TARGET...]        # default: all five targets; builds them first
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${*:-"mp4_demux mp4_split stitch_e2e h264_config aac_config"}
RUSTC_BOOTSTRAP=1 cargo fuzz build >/dev/null
bin=fuzz/target/x86_64-unknown-linux-gnu/release
for t in $targets; do
    case $t in
        mp4_demux|mp4_split) seeds="fuzz/seeds/mp4 fixtures" ;;
        *) seeds="fuzz/seeds/$t" ;;
    esac
    out=$(mktemp -d)
    # Merge order: seeds first, so corpus files are kept only for what the seeds do not cover.
    "$bin/$t" -merge=1 -use_counters=0 -max_len=300000 -rss_limit_mb=2048 -timeout=5 "$out" $seeds "fuzz/corpus/$t" \
        2>"$out.log" || { tail -20 "$out.log"; exit 1; }
    # Drop what came from the seeds (merge names files by their SHA-1).
    for f in $(find $seeds -maxdepth 1 -type f); do
        rm -f "$out/$(sha1sum "$f" | cut -d' ' -f1)"
    done
    before="$(ls "fuzz/corpus/$t" | wc -l) files, $(du -sh "fuzz/corpus/$t" | cut -f1)"
    rm -rf "fuzz/corpus/$t"
    mv "$out" "fuzz/corpus/$t"
    chmod 755 "fuzz/corpus/$t"
    rm -f "$out.log"
    echo "$t: $before -> $(ls "fuzz/corpus/$t" | wc -l) files, $(du -sh "fuzz/corpus/$t" | cut -f1)"
done
