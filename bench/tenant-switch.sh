#!/usr/bin/env bash
# The price of tenant isolation: 8 tenants (2 clients each) sharing one pool of 10 connections, against 1 tenant with
# 16 clients on the same pool, pgbench -S, alternated in one run. Every backend that changes tenant gets the full
# session reset (see SessionReset), so this ratio is what the reset costs once the idle list's same-tenant preference
# has done what it can. Issue 8's bar: at least 0.8.
#
#   bash bench/tenant-switch.sh      # needs PostgreSQL 15 server binaries, psql and pgbench
# Environment: DURATION (10 s per run), ROUNDS (3), SCALE (1 per tenant).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
SCALE=${SCALE:-1}
TENANTS=8
POOL=10
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
PG_PORT=${PG_PORT:-57532}
PROXY_PORT=${PROXY_PORT:-57533}

work=$(mktemp -d /tmp/perseus-tenants.XXXXXX)
chmod 777 "$work"
pids=()
pg_user() { id postgres >/dev/null 2>&1 && echo postgres || echo nobody; }
run_as_pg() {
    if [[ $(id -u) -eq 0 ]]; then su -s /bin/bash "$(pg_user)" -c "$(printf '%q ' "$@")"; else "$@"; fi
}
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -f "$work/pg/postmaster.pid" ]] && run_as_pg "$PGBIN/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

[[ -f proxy-server/target/perseus.jar && -f cmd-tools/target/perseus-tools.jar ]] || mvn -B -q -DskipTests package
TOOLS="java -jar cmd-tools/target/perseus-tools.jar"

mkdir "$work/pg" && chmod 700 "$work/pg"
[[ $(id -u) -eq 0 ]] && chown "$(pg_user)" "$work/pg"
run_as_pg "$PGBIN/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
cat >> "$work/pg/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
max_connections = 100
fsync = off
synchronous_commit = off
CONF
run_as_pg "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start >/dev/null
psql_admin() { psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
psql_admin -c "CREATE ROLE bench LOGIN PASSWORD 'bench-backend-pw'" -c "CREATE DATABASE appdb OWNER bench" \
    -c "CREATE DATABASE perseus"
$TOOLS genkey -out "$work/local.key" >/dev/null
hash=$($TOOLS genhash -password bench-client-pw)
enc=$($TOOLS encpass -key_file "$work/local.key" -passwd bench-backend-pw)
psql_admin -d perseus -c "CREATE TABLE perseus_auth (id serial PRIMARY KEY, source_db varchar(1024),
    source_schema varchar(64), source_user varchar(64), source_pass_hashed varchar(1024), dest_host varchar(64),
    dest_db varchar(1024), dest_pass_enc varchar(1024), dest_user varchar(64), UNIQUE (source_db, source_schema))"
for t in $(seq 1 $TENANTS); do
    psql_admin -d appdb -c "CREATE SCHEMA tenant$t AUTHORIZATION bench"
    PGPASSWORD=bench-backend-pw PGOPTIONS="-c search_path=tenant$t" \
        pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U bench appdb >/dev/null 2>&1
    psql_admin -d perseus -c "INSERT INTO perseus_auth (source_db, source_schema, source_user, source_pass_hashed,
        dest_host, dest_db, dest_pass_enc, dest_user) VALUES ('appdb', 'tenant$t', 'user$t', '$hash',
        '127.0.0.1:$PG_PORT', 'appdb', '$enc', 'bench')"
done
cat > "$work/config.json" <<JSON
{ "ListenAddress": "127.0.0.1:$PROXY_PORT",
  "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@127.0.0.1:$PG_PORT/perseus?sslmode=disable" },
  "PoolSettings": { "MaxOpen": $POOL, "MaxIdle": $POOL },
  "LocalKeySettings": { "KeyFile": "$work/local.key" },
  "LogSettings": { "Level": "WARN", "Json": false } }
JSON
java -Xmx256m -jar proxy-server/target/perseus.jar -config "$work/config.json" > "$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/$PROXY_PORT) 2>/dev/null && break; sleep 0.2; done

tps_of() { sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' "$1"; }
bench_tenant() { # tenant number, clients, output file
    PGPASSWORD=bench-client-pw pgbench -n -S -c "$2" -j 1 -T "$SECONDS_PER_RUN" \
        "host=127.0.0.1 port=$PROXY_PORT dbname=appdb user=user$1 options='-c search_path=tenant$1'" > "$3" 2>&1
}
# Warm-up: logins of every tenant, plans, caches.
# (wait names the pgbench jobs: a bare wait would also wait for the proxy.)
jobs_=(); for t in $(seq 1 $TENANTS); do SECONDS_PER_RUN=1 bench_tenant "$t" 2 /dev/null & jobs_+=($!); done
wait "${jobs_[@]}"

echo "pgbench -S through the proxy, pool $POOL, ${SECONDS_PER_RUN}s per run, $ROUNDS rounds"
one_total=0; eight_total=0
for r in $(seq 1 "$ROUNDS"); do
    bench_tenant 1 16 "$work/one.out"
    one=$(tps_of "$work/one.out")
    jobs_=(); for t in $(seq 1 $TENANTS); do bench_tenant "$t" 2 "$work/t$t.out" & jobs_+=($!); done
    wait "${jobs_[@]}"
    eight=0
    for t in $(seq 1 $TENANTS); do eight=$(echo "$eight + $(tps_of "$work/t$t.out")" | bc -l); done
    printf 'round %d: 1 tenant x 16 clients %9.0f tps   8 tenants x 2 clients %9.0f tps   ratio %.2f\n' \
        "$r" "$one" "$eight" "$(echo "$eight / $one" | bc -l)"
    one_total=$(echo "$one_total + $one" | bc -l); eight_total=$(echo "$eight_total + $eight" | bc -l)
done
printf 'mean ratio (8 tenants / 1 tenant): %.2f\n' "$(echo "$eight_total / $one_total" | bc -l)"
