package workflows_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector"
)

// refusingSystem is a system that refuses every task for good.
type refusingSystem struct{}

func (refusingSystem) Do(_ context.Context, o *connector.Order) dsar.TaskOutcome {
	if o.Step == dsar.StepSend {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "HTTP 422: unknown customer field"}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeReminded}
}

// TestFailedTaskMailsTheOfficersOnce: each failed system task sends the
// case's officers one mail, in the controller's first language, with the
// system, the last answer and the link to the case page, and nothing of
// the subject but the reference. Running the worker again, or the task
// failing again after an officer's retry, sends no second mail.
func TestFailedTaskMailsTheOfficersOnce(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.handlers.Tasks = store.NewTasks(e.db)
	e.handlers.Connectors = connector.Set{dsar.ConnectorManual: refusingSystem{}}
	users := store.NewUsers(e.db)
	e.handlers.Officers = users
	if _, err := users.Create(ctx, "kari@digiref.no", "a long enough password", dsar.RoleOfficer, []string{"digiref"}); err != nil {
		t.Fatal(err)
	}
	officer := dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer, Controllers: []string{"digiref"}}
	r := e.create(t, "digiref")
	e.runDirect(t) // the acknowledgement
	if _, err := e.reqs.Approve(ctx, officer, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	for e.runDirect(t) > 0 {
	}
	tasks, err := e.reqs.Tasks(ctx, officer, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, task := range tasks {
		if task.Status == dsar.TaskFailed {
			failed[task.ID] = true
		}
	}
	if len(failed) == 0 {
		t.Fatal("no task failed")
	}
	mailed := func() map[string]int {
		t.Helper()
		out := map[string]int{}
		for _, m := range e.smtp.Messages() {
			_, p := e.itemOf(m)
			if p.Template != dsar.MailTaskFailed {
				continue
			}
			out[p.TaskID]++
			if strings.Join(m.To, ",") != "kari@digiref.no" {
				t.Errorf("the failure went to %v", m.To)
			}
			checkOfficerMail(t, m, r)
			body := string(m.Raw)
			for _, want := range []string{r.Reference, "HTTP 422: unknown customer field", "feilet"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s: the failure mail does not say %q", subject(m), want)
				}
			}
		}
		return out
	}
	got := mailed()
	if len(got) != len(failed) {
		t.Errorf("%d failure mails for %d failed tasks", len(got), len(failed))
	}
	for id, n := range got {
		if !failed[id] || n != 1 {
			t.Errorf("task %s: %d mails (failed: %v)", id, n, failed[id])
		}
	}
	// A retry that fails again is shown on the case page, not mailed.
	if _, err := e.reqs.RetryTasks(ctx, officer, r.ID, ""); err != nil {
		t.Fatal(err)
	}
	for e.runDirect(t) > 0 {
	}
	tasks, _ = e.reqs.Tasks(ctx, officer, r.ID)
	for _, task := range tasks {
		if failed[task.ID] && (task.Status != dsar.TaskFailed || task.Round != 1) {
			t.Errorf("%s after the retry: %s, round %d", task.Target(), task.Status, task.Round)
		}
	}
	for id, n := range mailed() {
		if n != 1 {
			t.Errorf("task %s: %d mails after a retry failed again", id, n)
		}
	}
}

// TestFailureMailOfARetriedTaskIsCancelled: when an officer retries the
// failed task before its mail went out, the mail is no longer true and is
// not sent.
func TestFailureMailOfARetriedTaskIsCancelled(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.handlers.Tasks = store.NewTasks(e.db)
	e.handlers.Connectors = connector.Set{dsar.ConnectorManual: refusingSystem{}}
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.handlers.Blobs = blobs // the access case's files are assembled at the end
	officer := dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer, Controllers: []string{"digiref"}}
	r := e.create(t, "digiref")
	e.runDirect(t) // the acknowledgement
	if _, err := e.reqs.Approve(ctx, officer, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t) // the tasks fail; their mails are due
	// The retried tasks succeed this time.
	e.handlers.Connectors = connector.Set{dsar.ConnectorManual: doneSystem{}}
	if _, err := e.reqs.RetryTasks(ctx, officer, r.ID, ""); err != nil {
		t.Fatal(err)
	}
	for e.runDirect(t) > 0 {
	}
	for _, m := range e.smtp.Messages() {
		if _, p := e.itemOf(m); p.Template == dsar.MailTaskFailed {
			t.Errorf("a failure mail went out for a task retried with success: %s", subject(m))
		}
	}
	planned := 0
	for _, it := range e.sent {
		var p dsar.MailPayload
		if it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == dsar.MailTaskFailed {
			planned++
		}
	}
	if planned == 0 {
		t.Error("no failure mail was planned: the test shows nothing")
	}
	got, err := e.reqs.Get(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Progress == nil || got.Progress.Failed != 0 {
		t.Errorf("progress after the retry: %+v", got.Progress)
	}
}

// doneSystem is a system that carries out every task, holding nothing.
type doneSystem struct{}

func (doneSystem) Do(context.Context, *connector.Order) dsar.TaskOutcome {
	return dsar.TaskOutcome{Kind: dsar.OutcomeNoData}
}
