#!/usr/bin/env bash
# queue_bench.sh: the officers' queue on 1,000,000 cases, through the API
# against the same SELECT run directly with pgbench, in one run.
#
#   cmd/loadgen/queue_bench.sh                       # defaults below
#   BENCH_CASES=200000 BENCH_N=500 cmd/loadgen/queue_bench.sh
#
# Steps: build dsar and queuebench; create a fresh database (BENCH_DB,
# dropped first if it exists); dsar migrate; dsar seed --cases BENCH_CASES;
# start dsar serve (rate limits off, DSAR_LOG_LEVEL=warn); create an officer
# key for controller nte; queuebench: BENCH_N sequential GETs of the queue
# (the 50 most urgent open cases of nte), of the same filtered by
# type=erasure, and of each one's second page (cursor), p50/p95/p99; then,
# with serve still idle beside it, pgbench (1 client, -M prepared, as pgx
# sends them) of the exact SELECTs the store issues for those four pages,
# with the per-transaction log for the same percentiles; EXPLAIN (ANALYZE,
# BUFFERS) of the prepared statements after six runs (the plan the service's
# cached statements use); a summary with API p95 / SQL p95 (target <= 2)
# and whether the API p95 is under 20 ms.
# Everything started here is stopped, and the database dropped, on exit.
#
# Environment (defaults in brackets):
#   BENCH_CASES [1000000]   cases to seed
#   BENCH_N     [2000]      measured requests (and pgbench transactions) per query
#   BENCH_SEED  [1]         dsar seed --seed
#   BENCH_DB    [dsar_queue_bench]  database to create and drop
#   PGHOST [127.0.0.1] PGPORT [5432] PGUSER [postgres]  the PostgreSQL server (trust auth)
#   BENCH_REDIS_URL [redis://127.0.0.1:6379/12]  a Redis database for this run only
#   BENCH_PORT  [18090]     first port tried for dsar serve (on 127.0.0.1)
#   BENCH_OUT   [unset]     directory to keep the logs and plans in
#
# Needs: go, psql, createdb, dropdb, pgbench, curl, redis-cli, timeout.
# About 3 minutes with the defaults on 2 cores (seeding ~40 s).
set -euo pipefail

CASES=${BENCH_CASES:-1000000}
N=${BENCH_N:-2000}
SEED=${BENCH_SEED:-1}
DB=${BENCH_DB:-dsar_queue_bench}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
PORT=${BENCH_PORT:-18090}
CTRL=nte TYPE=erasure
OPEN=received,awaiting_verification,in_progress,awaiting_subject

die() { echo "queue_bench: $*" >&2; exit 1; }
log() { echo "queue_bench: $*" >&2; }

