package sql_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
)

func records(t *testing.T, ctx context.Context, blobs dsar.Blobs) []dsar.ExportRecord {
	t.Helper()
	got, err := connectortest.ReadExport(ctx, blobs, "req-1", "task-1")
	if err != nil {
		t.Fatalf("read the export: %v", err)
	}
	return got
}

func rec(category, record string) dsar.ExportRecord {
	return dsar.ExportRecord{Category: category, Record: json.RawMessage(record)}
}

// TestExportRowsGoToTheBlob exports the subject's rows through the table
// mapping and through the data map's own statements: one record a row, of
// the table's or the statements' category, the count the lines stored. A
// second run replaces the blob; a failed one, or one without storage,
// leaves it as it was.
func TestExportRowsGoToTheBlob(t *testing.T) {
	ctx := context.Background()
	s := newSchema(t)
	h := newHarness(t, s)
	blobs := h.blobs
	tabs := tables()
	tabs[0].Category, tabs[1].Category = "contact", "orders"
	cfg := &dsar.SQLConnector{Tables: tabs}
	wantTables := []dsar.ExportRecord{
		rec("contact", `{"id":1,"name":"Kari Nordmann","email":"kari.nordmann@example.no"}`),
		rec("orders", `{"id":1,"total":100,"on_hold":false,"buyer_email":"kari.nordmann@example.no"}`),
		rec("orders", `{"id":2,"total":250,"on_hold":false,"buyer_email":"kari.nordmann@example.no"}`),
	}
	for range 2 { // the second run replaces the first's blob
		want(t, "export", h.do(cfg, dsar.ActionExport, kari, ""), dsar.OutcomeDone, 3)
		if diff := cmp.Diff(wantTables, records(t, ctx, blobs)); diff != "" {
			t.Errorf("the table mapping's export (-want +got):\n%s", diff)
		}
	}

	own := &dsar.SQLConnector{ExportCategory: "orders", Statements: map[dsar.TaskAction][]string{dsar.ActionExport: {
		`SELECT name, customer_no, restricted, NULL::text AS nothing, '{"a":[1,2]}'::jsonb AS j, 1.50::numeric AS n,
		        'NaN'::float8 AS nan, date '2025-03-05' AS d, E'two\nlines' AS note
		   FROM customers WHERE lower(email) = lower($1)`,
		`SELECT total FROM orders WHERE lower(buyer_email) = lower($1) ORDER BY id`}}}
	want(t, "export by statements", h.do(own, dsar.ActionExport, kari, ""), dsar.OutcomeDone, 3)
	wantOwn := []dsar.ExportRecord{
		rec("orders", `{"name":"Kari Nordmann","customer_no":40017,"restricted":false,"nothing":null,"j":{"a":[1,2]},"n":1.50,"nan":"NaN","d":"2025-03-05","note":"two\nlines"}`),
		rec("orders", `{"total":100}`),
		rec("orders", `{"total":250}`),
	}
	if diff := cmp.Diff(wantOwn, records(t, ctx, blobs)); diff != "" {
		t.Errorf("the statements' export (-want +got):\n%s", diff)
	}
	raw := func() string {
		rc, err := blobs.Open(ctx, dsar.ExportBlobKey("req-1", "task-1"))
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b)
	}
	before := raw()
	if n := strings.Count(before, "\n"); n != 3 {
		t.Errorf("%d lines, want 3", n)
	}

	// A statement that fails after rows were read: nothing is stored.
	broken := &dsar.SQLConnector{Statements: map[dsar.TaskAction][]string{dsar.ActionExport: {
		`SELECT total FROM orders WHERE lower(buyer_email) = lower($1)`, `SELECT nosuchcolumn FROM orders`}}}
	want(t, "export with a bad statement", h.do(broken, dsar.ActionExport, kari, ""), dsar.OutcomeFailed, 0)
	// No storage: a failed attempt that reads nothing.
	h.blobs = nil
	out := h.do(cfg, dsar.ActionExport, kari, "")
	want(t, "export without storage", out, dsar.OutcomeRetry, 0)
	if !strings.Contains(out.Answer, "no storage") {
		t.Errorf("answer %q", out.Answer)
	}
	if got := raw(); got != before {
		t.Errorf("the blob changed to %q", got)
	}
	// A dry run reads and counts, and stores nothing.
	h.blobs = blobs
	rep, out := h.c.DryRun(ctx, h.order(cfg, dsar.ActionExport, kari, ""))
	if out.Kind != dsar.OutcomeDone || rep.Rows != 3 || raw() != before {
		t.Errorf("dry run %+v %+v", rep, out)
	}
}
