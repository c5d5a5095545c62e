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
# with serve still idle beside it, pgbench (1 client) of the exact SELECTs
# the store issues for those four pages, twice: as psql runs a query (the
# simple protocol: values in the text, parsed and planned every time) and
# prepared (as pgx sends them: parameters apart, the plan cached), with the
# per-transaction log for the same percentiles; EXPLAIN (ANALYZE, BUFFERS)
# of the prepared statements after six runs (the plan the service's cached
# statements use); a summary with API p95 / psql p95 (the target: <= 2),
# API p95 / prepared p95 (the stricter ratio, reported beside it) and
# whether the API p95 is under 20 ms.
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
# shellcheck source=cmd/loadgen/lib.sh
. "$HERE/lib.sh"
preflight

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
# limit + 1. pgbench puts a variable's value into the text in simple mode
# (so the script quotes it there, as one would in psql) and sends it apart
# in prepared mode.
COLS='"id","reference","type","status","controller","regulation","language","channel","subject_email","subject_name","subject_phone","subject_customer_id","details","received_at","due_date","deadline","extension_notice_by","acknowledge_by","extended","extension_reason","paused_days","paused_at","closed_at","verified_at","verified_by","verification_method","decision_ground","decision_text","decision_partial","kept","assignee","duplicate_of","approved_at","approved_by","created_by","created_at","updated_at"'
write_sql() { # mode (prepared|simple): the four scripts
	local q=
	[[ $1 == simple ]] && q="'"
	local sel="SELECT $COLS FROM \"requests\" WHERE controller IN ($q:c$q) AND status IN ($q:s1$q,$q:s2$q,$q:s3$q,$q:s4$q)"
	local ord='ORDER BY deadline ASC,id ASC LIMIT :lim;'
	echo "$sel $ord" >"$TMP/queue.$1.sql"
	echo "$sel AND type IN ($q:t$q) $ord" >"$TMP/queue_type.$1.sql"
	echo "$sel AND (deadline, id) > ($q:d$q, $q:i$q) $ord" >"$TMP/queue+page2.$1.sql"
	echo "$sel AND type IN ($q:t$q) AND (deadline, id) > ($q:d$q, $q:i$q) $ord" >"$TMP/queue_type+page2.$1.sql"
}
write_sql prepared
write_sql simple
pgb() { # mode, name, extra -D flags
	local mode=$1 name=$2
	shift 2
	mkdir -p "$TMP/pgblog-$mode-$name"
	timeout 600 "$PGBENCH" -n -M "$mode" -c 1 -t "$((N + 50))" -l --log-prefix="$TMP/pgblog-$mode-$name/tx" \
		-D c="$CTRL" -D s1=received -D s2=awaiting_verification -D s3=in_progress -D s4=awaiting_subject -D t="$TYPE" -D lim=51 "$@" \
		-f "$TMP/$name.$mode.sql" "$DB" >"$TMP/pgbench-$mode-$name.txt" 2>&1 || { cat "$TMP/pgbench-$mode-$name.txt" >&2; die "pgbench $mode $name failed"; }
	# The first 50 transactions are the warm-up, as for the API.
	cat "$TMP/pgblog-$mode-$name"/tx.* | awk '{print $3}' | tail -n +51 | sort -n | awk -v name="$name" -v mode="$mode" '
		{ v[NR] = $1 }
		function rank(p) { r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1; return v[r] / 1000 }
		END { printf "SQL mode=%s name=%s n=%d p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", mode, name, NR, rank(50), rank(95), rank(99), v[NR] / 1000 }'
}
log "pgbench of the same SELECTs, 1 client: as psql sends them (-M simple), then prepared"
{
	for mode in simple prepared; do
		pgb $mode queue
		pgb $mode queue_type
		pgb $mode queue+page2 -D d="$(cur queue 1)" -D i="$(cur queue 2)"
		pgb $mode queue_type+page2 -D d="$(cur queue_type 1)" -D i="$(cur queue_type 2)"
	done
} | tee "$TMP/sql.txt"

