#!/usr/bin/env bash
# bench.sh: measure dsar's durable intake rate against pgbench of the same
# transaction, on the local PostgreSQL and Redis, in one run.
#
#   cmd/loadgen/bench.sh                 # defaults: 16 connections, 20 s a phase
#   BENCH_CONCURRENCY=8 BENCH_DURATION=10s cmd/loadgen/bench.sh
#
# Steps: build dsar and loadgen once into a temporary directory; create a
# fresh database (BENCH_DB, dropped first if it exists); dsar migrate; start
# dsar serve and dsar worker (rate limits off, DSAR_LOG_LEVEL=warn); create
# an admin API key; run loadgen (closed-loop peak, then open loop at half
# the peak); stop serve and worker; run pgbench with cmd/loadgen/intake.sql
# on the same database with the same client count, first at full speed,
# then at loadgen's fixed rate (-R, latency from the scheduled start, from
# its per-transaction log); print a summary with the ratio of our peak 201/s
# to pgbench's tps and the p99 at half the peak, beside pgbench's p99 at
# the same rate (what the machine itself allows).
# Everything started here is stopped, and the database dropped, on exit.
#
# Environment (defaults in brackets):
#   BENCH_CONCURRENCY [16]   loadgen connections and pgbench clients
#   BENCH_DURATION    [20s]  length of each phase (loadgen peak, loadgen fixed, pgbench), at most 120s
#   BENCH_DB          [dsar_bench]  database to create and drop
#   PGHOST [127.0.0.1] PGPORT [5432] PGUSER [postgres]  the PostgreSQL server (trust auth)
#   BENCH_REDIS_URL   [redis://127.0.0.1:6379/11]  a Redis database for this run only
#   BENCH_PORT        [18080]  first port tried for dsar serve (on 127.0.0.1)
#   BENCH_DRAIN       [20]  seconds to wait for the worker to send the queued mails before pgbench
#   BENCH_LOADGEN_FLAGS [unset]  more loadgen flags, e.g. -timeline
#   BENCH_WORKER      [1]  set to 0 to leave dsar worker out (diagnosis: the worker's share)
#   BENCH_PERF        [unset]  peak (or 1) or fixed: record `perf record -a -g` (whole machine)
#                              during that loadgen phase into perf.data (keep it with BENCH_OUT)
#   BENCH_OUT         [unset]  directory to keep the logs (and perf.data) in
#
# Needs: go, psql, createdb, dropdb, pgbench (postgresql-contrib), curl,
# redis-cli. The whole run takes about 3 minutes with the defaults (build,
# 2 s warm-up and four phases of BENCH_DURATION, up to BENCH_DRAIN).
set -euo pipefail

C=${BENCH_CONCURRENCY:-16}
D=${BENCH_DURATION:-20s}
DB=${BENCH_DB:-dsar_bench}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/11}
PORT=${BENCH_PORT:-18080}
DRAIN=${BENCH_DRAIN:-20}

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

