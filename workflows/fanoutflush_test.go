package workflows_test

import (
	"testing"
	"time"

	"github.com/dsar-project/dsar"
)

// TestRedisEmptiedMidFanOutLosesNothing approves erasures whose systems
// and recipients are reached over HTTP, lets the worker carry out part of
// the fan-out, empties Redis with FLUSHALL, and shows that the reconciler
// queues the lost items again: every case completes, and the system
// applied each task exactly once.
func TestRedisEmptiedMidFanOutLosesNothing(t *testing.T) {
	e, sys := httpEnv(t, 0)
	const cases = 30
	ids := make([]string, cases)
	for i := range ids {
		ids[i] = approvedErasure(t, e).ID
	}
	queued, err := e.disp.Dispatch(ctx)
	if err != nil || queued < cases {
		t.Fatalf("dispatch queued %d (%v)", queued, err)
	}
	srv, done := e.serve(t)
	for range queued / 4 {
		<-done
	}
	e.flush() // Redis loses every queued task, mid fan-out
	srv.Shutdown()
	applied := len(sys.AppliedKeys())
	if applied == 0 {
		t.Fatal("nothing was applied before the flush")
	}

	_, done = e.serve(t)
	completed := func() int {
		n := 0
		for _, id := range ids {
			if e.status(t, id) == dsar.StatusCompleted {
				n++
			}
		}
		return n
	}
	// Each round: the rows the queue lost (after the grace period), then
	// those the finished tasks wrote (the recipients' notices, the mails).
	for round := 0; completed() < cases; round++ {
		if round == 20 {
			t.Fatalf("%d of %d cases completed after %d rounds", completed(), cases, round)
		}
		e.clock.Advance(2 * time.Minute)
		requeued, err := e.disp.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		added, err := e.disp.Dispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if round == 0 && requeued == 0 {
			t.Fatal("the reconciler queued nothing again after the flush")
		}
		for range requeued + added {
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatalf("round %d: the worker did not finish the %d queued items", round, requeued+added)
			}
		}
	}
	total := 0
	for _, id := range ids {
		for _, task := range e.tasks(t, id) {
			total++
			if task.Status != dsar.TaskDone || sys.Applied(task.ID) != 1 {
				t.Errorf("%s of %s: %s, applied %d times", task.Target(), id, task.Status, sys.Applied(task.ID))
			}
		}
	}
	if len(sys.AppliedKeys()) != total {
		t.Errorf("the system applied %d keys for %d tasks", len(sys.AppliedKeys()), total)
	}
	t.Logf("%d tasks; %d applied before the flush", total, applied)
}
