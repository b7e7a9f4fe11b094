'use strict';
// node-postgres (pg) through the proxy: simple queries, unnamed and named (prepared) extended-protocol queries,
// transactions, 100k rows, COPY (pg-copy-streams), queued queries on one client, the statement_timeout option (a
// startup parameter), and a pg.Pool of 20 per tenant over MaxOpen 5. The schema goes in options=-c search_path.
const pg = require('pg');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');
const { pipeline } = require('node:stream/promises');
const { Readable, Writable } = require('node:stream');
const c = require('./common');
const { A, B, TENANTS, expect, expectEq, expectItem, expectError, itemIds } = c;

const ITEM_SQL = 'select * from items where id = $1';

function config(t, extra = {}) {
  return {
    host: c.HOST, port: c.PORT, database: c.DATABASE, user: t.user, password: t.password,
    options: `-c search_path=${t.schema}`, application_name: 'drv-node-pg', connectionTimeoutMillis: 10000,
    ...extra,
  };
}

async function withClient(t, fn, extra) {
  const client = new pg.Client(config(t, extra));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function simpleQuery() {
  for (const t of TENANTS) {
    await withClient(t, async (client) => {
      // No values: the simple query protocol; two statements give two results.
      const results = await client.query('select 1 as one; select current_schema() as s, count(*)::int as n from items');
      expectEq(results.map((r) => r.rows), [[{ one: 1 }], [{ s: t.schema, n: c.ITEMS }]], `${t} multi-statement`);
      const r = await client.query({ text: 'select * from items order by id limit 3', rowMode: 'array' });
      r.rows.forEach((row, i) => expectItem(t, row, i + 1));
    });
  }
}

async function parameterizedQuery() {
  const clients = await Promise.all(TENANTS.map(async (t) => {
    const client = new pg.Client(config(t));
    await client.connect();
    return [t, client];
  }));
  try {
    for (const id of itemIds(20)) {
      for (const [t, client] of clients) {
        const r = await client.query({ text: ITEM_SQL, values: [id], rowMode: 'array' });
        expectItem(t, r.rows[0], id);
      }
    }
  } finally {
    await Promise.all(clients.map(([, client]) => client.end()));
  }
}

async function namedQueries() {
  // The same statement name and text in both tenants, each execution its own transaction.
  const clients = await Promise.all(TENANTS.map(async (t) => {
    const client = new pg.Client(config(t));
    await client.connect();
    return [t, client];
  }));
  try {
    for (const id of itemIds(30, 3)) {
      for (const [t, client] of clients) {
        const r = await client.query({ name: 'item-by-id', text: ITEM_SQL, values: [id], rowMode: 'array' });
        expectItem(t, r.rows[0], id);
      }
    }
    const [, clientB] = clients[1];
    await clientB.query('begin');
    const r = await clientB.query({ name: 'item-by-id', text: ITEM_SQL, values: [5], rowMode: 'array' });
    expectItem(B, r.rows[0], 5);
    await clientB.query('commit');
  } finally {
    await Promise.all(clients.map(([, client]) => client.end()));
  }
}

async function commitAndRollback() {
  await withClient(A, async (client) => {
    await client.query('drop table if exists node_pg_scratch; create table node_pg_scratch (id int, note text)');
    await client.query('begin');
    await client.query('insert into node_pg_scratch values ($1, $2)', [1, 'committed']);
    await client.query('commit');
    await client.query('begin');
    await client.query('insert into node_pg_scratch values ($1, $2)', [2, 'rolled back']);
    await client.query('rollback');
    const r = await client.query('select id, note from node_pg_scratch order by id');
    expectEq(r.rows, [{ id: 1, note: 'committed' }], 'rows after commit and rollback');
  });
}

async function errorThenRecovery() {
  await withClient(B, async (client) => {
    await client.query('begin');
    await expectError(client.query('select 1 / $1::int', [0]), '22012', 'division by zero');
    await expectError(client.query('select 1'), '25P02', 'statement in a failed transaction');
    await client.query('rollback');
    expectItem(B, (await client.query({ text: ITEM_SQL, values: [7], rowMode: 'array' })).rows[0], 7);
    await expectError(client.query('select * from no_such_table'), '42P01', 'undefined table');
    expectItem(B, (await client.query({ text: ITEM_SQL, values: [8], rowMode: 'array' })).rows[0], 8);
  });
}

async function rows100k() {
  await withClient(A, async (client) => {
    const r = await client.query({
      text: "select g, 'row-' || g from generate_series(1, $1::int) g", values: [100000], rowMode: 'array',
    });
    expectEq(r.rows.length, 100000, 'row count');
    expectEq(r.rows.reduce((s, row) => s + row[0], 0), 100000 * 100001 / 2, 'sum of ids');
    expectEq(r.rows[99999], [100000, 'row-100000'], 'last row');
  });
}

async function copyInAndOut() {
  await withClient(B, async (client) => {
    await client.query('drop table if exists node_pg_copy; create table node_pg_copy (id int, note text)');
    function* lines() {
      for (let i = 1; i <= 100000; i += 1000) {
        let chunk = '';
        for (let j = i; j < i + 1000; j += 1) chunk += `${j}\tnote ${j}\n`;
        yield chunk;
      }
    }
    const ingest = client.query(copyFrom('copy node_pg_copy (id, note) from stdin'));
    await pipeline(Readable.from(lines()), ingest);
    expectEq(ingest.rowCount, 100000, 'COPY FROM rowCount');
    const r = await client.query('select count(*)::int as n, sum(id)::bigint as s from node_pg_copy');
    expectEq(r.rows[0], { n: 100000, s: String(100000 * 100001 / 2) }, 'rows copied in');
    let out = '';
    await pipeline(client.query(copyTo('copy (select id, note from node_pg_copy order by id) to stdout')),
      new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } }));
    const outLines = out.split('\n').filter((l) => l.length > 0);
    expectEq([outLines.length, outLines[99999]], [100000, '100000\tnote 100000'], 'rows copied out');
  });
}

