#!/usr/bin/env bash
# export_bench.sh: the assembly of a subject's answer (the access report in
# HTML and JSON, and the portability ZIP of workflows/export) from a
# collected export of 1,000,000 records and of 1,000, with the peak memory
# of each and the ZIP's throughput against archive/zip alone writing the
# same files, in one run.
#
#   cmd/loadgen/export_bench.sh
#   BENCH_RECORDS=200000 cmd/loadgen/export_bench.sh
#
# Steps: build exportbench; for BENCH_SMALL and BENCH_RECORDS records:
# exportbench generate (JSON Lines blobs of one Proviso case over four
# systems, in a plain directory) and exportbench assemble under
# /usr/bin/time -v (report.html, report.json, package.zip: peak RSS); then,
# on the large case, exportbench compare: BENCH_REPEAT pairs of the package
# and of the same files written through archive/zip alone (Deflate, like
# the package), alternately, so that both meet the same load of a shared
# machine. The summary gives both peak RSS figures (targets: each < 100 MB,
# within 20 MB of each other) and the median ratio of the package's
# throughput to archive/zip's on the same bytes (target: >= 0.5), with its
# range. Everything is written under a temporary directory (BENCH_OUT to
# keep it), removed on exit.
#
# Environment (defaults in brackets):
#   BENCH_RECORDS [1000000]  records of the large case
#   BENCH_SMALL   [1000]     records of the small case
#   BENCH_REPEAT  [5]        pairs of package and archive/zip runs compared
#   BENCH_OUT     [unset]    directory to keep the blobs, outputs and logs in
#
# Needs: go, /usr/bin/time (Debian package time). About 1 GB of disk and
# 2-3 minutes with the defaults on 2 cores.
set -euo pipefail

LARGE=${BENCH_RECORDS:-1000000}
SMALL=${BENCH_SMALL:-1000}
REPEAT=${BENCH_REPEAT:-5}

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: apt-get install -y time"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [[ -n ${BENCH_OUT:-} ]]; then
	TMP=$BENCH_OUT
	mkdir -p "$TMP"
else
	TMP=$(mktemp -d)
	trap 'rm -rf "$TMP"' EXIT
fi

(cd "$ROOT" && go build -o "$TMP/exportbench" ./cmd/loadgen/exportbench) || die "build failed"

# peak_kb LOG: the maximum resident set size /usr/bin/time -v logged, in kB.
peak_kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

# field LINE NAME: the value of NAME=… in a result line.
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

run() {
	local n=$1 dir=$TMP/$1
	rm -rf "$dir" && mkdir -p "$dir/blobs" "$dir/out"
	log "$n records: generate"
	"$TMP/exportbench" generate -dir "$dir/blobs" -records "$n" >"$dir/generate.log"
	log "$n records: assemble (report.html, report.json, package.zip)"
	/usr/bin/time -v "$TMP/exportbench" assemble -dir "$dir/blobs" -out "$dir/out" >"$dir/assemble.log" 2>"$dir/assemble.time"
	cat "$dir/assemble.log"
}

run "$SMALL"
run "$LARGE"
log "$LARGE records: $REPEAT pairs of package and archive/zip alone"
"$TMP/exportbench" compare -n "$REPEAT" -dir "$TMP/$LARGE/blobs" -out "$TMP/$LARGE/out" >"$TMP/$LARGE/compare.log"
cat "$TMP/$LARGE/compare.log"

A_L=$(grep ^ASSEMBLE "$TMP/$LARGE/assemble.log")
C_L=$(grep ^COMPARE "$TMP/$LARGE/compare.log")
RSS_S=$(peak_kb "$TMP/$SMALL/assemble.time")
RSS_L=$(peak_kb "$TMP/$LARGE/assemble.time")
BLOBS_L=$(du -sb "$TMP/$LARGE/blobs" | cut -f1)

awk -v rs="$RSS_S" -v rl="$RSS_L" -v small="$SMALL" -v large="$LARGE" -v blobs="$BLOBS_L" \
	-v hb="$(field "$A_L" html_bytes)" -v hs="$(field "$A_L" html_s)" \
	-v jb="$(field "$A_L" json_bytes)" -v js="$(field "$A_L" json_s)" \
	-v zc="$(field "$C_L" zip_content_bytes)" -v zs="$(field "$C_L" package_s_min)" -v bs="$(field "$C_L" archive_zip_s_min)" \
	-v med="$(field "$C_L" ratio_median)" -v lo="$(field "$C_L" ratio_min)" -v hi="$(field "$C_L" ratio_max)" -v runs="$(field "$C_L" runs)" '
BEGIN {
	mb = 1024 * 1024
	printf "\n== export assembly: %d records (%.0f MB of JSON Lines) ==\n", large, blobs / mb
	printf "report.html   %7.0f MB in %6.2f s (%5.1f MB/s)\n", hb / mb, hs, hb / mb / hs
	printf "report.json   %7.0f MB in %6.2f s (%5.1f MB/s)\n", jb / mb, js, jb / mb / js
	printf "package.zip   %7.0f MB of files in %6.2f s at best (%5.1f MB/s)\n", zc / mb, zs, zc / mb / zs
	printf "archive/zip   %7.0f MB of the same files in %6.2f s at best (%5.1f MB/s)\n", zc / mb, bs, zc / mb / bs
	printf "package / archive/zip alone throughput: median %.2f of %d pairs (%.2f to %.2f; target >= 0.5): %s\n", med, runs, lo, hi, med >= 0.5 ? "ok" : "MISSED"
	printf "\npeak RSS of assemble: %d records %.1f MB, %d records %.1f MB\n", small, rs / 1024, large, rl / 1024
	printf "target < 100 MB: %s; within 20 MB of each other (%.1f MB apart): %s\n", (rl < 100 * 1024 && rs < 100 * 1024) ? "ok" : "MISSED", (rl - rs) / 1024, (rl - rs < 20 * 1024 && rs - rl < 20 * 1024) ? "ok" : "MISSED"
}'
