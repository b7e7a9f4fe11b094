#!/usr/bin/env bash
# One-command benchmark: PostgreSQL direct vs PgBouncer vs this proxy, same backend, same pool size (10, transaction
# pooling), every scenario run against the three targets in turn. Prints one table (TPS, average and p99 latency,
# CPU per transaction of the pooler and of PostgreSQL, ratios) and, unless SMOKE=1, writes it into
# docs/BENCHMARKS.md between the bench:begin/bench:end markers together with a TPS chart (docs/bench-tps.png).
#
#   bash bench/run.sh                      # about 10 minutes with the defaults (more with many idle clients)
#   SMOKE=1 bash bench/run.sh              # 2 s per run, fewer clients, 200 idle connections: a quick check
#   SCENARIOS="select-1 tenants" bash bench/run.sh
#
# Environment:
#   DURATION   seconds per pgbench run (10; SMOKE: 2)
#   SCENARIOS  subset of: select-1 select-10 select-50 select-200 extended prepared tpcb tenants connect idle
#   SMOKE=1    short runs, clients 1 and 10 only, idle test with 200 connections, docs not written
#   WRITE_DOC  1 = write docs/BENCHMARKS.md and docs/bench-tps.png (default 1, SMOKE: 0)
#   IDLE_STEPS idle connections to measure RSS at (1000,10000; SMOKE: 100,200)
#   SCALE      pgbench scale of the main tenant schema (10; SMOKE: 1); the 8 tenant schemas have scale 1
#   JAVA_OPTS  extra JVM flags for the proxy, appended after scripts/perseus's own (the product's) defaults
#   WORKER_THREADS the proxy's WorkerThreads, its data event loops (0 = the proxy's default; see docs/BENCHMARKS.md)
#   PGBIN      PostgreSQL server binaries (the newest /usr/lib/postgresql/*/bin)
# Needs: PostgreSQL server binaries, pgbench, psql, python3, a JDK 17 (java, and mvn to build). PgBouncer is
# installed with apt-get when missing (the script says so). Not part of CI; nothing is left running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=${SMOKE:-0}
if [[ $SMOKE == 1 ]]; then
    DURATION=${DURATION:-2}; SCALE=${SCALE:-1}; IDLE_STEPS=${IDLE_STEPS:-100,200}; WRITE_DOC=${WRITE_DOC:-0}
    MANY=10   # the client count used where a full run uses 50
    ALL_SCENARIOS="select-1 select-10 extended prepared tpcb tenants connect idle"
else
    DURATION=${DURATION:-10}; SCALE=${SCALE:-10}; IDLE_STEPS=${IDLE_STEPS:-1000,10000}; WRITE_DOC=${WRITE_DOC:-1}
    MANY=50
    ALL_SCENARIOS="select-1 select-10 select-50 select-200 extended prepared tpcb tenants connect idle"
fi
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}
POOL=10
# The proxy runs through scripts/perseus, the real launcher (and the Dockerfile's entry point), so the figures are
# the product's: its JVM flags are the one source of truth. JAVA_OPTS only adds to them (PERSEUS_JAVA_OPTS).
JAVA_OPTS=${JAVA_OPTS:-}
WORKER_THREADS=${WORKER_THREADS:-0}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
# Ports of their own (5643x), away from the usual 5432/6432; override them if the machine uses these.
PG_PORT=${PG_PORT:-56432}
PROXY_PORT=${PROXY_PORT:-56433}
METRICS_PORT=${METRICS_PORT:-$((PROXY_PORT + 10))}   # the proxy's /metrics, read for the tenants scenario
BOUNCER_PORT=${BOUNCER_PORT:-56434}
SAMPLING=${SAMPLING:-0.2}   # fraction of transactions pgbench logs for the p99; all of them would cost CPU too
TENANTS=8

