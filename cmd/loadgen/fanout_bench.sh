#!/usr/bin/env bash
# fanout_bench.sh: issue 11's benchmark. BENCH_CASES erasure cases (1,000)
# of a controller with BENCH_SYSTEMS systems (10) reached over HTTP, all
# approved, timed from the first approval until every case is completed,
# against asynq processing as many no-op tasks (cases x systems) with the
# same worker concurrency, in the same run on the same machine.
#
#   cmd/loadgen/fanout_bench.sh
#   BENCH_CASES=200 BENCH_SYSTEMS=5 cmd/loadgen/fanout_bench.sh     # a quick run
#   BENCH_KIND=webhooks cmd/loadgen/fanout_bench.sh                 # issue 13's benchmark
#
# BENCH_KIND=webhooks measures instead the delivery of BENCH_CASES x
# BENCH_SYSTEMS webhook events (10,000): fanoutbench webhooks subscribes a
# receiver of its own on loopback, creates that many requests, waits until
# their mails are sent (the outbox idle; none of this is timed), and times
# one redelivery of all their request.received events until the receiver
# holds every event ID; the baseline is the same.
#
# Steps: build dsar and fanoutbench once; a fresh database (BENCH_DB,
# dropped first); dsar migrate; start `dsar sample-system` (the fake system
# every system of the generated controllers file points at: 10,000 calls to
# one local system), dsar serve and BENCH_WORKERS dsar worker processes
# (rate limits off, DSAR_LOG_LEVEL=warn); create an admin key; create the
# cases through the API and wait until the outbox is idle (not timed);
# fanoutbench fanout approves them and
# waits for the completions; stop everything; empty the Redis database;
# fanoutbench noop runs the baseline; print both and the ratio. Everything
# started here is stopped, and the database dropped, on exit.
#
# With BENCH_SPLIT=1 the fan-out's clock is split in two, to show where
# the time goes: the workers are stopped (SIGSTOP) while the cases are
# approved, so that the approvals are timed alone, then continued, and the
# workers' fan-out is timed alone to the last completion; each phase is
# also given as a ratio to the no-op. The sum is not the benchmark's
# figure (that runs both at once, as in production).
#
# Environment (defaults in brackets):
#   BENCH_KIND [fanout]  fanout, or webhooks
#   BENCH_SPLIT [unset]  1: time the approvals and the workers' fan-out apart (fanout only)
#   BENCH_CASES [1000]  BENCH_SYSTEMS [10]  BENCH_WORKERS [1]
#   BENCH_WORKER_CONCURRENCY [10]  DSAR_WORKER_CONCURRENCY of each worker
#   BENCH_APPROVE_CONCURRENCY [16]  approvals sent at once
#   BENCH_DB [dsar_fanout_bench]  BENCH_REDIS_URL [redis://127.0.0.1:6379/11] (must be empty)
#   BENCH_PORT [18080]  first port tried for dsar serve; the sample system takes the next free one
#   PGHOST [127.0.0.1] PGPORT [5432] PGUSER [postgres]
#   BENCH_OUT [unset]  directory to keep the logs in
set -euo pipefail

KIND=${BENCH_KIND:-fanout}
CASES=${BENCH_CASES:-1000}
SYSTEMS=${BENCH_SYSTEMS:-10}
WORKERS=${BENCH_WORKERS:-1}
CONC=${BENCH_WORKER_CONCURRENCY:-10}
APPROVE=${BENCH_APPROVE_CONCURRENCY:-16}
DB=${BENCH_DB:-dsar_fanout_bench}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/11}
PORT=${BENCH_PORT:-18080}

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

