#!/usr/bin/env bash
# Throughput of pgbench straight to PostgreSQL, through this proxy, and through PgBouncer (transaction pooling), with
# the same pool size and client count. Everything runs on loopback on this machine and stops by itself.
#
#   bash bench/compare-poolers.sh            # builds the jars if needed; needs PostgreSQL 15 server binaries,
#                                            # pgbench, psql, and pgbouncer (apt-get install pgbouncer) for that row
# Environment: CLIENTS (20), POOL (5), DURATION (15, seconds per run), SCALE (5), MODES ("simple extended").
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-20}
POOL=${POOL:-5}
SECONDS_PER_RUN=${DURATION:-15}
SCALE=${SCALE:-5}
MODES=${MODES:-"simple extended"}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
PG_PORT=${PG_PORT:-55432}
PROXY_PORT=${PROXY_PORT:-55433}
BOUNCER_PORT=${BOUNCER_PORT:-55434}

work=$(mktemp -d /tmp/perseus-bench.XXXXXX)
chmod 777 "$work"   # the server and PgBouncer run as another user when this script runs as root
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -f "$work/pgbouncer.pid" ]] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
    [[ -f "$work/pg/postmaster.pid" ]] && run_as_pg "$PGBIN/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: use the 'postgres' or 'nobody' account when we are root.
run_as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        local user=postgres
        id postgres >/dev/null 2>&1 || user=nobody
        su -s /bin/bash "$user" -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

[[ -f proxy-server/target/perseus.jar && -f cmd-tools/target/perseus-tools.jar ]] || mvn -B -q -DskipTests package
TOOLS="java -jar cmd-tools/target/perseus-tools.jar"

echo "== PostgreSQL ($PGBIN) on port $PG_PORT"
mkdir "$work/pg" && chmod 700 "$work/pg"
[[ $(id -u) -eq 0 ]] && chown "$(id postgres >/dev/null 2>&1 && echo postgres || echo nobody)" "$work/pg"
run_as_pg "$PGBIN/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
cat >> "$work/pg/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
max_connections = 200
fsync = off
synchronous_commit = off
password_encryption = 'scram-sha-256'
CONF
cat > "$work/pg/pg_hba.conf" <<HBA
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
run_as_pg "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start >/dev/null

psql_admin() { psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
psql_admin -c "CREATE ROLE bench LOGIN PASSWORD 'bench-backend-pw'" -c "CREATE DATABASE appdb OWNER bench" \
    -c "CREATE DATABASE perseus"
psql_admin -d appdb -c "CREATE SCHEMA tenant AUTHORIZATION bench" \
    -c "ALTER ROLE bench SET search_path = tenant"   # PgBouncer drops the options parameter
PGPASSWORD=bench-backend-pw PGOPTIONS='-c search_path=tenant' \
    pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U bench appdb >/dev/null 2>&1

echo "== proxy on port $PROXY_PORT (MaxOpen $POOL)"
$TOOLS genkey -out "$work/local.key" >/dev/null
hash=$($TOOLS genhash -password bench-client-pw)
enc=$($TOOLS encpass -key_file "$work/local.key" -passwd bench-backend-pw)
psql_admin -d perseus -c "CREATE TABLE perseus_auth (id serial PRIMARY KEY, source_db varchar(1024),
    source_schema varchar(64), source_user varchar(64), source_pass_hashed varchar(1024), dest_host varchar(64),
    dest_db varchar(1024), dest_pass_enc varchar(1024), dest_user varchar(64), UNIQUE (source_db, source_schema))" \
    -c "INSERT INTO perseus_auth (source_db, source_schema, source_user, source_pass_hashed, dest_host, dest_db,
        dest_pass_enc, dest_user) VALUES ('appdb', 'tenant', 'tenant_user', '$hash', '127.0.0.1:$PG_PORT', 'appdb',
        '$enc', 'bench')"
cat > "$work/config.json" <<JSON
{ "ListenAddress": "127.0.0.1:$PROXY_PORT",
  "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@127.0.0.1:$PG_PORT/perseus?sslmode=disable" },
  "PoolSettings": { "MaxOpen": $POOL, "MaxIdle": $POOL },
  "LocalKeySettings": { "KeyFile": "$work/local.key" },
  "LogSettings": { "Level": "WARN", "Json": false } }
JSON
java -Xmx512m -jar proxy-server/target/perseus.jar -config "$work/config.json" > "$work/proxy.log" 2>&1 &
pids+=($!)

bouncer=""
if command -v pgbouncer >/dev/null 2>&1; then
    echo "== pgbouncer $(pgbouncer --version | head -n 1 | awk '{print $2}') on port $BOUNCER_PORT (pool_size $POOL)"
    echo '"bench" "bench-backend-pw"' > "$work/userlist.txt"
    cat > "$work/pgbouncer.ini" <<INI
[databases]
appdb = host=127.0.0.1 port=$PG_PORT dbname=appdb
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits,options
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
    chmod 644 "$work/pgbouncer.ini" "$work/userlist.txt"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R "$(id postgres >/dev/null 2>&1 && echo postgres || echo nobody)" "$work"
        su -s /bin/bash postgres -c "pgbouncer -d $work/pgbouncer.ini" || true
    else
        pgbouncer -d "$work/pgbouncer.ini"
    fi
    bouncer=yes
fi

for _ in $(seq 1 100); do
    (echo > /dev/tcp/127.0.0.1/$PROXY_PORT) 2>/dev/null && break
    sleep 0.2
done

run() { # label, mode, pgbench connection args...
    local label=$1 mode=$2; shift 2
    local out
    out=$(pgbench -n -M "$mode" -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" "$@" 2>&1) || { echo "$label $mode: failed"; echo "$out" | tail -n 3; return; }
    printf '%-10s %-9s tps %10s   latency avg %8s ms   failed %s\n' "$label" "$mode" \
        "$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')" \
        "$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')" \
        "$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')"
}

echo
echo "pgbench TPC-B-like, scale $SCALE, $CLIENTS clients, ${SECONDS_PER_RUN}s per run, pool $POOL"
for mode in $MODES; do
    PGPASSWORD=bench-backend-pw PGOPTIONS='-c search_path=tenant' \
        run direct "$mode" -h 127.0.0.1 -p "$PG_PORT" -U bench appdb
    PGPASSWORD=bench-client-pw \
        run perseus "$mode" "host=127.0.0.1 port=$PROXY_PORT dbname=appdb user=tenant_user options='-c search_path=tenant'"
    if [[ -n $bouncer ]]; then
        PGPASSWORD=bench-backend-pw PGOPTIONS='-c search_path=tenant' \
            run pgbouncer "$mode" -h 127.0.0.1 -p "$BOUNCER_PORT" -U bench appdb
    fi
done