# Every connection is a file descriptor: 10,000 idle clients need more than the usual 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/perseus-run.XXXXXX)
chmod 755 "$work"
RUN_USER=$(id -un)
if [[ $(id -u) -eq 0 ]]; then RUN_USER=postgres; id postgres >/dev/null 2>&1 || RUN_USER=nobody; fi
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -f "$work/pgbouncer.pid" ]] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
    [[ -f "$work/pg/postmaster.pid" ]] && as_pg "$PGBIN/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
    # Keep the logs of the last run for a post-mortem (pgbench output, proxy.log, pgbouncer.log, pg.log).
    rm -rf /tmp/perseus-run.last
    cp -r "$work" /tmp/perseus-run.last 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL (and PgBouncer) refuse to run as root: run them as 'postgres' (or 'nobody') when we are root.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then su -s /bin/bash "$RUN_USER" -c "ulimit -n $(ulimit -n); $(printf '%q ' "$@")"
    else "$@"; fi
}

if ! command -v pgbouncer >/dev/null 2>&1; then
    echo "== PgBouncer is not installed: installing it with apt-get (the distribution's package)"
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgbouncer >/dev/null
    echo "   installed: $(pgbouncer --version | head -n 1)"
fi
[[ -f proxy-server/target/perseus.jar && -f cmd-tools/target/perseus-tools.jar ]] || mvn -B -q -DskipTests package
TOOLS="java -jar cmd-tools/target/perseus-tools.jar"

# ---------------------------------------------------------------------------------------------------------------
echo "== PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PG_PORT"
mkdir "$work/pg" && chmod 700 "$work/pg" && chown "$RUN_USER" "$work/pg" "$work"
as_pg "$PGBIN/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
# fsync off: we measure the poolers, not this machine's disk. max_connections: 200 direct pgbench clients plus the
# poolers' pools plus some room.
cat >> "$work/pg/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
CONF
cat > "$work/pg/pg_hba.conf" <<HBA
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
as_pg "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start >/dev/null || { tail -n 5 "$work/pg.log"; exit 1; }
PG_PID=$(head -n 1 "$work/pg/postmaster.pid")

psql_admin() { psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
# 'bench' is the backend user of the proxy's shared pool and of PgBouncer's main pool. The roles t1..t8 exist only
# for PgBouncer's tenant setup (see the tenants scenario); they act with bench's rights through membership.
psql_admin -c "CREATE ROLE bench LOGIN PASSWORD 'bench-backend-pw'" -c "CREATE DATABASE appdb OWNER bench" \
    -c "CREATE DATABASE perseus"
psql_admin -d appdb -c "CREATE SCHEMA tenant AUTHORIZATION bench" -c "ALTER ROLE bench SET search_path = tenant"
for i in $(seq 1 $TENANTS); do
    psql_admin -d appdb -c "CREATE SCHEMA t$i AUTHORIZATION bench" \
        -c "CREATE ROLE t$i LOGIN PASSWORD 'tenant-pw' IN ROLE bench" -c "ALTER ROLE t$i SET search_path = t$i"
done
echo "   pgbench tables: schema tenant (scale $SCALE), schemas t1..t$TENANTS (scale 1)"
PGPASSWORD=bench-backend-pw PGOPTIONS='-c search_path=tenant' \
    pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U bench appdb >/dev/null 2>&1
for i in $(seq 1 $TENANTS); do
    PGPASSWORD=bench-backend-pw PGOPTIONS="-c search_path=t$i" \
        pgbench -q -i -s 1 -h 127.0.0.1 -p "$PG_PORT" -U bench appdb >/dev/null 2>&1
done
psql_admin -d appdb -c "VACUUM ANALYZE" -c "CHECKPOINT"

# ---------------------------------------------------------------------------------------------------------------
echo "== proxy on port $PROXY_PORT (MaxOpen = MaxIdle = $POOL, WorkerThreads $WORKER_THREADS), scripts/perseus's JVM flags${JAVA_OPTS:+ plus $JAVA_OPTS}"
$TOOLS genkey -out "$work/local.key" >/dev/null
hash=$($TOOLS genhash -password bench-client-pw)
enc=$($TOOLS encpass -key_file "$work/local.key" -passwd bench-backend-pw)
rows="('appdb', 'tenant', 'tenant_user', '$hash', '127.0.0.1:$PG_PORT', 'appdb', '$enc', 'bench')"
for i in $(seq 1 $TENANTS); do   # every tenant has the same destination, so all share one pool of $POOL
    rows+=", ('appdb', 't$i', 'tenant$i', '$hash', '127.0.0.1:$PG_PORT', 'appdb', '$enc', 'bench')"
done
psql_admin -d perseus -c "CREATE TABLE perseus_auth (id serial PRIMARY KEY, source_db varchar(1024),
    source_schema varchar(64), source_user varchar(64), source_pass_hashed varchar(1024), dest_host varchar(64),
    dest_db varchar(1024), dest_pass_enc varchar(1024), dest_user varchar(64), UNIQUE (source_db, source_schema))" \
    -c "INSERT INTO perseus_auth (source_db, source_schema, source_user, source_pass_hashed, dest_host, dest_db,
        dest_pass_enc, dest_user) VALUES $rows"
