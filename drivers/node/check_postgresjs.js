'use strict';
// postgres.js ("postgres") through the proxy, with its defaults: every query with parameters is a named prepared
// statement (prepare: true), search_path and statement_timeout travel as startup parameters (the `connection`
// option), queries issued together on one connection are pipelined. Also transactions, 100k rows, a cursor, COPY
// streams, and a pool of 20 per tenant (max: 20) over MaxOpen 5.
const postgres = require('postgres');
const { pipeline } = require('node:stream/promises');
const { Readable, Writable } = require('node:stream');
const c = require('./common');
const { A, B, TENANTS, expect, expectEq, expectItem, expectError, itemIds } = c;

function connect(t, { max = 1, connection = {} } = {}) {
  return postgres({
    host: c.HOST, port: c.PORT, database: c.DATABASE, username: t.user, password: t.password, ssl: false,
    max, connect_timeout: 10, idle_timeout: 0, onnotice: () => {},
    connection: { search_path: t.schema, application_name: 'drv-postgresjs', ...connection },
  });
}

async function withSql(t, fn, options) {
  const sql = connect(t, options);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const item = (sql, id) => sql`select * from items where id = ${id}`.values();

async function simpleQuery() {
  for (const t of TENANTS) {
    await withSql(t, async (sql) => {
      // .simple(): the simple query protocol, two statements in one message.
      const results = await sql`select 1 as one; select current_schema() as s, count(*)::int as n from items`.simple();
      expectEq(results.map((r) => [...r]), [[{ one: 1 }], [{ s: t.schema, n: c.ITEMS }]], `${t} multi-statement`);
      const rows = await sql.unsafe('select * from items order by id limit 3').values();
      rows.forEach((row, i) => expectItem(t, row, i + 1));
    });
  }
}

async function parameterizedQuery() {
  // prepare: false: unnamed statements (what users set for PgBouncer before 1.21).
  const sqls = TENANTS.map((t) => [t, postgres({
    host: c.HOST, port: c.PORT, database: c.DATABASE, username: t.user, password: t.password, ssl: false, max: 1,
    prepare: false, connection: { search_path: t.schema }, onnotice: () => {},
  })]);
  try {
    for (const id of itemIds(20)) {
      for (const [t, sql] of sqls) expectItem(t, (await item(sql, id))[0], id);
    }
  } finally {
    await Promise.all(sqls.map(([, sql]) => sql.end({ timeout: 5 })));
  }
}

async function defaultPrepares() {
  const sqls = TENANTS.map((t) => [t, connect(t)]);
  try {
    for (const id of itemIds(30, 3)) {
      for (const [t, sql] of sqls) expectItem(t, (await item(sql, id))[0], id);
    }
    // The same prepared statement inside a transaction.
    const [, sqlB] = sqls[1];
    await sqlB.begin(async (tx) => expectItem(B, (await item(tx, 5))[0], 5));
  } finally {
    await Promise.all(sqls.map(([, sql]) => sql.end({ timeout: 5 })));
  }
}

async function commitAndRollback() {
  await withSql(A, async (sql) => {
    await sql`drop table if exists postgresjs_scratch`;
    await sql`create table postgresjs_scratch (id int, note text)`;
    await sql.begin(async (tx) => { await tx`insert into postgresjs_scratch values (${1}, ${'committed'})`; });
    try {
      await sql.begin(async (tx) => {
        await tx`insert into postgresjs_scratch values (${2}, ${'rolled back'})`;
        throw new Error('roll back');
      });
    } catch (e) {
      if (e.message !== 'roll back') throw e;
    }
    const rows = await sql`select id, note from postgresjs_scratch order by id`;
    expectEq([...rows], [{ id: 1, note: 'committed' }], 'rows after commit and rollback');
  });
}

async function errorThenRecovery() {
  await withSql(B, async (sql) => {
    await expectError(sql.begin(async (tx) => {
      await tx`select 1`;
      await tx`select 1 / ${0}::int`;
    }), '22012', 'division by zero in a transaction');
    expectItem(B, (await item(sql, 7))[0], 7);
    await expectError(sql`select * from no_such_table`, '42P01', 'undefined table');
    expectItem(B, (await item(sql, 8))[0], 8);
  });
}

async function rows100k() {
  await withSql(A, async (sql) => {
    const rows = await sql`select g, 'row-' || g as r from generate_series(1, ${100000}::int) g`.values();
    expectEq(rows.length, 100000, 'row count');
    expectEq(rows.reduce((s, r) => s + r[0], 0), 100000 * 100001 / 2, 'sum of ids');
    expectEq(rows[99999], [100000, 'row-100000'], 'last row');
    let count = 0;
    let total = 0;
    await sql.begin(async (tx) => {
      await tx`select g from generate_series(1, 100000) g`.cursor(5000, (batch) => {
        count += batch.length;
        for (const r of batch) total += r.g;
      });
    });
    expectEq([count, total], [100000, 100000 * 100001 / 2], 'cursor rows');
  });
}

async function copyInAndOut() {
  await withSql(B, async (sql) => {
    await sql`drop table if exists postgresjs_copy`;
    await sql`create table postgresjs_copy (id int, note text)`;
    function* lines() {
      for (let i = 1; i <= 100000; i += 1000) {
        let chunk = '';
        for (let j = i; j < i + 1000; j += 1) chunk += `${j}\tnote ${j}\n`;
        yield chunk;
      }
    }
    await pipeline(Readable.from(lines()), await sql`copy postgresjs_copy (id, note) from stdin`.writable());
    const [r] = await sql`select count(*)::int as n, sum(id)::bigint as s from postgresjs_copy`;
    expectEq(r, { n: 100000, s: String(100000 * 100001 / 2) }, 'rows copied in');
    let out = '';
    await pipeline(await sql`copy (select id, note from postgresjs_copy order by id) to stdout`.readable(),
      new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } }));
    const outLines = out.split('\n').filter((l) => l.length > 0);
    expectEq([outLines.length, outLines[99999]], [100000, '100000\tnote 100000'], 'rows copied out');
  });
}