# The plans the service's cached prepared statements use: after five runs
# PostgreSQL may switch to a generic plan; the sixth run shows which.
OPENLIT="'received', 'awaiting_verification', 'in_progress', 'awaiting_subject'"
psq >"$TMP/explain.txt" 2>&1 <<SQL || { cat "$TMP/explain.txt" >&2; die "EXPLAIN failed"; }
\pset pager off
PREPARE queue(text, text, text, text, text, bigint) AS
	SELECT $COLS FROM "requests" WHERE controller IN (\$1) AND status IN (\$2,\$3,\$4,\$5) ORDER BY deadline ASC,id ASC LIMIT \$6;
PREPARE queue_type(text, text, text, text, text, text, bigint) AS
	SELECT $COLS FROM "requests" WHERE controller IN (\$1) AND status IN (\$2,\$3,\$4,\$5) AND type IN (\$6) ORDER BY deadline ASC,id ASC LIMIT \$7;
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
EXPLAIN (ANALYZE, BUFFERS) SELECT $COLS FROM "requests" WHERE controller IN ('$CTRL') AND status IN ($OPENLIT)
	AND (deadline, id) > ('$(cur queue 1)', '$(cur queue 2)') ORDER BY deadline ASC,id ASC LIMIT 51;
\echo == queue_type+page2
EXPLAIN (ANALYZE, BUFFERS) SELECT $COLS FROM "requests" WHERE controller IN ('$CTRL') AND status IN ($OPENLIT) AND type IN ('$TYPE')
	AND (deadline, id) > ('$(cur queue_type 1)', '$(cur queue_type 2)') ORDER BY deadline ASC,id ASC LIMIT 51;
SQL
grep -v '^$' "$TMP/explain.txt"

api() { sed -n "s/^QUEUE name=$1 .* $2=\([^ ]*\).*/\1/p" "$TMP/api.txt"; }
sql() { sed -n "s/^SQL mode=$1 name=$2 .* $3=\([^ ]*\).*/\1/p" "$TMP/sql.txt"; }
{
	echo
	echo "== the officers' queue on $NREQ cases ($NOPEN open, $NQUEUE open for $CTRL); seeded in ${SEED_SECS} s; $(nproc) cores =="
	echo "p50/p95/p99 in ms; psql = the same SELECT as psql sends it, prepared = as pgx sends it (plan cached)"
	printf '%-17s %20s  %20s  %20s  %6s %6s  %s\n' query "API" "psql" "prepared" "/psql" "/prep" "(API p95 / psql p95 <= 2; API p95 < 20 ms)"
	for q in queue queue_type queue+page2 queue_type+page2; do
		a95=$(api "$q" p95_ms) s95=$(sql simple "$q" p95_ms) p95=$(sql prepared "$q" p95_ms)
		ratio=$(awk -v a="$a95" -v s="$s95" 'BEGIN { printf "%.2f", a / s }')
		pratio=$(awk -v a="$a95" -v s="$p95" 'BEGIN { printf "%.2f", a / s }')
		verdict=$(awk -v r="$ratio" -v a="$a95" 'BEGIN { printf "%s %s", (r <= 2 ? "ratio PASS" : "ratio FAIL"), (a < 20 ? "p95 PASS" : "p95 FAIL") }')
		printf '%-17s %6s %6s %6s  %6s %6s %6s  %6s %6s %6s  %6s %6s  %s\n' "$q" "$(api "$q" p50_ms)" "$a95" "$(api "$q" p99_ms)" \
			"$(sql simple "$q" p50_ms)" "$s95" "$(sql simple "$q" p99_ms)" "$(sql prepared "$q" p50_ms)" "$p95" "$(sql prepared "$q" p99_ms)" \
			"$ratio" "$pratio" "$verdict"
	done
} | tee "$TMP/summary.txt"