# MaxIdle = MaxOpen: keep the 10 backend connections open, as PgBouncer does (no reconnects under load).
cat > "$work/config.json" <<JSON
{ "ListenAddress": "127.0.0.1:$PROXY_PORT", "MetricsAddress": "127.0.0.1:$METRICS_PORT",
  "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@127.0.0.1:$PG_PORT/perseus?sslmode=disable" },
  "PoolSettings": { "MaxOpen": $POOL, "MaxIdle": $POOL },
  "LocalKeySettings": { "KeyFile": "$work/local.key" },
  "LogSettings": { "Level": "WARN", "Json": false } }
JSON
# scripts/perseus ends in exec, so $! is the JVM itself (its /proc figures are the proxy's).
PERSEUS_WORKERTHREADS=$WORKER_THREADS PERSEUS_JAVA_OPTS=$JAVA_OPTS \
    sh scripts/perseus proxy-server/target/perseus.jar -config "$work/config.json" > "$work/proxy.log" 2>&1 &
PROXY_PID=$!
pids+=("$PROXY_PID")

# ---------------------------------------------------------------------------------------------------------------
BOUNCER_VERSION=$(pgbouncer --version | head -n 1 | awk '{print $2}')
echo "== PgBouncer $BOUNCER_VERSION on port $BOUNCER_PORT (pool_mode transaction, pool_size $POOL)"
# Plain-text passwords in the auth file let PgBouncer use SCRAM both towards the clients and towards PostgreSQL.
{ echo '"bench" "bench-backend-pw"'; for i in $(seq 1 $TENANTS); do echo "\"t$i\" \"tenant-pw\""; done; } \
    > "$work/userlist.txt"
# Two database entries on the same PostgreSQL database:
#  - appdb: the single-tenant scenarios, user bench, one pool of 10.
#  - tenants: the 8-tenant scenario. PgBouncer cannot set search_path per client on a shared transaction pool (it
#    drops the 'options' startup parameter, and any SET would leak to the next client of that server connection),
#    so each tenant logs in as its own role t1..t8 whose search_path is set with ALTER ROLE. PgBouncer keeps one pool
#    per (database, user), so these are 8 pools; max_db_connections = 10 caps them together at 10 backend
#    connections, as the proxy's one shared pool is capped. When the cap is reached and another tenant needs a
#    connection, PgBouncer has to close an idle connection of another tenant and log in anew.
cat > "$work/pgbouncer.ini" <<INI
[databases]
appdb = host=127.0.0.1 port=$PG_PORT dbname=appdb pool_size=$POOL
tenants = host=127.0.0.1 port=$PG_PORT dbname=appdb pool_size=$POOL max_db_connections=$POOL
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = 20000
ignore_startup_parameters = extra_float_digits,options
log_connections = 0
log_disconnections = 0
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
chmod 644 "$work/pgbouncer.ini" "$work/userlist.txt"
chown "$RUN_USER" "$work/pgbouncer.ini" "$work/userlist.txt"
as_pg pgbouncer -d "$work/pgbouncer.ini"

for _ in $(seq 1 150); do
    (echo > /dev/tcp/127.0.0.1/$PROXY_PORT) 2>/dev/null && [[ -s $work/pgbouncer.pid ]] && break
    sleep 0.2
done
BOUNCER_PID=$(cat "$work/pgbouncer.pid")

