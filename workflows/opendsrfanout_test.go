package workflows_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
	"github.com/dsar-project/dsar/workflows/connector/opendsr"
	"github.com/dsar-project/dsar/workflows/connector/opendsr/opendsrtest"
)

// openDSREnv is the worker with the OpenDSR connector, Digiref's systems
// reached through OpenDSR at a fake processor on loopback, and the
// service's API on loopback for the processor's callbacks.
func openDSREnv(t *testing.T) (*env, *opendsrtest.Processor) {
	t.Helper()
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	proc, err := opendsrtest.New(e.clock)
	if err != nil {
		t.Fatal(err)
	}
	procSrv := httptest.NewServer(proc)
	t.Cleanup(procSrv.Close)
	proc.SetURL(procSrv.URL)
	cert, err := proc.WriteCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctrl, _ := e.db.Controllers.Get("digiref")
	for i := range ctrl.Systems {
		ctrl.Systems[i].Connector = dsar.Connector{Kind: dsar.ConnectorOpenDSR, OpenDSR: &dsar.OpenDSRConnector{URL: procSrv.URL, Certificate: cert}}
	}
	srv, err := api.New(api.Config{Requests: e.reqs, Cases: e.reqs, Tasks: store.NewTasks(e.db), Controllers: e.db.Controllers,
		Keyring: e.db.Keyring, Clock: e.clock, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	apiSrv := httptest.NewServer(srv)
	t.Cleanup(apiSrv.Close)
	conn := opendsr.New(e.clock, quiet)
	t.Cleanup(conn.Close)
	e.handlers.BaseURL = apiSrv.URL
	e.handlers.Tasks = store.NewTasks(e.db)
	e.handlers.Connectors = connector.Set{dsar.ConnectorOpenDSR: conn}
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.handlers.Blobs = blobs
	return e, proc
}

// TestAccessFansOutToOpenDSRProcessors approves an access request whose
// systems are OpenDSR processors: each gets one access request and the
// task waits for it; the first completes by a signed callback, the others
// by the worker's polling; each task's results are fetched from its
// results_url into its blob, and the case is ready for its results.
func TestAccessFansOutToOpenDSRProcessors(t *testing.T) {
	e, proc := openDSREnv(t)
	r, err := e.reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "digiref", Language: dsar.LanguageEN,
		Subject: dsar.Subject{Email: "kari@example.no"}, Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Approve(ctx, digirefOfficer, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	e.runTasks(t)
	tasks := e.tasks(t, r.ID)
	if len(tasks) < 2 {
		t.Fatalf("%d tasks: want one by callback and others by polling", len(tasks))
	}
	for _, task := range tasks {
		id := dsar.OpenDSRRequestID(task.ID)
		rec, ok := proc.Request(id)
		if task.Status != dsar.TaskWaitingSystem || task.External != id || task.ExpectedBy == nil || !ok || rec.Posts != 1 || rec.Type != "access" {
			t.Fatalf("%s: %s %q %v; the processor holds %v %+v", task.Target(), task.Status, task.External, task.ExpectedBy, ok, rec)
		}
	}
	if proc.Len() != len(tasks) {
		t.Fatalf("the processor holds %d requests for %d tasks", proc.Len(), len(tasks))
	}
	results := func(task *dsar.Task) string { return proc.ResultsURL(dsar.OpenDSRRequestID(task.ID)) }
	first := tasks[0]
	codes, err := proc.Move(dsar.OpenDSRRequestID(first.ID), dsar.OpenDSRCompleted, 4, results(first))
	if err != nil || len(codes) != 1 || codes[0] != http.StatusNoContent {
		t.Fatalf("callback: %v %v", codes, err)
	}
	for _, task := range tasks[1:] {
		if err := proc.Update(dsar.OpenDSRRequestID(task.ID), dsar.OpenDSRCompleted, 2, results(task)); err != nil {
			t.Fatal(err)
		}
	}
	// The callback's completed export waits for a worker to fetch its
	// results, at once.
	for _, task := range e.tasks(t, r.ID) {
		if task.Status != dsar.TaskWaitingSystem {
			t.Errorf("%s before the poll: %s", task.Target(), task.Status)
		}
	}
	if n := e.runTasks(t); n != 0 {
		t.Errorf("%d items ran before the fetch was due", n)
	}
	e.clock.Advance(dsar.FetchAfter)
	if n := e.runTasks(t); n != 1 {
		t.Errorf("%d items ran, want the fetch of the first task's results", n)
	}
	e.clock.Advance(opendsr.MaxPoll)
	if n := e.runTasks(t); n != len(tasks) {
		t.Errorf("%d polls ran, want %d (the completed task's poll does nothing)", n, len(tasks))
	}
	for i, task := range e.tasks(t, r.ID) {
		count := 2
		if i == 0 {
			count = 4
		}
		want := fmt.Sprintf("status: OpenDSR completed (%d results), %d records stored", count, count)
		if task.Status != dsar.TaskDone || task.External != results(task) || task.Answer != want || task.Count != count {
			t.Errorf("%s: %s (%d), %q, results %q", task.Target(), task.Status, task.Count, task.Answer, task.External)
		}
		got, err := connectortest.ReadExport(ctx, e.handlers.Blobs, r.ID, task.ID)
		if err != nil || len(got) != count || string(got[0].Record) != fmt.Sprintf(`{"n":1,"request":%q}`, dsar.OpenDSRRequestID(task.ID)) {
			t.Errorf("%s: stored %v, %v", task.Target(), got, err)
		}
	}
	got, err := e.reqs.Get(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TasksEnded {
		t.Error("the case's tasks have not ended")
	}
}

// TestRefusingACaseCancelsItsPendingOpenDSRRequests: a case refused while
// its processors still have the requests pending withdraws each with
// DELETE.
func TestRefusingACaseCancelsItsPendingOpenDSRRequests(t *testing.T) {
	e, proc := openDSREnv(t)
	r := approvedErasure(t, e)
	e.runTasks(t)
	var systems []*dsar.Task
	for _, task := range e.tasks(t, r.ID) {
		if task.Recipient == "" {
			systems = append(systems, task)
		}
	}
	if _, err := e.reqs.Refuse(ctx, admin, r.ID, dsar.Decision{Ground: dsar.GroundLegalObligation, Text: "Orders are kept for five years."}); err != nil {
		t.Fatal(err)
	}
	e.runTasks(t)
	for _, task := range systems {
		rec, _ := proc.Request(dsar.OpenDSRRequestID(task.ID))
		if rec.Type != "erasure" || rec.Status != dsar.OpenDSRCancelled || rec.Deletes != 1 {
			t.Errorf("%s at the processor: %+v", task.Target(), rec)
		}
	}
	for _, task := range e.tasks(t, r.ID) {
		if task.Status != dsar.TaskCancelled {
			t.Errorf("%s: %s", task.Target(), task.Status)
		}
	}
}
