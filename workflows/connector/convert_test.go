package connector_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
)

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		ct, name string
		want     connector.Format
	}{
		{"application/json; charset=utf-8", "", connector.FormatJSON},
		{"application/x-ndjson", "x.json", connector.FormatJSONLines},
		{"text/csv", "", connector.FormatCSV},
		{"application/octet-stream", "Orders.CSV", connector.FormatCSV},
		{"", "export.jsonl", connector.FormatJSONLines},
		{"", "export.ndjson", connector.FormatJSONLines},
		{"", "export.json", connector.FormatJSON},
		{"application/pdf", "scan.pdf", ""},
		{"", "", ""},
	} {
		if got := connector.FormatOf(tc.ct, tc.name); got != tc.want {
			t.Errorf("FormatOf(%q, %q) = %q, want %q", tc.ct, tc.name, got, tc.want)
		}
	}
}

// TestConvert converts files of each format into the records of an export
// blob; a file that is wrong stores nothing and says where it is wrong.
func TestConvert(t *testing.T) {
	ctx := context.Background()
	r := func(c, v string) dsar.ExportRecord { return dsar.ExportRecord{Category: c, Record: json.RawMessage(v)} }
	for _, tc := range []struct {
		name   string
		format connector.Format
		in     string
		want   []dsar.ExportRecord
		err    string
	}{
		{name: "array", format: connector.FormatJSON, in: "\uFEFF [ {\"a\": 1}, 2, \"three\",\n{\"category\":\"orders\",\"record\":{\"id\":7}} ]\n",
			want: []dsar.ExportRecord{r("x", `{"a":1}`), r("x", `2`), r("x", `"three"`), r("orders", `{"id":7}`)}},
		{name: "one object", format: connector.FormatJSON, in: `{"name": "Kari"}`, want: []dsar.ExportRecord{r("x", `{"name":"Kari"}`)}},
		{name: "lines", format: connector.FormatJSONLines, in: "{\"a\":1}\n{\"a\":2}\n\n[3]\n", want: []dsar.ExportRecord{r("x", `{"a":1}`), r("x", `{"a":2}`), r("x", `[3]`)}},
		{name: "lines in a .json", format: connector.FormatJSON, in: "{\"a\":1}\n{\"a\":2}\n", want: []dsar.ExportRecord{r("x", `{"a":1}`), r("x", `{"a":2}`)}},
		{name: "empty", format: connector.FormatJSON, in: " \n", want: nil},
		{name: "empty array", format: connector.FormatJSON, in: "[]", want: nil},
		{name: "csv", format: connector.FormatCSV, in: "\uFEFFid,name,note\r\n1,Kari,\"two\nlines\"\r\n2,Ola,\r\n",
			want: []dsar.ExportRecord{r("x", `{"id":"1","name":"Kari","note":"two\nlines"}`), r("x", `{"id":"2","name":"Ola","note":""}`)}},
		{name: "csv header only", format: connector.FormatCSV, in: "id,name\n", want: nil},
		{name: "bad json", format: connector.FormatJSON, in: `[{"a":1}, {"a":}]`, err: "record 2: not JSON at byte 14"},
		{name: "cut array", format: connector.FormatJSON, in: `[{"a":1}`, err: "the file ends in the middle of a value"},
		{name: "after the array", format: connector.FormatJSON, in: `[1] [2]`, err: "more data after the array"},
		{name: "bad line", format: connector.FormatJSONLines, in: "{\"a\":1}\n{oops}\n", err: "record 2: not JSON at byte 10"},
		{name: "ragged csv", format: connector.FormatCSV, in: "a,b\n1,2\n3\n", err: "line 3: wrong number of fields"},
		{name: "unnamed column", format: connector.FormatCSV, in: "a,,b\n1,2,3\n", err: "line 1: column 2 has no name"},
		{name: "other", format: "pdf", in: "%PDF", err: "not JSON, JSON Lines or CSV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blobs, err := blob.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ex, err := connector.StartExport(ctx, blobs, "case-1", "task-1")
			if err != nil {
				t.Fatal(err)
			}
			err = connector.Convert(ex, tc.format, "x", strings.NewReader(tc.in))
			if tc.err != "" {
				ex.Abort(err)
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if _, err := blobs.Open(ctx, dsar.ExportBlobKey("case-1", "task-1")); dsar.ErrorCode(err) != dsar.ENOTFOUND {
					t.Errorf("a failed conversion stored something: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n, err := ex.Commit()
			if err != nil || n != len(tc.want) {
				t.Fatalf("commit: %d, %v", n, err)
			}
			got, err := connectortest.ReadExport(ctx, blobs, "case-1", "task-1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzConvert: whatever a file holds, Convert does not panic, and what it
// stores when it succeeds is one ExportRecord a line, as many as it wrote.
func FuzzConvert(f *testing.F) {
	for _, seed := range []string{"[1,2]", "{\"a\":1}\n{\"a\":2}", "a,b\n1,2\n", "", "[", "\uFEFF[{\"category\":\"c\",\"record\":1}]", "a\n\"x"} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(2))
	}
	formats := []connector.Format{connector.FormatJSON, connector.FormatJSONLines, connector.FormatCSV}
	blobs, err := blob.NewDir(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string, which uint8) {
		ctx := context.Background()
		ex, err := connector.StartExport(ctx, blobs, "case-1", "task-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := connector.Convert(ex, formats[int(which)%len(formats)], "x", strings.NewReader(in)); err != nil {
			ex.Abort(err)
			return
		}
		n, err := ex.Commit()
		if err != nil {
			t.Fatal(err)
		}
		got, err := connectortest.ReadExport(ctx, blobs, "case-1", "task-1")
		if err != nil || len(got) != n {
			t.Fatalf("%d records written, %d read back: %v", n, len(got), err)
		}
		for _, r := range got {
			if !json.Valid(r.Record) {
				t.Fatalf("a record that is not JSON: %q", r.Record)
			}
		}
	})
}
