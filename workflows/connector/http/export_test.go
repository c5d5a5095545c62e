package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
	httpconn "github.com/dsar-project/dsar/workflows/connector/http"
	"github.com/dsar-project/dsar/workflows/connector/http/fakesystem"
)

// exportOrder returns the first send of an export task of case-1 whose
// data goes to blobs.
func exportOrder(cfg *dsar.HTTPConnector, blobs dsar.Blobs) *connector.Order {
	o := order(cfg, "")
	o.Task.Action, o.Task.RequestID, o.Request.Type = dsar.ActionExport, "case-1", dsar.TypeAccess
	o.Blobs = blobs
	return o
}

func dirBlobs(t *testing.T) *blob.Dir {
	t.Helper()
	b, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeRecords are the records the fake system gives of n records of task-1.
func fakeRecords(n int) []dsar.ExportRecord {
	out := make([]dsar.ExportRecord, n)
	for i := range out {
		out[i] = dsar.ExportRecord{Category: "contact", Record: json.RawMessage(fmt.Sprintf(`{"n":%d,"task":"task-1"}`, i+1))}
	}
	return out
}

func readExport(t *testing.T, blobs dsar.Blobs) []dsar.ExportRecord {
	t.Helper()
	got, err := connectortest.ReadExport(context.Background(), blobs, "case-1", "task-1")
	if err != nil {
		t.Fatalf("read the export: %v", err)
	}
	return got
}

// TestExportDataArrivesInTheBlob collects an export from the fake system in
// each way it may give the data: in the answer, at a data_url, at the
// status URL, and at the data_url of a callback.
func TestExportDataArrivesInTheBlob(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		mode   fakesystem.Mode
		answer string
	}{
		{fakesystem.ModeOK, "HTTP 200: done, 3 records stored"},
		{fakesystem.ModeDataURL, "data_url: HTTP 200: done, 3 records stored"},
		{fakesystem.ModePoll, "status: HTTP 200: done, 3 records stored"},
		{fakesystem.ModeCallback, "status: HTTP 200: done, 3 records stored"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			conn, sys, cfg, _ := setup(t)
			sys.Hold("kari@example.no", 3)
			sys.SetMode(tc.mode)
			blobs := dirBlobs(t)
			callbacks := make(chan []byte, 1)
			cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				callbacks <- b
				w.WriteHeader(http.StatusNoContent)
			}))
			defer cb.Close()
			o := exportOrder(cfg, blobs)
			o.CallbackURL = cb.URL + "/cb"
			out := conn.Do(ctx, o)
			switch tc.mode {
			case fakesystem.ModePoll:
				o.Step, o.Task.External = dsar.StepPoll, out.External
				out = conn.Do(ctx, o)
			case fakesystem.ModeCallback:
				var body struct {
					Status  string `json:"status"`
					DataURL string `json:"data_url"`
				}
				if err := json.Unmarshal(<-callbacks, &body); err != nil || body.Status != "done" || body.DataURL != "/dsar/data/task-1" {
					t.Fatalf("callback %+v: %v", body, err)
				}
				// The service's callback handler makes the data_url the
				// task's to poll (api/callbacks.go).
				u, err := cfg.Resolve(body.DataURL)
				if err != nil {
					t.Fatal(err)
				}
				o.Step, o.Task.External = dsar.StepPoll, u
				out = conn.Do(ctx, o)
			}
			if out.Kind != dsar.OutcomeDone || out.Count != 3 || out.Answer != tc.answer {
				t.Errorf("outcome %+v, want done, 3, %q", out, tc.answer)
			}
			noPersonalData(t, out)
			if diff := cmp.Diff(fakeRecords(3), readExport(t, blobs)); diff != "" {
				t.Errorf("the blob (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBadExportsStoreNothing answers an export in every wrong way: each is
// a failed attempt whose answer says what is wrong, and the blob an earlier
// run stored stays as it was.
func TestBadExportsStoreNothing(t *testing.T) {
	ctx := context.Background()
	clock := dsar.NewManualClock(start)
	t.Setenv(secretEnv, dsar.NewWebhookSecret())
	var status int
	var body, data string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/data" {
			_, _ = io.WriteString(w, data)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	conn := httpconn.New(clock, slog.New(slog.DiscardHandler))
	defer conn.Close()
	cfg := &dsar.HTTPConnector{URL: srv.URL + "/hook", Secret: dsar.Secret{Env: secretEnv}, MaxExportBytes: 1024}
	blobs := dirBlobs(t)
	before := `{"category":"old","record":1}` + "\n"
	if _, err := blobs.Put(ctx, dsar.ExportBlobKey("case-1", "task-1"), strings.NewReader(before)); err != nil {
		t.Fatal(err)
	}
	rec := `{"category":"orders","record":{"id":1}}`
	for _, tc := range []struct {
		name       string
		status     int
		body, data string
		answer     string
		noBlobs    bool
	}{
		{name: "not json", body: `<html>`, answer: "HTTP 200: the export cannot be used: not JSON at byte 1"},
		{name: "cut off", body: `{"status":"done","records":[` + rec, answer: "the body ends before the result does"},
		{name: "count", body: `{"status":"done","count":2,"records":[` + rec + `]}`, answer: "count is 2 but 1 records came"},
		{name: "record missing", body: `{"status":"done","records":[{"category":"orders"}]}`, answer: "record 1: record is missing"},
		{name: "record null", body: `{"status":"done","records":[` + rec + `,{"record":null}]}`, answer: "record 2: record is missing"},
		{name: "unknown record field", body: `{"status":"done","records":[{"category":"x","record":{},"extra":1}]}`, answer: `record 1: json: unknown field "extra"`},
		{name: "category type", body: `{"status":"done","records":[{"category":5,"record":{}}]}`, answer: `record 1: want {"category":"…","record":{…}}`},
		{name: "records not a list", body: `{"status":"done","records":{}}`, answer: `records: want a list`},
		{name: "records with failed", body: `{"status":"failed","records":[` + rec + `]}`, answer: `records with status "failed"`},
		{name: "no records", body: `{"status":"done","count":3}`, answer: "an export's done carries records or data_url"},
		{name: "both", body: `{"status":"done","data_url":"/data","records":[` + rec + `]}`, answer: "records and data_url together"},
		{name: "trailing", body: `{"status":"done","records":[]} {}`, answer: "more data after the result's object"},
		{name: "count type", body: `{"status":"done","count":"3","records":[]}`, answer: "count: want a number"},
		{name: "too large", body: `{"status":"done","records":[` + strings.Repeat(rec+",", 40) + rec + `]}`, answer: "over max_export_bytes (1024 bytes)"},
		{name: "204", status: http.StatusNoContent, answer: "HTTP 204 (an export's answer carries its records"},
		{name: "data_url elsewhere", body: `{"status":"done","data_url":"http://elsewhere.example/data"}`, answer: "data_url must be on the system's own scheme and host"},
		{name: "data_url without records", body: `{"status":"done","data_url":"/data"}`, data: `{"status":"done","count":0}`, answer: "data_url: HTTP 200: the export cannot be used: a data_url's answer carries records"},
		{name: "data_url chained", body: `{"status":"done","data_url":"/data"}`, data: `{"status":"done","data_url":"/data"}`, answer: "a data_url's answer carries records"},
		{name: "no storage", body: `{"status":"done","records":[` + rec + `]}`, answer: "this worker has no storage for collected exports", noBlobs: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, data = tc.status, tc.body, tc.data
			if status == 0 {
				status = http.StatusOK
			}
			o := exportOrder(cfg, blobs)
			if tc.noBlobs {
				o.Blobs = nil
			}
			out := conn.Do(ctx, o)
			if out.Kind != dsar.OutcomeRetry || !strings.Contains(out.Answer, tc.answer) {
				t.Errorf("outcome %s %q, want retry …%q…", out.Kind, out.Answer, tc.answer)
			}
			if strings.Contains(out.Answer, `"id"`) {
				t.Errorf("the answer %q holds the data", out.Answer)
			}
			rc, err := blobs.Open(ctx, dsar.ExportBlobKey("case-1", "task-1"))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != before {
				t.Errorf("the blob changed to %q", got)
			}
		})
	}
}

// TestRetriedExportReplacesTheBlob: a second run of an export stores what
// the second answer gave, not both; the count is the lines stored.
func TestRetriedExportReplacesTheBlob(t *testing.T) {
	ctx := context.Background()
	t.Setenv(secretEnv, dsar.NewWebhookSecret())
	answers := []string{
		`{"status":"done","count":3,"records":[{"category":"a","record":1},{"category":"a","record":2},{"category":"a","record":3}]}`,
		`{"records":[{"record":{"x":[1, 2]}},{"category":"b","record":"two"}],"status":"done","message":"again"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, answers[0])
		answers = answers[1:]
	}))
	defer srv.Close()
	conn := httpconn.New(dsar.NewManualClock(start), slog.New(slog.DiscardHandler))
	defer conn.Close()
	cfg := &dsar.HTTPConnector{URL: srv.URL, Secret: dsar.Secret{Env: secretEnv}}
	blobs := dirBlobs(t)
	if out := conn.Do(ctx, exportOrder(cfg, blobs)); out.Kind != dsar.OutcomeDone || out.Count != 3 {
		t.Fatalf("first run: %+v", out)
	}
	out := conn.Do(ctx, exportOrder(cfg, blobs))
	if out.Kind != dsar.OutcomeDone || out.Count != 2 || out.Answer != "HTTP 200: done, 2 records stored: again" {
		t.Fatalf("second run: %+v", out)
	}
	want := []dsar.ExportRecord{{Record: json.RawMessage(`{"x":[1,2]}`)}, {Category: "b", Record: json.RawMessage(`"two"`)}}
	if diff := cmp.Diff(want, readExport(t, blobs)); diff != "" {
		t.Errorf("the blob (-want +got):\n%s", diff)
	}
}

// peakBlobs is a dsar.Blobs that, while a Put reads, samples the heap
// every MiB read and keeps the highest HeapAlloc.
type peakBlobs struct {
	dsar.Blobs
	peak uint64
	read int64
}

func (p *peakBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return p.Blobs.Put(ctx, key, &sampler{r: r, p: p})
}

type sampler struct {
	r    io.Reader
	p    *peakBlobs
	next int64
}

func (s *sampler) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.p.read += int64(n)
	if s.p.read >= s.next {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.p.peak = max(s.p.peak, ms.HeapAlloc)
		s.next = s.p.read + 1<<20
	}
	return n, err
}

// TestLargeExportIsStreamed collects an export of over 50 MB through the
// HTTP connector from the fake system (which writes it as it makes it) and
// checks the heap never held more than a fraction of it.
func TestLargeExportIsStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB")
	}
	ctx := context.Background()
	conn, sys, cfg, _ := setup(t)
	cfg.Timeout, cfg.MaxExportBytes = time.Minute, 64<<20
	const records, pad = 50_000, 1024
	sys.Hold("kari@example.no", records)
	sys.PadRecords(pad)
	blobs := &peakBlobs{Blobs: dirBlobs(t)}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	out := conn.Do(ctx, exportOrder(cfg, blobs))
	if out.Kind != dsar.OutcomeDone || out.Count != records {
		t.Fatalf("outcome %+v", out)
	}
	if blobs.read < 50<<20 {
		t.Fatalf("stored %d bytes, want over 50 MB", blobs.read)
	}
	grew := int64(blobs.peak) - int64(base)
	t.Logf("stored %d MB; the heap grew by at most %d MB", blobs.read>>20, grew>>20)
	if grew > 16<<20 {
		t.Errorf("the heap grew by %d MB while storing %d MB: the export is not streamed", grew>>20, blobs.read>>20)
	}
	// The lines stored are the count.
	rc, err := blobs.Open(ctx, dsar.ExportBlobKey("case-1", "task-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	n := 0
	for ; ; n++ {
		var r dsar.ExportRecord
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
	}
	if n != records {
		t.Errorf("%d lines, want %d", n, records)
	}
}

// cancelBlobs is a dsar.Blobs whose Put stops the worker (cancels its
// context) once a MiB has been read: a worker killed mid-stream.
type cancelBlobs struct {
	dsar.Blobs
	cancel context.CancelFunc
}

func (c *cancelBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return c.Blobs.Put(ctx, key, io.MultiReader(io.LimitReader(r, 1<<20), readerFunc(func(p []byte) (int, error) {
		c.cancel()
		<-ctx.Done()
		return r.Read(p)
	})))
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestAWorkerStoppedMidStreamStoresNothing: the worker stops while an
// export streams in; nothing is stored (what an earlier run stored stays),
// and the task runs again (the caller records nothing once its context
// has ended: workflows.runTask).
func TestAWorkerStoppedMidStreamStoresNothing(t *testing.T) {
	conn, sys, cfg, _ := setup(t)
	sys.Hold("kari@example.no", 20_000)
	sys.PadRecords(256)
	dir := dirBlobs(t)
	before := `{"category":"old","record":1}` + "\n"
	if _, err := dir.Put(context.Background(), dsar.ExportBlobKey("case-1", "task-1"), strings.NewReader(before)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := conn.Do(ctx, exportOrder(cfg, &cancelBlobs{Blobs: dir, cancel: cancel}))
	if ctx.Err() == nil || out.Kind == dsar.OutcomeDone {
		t.Fatalf("outcome %+v with the context %v", out, ctx.Err())
	}
	rc, err := dir.Open(context.Background(), dsar.ExportBlobKey("case-1", "task-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != before {
		t.Errorf("the blob holds %d bytes, want the earlier run's", len(got))
	}
}
