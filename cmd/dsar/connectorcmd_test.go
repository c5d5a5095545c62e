package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/connector"
)

// sampleShopDB creates a database on DSAR_TEST_DATABASE_URL with the tables
// of docs/examples/sample-sql.sql and one customer, names its DSN in
// SAMPLE_SHOP_DSN (as docs/examples/sample-sql.yaml does) and returns it.
func sampleShopDB(t *testing.T) *sql.DB {
	t.Helper()
	base := os.Getenv("DSAR_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("DSAR_TEST_REQUIRE_SERVICES") != "" {
			t.Fatal("DSAR_TEST_REQUIRE_SERVICES is set but DSAR_TEST_DATABASE_URL is not")
		}
		t.Skip("DSAR_TEST_DATABASE_URL is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "shop_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name + " WITH (FORCE)") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "sample-sql.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{string(schema),
		`INSERT INTO shop.customers (customer_no, name, email, phone, street, postcode, city, note)
			VALUES (40017, 'Kari Nordmann', 'kari.nordmann@example.no', '+4791234567', 'Storgata 1', '0155', 'Oslo', 'likes blue')`,
		`INSERT INTO shop.newsletter (email, topics) VALUES ('kari.nordmann@example.no', '{offers}')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SAMPLE_SHOP_DSN", u.String())
	return db
}

func TestConnectorDryRun(t *testing.T) {
	db := sampleShopDB(t)
	e := env{"DSAR_DATA_DIR": t.TempDir(), "DSAR_CONFIG": filepath.Join("..", "..", "docs", "examples", "sample-sql.yaml")}
	snapshot := func() string {
		var s string
		if err := db.QueryRow(`SELECT (SELECT string_agg(concat_ws('/', name, email, phone, street, note, restricted), ',') FROM shop.customers)
			|| (SELECT count(*) FROM shop.newsletter)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	personal := []string{"kari", "Kari", "40017", "+4791234567", "Storgata", "Fjellveien"}

	code, stdout, stderr := run(t, e, "connector", "dry-run", "--controller", "sample-shop", "--system", "customers",
		"--action", "erase", "--email", "Kari.Nordmann@example.no", "--customer-id", "40017")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`dry run of erase in system customers of sample-shop: rolled back, nothing was changed`,
		`table shop.newsletter +DELETE +1 row`,
		`table shop.customers +UPDATE +1 row +email = hmac, name = fixed:erased customer, note = random, phone = null, street = null`,
		`in all 2 rows: the task would be done with count 2`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("dry run output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout2, stderr2 := run(t, e, "connector", "dry-run", "--controller", "sample-shop", "--system", "customers",
		"--action", "rectify", "--email", "Kari.Nordmann@example.no", "--details", "street: Fjellveien 99", "--details", "note: x")
	if code != 1 || !strings.Contains(stderr2, `the task would fail: the details ask to change "note"`) {
		t.Errorf("refused rectification: exit %d\n%s%s", code, stdout2, stderr2)
	}
	code, stdout3, stderr3 := run(t, e, "connector", "dry-run", "--controller", "sample-shop", "--system", "customers",
		"--action", "export", "--phone", "+4700000000")
	if code != 0 || !strings.Contains(stdout3, "no rows: the task would end with no data") {
		t.Errorf("dry run of a stranger: exit %d\n%s%s", code, stdout3, stderr3)
	}
	for _, out := range []string{stdout, stderr, stdout2, stderr2, stdout3, stderr3} {
		for _, p := range personal {
			if strings.Contains(out, p) {
				t.Errorf("the dry run printed %q:\n%s", p, out)
			}
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("the dry run changed the database:\n%s\n%s", before, after)
	}

	for _, args := range [][]string{
		{"connector"},
		{"connector", "dry-run", "--controller", "sample-shop", "--system", "customers"},
		{"connector", "dry-run", "--controller", "sample-shop", "--system", "customers", "--action", "stop_processing"},
		{"connector", "dry-run", "--controller", "nobody", "--system", "customers", "--action", "erase"},
		{"connector", "dry-run", "--controller", "sample-shop", "--system", "crm", "--action", "erase"},
	} {
		if code, _, stderr := run(t, e, args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// The worker's connectors carry out a task of a sql system, and their close
// function closes its pools.
func TestWorkerReachesSQLSystems(t *testing.T) {
	db := sampleShopDB(t)
	ctrls, err := dsar.LoadControllers(filepath.Join("..", "..", "docs", "examples", "sample-sql.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := ctrls.Get("sample-shop")
	s, _ := c.System("customers")
	keys, err := dsar.NewKeyring([]byte("a test secret of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	a := &App{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: dsar.SystemClock{}, db: &store.DB{Keyring: keys}}
	set, closeConns := a.connectors()
	defer closeConns()
	o := &dsar.TaskOrder{Task: &dsar.Task{ID: "t1", System: s.Key, Action: dsar.ActionRestrict, Connector: dsar.ConnectorSQL},
		Request: &dsar.Request{Subject: dsar.Subject{Email: "kari.nordmann@example.no"}}, Controller: c, Connector: &s.Connector, System: s}
	out := set[dsar.ConnectorSQL].Do(context.Background(), &connector.Order{TaskOrder: o, Step: dsar.StepSend})
	if out.Kind != dsar.OutcomeDone || out.Count != 2 {
		t.Errorf("restrict: %+v", out)
	}
	var paused, restricted bool
	if err := db.QueryRow("SELECT (SELECT paused FROM shop.newsletter), (SELECT restricted FROM shop.customers)").Scan(&paused, &restricted); err != nil || !paused || !restricted {
		t.Errorf("paused %v, restricted %v, %v", paused, restricted, err)
	}
}
