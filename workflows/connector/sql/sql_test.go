package sql_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	gosql "database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector"
	sqlconn "github.com/dsar-project/dsar/workflows/connector/sql"
)

// The subject of the tests and what they write; none of it may appear in an
// answer or a log line.
const (
	email      = "Kari.Nordmann@example.no"
	customerNo = "40017"
	phone      = "+4791234567"
	newName    = "Kari Fjelltoppen"
	newStreet  = "Fjellveien 99"
)

var personal = []string{email, strings.ToLower(email), customerNo, phone, newName, newStreet, "Kari Nordmann", "Storgata 1"}

// schema is the customer database of a test: its DSN (in the environment
// variable it names) and a handle to look at it.
type schema struct {
	env string
	db  *gosql.DB
}

// newSchema returns a fresh schema on DSAR_TEST_DATABASE_URL with two
// tables of customers and their orders.
func newSchema(t *testing.T) *schema {
	t.Helper()
	base := os.Getenv("DSAR_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("DSAR_TEST_REQUIRE_SERVICES") != "" {
			t.Fatal("DSAR_TEST_REQUIRE_SERVICES is set but DSAR_TEST_DATABASE_URL is not")
		}
		t.Skip("DSAR_TEST_DATABASE_URL is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "sqlconn_" + hex.EncodeToString(b[:])
	admin, err := gosql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + name + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	db, err := gosql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, stmt := range []string{
		`CREATE TABLE customers (id serial PRIMARY KEY, email text, customer_no int, phone text, name text, street text,
			note text, restricted boolean NOT NULL DEFAULT false)`,
		`CREATE TABLE orders (id serial PRIMARY KEY, buyer_email text NOT NULL, total int NOT NULL, on_hold boolean NOT NULL DEFAULT false)`,
		`INSERT INTO customers (email, customer_no, phone, name, street, note) VALUES
			('kari.nordmann@example.no', 40017, '+4791234567', 'Kari Nordmann', 'Storgata 1', 'likes blue'),
			('ola@example.no', 40018, '+4790000000', 'Ola Hansen', 'Fjordgata 2', 'none')`,
		`INSERT INTO orders (buyer_email, total) VALUES ('kari.nordmann@example.no', 100), ('kari.nordmann@example.no', 250), ('ola@example.no', 75)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	env := "DSAR_TEST_SQL_" + strings.ToUpper(hex.EncodeToString(b[:]))
	t.Setenv(env, u.String())
	return &schema{env: env, db: db}
}

func (s *schema) scalar(t *testing.T, query string, args ...any) string {
	t.Helper()
	var v gosql.NullString
	if err := s.db.QueryRow(query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

// tables is the table mapping of the test's customer database.
func tables() []dsar.SQLTable {
	return []dsar.SQLTable{
		{Name: "customers", Match: map[string]string{"email": "email", "customer_id": "customer_no", "phone": "phone"},
			Export: []string{"id", "name", "email"}, Rectify: []string{"name", "street"}, Restrict: "restricted",
			Mask: map[string]string{"email": "hmac", "name": "fixed:erased", "phone": "null", "note": "random"}},
		{Name: "orders", Match: map[string]string{"email": "buyer_email"}, Restrict: "on_hold"},
	}
}

// harness runs tasks against a schema and keeps the log.
type harness struct {
	t    *testing.T
	s    *schema
	keys *dsar.Keyring
	log  bytes.Buffer
	c    *sqlconn.Connector
	// blobs is given to the tasks run (nil: a worker without storage).
	blobs dsar.Blobs
	// answers collects every answer, to be checked for personal data.
	answers []string
}

func newHarness(t *testing.T, s *schema) *harness {
	keys, err := dsar.NewKeyring([]byte("a test secret of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, s: s, keys: keys, blobs: blobs}
	h.c = sqlconn.New(keys, slog.New(slog.NewTextHandler(&h.log, nil)))
	t.Cleanup(h.c.Close)
	t.Cleanup(func() {
		all := h.log.String() + "\n" + strings.Join(h.answers, "\n")
		for _, p := range personal {
			if strings.Contains(all, p) {
				t.Errorf("personal data %q in the answers or the log:\n%s", p, all)
			}
		}
	})
	return h
}

func (h *harness) order(cfg *dsar.SQLConnector, action dsar.TaskAction, subj dsar.Subject, details string) *dsar.TaskOrder {
	if cfg.DSN.IsZero() {
		cfg.DSN = dsar.Secret{Env: h.s.env}
	}
	cfg.Driver = "postgres"
	conn := &dsar.Connector{Kind: dsar.ConnectorSQL, SQL: cfg}
	return &dsar.TaskOrder{
		Task:       &dsar.Task{ID: "task-1", RequestID: "req-1", System: "crm", Action: action, Connector: dsar.ConnectorSQL},
		Request:    &dsar.Request{ID: "req-1", Subject: subj, Details: details},
		Controller: &dsar.Controller{Key: "shop"},
		Connector:  conn,
		System:     &dsar.System{Key: "crm", Connector: *conn},
	}
}

func (h *harness) do(cfg *dsar.SQLConnector, action dsar.TaskAction, subj dsar.Subject, details string) dsar.TaskOutcome {
	h.t.Helper()
	out := h.c.Do(context.Background(), &connector.Order{TaskOrder: h.order(cfg, action, subj, details), Step: dsar.StepSend, Blobs: h.blobs})
	h.answers = append(h.answers, out.Answer)
	return out
}

var kari = dsar.Subject{Email: email, CustomerID: customerNo, Phone: phone, Name: "Kari Nordmann"}

func want(t *testing.T, what string, got dsar.TaskOutcome, kind dsar.OutcomeKind, count int) {
	t.Helper()
	if got.Kind != kind || got.Count != count {
		t.Errorf("%s: outcome %s count %d (%s), want %s count %d", what, got.Kind, got.Count, got.Answer, kind, count)
	}
}

func TestTableMapping(t *testing.T) {
	s := newSchema(t)
	h := newHarness(t, s)
	cfg := &dsar.SQLConnector{Tables: tables()}

	out := h.do(cfg, dsar.ActionExport, kari, "")
	want(t, "export", out, dsar.OutcomeDone, 3)
	if out.Answer != "table customers: SELECT 1; table orders: SELECT 2" {
		t.Errorf("export answer %q", out.Answer)
	}
	want(t, "export of a stranger", h.do(cfg, dsar.ActionExport, dsar.Subject{Email: "nobody@example.no"}, ""), dsar.OutcomeNoData, 0)
	want(t, "export without an identity", h.do(cfg, dsar.ActionExport, dsar.Subject{Name: "Kari Nordmann"}, ""), dsar.OutcomeNoData, 0)
	// Every identity the subject gave must match: a wrong customer number
	// finds nothing in the table that has it.
	out = h.do(cfg, dsar.ActionExport, dsar.Subject{Email: email, CustomerID: "40018"}, "")
	want(t, "export with another's customer number", out, dsar.OutcomeDone, 2)

	out = h.do(cfg, dsar.ActionRestrict, kari, "")
	want(t, "restrict", out, dsar.OutcomeDone, 3)
	if got := s.scalar(t, "SELECT count(*) FROM customers WHERE restricted") + s.scalar(t, "SELECT count(*) FROM orders WHERE on_hold"); got != "12" {
		t.Errorf("restricted customers and orders on hold: %s, want 1 and 2", got)
	}

	out = h.do(cfg, dsar.ActionRectify, kari, "Please fix my name and address.\nname: "+newName+"\nStreet: "+newStreet+"\n")
	want(t, "rectify", out, dsar.OutcomeDone, 1)
	if got := s.scalar(t, "SELECT name || '/' || street FROM customers WHERE customer_no = 40017"); got != newName+"/"+newStreet {
		t.Errorf("rectified customer: %q", got)
	}
	out = h.do(cfg, dsar.ActionRectify, kari, "name: Kari Nordmann\nnote: "+newStreet)
	want(t, "rectify a column not allowed", out, dsar.OutcomeFailed, 0)
	if !strings.Contains(out.Answer, `"note"`) || !strings.Contains(out.Answer, "allowed: name, street") {
		t.Errorf("refused rectification answer: %q", out.Answer)
	}
	if got := s.scalar(t, "SELECT name FROM customers WHERE customer_no = 40017"); got != newName {
		t.Errorf("a refused rectification changed the name to %q", got)
	}
	want(t, "rectify without lines", h.do(cfg, dsar.ActionRectify, kari, "My name is wrong."), dsar.OutcomeFailed, 0)

	out = h.do(cfg, dsar.ActionStopProcessing, kari, "")
	want(t, "stop processing", out, dsar.OutcomeFailed, 0)

	out = h.do(cfg, dsar.ActionErase, kari, "")
	want(t, "erase", out, dsar.OutcomeDone, 3)
	if out.Answer != "table customers: UPDATE 1; table orders: DELETE 2" {
		t.Errorf("erase answer %q", out.Answer)
	}
	mac := hmac.New(sha256.New, sqlconn.MaskKey(h.keys, "shop", "crm"))
	mac.Write([]byte("kari.nordmann@example.no"))
	row := s.scalar(t, "SELECT concat_ws('/', email, name, coalesce(phone, 'NULL'), note, street) FROM customers WHERE customer_no = 40017")
	parts := strings.Split(row, "/")
	if len(parts) != 5 || parts[0] != hex.EncodeToString(mac.Sum(nil)) || parts[1] != "erased" || parts[2] != "NULL" ||
		!regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(parts[3]) || parts[4] != newStreet {
		t.Errorf("masked customer: %q", row)
	}
	if got := s.scalar(t, "SELECT count(*) FROM orders"); got != "1" {
		t.Errorf("orders left: %s, want Ola's", got)
	}
	if got := s.scalar(t, "SELECT name FROM customers WHERE customer_no = 40018"); got != "Ola Hansen" {
		t.Errorf("another customer changed: %q", got)
	}
	// Once erased, the subject is not found by e-mail any more.
	want(t, "erase again", h.do(cfg, dsar.ActionErase, dsar.Subject{Email: email}, ""), dsar.OutcomeNoData, 0)
}

func TestStatements(t *testing.T) {
	s := newSchema(t)
	h := newHarness(t, s)
	cfg := &dsar.SQLConnector{Statements: map[dsar.TaskAction][]string{
		dsar.ActionExport: {"SELECT name FROM customers WHERE lower(email) = lower($1)", "SELECT total FROM orders WHERE lower(buyer_email) = lower($1)"},
		dsar.ActionErase: {"DELETE FROM orders WHERE lower(buyer_email) = lower($1)",
			"DELETE FROM customers WHERE lower(email) = lower($1) OR customer_no = NULLIF($2, '')::int OR phone = $3"},
		dsar.ActionRestrict: {"UPDATE customers SET restricted = true WHERE customer_no = NULLIF($2, '')::int",
			"UPDATE orders SET on_hold = true WHERE buyer_email = $1 AND nosuchcolumn"},
		dsar.ActionRectify: {"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'conflict'; END $$"},
	}, Tables: tables()}

	want(t, "export", h.do(cfg, dsar.ActionExport, kari, ""), dsar.OutcomeDone, 3)
	want(t, "export of a stranger", h.do(cfg, dsar.ActionExport, dsar.Subject{Email: "nobody@example.no"}, ""), dsar.OutcomeNoData, 0)

	// An error in the second statement rolls back the first.
	out := h.do(cfg, dsar.ActionRestrict, kari, "")
	want(t, "restrict with a bad statement", out, dsar.OutcomeFailed, 0)
	if !strings.Contains(out.Answer, "statement 2: SQLSTATE 42703") || !strings.Contains(out.Answer, "nosuchcolumn") {
		t.Errorf("failed statement answer: %q", out.Answer)
	}
	if got := s.scalar(t, "SELECT count(*) FROM customers WHERE restricted"); got != "0" {
		t.Errorf("the first statement was not rolled back: %s restricted", got)
	}

	out = h.do(cfg, dsar.ActionRectify, kari, "name: "+newName)
	want(t, "serialization failure", out, dsar.OutcomeRetry, 0)

	out = h.do(cfg, dsar.ActionErase, kari, "")
	want(t, "erase", out, dsar.OutcomeDone, 3)
	if out.Answer != "statement 1: DELETE 2; statement 2: DELETE 1" {
		t.Errorf("erase answer %q", out.Answer)
	}
	want(t, "erase again", h.do(cfg, dsar.ActionErase, kari, ""), dsar.OutcomeNoData, 0)
}

func TestErrors(t *testing.T) {
	s := newSchema(t)
	h := newHarness(t, s)
	if _, err := s.db.Exec("CREATE UNIQUE INDEX ON customers (name)"); err != nil {
		t.Fatal(err)
	}
	// A violated constraint fails without the database's detail, which
	// repeats the values.
	cfg := &dsar.SQLConnector{Tables: []dsar.SQLTable{{Name: "customers", Match: map[string]string{"email": "email"}, Rectify: []string{"name"}}}}
	out := h.do(cfg, dsar.ActionRectify, kari, "name: Ola Hansen")
	want(t, "rectify to a taken name", out, dsar.OutcomeFailed, 0)
	if out.Answer != "table customers: SQLSTATE 23505: a constraint of the table refuses the change (table customers) (constraint customers_name_idx)" {
		t.Errorf("constraint answer %q", out.Answer)
	}
	// A customer number that is not a number fails on its integer column.
	out = h.do(&dsar.SQLConnector{Tables: tables()}, dsar.ActionExport, dsar.Subject{Email: email, CustomerID: "K-" + customerNo}, "")
	want(t, "a customer number that is not a number", out, dsar.OutcomeFailed, 0)
	if out.Answer != "table customers: SQLSTATE 22P02: a value does not fit its column's type or size" {
		t.Errorf("data exception answer %q", out.Answer)
	}
	// An empty mask deletes nothing.
	empty := tables()
	empty[0].Mask = map[string]string{}
	want(t, "an empty mask", h.do(&dsar.SQLConnector{Tables: empty}, dsar.ActionErase, kari, ""), dsar.OutcomeFailed, 0)
	if got := s.scalar(t, "SELECT count(*) FROM orders"); got != "3" {
		t.Errorf("orders after a refused erasure: %s", got)
	}

	// A DSN that is not set, and a database that does not answer, are tried again.
	want(t, "no DSN", h.do(&dsar.SQLConnector{DSN: dsar.Secret{Env: "DSAR_TEST_SQL_UNSET"}, Tables: tables()}, dsar.ActionExport, kari, ""),
		dsar.OutcomeRetry, 0)
	t.Setenv("DSAR_TEST_SQL_BAD", "postgres://u:s3cretpw@db:port/crm")
	out = h.do(&dsar.SQLConnector{DSN: dsar.Secret{Env: "DSAR_TEST_SQL_BAD"}, Tables: tables()}, dsar.ActionExport, kari, "")
	want(t, "a DSN that is not one", out, dsar.OutcomeFailed, 0)
	if strings.Contains(out.Answer, "s3cretpw") || !strings.Contains(out.Answer, "env:DSAR_TEST_SQL_BAD") {
		t.Errorf("bad DSN answer %q", out.Answer)
	}
	t.Setenv("DSAR_TEST_SQL_DOWN", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	out = h.do(&dsar.SQLConnector{DSN: dsar.Secret{Env: "DSAR_TEST_SQL_DOWN"}, Tables: tables()}, dsar.ActionExport, kari, "")
	want(t, "database down", out, dsar.OutcomeRetry, 0)
	if !strings.HasPrefix(out.Answer, "connect: cannot connect") {
		t.Errorf("database down answer %q", out.Answer)
	}
}

func TestDryRun(t *testing.T) {
	s := newSchema(t)
	h := newHarness(t, s)
	cfg := &dsar.SQLConnector{Tables: tables()}
	before := s.scalar(t, "SELECT string_agg(concat_ws('/', email, name, phone, note, restricted), ',' ORDER BY id) FROM customers") +
		s.scalar(t, "SELECT count(*) FROM orders")
	rep, out := h.c.DryRun(context.Background(), h.order(cfg, dsar.ActionErase, kari, ""))
	h.answers = append(h.answers, out.Answer)
	want(t, "dry run", out, dsar.OutcomeDone, 3)
	if len(rep.Steps) != 2 || rep.Rows != 3 || rep.Steps[0].Rows != 1 || rep.Steps[0].Verb != "UPDATE" ||
		strings.Join(rep.Steps[0].Set, ", ") != "email = hmac, name = fixed:erased, note = random, phone = null" ||
		rep.Steps[1].Verb != "DELETE" || rep.Steps[1].Rows != 2 {
		t.Errorf("dry run report %+v", rep)
	}
	after := s.scalar(t, "SELECT string_agg(concat_ws('/', email, name, phone, note, restricted), ',' ORDER BY id) FROM customers") +
		s.scalar(t, "SELECT count(*) FROM orders")
	if after != before {
		t.Errorf("the dry run changed the database:\n%s\n%s", before, after)
	}
}
