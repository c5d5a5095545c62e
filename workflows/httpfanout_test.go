package workflows_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows"
	"github.com/dsar-project/dsar/workflows/connector"
	httpconn "github.com/dsar-project/dsar/workflows/connector/http"
	"github.com/dsar-project/dsar/workflows/connector/http/fakesystem"
)

const fanoutSecretEnv = "DSAR_TEST_FANOUT_SECRET"

// httpEnv is the worker with the HTTP connector, and Digiref's systems and
// recipients reached over HTTP at a fake system on loopback.
func httpEnv(t *testing.T, maxAttempts int) (*env, *fakesystem.System) {
	t.Helper()
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	raw := dsar.NewWebhookSecret()
	t.Setenv(fanoutSecretEnv, raw)
	secret, err := dsar.ParseWebhookSecret(raw)
	if err != nil {
		t.Fatal(err)
	}
	sys := fakesystem.New(secret, e.clock, nil)
	srv := httptest.NewServer(sys)
	t.Cleanup(srv.Close)
	t.Cleanup(sys.Close)
	conn := dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{URL: srv.URL + "/dsar", Secret: dsar.Secret{Env: fanoutSecretEnv},
		Timeout: 2 * time.Second, MaxAttempts: maxAttempts, NoData: []int{404}}}
	ctrl, _ := e.db.Controllers.Get("digiref")
	for i := range ctrl.Systems {
		ctrl.Systems[i].Connector = conn
	}
	for i := range ctrl.Recipients {
		if ctrl.Recipients[i].Notify != nil {
			ctrl.Recipients[i].Notify = &conn
		}
	}
	web := httpconn.New(e.clock, quiet)
	t.Cleanup(web.Close)
	e.handlers.Tasks = store.NewTasks(e.db)
	e.handlers.Connectors = connector.Set{dsar.ConnectorHTTP: web}
	return e, sys
}

// runTasks hands every due task item straight to its handler, as a worker
// would; the mails are left to their own tests.
func (e *env) runTasks(t *testing.T) int {
	t.Helper()
	return e.runKind(t, dsar.OutboxTask)
}

var digirefOfficer = dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer, Controllers: []string{"digiref"}}

