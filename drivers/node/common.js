'use strict';
// Shared by the Node driver programs: the two tenants (from DRV_* variables, see DriverTenants.java), the rows each
// must see, and the PASS/FAIL report. Tenant A's items are (id, '<schema>-<id>'), tenant B's (id, id + 0.5,
// '<schema>-<id>'): one table name, two shapes, so a statement or result that crosses tenants fails a check.

const env = process.env;
const ITEMS = Number(env.DRV_ITEMS || 100);
const HOST = env.DRV_HOST || '127.0.0.1';
const PORT = Number(env.DRV_PORT || 5433);
const DATABASE = env.DRV_DATABASE || 'appdb';
const POOL_SIZE = 20;
const TIMEOUT_MS = 300;

class CheckFailed extends Error {}

function tenant(key) {
  const t = {
    key,
    user: env[`DRV_${key}_USER`],
    password: env[`DRV_${key}_PASSWORD`],
    schema: env[`DRV_${key}_SCHEMA`],
  };
  if (!t.user || !t.password || !t.schema) throw new Error(`DRV_${key}_* variables are not set`);
  t.toString = () => `tenant ${key} (${t.schema})`;
  // The row `select * from items where id = <id>` returns in this tenant, as strings (numeric arrives as text).
  t.expectedItem = (id) => (key === 'A' ? [String(id), `${t.schema}-${id}`]
    : [String(id), `${id}.5`, `${t.schema}-${id}`]);
  return t;
}

const A = tenant('A');
const B = tenant('B');
const TENANTS = [A, B];

function expect(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

function expectEq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new CheckFailed(`${what}: expected ${e}, got ${a}`);
}

/** row: an array of values or an object; compared as strings in column order. */
function expectItem(t, row, id) {
  const values = row == null ? null : (Array.isArray(row) ? row : Object.values(row)).map(String);
  expectEq(values, t.expectedItem(id), `${t} items row ${id}`);
}

async function expectError(promise, sqlstate, what) {
  try {
    await promise;
  } catch (e) {
    expectEq(e.code, sqlstate, `${what} SQLSTATE (${e.message})`);
    return e;
  }
  throw new CheckFailed(`${what}: no error, expected SQLSTATE ${sqlstate}`);
}

function itemIds(n, offset = 0) {
  return Array.from({ length: n }, (_, i) => ((i * 37 + offset) % ITEMS) + 1);
}

class Report {
  constructor(driver) {
    this.driver = driver;
    this.passed = [];
    this.failed = [];
  }

  async check(name, fn) {
    const start = Date.now();
    try {
      await fn();
      this.passed.push(name);
      console.log(`PASS ${name} (${((Date.now() - start) / 1000).toFixed(2)} s)`);
    } catch (e) {
      this.failed.push(name);
      const message = `${e.constructor.name}: ${e.message}`.replace(/\n/g, ' | ');
      console.log(`FAIL ${name}: ${message} (after ${((Date.now() - start) / 1000).toFixed(2)} s)`);
      console.error(e.stack);
    }
  }

  finish() {
    console.log(`${this.driver}: ${this.passed.length} passed, ${this.failed.length} failed`);
    if (this.failed.length) {
      console.log(`${this.driver}: FAILED: ${this.failed.join(', ')}`);
      process.exitCode = 1;
    }
  }
}

module.exports = {
  ITEMS, HOST, PORT, DATABASE, POOL_SIZE, TIMEOUT_MS, A, B, TENANTS, CheckFailed,
  expect, expectEq, expectItem, expectError, itemIds, Report,
};