# ---------------------------------------------------------------------------------------------------------------
# CPU accounting. /proc/<pid>/stat fields 14 and 15 (utime, stime, in clock ticks) of the pooler process. For
# PostgreSQL: the postmaster's own and reaped children's time (fields 14-17) plus the time of its live children
# (backends, checkpointer, ...), so backends that exit during a run (-C, direct) are still counted. A process that
# exits between the glob and cat makes cat fail: that must not stop the script (set -e, pipefail).
TICK_US=$((1000000 / $(getconf CLK_TCK)))
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
pg_ticks() {
    { sed 's/^.*) //' "/proc/$PG_PID/stat" | awk '{print "self", $12 + $13 + $14 + $15}'
      { cat /proc/[0-9]*/stat 2>/dev/null || true; } | sed 's/^[0-9]* (.*) //' | awk -v pm="$PG_PID" '$2 == pm {print "child", $12 + $13}'
    } | awk '{s += $2} END {print s}'
}
target_pid() { case $1 in proxy) echo "$PROXY_PID" ;; pgbouncer) echo "$BOUNCER_PID" ;; *) echo "" ;; esac; }

# Connection settings of each target for the main schema 'tenant', as environment + conninfo for pgbench.
#  direct: user bench, search_path from PGOPTIONS. pgbouncer: user bench (search_path from ALTER ROLE, options are
#  dropped). proxy: the tenant's user, password and schema, as the application would connect.
conninfo() { # target [tenant-number]
    local t=$1 n=${2:-}
    case $t in
        direct)    if [[ -n $n ]]; then echo "host=127.0.0.1 port=$PG_PORT dbname=appdb user=bench password=bench-backend-pw options='-c search_path=t$n'"
                   else echo "host=127.0.0.1 port=$PG_PORT dbname=appdb user=bench password=bench-backend-pw options='-c search_path=tenant'"; fi ;;
        pgbouncer) if [[ -n $n ]]; then echo "host=127.0.0.1 port=$BOUNCER_PORT dbname=tenants user=t$n password=tenant-pw"
                   else echo "host=127.0.0.1 port=$BOUNCER_PORT dbname=appdb user=bench password=bench-backend-pw"; fi ;;
        proxy)     if [[ -n $n ]]; then echo "host=127.0.0.1 port=$PROXY_PORT dbname=appdb user=tenant$n password=bench-client-pw options='-c search_path=t$n'"
                   else echo "host=127.0.0.1 port=$PROXY_PORT dbname=appdb user=tenant_user password=bench-client-pw options='-c search_path=tenant'"; fi ;;
    esac
}

RESULTS=$work/results.tsv
printf 'scenario\ttarget\tclients\ttps\tavg_ms\tp99_ms\tpooler_us\tpg_us\tfailed\n' > "$RESULTS"