[[ $CASES =~ ^[0-9]+$ && $CASES -ge 1000 && $CASES -le 5000000 ]] || die "BENCH_CASES: want 1000 to 5000000"
[[ $N =~ ^[0-9]+$ && $N -ge 10 && $N -le 100000 ]] || die "BENCH_N: want 10 to 100000"
[[ $SEED =~ ^[0-9]+$ ]] || die "BENCH_SEED: want a number"
[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB: want a plain lowercase name"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $PGBENCH ]] || die "pgbench not found: apt-get install -y postgresql-contrib"
for cmd in go psql createdb dropdb curl redis-cli timeout; do
	command -v "$cmd" >/dev/null || die "$cmd not found"
done
if [[ $REDIS_URL =~ ^redis://([^:/]+):([0-9]+)/([0-9]+)$ ]]; then
	RHOST=${BASH_REMATCH[1]} RPORT=${BASH_REMATCH[2]} RDB=${BASH_REMATCH[3]}
else
	die "BENCH_REDIS_URL: want redis://HOST:PORT/DB"
fi
rcli() { redis-cli -h "$RHOST" -p "$RPORT" -n "$RDB" "$@"; }
keys=$(rcli dbsize) || die "Redis at $RHOST:$RPORT does not answer"
[[ $keys == 0 ]] || die "Redis database $RDB holds $keys keys; pick an empty one with BENCH_REDIS_URL"

TMP=$(mktemp -d /tmp/dsar-queue-bench.XXXXXX)
SERVE_PID= DB_CREATED=
cleanup() {
	local rc=$?
	set +e
	if [[ -n $SERVE_PID ]]; then
		kill -TERM "$SERVE_PID" 2>/dev/null
		timeout 15 tail --pid="$SERVE_PID" -f /dev/null 2>/dev/null || kill -KILL "$SERVE_PID" 2>/dev/null
	fi
	[[ -n $DB_CREATED ]] && { dropdb --if-exists --force "$DB" || log "could not drop database $DB"; }
	rcli flushdb >/dev/null
	[[ -n ${BENCH_OUT:-} ]] && mkdir -p "$BENCH_OUT" && cp "$TMP"/*.log "$TMP"/*.txt "$TMP"/*.sql "$BENCH_OUT"/ 2>/dev/null
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=cmd/loadgen/lib.sh
. "$HERE/lib.sh"
build_bench_binaries ./cmd/loadgen/queuebench queuebench
pick_free_port
fresh_service_env
psq() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

timeout 60 "$TMP/dsar" migrate >/dev/null
log "seeding $CASES cases"
SEED_START=$(date +%s.%N)
DSAR_LOG_LEVEL=info timeout 900 "$TMP/dsar" seed --cases "$CASES" --seed "$SEED" >"$TMP/seed.txt" 2>"$TMP/seed.log" || { cat "$TMP/seed.log" >&2; die "seed failed"; }
SEED_SECS=$(awk -v s="$SEED_START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
psq -c "VACUUM (ANALYZE) requests" -c CHECKPOINT
psq -At -F' ' -c "SELECT count(*), count(*) FILTER (WHERE status IN ('received','awaiting_verification','in_progress','awaiting_subject')),
	count(*) FILTER (WHERE controller = '$CTRL' AND status IN ('received','awaiting_verification','in_progress','awaiting_subject')) FROM requests" >"$TMP/counts.txt"
read -r NREQ NOPEN NQUEUE <"$TMP/counts.txt"

"$TMP/dsar" serve >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
for i in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
	kill -0 "$SERVE_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; die "dsar serve exited"; }
	[[ $i == 100 ]] && die "dsar serve not ready after 10 s"
	sleep 0.1
done
KEY=$(timeout 60 "$TMP/dsar" apikey create --name queuebench --role officer --controller "$CTRL" | tail -n1)
[[ $KEY == dsar_* ]] || die "could not create an API key"

log "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $N sequential GETs a query"
Q="/api/v1/requests?controller=$CTRL&status=$OPEN&limit=50"
DSAR_API_KEY=$KEY timeout 900 "$TMP/queuebench" -url "http://127.0.0.1:$PORT" -n "$N" -max-duration 14m \
	-q "queue=$Q" -q "queue_type=$Q&type=$TYPE" | tee "$TMP/api.txt"
cur() { sed -n "s/^CURSOR name=$1 .* deadline=\([^ ]*\) id=\([^ ]*\)$/\\$2/p" "$TMP/api.txt"; }

# The SELECTs the store issues (captured with log_min_duration_statement=0),
# as pgx sends them: prepared, parameters apart, limit + 1.
SEL='SELECT * FROM "requests" WHERE controller IN (:c) AND status IN (:s1,:s2,:s3,:s4)'
ORD='ORDER BY deadline ASC,id ASC LIMIT :lim;'
echo "$SEL $ORD" >"$TMP/queue.sql"
echo "$SEL AND type IN (:t) $ORD" >"$TMP/queue_type.sql"
echo "$SEL AND (deadline, id) > (:d, :i) $ORD" >"$TMP/queue+page2.sql"
echo "$SEL AND type IN (:t) AND (deadline, id) > (:d, :i) $ORD" >"$TMP/queue_type+page2.sql"
pgb() { # name, extra -D flags
	local name=$1
	shift
	mkdir -p "$TMP/pgblog-$name"
	timeout 600 "$PGBENCH" -n -M prepared -c 1 -t "$((N + 50))" -l --log-prefix="$TMP/pgblog-$name/tx" \
		-D c="$CTRL" -D s1=received -D s2=awaiting_verification -D s3=in_progress -D s4=awaiting_subject -D t="$TYPE" -D lim=51 "$@" \
		-f "$TMP/$name.sql" "$DB" >"$TMP/pgbench-$name.txt" 2>&1 || { cat "$TMP/pgbench-$name.txt" >&2; die "pgbench $name failed"; }
	# The first 50 transactions are the warm-up, as for the API.
	cat "$TMP/pgblog-$name"/tx.* | awk '{print $3}' | tail -n +51 | sort -n | awk -v name="$name" '
		{ v[NR] = $1 }
		function rank(p) { r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1; return v[r] / 1000 }
		END { printf "SQL name=%s n=%d p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", name, NR, rank(50), rank(95), rank(99), v[NR] / 1000 }'
}
log "pgbench of the same SELECTs, 1 client, -M prepared"
{
	pgb queue
	pgb queue_type
	pgb queue+page2 -D d="$(cur queue 1)" -D i="$(cur queue 2)"
	pgb queue_type+page2 -D d="$(cur queue_type 1)" -D i="$(cur queue_type 2)"
} | tee "$TMP/sql.txt"

# The plans the service's cached prepared statements use: after five runs
# PostgreSQL may switch to a generic plan; the sixth run shows which.
OPENLIT="'received', 'awaiting_verification', 'in_progress', 'awaiting_subject'"
psq >"$TMP/explain.txt" 2>&1 <<SQL || { cat "$TMP/explain.txt" >&2; die "EXPLAIN failed"; }
\pset pager off
PREPARE queue(text, text, text, text, text, bigint) AS
	SELECT * FROM "requests" WHERE controller IN (\$1) AND status IN (\$2,\$3,\$4,\$5) ORDER BY deadline ASC,id ASC LIMIT \$6;
PREPARE queue_type(text, text, text, text, text, text, bigint) AS
	SELECT * FROM "requests" WHERE controller IN (\$1) AND status IN (\$2,\$3,\$4,\$5) AND type IN (\$6) ORDER BY deadline ASC,id ASC LIMIT \$7;
\\o /dev/null
EXECUTE queue('$CTRL', $OPENLIT, 51); EXECUTE queue('$CTRL', $OPENLIT, 51); EXECUTE queue('$CTRL', $OPENLIT, 51);
EXECUTE queue('$CTRL', $OPENLIT, 51); EXECUTE queue('$CTRL', $OPENLIT, 51);
EXECUTE queue_type('$CTRL', $OPENLIT, '$TYPE', 51); EXECUTE queue_type('$CTRL', $OPENLIT, '$TYPE', 51); EXECUTE queue_type('$CTRL', $OPENLIT, '$TYPE', 51);
EXECUTE queue_type('$CTRL', $OPENLIT, '$TYPE', 51); EXECUTE queue_type('$CTRL', $OPENLIT, '$TYPE', 51);
\\o
\echo == queue (prepared, 6th execution)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE queue('$CTRL', $OPENLIT, 51);
\echo == queue_type (prepared, 6th execution)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE queue_type('$CTRL', $OPENLIT, '$TYPE', 51);
\echo == queue+page2
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM "requests" WHERE controller IN ('$CTRL') AND status IN ($OPENLIT)
	AND (deadline, id) > ('$(cur queue 1)', '$(cur queue 2)') ORDER BY deadline ASC,id ASC LIMIT 51;
\echo == queue_type+page2
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM "requests" WHERE controller IN ('$CTRL') AND status IN ($OPENLIT) AND type IN ('$TYPE')
	AND (deadline, id) > ('$(cur queue_type 1)', '$(cur queue_type 2)') ORDER BY deadline ASC,id ASC LIMIT 51;
SQL
grep -v '^$' "$TMP/explain.txt"

api() { sed -n "s/^QUEUE name=$1 .* $2=\([^ ]*\).*/\1/p" "$TMP/api.txt"; }
sql() { sed -n "s/^SQL name=$1 .* $2=\([^ ]*\).*/\1/p" "$TMP/sql.txt"; }
{
	echo
	echo "== the officers' queue on $NREQ cases ($NOPEN open, $NQUEUE open for $CTRL); seeded in ${SEED_SECS} s; $(nproc) cores =="
	printf '%-18s %27s   %27s   %6s  %s\n' query "API p50/p95/p99 ms" "SQL p50/p95/p99 ms" ratio "(API p95 / SQL p95 <= 2; API p95 < 20 ms)"
	for q in queue queue_type queue+page2 queue_type+page2; do
		a95=$(api "$q" p95_ms) s95=$(sql "$q" p95_ms)
		ratio=$(awk -v a="$a95" -v s="$s95" 'BEGIN { printf "%.2f", a / s }')
		verdict=$(awk -v r="$ratio" -v a="$a95" 'BEGIN { printf "%s %s", (r <= 2 ? "ratio PASS" : "ratio FAIL"), (a < 20 ? "p95 PASS" : "p95 FAIL") }')
		printf '%-18s %8s %8s %9s   %8s %8s %9s   %6s  %s\n' "$q" "$(api "$q" p50_ms)" "$a95" "$(api "$q" p99_ms)" \
			"$(sql "$q" p50_ms)" "$s95" "$(sql "$q" p99_ms)" "$ratio" "$verdict"
	done
} | tee "$TMP/summary.txt"
