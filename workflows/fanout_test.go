package workflows_test

import (
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/manual"
)

// TestApprovalFansOutToHandRunSystems approves an erasure at Digiref, whose
// systems are run by hand: the worker turns each task into an officer's
// task, the officers record what they did, and the case completes by
// itself, with the completion mail and the address on the suppression list.
func TestApprovalFansOutToHandRunSystems(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.handlers.Tasks = store.NewTasks(e.db)
	e.handlers.Connectors = connector.Set{dsar.ConnectorManual: manual.Connector{}}
	officer := dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer, Controllers: []string{"digiref"}}
	r, err := e.reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "digiref", Language: dsar.LanguageEN,
		Subject: dsar.Subject{Email: "Kari@Example.no "}, Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	e.runDirect(t) // the acknowledgement
	plan, err := e.reqs.Plan(ctx, officer, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Tasks) == 0 {
		t.Fatal("the plan reaches no system")
	}
	if _, err := e.reqs.Approve(ctx, officer, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	tasks, err := e.reqs.Tasks(ctx, officer, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var systems []*dsar.Task
	for _, task := range tasks {
		if task.Action != dsar.ActionNotifyRecipient {
			systems = append(systems, task)
			if task.Status != dsar.TaskWaitingPerson || task.ExpectedBy == nil {
				t.Errorf("%s after the worker: %s, expected by %v", task.Target(), task.Status, task.ExpectedBy)
			}
		}
	}
	if len(systems) != len(plan.Tasks) {
		t.Fatalf("%d system tasks, the plan had %d", len(systems), len(plan.Tasks))
	}
	// A second run of the same items changes nothing.
	for _, it := range e.sent {
		if it.Kind == dsar.OutboxTask {
			if _, ok, _ := e.outbox.Claim(ctx, it.ID, e.clock.Now(), time.Minute); ok {
				t.Errorf("task item %s can be claimed again after it was handled", it.ID)
			}
		}
	}
	for _, task := range systems {
		if _, err := e.reqs.CompleteTask(ctx, officer, r.ID, task.ID, "Deleted the account by hand.", 1, false); err != nil {
			t.Fatal(err)
		}
	}
	// The recipients' notices go out once the systems are done.
	e.runDirect(t)
	tasks, _ = e.reqs.Tasks(ctx, officer, r.ID)
	for _, task := range tasks {
		if task.Status == dsar.TaskWaitingPerson {
			if _, err := e.reqs.CompleteTask(ctx, officer, r.ID, task.ID, "Told them by phone.", 0, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := e.reqs.Get(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != dsar.StatusCompleted || !got.TasksEnded {
		t.Fatalf("after every task: %s (ended %v)", got.Status, got.TasksEnded)
	}
	for email, want := range map[string]bool{"kari@example.no": true, " KARI@EXAMPLE.NO": true, "ola@example.no": false} {
		if on, err := e.reqs.Suppressed(ctx, "digiref", email); err != nil || on != want {
			t.Errorf("suppressed(%q) = %v (%v), want %v", email, on, err, want)
		}
	}
	if on, _ := e.reqs.Suppressed(ctx, "nte", "kari@example.no"); on {
		t.Error("the suppression reaches another controller")
	}
	events, _ := e.reqs.Events(ctx, admin, r.ID)
	n := 0
	for _, ev := range events {
		if ev.Kind == dsar.EventTask {
			n++
		}
	}
	if n < 2*len(systems) {
		t.Errorf("%d task events for %d systems: every change is audited", n, len(systems))
	}
}