# Runs pgbench once per element of "specs" (each "tenant-number:clients", tenant-number empty for the main schema)
# concurrently against one target, and appends one result row: summed TPS, latency from the per-transaction logs,
# CPU per transaction.
measure() { # scenario target "specs" pgbench-args...
    local scenario=$1 target=$2 specs=$3; shift 3
    local dir=$work/log/$scenario-$target clients=0 jpids=() pid before_p after_p before_pg after_pg
    mkdir -p "$dir"
    pid=$(target_pid "$target")
    before_p=$([[ -n $pid ]] && proc_ticks "$pid" || echo 0); before_pg=$(pg_ticks)
    # pgbench's -T includes the time its clients take to log in, and the proxy checks a scrypt hash (tens of ms,
    # two at a time on 2 cores) per login: 200 logins can take longer than the whole run. So every target gets one
    # extra second per 20 clients; pgbench's TPS leaves the initial connection time out, so this is the same for all.
    local total=0 spec
    for spec in $specs; do total=$((total + ${spec##*:})); done
    local seconds=$((DURATION + (total + 19) / 20))
    local k=0
    for spec in $specs; do
        local n=${spec%%:*} c=${spec##*:} j=2
        [[ $c -lt 2 ]] && j=1
        clients=$((clients + c)); k=$((k + 1))
        pgbench -n -c "$c" -j "$j" -T "$seconds" -l --sampling-rate="$SAMPLING" --log-prefix="$dir/p$k" "$@" \
            "$(conninfo "$target" "$n")" > "$dir/out$k" 2>&1 &
        jpids+=($!)
    done
    local ok=1
    for p in "${jpids[@]}"; do wait "$p" || ok=0; done
    # Direct backends exit with their pgbench clients; give the postmaster a moment to reap them, so that their CPU
    # time has moved into its cutime/cstime when we read it (a zombie not yet reaped may show no time at all).
    sleep 0.5
    after_p=$([[ -n $pid ]] && proc_ticks "$pid" || echo 0); after_pg=$(pg_ticks)
    local tps failed tx
    tps=$(cat "$dir"/out* | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | awk '{s += $1} END {printf "%.0f", s}')
    tx=$(cat "$dir"/out* | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
    failed=$(cat "$dir"/out* | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
    [[ $ok == 0 ]] && failed="$failed, run aborted"
    # Log lines: client_id transaction_no latency_us script_no epoch epoch_us. p99 = the value below which 99 %
    # of the sampled latencies lie.
    local lat
    lat=$(cat "$dir"/p* 2>/dev/null | awk '{print $3}' | sort -n | awk '{v[NR] = $1; s += $1}
        END { if (NR == 0) { print "- -"; exit } i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
              printf "%.2f %.2f\n", s / NR / 1000, v[i] / 1000 }')
    local pooler_us=- pg_us=-
    if [[ $tx -gt 0 ]]; then
        [[ -n $pid ]] && pooler_us=$(( (after_p - before_p) * TICK_US / tx ))
        pg_us=$(( (after_pg - before_pg) * TICK_US / tx ))
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$target" "$clients" "${tps:-0}" ${lat} \
        "$pooler_us" "$pg_us" "$failed" >> "$RESULTS"
    printf '   %-13s %-9s clients %3s  tps %7s  avg/p99 ms %-15s cpu us/tx pooler %5s pg %5s  failed %s\n' \
        "$scenario" "$target" "$clients" "${tps:-0}" "${lat}" "$pooler_us" "$pg_us" "$failed"
    # pgbench's own error lines, for a run that went wrong (|| true: head closing the pipe must not end the script)
    if [[ $ok == 0 || $tx -eq 0 ]]; then
        { grep -h -m 2 -E "error|FATAL|abort" "$dir"/out* || true; } | head -n 4 | sed 's/^/      /' || true
    fi
}

# The three targets in turn for every scenario; the order rotates from one scenario to the next so that none of
# them always runs first (right after a checkpoint, or while another user's build is starting).
rotation=0
targets_in_turn() {
    local all=(direct pgbouncer proxy) out=() i
    for i in 0 1 2; do out+=("${all[$(( (i + rotation) % 3 ))]}"); done
    rotation=$((rotation + 1))
    echo "${out[@]}"
}

echo "== warm-up (not measured): 10 clients, select-only, $(( DURATION < 5 ? DURATION : 5 )) s per target"
for t in direct pgbouncer proxy; do
    pgbench -n -S -c 10 -j 2 -T $(( DURATION < 5 ? DURATION : 5 )) "$(conninfo $t)" >/dev/null 2>&1 || echo "   warm-up against $t failed"
done

echo "== scenarios: $SCENARIOS (${DURATION}s per run, pool $POOL)"
has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
for c in 1 10 50 200; do
    has "select-$c" || continue
    for t in $(targets_in_turn); do measure "select-$c" "$t" ":$c" -S; done
done
if has extended; then for t in $(targets_in_turn); do measure extended "$t" ":$MANY" -S -M extended; done; fi
if has prepared; then for t in $(targets_in_turn); do measure prepared "$t" ":$MANY" -S -M prepared; done; fi
if has tpcb; then for t in $(targets_in_turn); do measure tpcb "$t" ":$MANY"; done; fi
# The proxy's counter of one pool family on /metrics, summed over its series (0 if unreadable).
proxy_metric() {
    { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" || true; } | awk -v m="$1" '$1 ~ "^" m "([{]|$)" {s += $2} END {printf "%.0f", s}'
}
# measure, and for the proxy also the share of its leases that switched a connection to another tenant (each such
# lease starts with the session reset): where the 8-tenant run loses against the 1-tenant one.
measure_switches() { # scenario target specs pgbench-args...
    local target=$2 s0 s1 x0 x1
    [[ $target == proxy ]] && { s0=$(proxy_metric perseus_pool_tenant_switches_total); x0=$(proxy_metric perseus_transactions_total); }
    measure "$@"
    if [[ $target == proxy ]]; then
        s1=$(proxy_metric perseus_pool_tenant_switches_total); x1=$(proxy_metric perseus_transactions_total)
        awk -v s=$((s1 - s0)) -v x=$((x1 - x0)) 'BEGIN { printf "   %-13s proxy     tenant switches %d of %d transactions (%.3f per transaction)\n", "", s, x, x ? s / x : 0 }'
    fi
}
if has tenants; then
    # 8 tenants x 2 clients at once, select-only, summed TPS; then the same 16 clients as one tenant (schema t1).
    specs=""; for i in $(seq 1 $TENANTS); do specs+="$i:2 "; done
    for t in $(targets_in_turn); do measure_switches tenants-8x2 "$t" "$specs" -S; done
    for t in $(targets_in_turn); do measure_switches tenants-1x16 "$t" "1:16" -S; done
    # The same 16 clients of one tenant, but in 8 pgbench processes of 2 clients like the 8-tenant run: the client
    # side (16 threads and sockets served one at a time instead of 2 threads multiplexing 8 each) then costs the
    # same on both sides, and the ratio shows only what sharing the pool among tenants costs.
    specs=""; for i in $(seq 1 $TENANTS); do specs+="1:2 "; done
    for t in $(targets_in_turn); do measure_switches tenants-1x16p "$t" "$specs" -S; done
fi
# -C: a new connection (startup, authentication) for every transaction. The proxy checks a scrypt hash at each
# login (as Perseus does); PgBouncer does a SCRAM exchange; PostgreSQL forks a backend.
if has connect; then for t in $(targets_in_turn); do measure connect "$t" ":4" -S -C; done; fi

IDLE=$work/idle.tsv
printf 'target\trest_kb\tsteps\n' > "$IDLE"
if has idle; then
    echo "== idle clients: RSS of each pooler at rest and with $IDLE_STEPS logged-in idle connections"
    for t in pgbouncer proxy; do
        pid=$(target_pid "$t")
        rest=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        if [[ $t == proxy ]]; then args=(--user tenant_user --password bench-client-pw --options "-c search_path=tenant")
        else args=(--user bench --password bench-backend-pw); fi
        out=$(python3 bench/idle_clients.py --port "$( [[ $t == proxy ]] && echo "$PROXY_PORT" || echo "$BOUNCER_PORT")" \
            --db appdb "${args[@]}" --steps "$IDLE_STEPS" --watch-pid "$pid" 2>&1) || true
        echo "$out" | sed "s/^/   $t: /"
        printf '%s\t%s\t%s\n' "$t" "$rest" "$(echo "$out" | awk '$1 == "step" {printf "%s%s:%s:%s", sep, $2, $4, $6; sep = ","}')" >> "$IDLE"
        sleep 2   # let the pooler notice the closed connections before the next one is measured
    done
fi

# ---------------------------------------------------------------------------------------------------------------
CORES=$(nproc)
MEM_GB=$(awk '/^MemTotal:/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
PG_VERSION=$("$PGBIN/postgres" --version | awk '{print $3}')
JAVA_VERSION=$(java -version 2>&1 | head -n 1 | sed 's/.*version "\([^"]*\)".*/\1/')
LOAD=$(cut -d ' ' -f 1-3 /proc/loadavg)
python3 bench/report.py --results "$RESULTS" --idle "$IDLE" --date "$(date -u +%Y-%m-%d)" --cores "$CORES" \
    --mem-gb "$MEM_GB" --pg "$PG_VERSION" --pgbouncer "$BOUNCER_VERSION" --java "$JAVA_VERSION" \
    --java-opts "scripts/perseus${JAVA_OPTS:+ + $JAVA_OPTS}" --duration "$DURATION" --scale "$SCALE" --pool "$POOL" --load "$LOAD" \
    --smoke "$SMOKE" > "$work/report.md"
echo
cat "$work/report.md"
if [[ $WRITE_DOC == 1 ]]; then
    python3 bench/report.py --splice docs/BENCHMARKS.md --section "$work/report.md"
    if java -Djava.awt.headless=true bench/Chart.java "$RESULTS" docs/bench-tps.png; then
        echo "== wrote docs/BENCHMARKS.md (bench section) and docs/bench-tps.png"
    else
        echo "== wrote docs/BENCHMARKS.md (bench section); the chart failed"
    fi
fi