async function pipelined() {
  for (const t of TENANTS) {
    await withSql(t, async (sql) => {
      // Queries issued together on the one connection go out pipelined; inside begin() an array is pipelined too.
      const ids = itemIds(50, 13);
      const results = await Promise.all(ids.map((id) => item(sql, id)));
      results.forEach((rows, i) => expectItem(t, rows[0], ids[i]));
      const inTx = await sql.begin((tx) => [item(tx, 1), tx`select current_schema() as s`, item(tx, 2)]);
      expectItem(t, inTx[0][0], 1);
      expectEq(inTx[1][0].s, t.schema, `${t} current_schema in a pipelined transaction`);
      expectItem(t, inTx[2][0], 2);
    });
  }
}

async function statementTimeout() {
  await withSql(A, async (sql) => {
    const [shown] = await sql`show statement_timeout`;
    expectEq(shown.statement_timeout, `${c.TIMEOUT_MS}ms`, 'SHOW statement_timeout');
    const start = Date.now();
    try {
      await sql`select pg_sleep(2)`;
    } catch (e) {
      expectEq(e.code, '57014', `query canceled (${e.message})`);
      const took = Date.now() - start;
      expect(took < 1500, `canceled after ${took} ms, expected about ${c.TIMEOUT_MS} ms`);
      expectItem(A, (await item(sql, 9))[0], 9);
      return;
    }
    throw new c.CheckFailed(`pg_sleep(2) ran to completion (${Date.now() - start} ms): connection.statement_timeout`
      + ` (${c.TIMEOUT_MS}) was lost`);
  }, { connection: { statement_timeout: c.TIMEOUT_MS } });
}

async function poolOf20() {
  const pools = new Map(TENANTS.map((t) => [t, connect(t, { max: c.POOL_SIZE })]));
  try {
    const work = async (t, worker) => {
      const sql = pools.get(t);
      let n = 0;
      for (const id of itemIds(15, worker)) {
        await sql.begin(async (tx) => {
          const [s] = await tx`select current_schema() as s`;
          expectEq(s.s, t.schema, `${t} current_schema`);
          expectItem(t, (await item(tx, id))[0], id);
          await tx`select pg_sleep(0.002)`;
        });
        expectItem(t, (await item(sql, id))[0], id);
        n += 1;
      }
      return n;
    };
    const jobs = [];
    for (let w = 0; w < c.POOL_SIZE; w += 1) for (const t of TENANTS) jobs.push(work(t, w));
    const done = await Promise.all(jobs);
    expectEq(done.reduce((a, b) => a + b, 0), 2 * c.POOL_SIZE * 15, 'transactions checked');
  } finally {
    await Promise.all([...pools.values()].map((p) => p.end({ timeout: 5 })));
  }
}

async function main() {
  const version = JSON.parse(require('node:fs').readFileSync(
    require('node:path').join(__dirname, 'node_modules', 'postgres', 'package.json'), 'utf8')).version;
  const report = new c.Report(`postgres.js ${version}`);
  await report.check('simple_query', simpleQuery);
  await report.check('parameterized_query', parameterizedQuery);
  await report.check('default_prepares', defaultPrepares);
  await report.check('commit_and_rollback', commitAndRollback);
  await report.check('error_then_recovery', errorThenRecovery);
  await report.check('rows_100k', rows100k);
  await report.check('copy_in_and_out', copyInAndOut);
  await report.check('pipelined', pipelined);
  await report.check('statement_timeout', statementTimeout);
  await report.check('pool_of_20', poolOf20);
  report.finish();
}

main().catch((e) => {
  console.log(`FAIL program: ${e.stack}`.replace(/\n/g, ' | '));
  process.exitCode = 1;
});
