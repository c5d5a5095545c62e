# Shared steps of bench.sh and queue_bench.sh; source it after defining log
# and die. The functions read ROOT, TMP, PORT, DB and REDIS_URL when called.

# preflight: find pgbench (PGBENCH) and the other tools, and check that the
# Redis database of REDIS_URL answers and is empty (RHOST, RPORT, RDB; rcli).
preflight() {
	PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n1 || true)
	[[ -n $PGBENCH ]] || die "pgbench not found: apt-get update && apt-get install -y postgresql-contrib"
	local cmd keys
	for cmd in go psql createdb dropdb curl redis-cli timeout; do
		command -v "$cmd" >/dev/null || die "$cmd not found"
	done
	if [[ $REDIS_URL =~ ^redis://([^:/]+):([0-9]+)/([0-9]+)$ ]]; then
		RHOST=${BASH_REMATCH[1]} RPORT=${BASH_REMATCH[2]} RDB=${BASH_REMATCH[3]}
	else
		die "BENCH_REDIS_URL: want redis://HOST:PORT/DB"
	fi
	keys=$(rcli dbsize) || die "Redis at $RHOST:$RPORT does not answer"
	[[ $keys == 0 ]] || die "Redis database $RDB holds $keys keys; pick an empty one with BENCH_REDIS_URL"
}

# rcli runs redis-cli on the benchmark's Redis database.
rcli() { redis-cli -h "$RHOST" -p "$RPORT" -n "$RDB" "$@"; }

# build_bench_binaries PKG NAME: build dsar and the load tool PKG into $TMP
# once; others may be editing the tree, so a broken build is retried.
build_bench_binaries() {
	local pkg=$1 name=$2 attempt
	for attempt in 1 2 3; do
		if (cd "$ROOT" && timeout 120 go build -o "$TMP/dsar" ./cmd/dsar && timeout 60 go build -o "$TMP/$name" "$pkg") 2>"$TMP/build.log"; then
			return 0
		fi
		[[ $attempt == 3 ]] && { cat "$TMP/build.log" >&2; die "build failed"; }
		log "build failed (attempt $attempt); retrying in 15 s"
		sleep 15
	done
}

# pick_free_port: move PORT to the first free port on 127.0.0.1 from PORT on.
pick_free_port() {
	local p
	for ((p = PORT; p < PORT + 20; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			PORT=$p
			return 0
		fi
	done
	die "no free port in $PORT..$((PORT + 19))"
}

# fresh_service_env: a new database $DB and the environment of a dsar on it,
# on loopback, with rate limits off and a fresh secret key and encryption key.
fresh_service_env() {
	dropdb --if-exists --force "$DB"
	createdb "$DB"
	DB_CREATED=1
	export DSAR_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB?sslmode=disable"
	export DSAR_REDIS_URL=$REDIS_URL DSAR_ADDR="127.0.0.1:$PORT" DSAR_BASE_URL="http://127.0.0.1:$PORT"
	export DSAR_PUBLIC_RATE_LIMIT=0 DSAR_KEY_RATE_LIMIT=0 DSAR_LOG_LEVEL=warn DSAR_DATA_DIR="$TMP/data"
	# The secret serve and worker share for subjects' tokens: a fresh one a run.
	DSAR_SECRET_KEY=$(head -c 48 /dev/urandom | base64 -w0)
	DSAR_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64 -w0)
	export DSAR_SECRET_KEY DSAR_ENCRYPTION_KEY
	mkdir -p "$DSAR_DATA_DIR"
}