[[ $C =~ ^[0-9]+$ && $C -ge 1 && $C -le 64 ]] || die "BENCH_CONCURRENCY: want 1 to 64"
[[ $D =~ ^[0-9]+s$ ]] || die "BENCH_DURATION: want whole seconds such as 20s"
DSEC=${D%s}
[[ $DSEC -ge 1 && $DSEC -le 120 ]] || die "BENCH_DURATION: want 1s to 120s"
[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB: want a plain lowercase name"
[[ $DRAIN =~ ^[0-9]+$ && $DRAIN -le 120 ]] || die "BENCH_DRAIN: want 0 to 120 seconds"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

# shellcheck source=cmd/loadgen/lib.sh
. "$HERE/lib.sh"
preflight

TMP=$(mktemp -d /tmp/dsar-bench.XXXXXX)
SERVE_PID= WORKER_PID= PERF_PID= DB_CREATED=
cleanup() {
	local rc=$?
	set +e
	for pid in $PERF_PID $SERVE_PID $WORKER_PID; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $PERF_PID $SERVE_PID $WORKER_PID; do
		timeout 15 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	if [[ -n $DB_CREATED ]]; then
		dropdb --if-exists --force "$DB" || log "could not drop database $DB"
	fi
	rcli flushdb >/dev/null
	if [[ -n ${BENCH_OUT:-} ]]; then
		mkdir -p "$BENCH_OUT" && cp -r "$TMP"/*.log "$TMP"/*.txt "$BENCH_OUT"/ 2>/dev/null
		# perf report needs the binaries it sampled.
		[[ -f $TMP/perf.data ]] && cp "$TMP/perf.data" "$TMP/dsar" "$TMP/loadgen" "$BENCH_OUT"/
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_bench_binaries ./cmd/loadgen loadgen
pick_free_port
fresh_service_env
psq() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -At "$@"; }

timeout 60 "$TMP/dsar" migrate >/dev/null
"$TMP/dsar" serve >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
if [[ ${BENCH_WORKER:-1} != 0 ]]; then
	"$TMP/dsar" worker >"$TMP/worker.log" 2>&1 &
	WORKER_PID=$!
fi
for i in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
	kill -0 "$SERVE_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; die "dsar serve exited"; }
	[[ $i == 100 ]] && die "dsar serve not ready after 10 s"
	sleep 0.1
done
if [[ -n $WORKER_PID ]]; then
	kill -0 "$WORKER_PID" 2>/dev/null || { cat "$TMP/worker.log" >&2; die "dsar worker exited"; }
fi
KEY=$(timeout 60 "$TMP/dsar" apikey create --name loadgen --role admin | tail -n1)
[[ $KEY == dsar_* ]] || die "could not create an API key"

log "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $C connections, $D a phase"
psq -c CHECKPOINT
if [[ -n ${BENCH_PERF:-} ]]; then
	command -v perf >/dev/null || die "BENCH_PERF needs perf"
	case $BENCH_PERF in
	1 | peak) delay=2.5 ;;                # after the probe and the 2 s warm-up
	fixed) delay=$((2 + DSEC)).8 ;;       # after the peak phase
	*) die "BENCH_PERF: want peak or fixed" ;;
	esac
	(sleep "$delay" && exec perf record -F 499 -g -a -o "$TMP/perf.data" -- sleep "$((DSEC - 1))") >"$TMP/perf.log" 2>&1 &
	PERF_PID=$!
fi
log "loadgen against dsar serve on 127.0.0.1:$PORT"
# shellcheck disable=SC2086 # BENCH_LOADGEN_FLAGS is a list of flags
if ! DSAR_API_KEY=$KEY timeout $((3 * DSEC + 60)) "$TMP/loadgen" -url "http://127.0.0.1:$PORT" -c "$C" -d "$D" ${BENCH_LOADGEN_FLAGS:-} | tee "$TMP/loadgen.txt"; then
	log "loadgen failed; the end of the serve log:"
	tail -n 3 "$TMP/serve.log" | cut -c1-600 >&2
	exit 1
fi
LG=$(grep '^SUMMARY ' "$TMP/loadgen.txt") || die "loadgen printed no summary"
get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$LG"; }
PEAK=$(get peak_rps) P99=$(get fixed_p99_ms) P50=$(get fixed_p50_ms) FIXED_RATE=$(get fixed_target_rps)
FIXED_RPS=$(get fixed_rps) PEAK_P50=$(get peak_p50_ms) PEAK_P99=$(get peak_p99_ms)
ERRORS=$(($(get peak_errors) + $(get fixed_errors)))
OK=$(($(get peak_ok) + $(get fixed_ok)))
[[ -n $PERF_PID ]] && { wait "$PERF_PID" || true; PERF_PID=; }

# What loadgen saw as created must be in the database, with its audit
# event and outbox rows (the warm-up and the first probe request add a few).
read -r NREQ NEV NOUT < <(psq -F' ' -c "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM request_events), (SELECT count(*) FROM outbox)")
backlog() { psq -c "SELECT count(*) FROM outbox WHERE kind = 'mail' AND status NOT IN ('done', 'failed', 'cancelled')"; }
BACKLOG=$(backlog)
for ((i = 0; i < DRAIN && BACKLOG > 0 && ${#WORKER_PID} > 0; i++)); do
	sleep 1
	BACKLOG=$(backlog)
done
SENT=$(psq -c "SELECT count(*) FROM outbox WHERE kind = 'mail' AND status = 'done'")

# pgbench alone on the database: stop our processes first.
for pid in $SERVE_PID $WORKER_PID; do
	kill -TERM "$pid"
done
for pid in $SERVE_PID $WORKER_PID; do
	timeout 40 tail --pid="$pid" -f /dev/null || true
done
SERVE_PID= WORKER_PID=
psq -c CHECKPOINT
log "pgbench $(basename "$HERE")/intake.sql, $C clients"
timeout $((DSEC + 60)) "$PGBENCH" -n -M prepared -c "$C" -j 2 -T "$DSEC" -f "$HERE/intake.sql" "$DB" 2>&1 | tee "$TMP/pgbench.txt"
TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$TMP/pgbench.txt")
PGLAT=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$TMP/pgbench.txt")
PGFAIL=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$TMP/pgbench.txt")
[[ -n $TPS ]] || die "pgbench printed no tps"

# pgbench at loadgen's fixed rate: with -R, each transaction's logged time
# runs from its scheduled start, as loadgen's does.
psq -c CHECKPOINT
log "pgbench at $FIXED_RATE/s"
mkdir -p "$TMP/pgblog"
timeout $((DSEC + 60)) "$PGBENCH" -n -M prepared -c "$C" -j 2 -T "$DSEC" -R "$FIXED_RATE" -l --log-prefix="$TMP/pgblog/tx" \
	-f "$HERE/intake.sql" "$DB" >"$TMP/pgbench-rate.txt" 2>&1 || { cat "$TMP/pgbench-rate.txt" >&2; die "pgbench -R failed"; }
read -r PGR_N PGR_P50 PGR_P99 PGR_MAX < <(cat "$TMP"/pgblog/tx.* | awk '{print $3}' | sort -n | awk '
	{ v[NR] = $1 }
	function rank(p) { r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1; return v[r] / 1000 }
	END { printf "%d %.2f %.2f %.2f\n", NR, rank(50), rank(99), v[NR] / 1000 }')
PGR_TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$TMP/pgbench-rate.txt")

RATIO=$(awk -v a="$PEAK" -v b="$TPS" 'BEGIN { printf "%.3f", a / b }')
VERDICT_RATIO=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.5 ? "PASS" : "FAIL") }')
VERDICT_P99=$(awk -v p="$P99" 'BEGIN { print (p < 50 ? "PASS" : "FAIL") }')
cat <<EOF | tee "$TMP/summary.txt"

== dsar intake vs pgbench: $C connections/clients, $D a phase, $(nproc) cores ==
dsar peak (closed loop)    ${PEAK} created/s   p50 ${PEAK_P50} ms   p99 ${PEAK_P99} ms
dsar at ${FIXED_RATE}/s (open)   ${FIXED_RPS} created/s   p50 ${P50} ms   p99 ${P99} ms
errors (both phases)       ${ERRORS} (201s: ${OK})
pgbench intake.sql         ${TPS} tps   latency avg ${PGLAT} ms   failed ${PGFAIL:-0}
pgbench at ${FIXED_RATE}/s (-R)   ${PGR_TPS} tps   p50 ${PGR_P50} ms   p99 ${PGR_P99} ms   max ${PGR_MAX} ms   (${PGR_N} transactions)
ratio dsar/pgbench         ${RATIO}   (target >= 0.5: ${VERDICT_RATIO})
p99 at half peak           ${P99} ms   (target < 50 ms: ${VERDICT_P99})
rows after loadgen         requests ${NREQ}, request_events ${NEV}, outbox ${NOUT}
worker                     $([[ ${BENCH_WORKER:-1} == 0 ]] && echo "not run (BENCH_WORKER=0); " || true)${SENT} mails sent; ${BACKLOG} still queued after the drain (at most ${DRAIN} s)
EOF