[[ $CASES =~ ^[0-9]+$ && $CASES -ge 1 && $CASES -le 10000 ]] || die "BENCH_CASES: want 1 to 10000"
[[ $SYSTEMS =~ ^[0-9]+$ && $SYSTEMS -ge 1 && $SYSTEMS -le 50 ]] || die "BENCH_SYSTEMS: want 1 to 50"
[[ $WORKERS =~ ^[0-9]+$ && $WORKERS -ge 1 && $WORKERS -le 8 ]] || die "BENCH_WORKERS: want 1 to 8"
[[ $CONC =~ ^[0-9]+$ && $CONC -ge 1 && $CONC -le 200 ]] || die "BENCH_WORKER_CONCURRENCY: want 1 to 200"
[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB: want a plain lowercase name"
[[ $KIND == fanout || $KIND == webhooks ]] || die "BENCH_KIND: want fanout or webhooks"
SPLIT=${BENCH_SPLIT:-}
[[ -z $SPLIT || ($SPLIT == 1 && $KIND == fanout) ]] || die "BENCH_SPLIT: want 1, with BENCH_KIND=fanout"
[[ $KIND == fanout || $((CASES * SYSTEMS)) -le 10000 ]] || die "BENCH_KIND=webhooks: at most 10,000 events (one redelivery)"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
for cmd in go psql createdb dropdb curl redis-cli timeout; do
	command -v "$cmd" >/dev/null || die "$cmd not found"
done
if [[ $REDIS_URL =~ ^redis://([^:/]+):([0-9]+)/([0-9]+)$ ]]; then
	RHOST=${BASH_REMATCH[1]} RPORT=${BASH_REMATCH[2]} RDB=${BASH_REMATCH[3]}
else
	die "BENCH_REDIS_URL: want redis://HOST:PORT/DB"
fi
# shellcheck source=cmd/loadgen/lib.sh
. "$HERE/lib.sh"
keys=$(rcli dbsize) || die "Redis at $RHOST:$RPORT does not answer"
[[ $keys == 0 ]] || die "Redis database $RDB holds $keys keys; pick an empty one with BENCH_REDIS_URL"

TMP=$(mktemp -d /tmp/dsar-fanout-bench.XXXXXX)
PIDS=() DB_CREATED=
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do timeout 40 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
	PIDS=()
}
cleanup() {
	local rc=$?
	set +e
	stop_all
	[[ -n $DB_CREATED ]] && { dropdb --if-exists --force "$DB" || log "could not drop database $DB"; }
	rcli flushdb >/dev/null
	[[ -n ${BENCH_OUT:-} ]] && mkdir -p "$BENCH_OUT" && cp "$TMP"/*.log "$TMP"/*.txt "$TMP"/*.yaml "$BENCH_OUT"/ 2>/dev/null
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_bench_binaries ./cmd/loadgen/fanoutbench fanoutbench
pick_free_port
fresh_service_env
SPORT=$((PORT + 1))
while (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null; do SPORT=$((SPORT + 1)); done
DSAR_SAMPLE_SYSTEM_SECRET=$("$TMP/dsar" sample-system --new-secret | tail -n1)
export DSAR_SAMPLE_SYSTEM_SECRET DSAR_WORKER_CONCURRENCY=$CONC DSAR_WEBHOOK_ALLOW_PRIVATE=true DSAR_DISPATCH_INTERVAL=${DSAR_DISPATCH_INTERVAL:-100ms}

# The controller: one data category, SYSTEMS systems, all at the sample system.
{
	cat <<EOF
controllers:
  - key: bench
    legal_name: Bench AS
    jurisdiction: NO
    time_zone: Europe/Oslo
    languages: [en]
    privacy_contact:
      email: privacy@bench.example
    supervisory_authority:
      name: Datatilsynet
      address: Postboks 458 Sentrum, 0105 Oslo
    default_regulation: gdpr
    data_categories:
      - key: account
        name: Customer account
        purpose: Run the account
        retention: Until the account is closed
        legal_bases: [contract]
    systems:
EOF
	for ((i = 1; i <= SYSTEMS; i++)); do
		cat <<EOF
      - key: system-$i
        name: System $i
        owner: IT
        role: internal
        country: NO
        legal_bases: [contract]
        purposes: [Accounts]
        data_categories: [account]
        connector:
          kind: http
          url: http://127.0.0.1:$SPORT/dsar
          secret: {env: DSAR_SAMPLE_SYSTEM_SECRET}
          timeout: 10s
EOF
	done
} >"$TMP/controllers.yaml"
export DSAR_CONFIG=$TMP/controllers.yaml

timeout 60 "$TMP/dsar" migrate >/dev/null
DSAR_LOG_LEVEL=info "$TMP/dsar" sample-system --addr "127.0.0.1:$SPORT" >"$TMP/sample-system.log" 2>&1 &
PIDS+=($!)
"$TMP/dsar" serve >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
WORKER_PIDS=
for ((w = 1; w <= WORKERS; w++)); do
	"$TMP/dsar" worker >"$TMP/worker-$w.log" 2>&1 &
	PIDS+=($!)
	WORKER_PIDS+=${WORKER_PIDS:+,}$!
done
for i in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
	kill -0 "$SERVE_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; die "dsar serve exited"; }
	[[ $i == 100 ]] && die "dsar serve not ready after 10 s"
	sleep 0.1
done
KEY=$(timeout 60 "$TMP/dsar" apikey create --name bench --role admin | tail -n1)
[[ $KEY == dsar_* ]] || die "could not create an API key"

log "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $KIND: $CASES cases x $SYSTEMS systems, $WORKERS worker(s) of $CONC"
if [[ $KIND == fanout ]]; then
	DSAR_API_KEY=$KEY timeout 1200 "$TMP/fanoutbench" fanout -url "http://127.0.0.1:$PORT" -db "$DSAR_DATABASE_URL" \
		-controller bench -cases "$CASES" -c "$APPROVE" ${SPLIT:+-pause "$WORKER_PIDS"} | tee "$TMP/fanout.txt"
	FO=$(grep '^FANOUT ' "$TMP/fanout.txt") || die "fanoutbench printed no result"
else
	DSAR_API_KEY=$KEY timeout 1200 "$TMP/fanoutbench" webhooks -url "http://127.0.0.1:$PORT" -db "$DSAR_DATABASE_URL" \
		-controller bench -events "$((CASES * SYSTEMS))" -c "$APPROVE" | tee "$TMP/fanout.txt"
	FO=$(grep '^WEBHOOKS ' "$TMP/fanout.txt") || die "fanoutbench printed no result"
fi
stop_all
APPLIED=$(grep -c 'action=' "$TMP/sample-system.log" || true)

rcli flushdb >/dev/null
log "asynq alone: $((CASES * SYSTEMS)) no-op tasks, concurrency $((CONC * WORKERS))"
timeout 600 "$TMP/fanoutbench" noop -redis "$REDIS_URL" -n "$((CASES * SYSTEMS))" -c "$((CONC * WORKERS))" | tee "$TMP/noop.txt"
NO=$(grep '^NOOP ' "$TMP/noop.txt") || die "fanoutbench noop printed no result"

get() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
FSEC=$(get "$FO" seconds) NSEC=$(get "$NO" seconds)
RATIO=$(awk -v a="$FSEC" -v b="$NSEC" 'BEGIN { printf "%.2f", a / b }')
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r <= 2 ? "PASS" : "FAIL") }')
[[ -z $SPLIT ]] || VERDICT="not judged: the phases ran one after the other"
if [[ $KIND == fanout ]]; then
	cat <<EOF | tee "$TMP/summary.txt"

== fan-out vs asynq no-op: $CASES cases x $SYSTEMS systems, $WORKERS worker(s) x $CONC, $(nproc) cores ==
fan-out (approval to completion)  $FSEC s   tasks done $(get "$FO" tasks), failed $(get "$FO" failed); approvals took $(get "$FO" approve_seconds) s
sample system                      $APPLIED actions applied (log lines)
asynq no-op                        $NSEC s   $(get "$NO" tasks) tasks
ratio fan-out/no-op                $RATIO   (target <= 2: $VERDICT)
EOF
	if [[ -n $SPLIT ]]; then
		ASEC=$(get "$FO" approve_seconds) WSEC=$(get "$FO" fanout_seconds)
		cat <<EOF | tee -a "$TMP/summary.txt"
split: the workers stopped while approving, so each phase ran alone
approvals alone                    $ASEC s   ratio to no-op $(awk -v a="$ASEC" -v b="$NSEC" 'BEGIN { printf "%.2f", a / b }')
workers' fan-out alone             $WSEC s   ratio to no-op $(awk -v a="$WSEC" -v b="$NSEC" 'BEGIN { printf "%.2f", a / b }')
EOF
	fi
else
	cat <<EOF | tee "$TMP/summary.txt"

== webhook delivery vs asynq no-op: $((CASES * SYSTEMS)) events, $WORKERS worker(s) x $CONC, $(nproc) cores ==
webhooks (redelivery to last event)  $FSEC s   $(get "$FO" events) events, each ID seen by the receiver
asynq no-op                          $NSEC s   $(get "$NO" tasks) tasks
ratio webhooks/no-op                 $RATIO   (target <= 2: $VERDICT)
EOF
fi
