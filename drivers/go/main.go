// Command drvcheck drives Go's PostgreSQL drivers through the proxy: `drvcheck libpq` (github.com/lib/pq, Perseus's
// and Mattermost's own driver) or `drvcheck pgx` (github.com/jackc/pgx/v4). Built in GOPATH mode from Debian's
// packages (GO111MODULE=off GOPATH=/usr/share/gocode); see DriverGoTest. Connections use Perseus's DSN shape: the
// tenant's schema in `schema_search_path=` (DRV_SCHEMA_PARAM, which is `search_path` when the suite points at
// PostgreSQL itself). Prints PASS/FAIL per check and exits 1 if any failed.
package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	poolSize  = 20
	timeoutMs = 300
	itemSQL   = "select * from items where id = $1"
)

var (
	items, _ = strconv.Atoi(getenv("DRV_ITEMS", "100"))
	host     = getenv("DRV_HOST", "127.0.0.1")
	port     = getenv("DRV_PORT", "5433")
	database = getenv("DRV_DATABASE", "appdb")
	// schemaParam names the tenant's schema in the DSN: Perseus's schema_search_path, or search_path.
	schemaParam = getenv("DRV_SCHEMA_PARAM", "schema_search_path")
)

type tenant struct{ key, user, password, schema string }

func (t tenant) String() string { return fmt.Sprintf("tenant %s (%s)", t.key, t.schema) }

// expectedItem is the row `select * from items where id = <id>` returns in this tenant, as strings.
func (t tenant) expectedItem(id int) []string {
	if t.key == "A" {
		return []string{strconv.Itoa(id), fmt.Sprintf("%s-%d", t.schema, id)}
	}
	return []string{strconv.Itoa(id), fmt.Sprintf("%d.5", id), fmt.Sprintf("%s-%d", t.schema, id)}
}

func (t tenant) checkItem(row []string, id int) error {
	want := t.expectedItem(id)
	if strings.Join(row, "\x00") != strings.Join(want, "\x00") || len(row) != len(want) {
		return fmt.Errorf("%s items row %d: expected %q, got %q", t, id, want, row)
	}
	return nil
}

// dsn is Perseus's client URL: postgres://user:pass@host:port/db?sslmode=disable&schema_search_path=<schema>...
func (t tenant) dsn(extra ...string) string {
	q := url.Values{}
	q.Set("sslmode", "disable")
	q.Set("connect_timeout", "10")
	q.Set(schemaParam, t.schema)
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(t.user, t.password), Host: host + ":" + port,
		Path: "/" + database, RawQuery: q.Encode()}
	return u.String()
}

func loadTenant(key string) tenant {
	t := tenant{key: key, user: os.Getenv("DRV_" + key + "_USER"), password: os.Getenv("DRV_" + key + "_PASSWORD"),
		schema: os.Getenv("DRV_" + key + "_SCHEMA")}
	if t.user == "" || t.password == "" || t.schema == "" {
		fmt.Printf("FAIL program: DRV_%s_* variables are not set\n", key)
		os.Exit(2)
	}
	return t
}

var (
	tenantA = loadTenant("A")
	tenantB = loadTenant("B")
	tenants = []tenant{tenantA, tenantB}
)

func itemIDs(n, offset int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = (i*37+offset)%items + 1
	}
	return ids
}

func expectEq(actual, expected interface{}, what string) error {
	if fmt.Sprint(actual) != fmt.Sprint(expected) {
		return fmt.Errorf("%s: expected %v, got %v", what, expected, actual)
	}
	return nil
}

type check struct {
	name string
	fn   func() error
}

func runChecks(driver string, checks []check) {
	var passed, failed []string
	for _, c := range checks {
		start := time.Now()
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return c.fn()
		}()
		took := time.Since(start).Seconds()
		if err != nil {
			failed = append(failed, c.name)
			fmt.Printf("FAIL %s: %s (after %.2f s)\n", c.name, strings.ReplaceAll(err.Error(), "\n", " | "), took)
		} else {
			passed = append(passed, c.name)
			fmt.Printf("PASS %s (%.2f s)\n", c.name, took)
		}
	}
	fmt.Printf("%s: %d passed, %d failed\n", driver, len(passed), len(failed))
	if len(failed) > 0 {
		fmt.Printf("%s: FAILED: %s\n", driver, strings.Join(failed, ", "))
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: drvcheck libpq|pgx")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "libpq":
		runChecks("lib/pq", libpqChecks())
	case "pgx":
		runChecks("pgx v4", pgxChecks())
	default:
		fmt.Println("unknown driver " + os.Args[1])
		os.Exit(2)
	}
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