async function queuedQueries() {
  // node-postgres has no pipeline mode; queries issued without waiting queue on the client and run in order.
  for (const t of TENANTS) {
    await withClient(t, async (client) => {
      const ids = itemIds(50, 13);
      const results = await Promise.all(ids.map((id, i) => client.query({
        name: i % 2 ? 'queued-named' : undefined, text: ITEM_SQL, values: [id], rowMode: 'array',
      })));
      results.forEach((r, i) => expectItem(t, r.rows[0], ids[i]));
    });
  }
}

async function statementTimeout() {
  await withClient(A, async (client) => {
    const shown = (await client.query('show statement_timeout')).rows[0].statement_timeout;
    expectEq(shown, `${c.TIMEOUT_MS}ms`, 'SHOW statement_timeout');
    const start = Date.now();
    try {
      await client.query('select pg_sleep(2)');
    } catch (e) {
      expectEq(e.code, '57014', `query canceled (${e.message})`);
      const took = Date.now() - start;
      expect(took < 1500, `canceled after ${took} ms, expected about ${c.TIMEOUT_MS} ms`);
      expectItem(A, (await client.query({ text: ITEM_SQL, values: [9], rowMode: 'array' })).rows[0], 9);
      return;
    }
    throw new c.CheckFailed(`pg_sleep(2) ran to completion (${Date.now() - start} ms): the statement_timeout option`
      + ` (${c.TIMEOUT_MS}) was lost`);
  }, { statement_timeout: c.TIMEOUT_MS });
}

async function poolOf20() {
  const pools = new Map(TENANTS.map((t) => [t, new pg.Pool({ ...config(t), max: c.POOL_SIZE })]));
  try {
    const work = async (t, worker) => {
      const pool = pools.get(t);
      let n = 0;
      for (const id of itemIds(15, worker)) {
        const client = await pool.connect();
        try {
          await client.query('begin');
          expectEq((await client.query('select current_schema() as s')).rows[0].s, t.schema, `${t} current_schema`);
          const named = await client.query({ name: 'pool-item', text: ITEM_SQL, values: [id], rowMode: 'array' });
          expectItem(t, named.rows[0], id);
          await client.query('select pg_sleep(0.002)');
          await client.query('commit');
          // Autocommit, unnamed statement.
          expectItem(t, (await client.query({ text: ITEM_SQL, values: [id], rowMode: 'array' })).rows[0], id);
          n += 1;
        } finally {
          client.release();
        }
      }
      return n;
    };
    const jobs = [];
    for (let w = 0; w < c.POOL_SIZE; w += 1) for (const t of TENANTS) jobs.push(work(t, w));
    const done = await Promise.all(jobs);
    expectEq(done.reduce((a, b) => a + b, 0), 2 * c.POOL_SIZE * 15, 'transactions checked');
  } finally {
    await Promise.all([...pools.values()].map((p) => p.end()));
  }
}

async function main() {
  const version = require('pg/package.json').version;
  const report = new c.Report(`node-postgres ${version}`);
  await report.check('simple_query', simpleQuery);
  await report.check('parameterized_query', parameterizedQuery);
  await report.check('named_queries', namedQueries);
  await report.check('commit_and_rollback', commitAndRollback);
  await report.check('error_then_recovery', errorThenRecovery);
  await report.check('rows_100k', rows100k);
  await report.check('copy_in_and_out', copyInAndOut);
  await report.check('queued_queries', queuedQueries);
  await report.check('statement_timeout', statementTimeout);
  await report.check('pool_of_20', poolOf20);
  report.finish();
}

main().catch((e) => {
  console.log(`FAIL program: ${e.stack}`.replace(/\n/g, ' | '));
  process.exitCode = 1;
});
