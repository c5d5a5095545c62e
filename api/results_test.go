package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
)

// contractResults: the files of an access case, once its systems have
// answered and the worker assembled them, are listed on the request, read
// by its officers (never by an auditor, always as an attachment), and a
// record an officer leaves out (Art 15(4)) is listed and makes the files be
// assembled again; the case page shows them and takes the redaction.
func contractResults(t *testing.T, base *contractEnv) {
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := newContractEnv(t, func(cfg *api.Config, _ *contractEnv) { cfg.Blobs = blobs })
	e.cov = base.cov
	ctx := context.Background()
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "results@example.no"}, "verified": true, "verification_method": "Signed in"}))
	path := "/api/v1/requests/" + id
	redactions := path + "/redactions"
	// Before the systems have answered: nothing to read, nothing to redact.
	e.do(t, contractCall{method: "GET", path: path + "/results/report.html", key: "officer", want: 404})
	a := e.do(t, contractCall{method: "POST", path: redactions, key: "officer", body: contractBodies["POST redactions"], want: 409})
	if p := a.problem(t); p.Code != "conflict" {
		t.Errorf("problem %+v", p)
	}
	e.do(t, contractCall{method: "POST", path: path + "/approve", key: "officer", body: map[string]any{}, want: 200})

	// The systems answer (the first export with three records), the worker
	// assembles the files.
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	reqs, tasks, outbox, results := store.NewRequests(e.db), store.NewTasks(e.db), store.NewOutbox(e.db), store.NewResults(e.db)
	var export string
	for range 3 {
		list, err := reqs.Tasks(ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range list {
			if task.Status != dsar.TaskSent {
				continue
			}
			o := dsar.TaskOutcome{Kind: dsar.OutcomeNoData}
			if task.Action == dsar.ActionExport && export == "" {
				export, o = task.ID, dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 3}
			}
			if err := tasks.Callback(ctx, task.ID, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	assemble := func() {
		t.Helper()
		items, err := outbox.Due(ctx, e.clock.Now(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Kind != dsar.OutboxAssemble || it.RequestID != id {
				continue
			}
			claimed, ok, err := outbox.Claim(ctx, it.ID, e.clock.Now(), time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			var files []dsar.ResultFile
			for _, name := range dsar.ResultNames(dsar.TypeAccess) {
				key := dsar.ResultBlobKey(id, it.ID, name)
				n, err := blobs.Put(ctx, key, strings.NewReader("the "+name+" of "+it.ID))
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, dsar.ResultFile{Name: name, Key: key, Bytes: n, SHA256: strings.Repeat("ab", 32)})
			}
			reds, err := reqs.Redactions(ctx, admin, id)
			if err != nil {
				t.Fatal(err)
			}
			if err := results.Assembled(ctx, claimed, files, len(reds)); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatal("no assembly due")
	}
	assemble()
	a = e.do(t, contractCall{method: "GET", path: path, key: "officer", want: 200})
	var got struct {
		Results struct {
			AssembledAt string `json:"assembled_at"`
			Files       []struct {
				Name  string
				Bytes int64
			}
		}
	}
	if err := json.Unmarshal(a.body, &got); err != nil || got.Results.AssembledAt == "" || len(got.Results.Files) != 2 ||
		got.Results.Files[0].Name != dsar.ResultReportHTML {
		t.Fatalf("results %+v %v", got.Results, err)
	}

	// Reading them.
	a = e.do(t, contractCall{method: "GET", path: path + "/results/report.html", key: "officer", want: 200})
	if h := a.header; !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") || h.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(string(a.body), "the report.html of ") {
		t.Errorf("report.html: %v %q", h, a.body)
	}
	if evs := e.events(t, id); evs[len(evs)-1].Kind != "results_viewed" || evs[len(evs)-1].Data["file"] != "report.html" {
		t.Errorf("the reading is not audited: %+v", evs[len(evs)-1])
	}
	e.do(t, contractCall{method: "GET", path: path + "/results/report.json", key: "auditor", want: 403})
	e.do(t, contractCall{method: "GET", path: path + "/results/package.zip", key: "officer", want: 404})

	// A redaction: invalid input changes nothing; a valid one is listed and
	// the files go until they are made again.
	a = e.do(t, contractCall{method: "POST", path: redactions, key: "officer", body: map[string]any{"task_id": export, "line": 0, "reason": ""}, want: 422})
	problemFields(t, a, map[string]string{"reason": "field.required", "line": "error.redact.line"})
	e.do(t, contractCall{method: "POST", path: redactions, key: "officer", body: `{"task_id":"x","line":"two"}`, want: 400, docRejects: true})
	e.do(t, contractCall{method: "POST", path: redactions, key: "auditor", body: contractBodies["POST redactions"], want: 403})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/redactions", key: "officer", body: contractBodies["POST redactions"], want: 404})
	a = e.do(t, contractCall{method: "POST", path: redactions, key: "officer", body: map[string]any{"task_id": export, "line": 2, "reason": "It names another customer."}, want: 200})
	got.Results.AssembledAt = ""
	got.Results.Files = nil
	if err := json.Unmarshal(a.body, &got); err != nil || len(got.Results.Files) != 0 || got.Results.AssembledAt != "" {
		t.Errorf("after the redaction: %s", a.body)
	}
	a = e.do(t, contractCall{method: "GET", path: redactions, key: "auditor", want: 200})
	var list struct {
		Data []struct {
			TaskID string `json:"task_id"`
			Line   int
			Reason string
		}
	}
	if err := json.Unmarshal(a.body, &list); err != nil || len(list.Data) != 1 || list.Data[0].TaskID != export || list.Data[0].Line != 2 {
		t.Errorf("redactions %s", a.body)
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/redactions", key: "officer", want: 404})
	assemble()

	// The case page: the files, the redaction, the form.
	officer := e.signIn(t, "officer")
	page := e.do(t, contractCall{method: "GET", path: "/cases/" + id, session: officer, want: 200})
	for _, want := range []string{`href="/results/` + id + `/report.html"`, `action="/cases/` + id + `/redact"`, "It names another customer."} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("the case page lacks %s", want)
		}
	}
	a = e.do(t, contractCall{method: "GET", path: "/results/" + id + "/report.json", session: officer, want: 200})
	if !strings.HasPrefix(string(a.body), "the report.json of ") {
		t.Errorf("the page's file: %q", a.body)
	}
	a = e.do(t, contractCall{method: "GET", path: "/results/" + id + "/report.json", session: "not-a-session", want: 303})
	if loc := a.header.Get("Location"); !strings.HasPrefix(loc, "/signin?next=") {
		t.Errorf("signed out: Location %q", loc)
	}
	e.do(t, contractCall{method: "GET", path: "/results/" + id + "/report.json", session: e.signIn(t, "auditor"), want: 403})
	e.do(t, contractCall{method: "GET", path: "/results/" + id + "/nothing.zip", session: officer, want: 404})
	e.postForm(t, "/cases/"+id+"/redact", officer, officerForm("task", export, "line", "3", "reason", "Also about the neighbour."), 303, false)
	e.postForm(t, "/cases/"+id+"/redact", officer, officerForm("task", export, "line", "x", "reason", "?"), 422, false)
}
