# Shared steps of bench.sh and queue_bench.sh; source it after setting ROOT,
# TMP, PORT, DB, REDIS_URL and defining log and die.

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
# on loopback, with rate limits off and a fresh secret key.
fresh_service_env() {
	dropdb --if-exists --force "$DB"
	createdb "$DB"
	DB_CREATED=1
	export DSAR_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB?sslmode=disable"
	export DSAR_REDIS_URL=$REDIS_URL DSAR_ADDR="127.0.0.1:$PORT" DSAR_BASE_URL="http://127.0.0.1:$PORT"
	export DSAR_PUBLIC_RATE_LIMIT=0 DSAR_KEY_RATE_LIMIT=0 DSAR_LOG_LEVEL=warn DSAR_DATA_DIR="$TMP/data"
	# The secret serve and worker share for subjects' tokens: a fresh one a run.
	DSAR_SECRET_KEY=$(head -c 48 /dev/urandom | base64 -w0)
	export DSAR_SECRET_KEY
	mkdir -p "$DSAR_DATA_DIR"
}
