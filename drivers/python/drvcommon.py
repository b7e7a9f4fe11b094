"""Shared by the driver programs: the two tenants, the expected rows, and the PASS/FAIL report.

The test (proxy-server/.../it/DriverPythonTest) passes everything through DRV_* environment variables; see
DriverTenants.java. Tenant A's items are (id, '<schema>-<id>'); tenant B's are (id, id + 0.5, '<schema>-<id>'):
the same table name in two shapes, so a statement or result that crosses tenants cannot pass a check.
"""
import decimal
import os
import sys
import time
import traceback

ITEMS = int(os.environ.get("DRV_ITEMS", "100"))
HOST = os.environ.get("DRV_HOST", "127.0.0.1")
PORT = int(os.environ.get("DRV_PORT", "5433"))
DATABASE = os.environ.get("DRV_DATABASE", "appdb")
MAX_OPEN = int(os.environ.get("DRV_MAX_OPEN", "5"))
POOL_SIZE = 20
TIMEOUT_MS = 300


class Tenant:
    def __init__(self, key):
        self.key = key
        self.user = os.environ["DRV_%s_USER" % key]
        self.password = os.environ["DRV_%s_PASSWORD" % key]
        self.schema = os.environ["DRV_%s_SCHEMA" % key]

    def expected_item(self, item_id):
        """The row `select * from items where id = <item_id>` must return in this tenant."""
        if self.key == "A":
            return (item_id, "%s-%d" % (self.schema, item_id))
        return (item_id, decimal.Decimal(item_id) + decimal.Decimal("0.5"), "%s-%d" % (self.schema, item_id))

    def __repr__(self):
        return "tenant %s (%s)" % (self.key, self.schema)


A = Tenant("A")
B = Tenant("B")
TENANTS = (A, B)

ITEM_SQL_PYFORMAT = "select * from items where id = %s"
ITEM_SQL_DOLLAR = "select * from items where id = $1"


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def expect_eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed("%s: expected %r, got %r" % (what, expected, actual))


def expect_item(tenant, row, item_id):
    expect_eq(tuple(row) if row is not None else None, tenant.expected_item(item_id),
              "%s items row %d" % (tenant, item_id))


def expect_sqlstate(exc, sqlstate, what):
    actual = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    expect_eq(actual, sqlstate, what + " SQLSTATE (%s)" % exc.__class__.__name__)


def item_ids(n, offset=0):
    """n ids spread over 1..ITEMS."""
    return [((i * 37 + offset) % ITEMS) + 1 for i in range(n)]


class Report:
    def __init__(self, driver):
        self.driver = driver
        self.passed = []
        self.failed = []

    def check(self, name, fn):
        start = time.monotonic()
        try:
            fn()
        except Exception as e:  # every failure is a FAIL line, whatever raised it
            took = time.monotonic() - start
            self.failed.append(name)
            message = ("%s: %s" % (e.__class__.__name__, e)).replace("\n", " | ")
            print("FAIL %s: %s (after %.2f s)" % (name, message, took), flush=True)
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
        else:
            self.passed.append(name)
            print("PASS %s (%.2f s)" % (name, time.monotonic() - start), flush=True)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.driver, len(self.passed), len(self.failed)), flush=True)
        if self.failed:
            print("%s: FAILED: %s" % (self.driver, ", ".join(self.failed)), flush=True)
            sys.exit(1)
        sys.exit(0)
