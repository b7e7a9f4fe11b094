#!/usr/bin/env bash
# Compares pgbench -M prepared (named server-side statements, re-used across transactions) with -M extended (a fresh
# unnamed Parse for every statement) through a running Perseus proxy, in one tenant's schema.
#
# Quick start, with the demo (embedded PostgreSQL, sample tenants; prints the proxy port):
#   java -jar proxy-server/target/perseus.jar --demo          # in another terminal; note "proxy on 127.0.0.1:PORT"
#   PGPORT=PORT bench/prepared-vs-extended.sh                 # initialises pgbench tables in tenant_a, runs both modes
#
# Against a real deployment, set the tenant's connection and schema, e.g.:
#   PGHOST=proxy.internal PGPORT=5433 PGDATABASE=mattermost PGUSER=tenant1 PGPASSWORD=... SCHEMA=tenant1 \
#     bench/prepared-vs-extended.sh
#
# Settings (environment): PGHOST (127.0.0.1), PGPORT (5433), PGDATABASE (appdb), PGUSER (alice),
# PGPASSWORD (alice-demo-pw), SCHEMA (tenant_a), SCALE (10), CLIENTS (20), JOBS (4), DURATION (20),
# ROUNDS (3: modes alternate to even out drift), SCRIPTS ("select-only tpcb-like"), INIT (1; 0 = tables exist).
# pgbench -i creates pgbench_* tables in SCHEMA, replacing any there.
set -euo pipefail

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5433}" PGDATABASE="${PGDATABASE:-appdb}"
export PGUSER="${PGUSER:-alice}" PGPASSWORD="${PGPASSWORD:-alice-demo-pw}"
SCHEMA="${SCHEMA:-tenant_a}" SCALE="${SCALE:-10}" CLIENTS="${CLIENTS:-20}" JOBS="${JOBS:-4}"
SECONDS_PER_RUN="${DURATION:-20}" ROUNDS="${ROUNDS:-3}" SCRIPTS="${SCRIPTS:-select-only tpcb-like}" INIT="${INIT:-1}"
# The proxy takes the tenant's schema from the search_path in options (libpq, psql, pgbench).
export PGOPTIONS="-c search_path=${SCHEMA}"
# No ~/.pgpass or service file may change what this measures.
export PGPASSFILE=/dev/null PGSERVICEFILE=/dev/null

command -v pgbench >/dev/null || { echo "pgbench is not installed (Debian/Ubuntu: postgresql-client)" >&2; exit 1; }

echo "proxy ${PGHOST}:${PGPORT} db ${PGDATABASE} user ${PGUSER} schema ${SCHEMA}; scale ${SCALE}," \
     "${CLIENTS} clients, ${JOBS} threads, ${SECONDS_PER_RUN} s per run, ${ROUNDS} rounds"
if [ "${INIT}" = 1 ]; then
  echo "initialising pgbench tables in schema ${SCHEMA} (scale ${SCALE})..."
  out=$(pgbench -i -q -s "${SCALE}" 2>&1) || { echo "${out}" >&2; exit 1; }
fi
# A short unmeasured run of each mode first, so neither pays for cold caches or new backend connections.
for mode in prepared extended; do
  pgbench --no-vacuum -b select-only -M "${mode}" -c "${CLIENTS}" -j "${JOBS}" -T 3 >/dev/null 2>&1
done

declare -A total
for script in ${SCRIPTS}; do
  for mode in prepared extended; do total["${script}/${mode}"]=0; done
done

for round in $(seq 1 "${ROUNDS}"); do
  for script in ${SCRIPTS}; do
    for mode in prepared extended; do
      out=$(pgbench --no-vacuum -b "${script}" -M "${mode}" -c "${CLIENTS}" -j "${JOBS}" -T "${SECONDS_PER_RUN}" 2>&1) \
        || { echo "${out}" >&2; exit 1; }
      failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"${out}")
      if [ -n "${failed}" ] && [ "${failed}" != 0 ]; then echo "${out}" >&2; echo "failures in ${mode}" >&2; exit 1; fi
      tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"${out}")
      lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"${out}")
      printf 'round %d  %-12s %-9s tps %10.1f  latency %7.3f ms\n' "${round}" "${script}" "${mode}" "${tps}" "${lat}"
      total["${script}/${mode}"]=$(awk -v a="${total["${script}/${mode}"]}" -v b="${tps}" 'BEGIN { print a + b }')
    done
  done
done

echo
echo "mean tps over ${ROUNDS} rounds:"
for script in ${SCRIPTS}; do
  p=$(awk -v t="${total["${script}/prepared"]}" -v n="${ROUNDS}" 'BEGIN { printf "%.1f", t / n }')
  e=$(awk -v t="${total["${script}/extended"]}" -v n="${ROUNDS}" 'BEGIN { printf "%.1f", t / n }')
  gain=$(awk -v p="${p}" -v e="${e}" 'BEGIN { printf "%+.1f%%", (p / e - 1) * 100 }')
  printf '  %-12s prepared %10s   extended %10s   prepared vs extended %s\n' "${script}" "${p}" "${e}" "${gain}"
done