// approvedErasure creates a verified erasure at Digiref and approves it.
func approvedErasure(t *testing.T, e *env) *dsar.Request {
	t.Helper()
	r, err := e.reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "digiref", Language: dsar.LanguageEN,
		Subject: dsar.Subject{Email: "kari@example.no"}, Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Approve(ctx, digirefOfficer, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) tasks(t *testing.T, id string) []*dsar.Task {
	t.Helper()
	tasks, err := e.reqs.Tasks(ctx, digirefOfficer, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []*dsar.Task
	for _, task := range tasks {
		if task.Status != dsar.TaskSkipped { // a recipient that cannot be told
			out = append(out, task)
		}
	}
	if len(out) == 0 {
		t.Fatal("no tasks")
	}
	return out
}

func (e *env) status(t *testing.T, id string) dsar.Status {
	t.Helper()
	r, err := e.reqs.Get(ctx, admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// TestApprovalFansOutOverHTTP approves an erasure whose systems are reached
// over HTTP: the worker sends each task to the system, which applies each
// once; the recipients are told after the systems, and the case completes
// by itself. Running the same items again applies nothing twice.
func TestApprovalFansOutOverHTTP(t *testing.T) {
	e, sys := httpEnv(t, 0)
	r := approvedErasure(t, e)
	for range 3 {
		e.runTasks(t) // the systems, then the recipients
	}
	tasks := e.tasks(t, r.ID)
	for _, task := range tasks {
		if task.Status != dsar.TaskDone || task.Count != 1 || sys.Applied(task.ID) != 1 {
			t.Errorf("%s: %s (%d records), applied %d times", task.Target(), task.Status, task.Count, sys.Applied(task.ID))
		}
	}
	if len(sys.AppliedKeys()) != len(tasks) {
		t.Errorf("the system applied %d keys for %d tasks", len(sys.AppliedKeys()), len(tasks))
	}
	if st := e.status(t, r.ID); st != dsar.StatusCompleted {
		t.Errorf("the case is %s, want completed", st)
	}
	// Redelivered items (a worker killed after the call) do nothing more.
	for _, it := range e.sent {
		if it.Kind == dsar.OutboxTask {
			task, err := workflows.NewOutboxTask(it)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.process(task); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, task := range tasks {
		if n := sys.Applied(task.ID); n != 1 {
			t.Errorf("%s applied %d times after redelivery", task.Target(), n)
		}
	}
}

// TestAFailingSystemFailsVisiblyAndIsRetried: a system that answers 500
// is tried again after a backoff, then the task fails with the last answer
// shown; an officer's retry after the system recovered completes it.
func TestAFailingSystemFailsVisiblyAndIsRetried(t *testing.T) {
	e, sys := httpEnv(t, 2)
	sys.SetMode(fakesystem.ModeFail)
	r := approvedErasure(t, e)
	e.runTasks(t)
	for _, task := range e.tasks(t, r.ID) {
		if task.Recipient == "" && (task.Status != dsar.TaskSent || task.Attempts != 1) {
			t.Errorf("%s after one 500: %s, %d attempts", task.Target(), task.Status, task.Attempts)
		}
	}
	if n := e.runTasks(t); n != 0 {
		t.Errorf("%d items ran before the backoff", n)
	}
	e.clock.Advance(dsar.RetryBase * 2)
	e.runTasks(t)
	for _, task := range e.tasks(t, r.ID) {
		if task.Recipient == "" && (task.Status != dsar.TaskFailed || task.Answer[:9] != "HTTP 500:") {
			t.Errorf("%s after the last attempt: %s %q", task.Target(), task.Status, task.Answer)
		}
	}
	sys.SetMode(fakesystem.ModeOK)
	if _, err := e.reqs.RetryTasks(ctx, digirefOfficer, r.ID, ""); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.runTasks(t)
	}
	for _, task := range e.tasks(t, r.ID) {
		if task.Status != dsar.TaskDone || sys.Applied(task.ID) != 1 {
			t.Errorf("%s after the retry: %s, applied %d", task.Target(), task.Status, sys.Applied(task.ID))
		}
	}
	if st := e.status(t, r.ID); st != dsar.StatusCompleted {
		t.Errorf("the case is %s, want completed", st)
	}
}

// TestSystemsAnswerLaterByCallback: the system accepts each task (202) and
// answers at the task's callback URL on the service's API, signed; the
// tasks wait for the system until then.
func TestSystemsAnswerLaterByCallback(t *testing.T) {
	e, sys := httpEnv(t, 0)
	srv, err := api.New(api.Config{Requests: e.reqs, Cases: e.reqs, Tasks: store.NewTasks(e.db), Controllers: e.db.Controllers,
		Keyring: e.db.Keyring, Clock: e.clock, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	apiSrv := httptest.NewServer(srv)
	t.Cleanup(apiSrv.Close)
	e.handlers.BaseURL = apiSrv.URL
	sys.SetMode(fakesystem.ModeCallback)
	r := approvedErasure(t, e)
	for round := 0; e.status(t, r.ID) != dsar.StatusCompleted; round++ {
		if round == 3 {
			t.Fatalf("the case is %s after three rounds", e.status(t, r.ID))
		}
		// Every task sent is accepted (202) and answered by one callback,
		// which may arrive before or after the worker records the 202.
		sent := 0
		for _, task := range e.tasks(t, r.ID) {
			if task.Status == dsar.TaskSent {
				sent++
			}
		}
		e.runTasks(t)
		for range sent {
			if cb := <-sys.Callbacks(); cb.Err != nil || cb.Status != 204 {
				t.Fatalf("callback of %s: %d %v", cb.TaskID, cb.Status, cb.Err)
			}
		}
	}
	for _, task := range e.tasks(t, r.ID) {
		if task.Status != dsar.TaskDone || task.Answer != "callback: done (1)" || sys.Applied(task.ID) != 1 {
			t.Errorf("%s: %s %q, applied %d", task.Target(), task.Status, task.Answer, sys.Applied(task.ID))
		}
	}
}
