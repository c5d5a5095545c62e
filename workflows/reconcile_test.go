package workflows_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
)

// lostBacklog queues the acknowledgements of n new requests, empties Redis,
// and moves past the grace period: n rows the queue lost.
func lostBacklog(t *testing.T, e *env, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		e.create(t, "nte")
	}
	if queued, err := e.disp.Dispatch(ctx); err != nil || queued != n {
		t.Fatalf("dispatch queued %d (%v), want %d", queued, err, n)
	}
	e.flush()
	e.clock.Advance(2 * time.Minute)
}

// One reconcile queues again everything a lost queue dropped, however many
// batches it takes, and the workers then send every mail.
func TestReconcileCatchesUpWithABacklogInOneTick(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.disp.Batch = 10
	const n = 35
	lostBacklog(t, e, n)
	if got, err := e.disp.Reconcile(ctx); err != nil || got != n {
		t.Fatalf("one reconcile re-queued %d (%v), want all %d", got, err, n)
	}
	_, done := e.serve(t)
	for i := 0; i < n; i++ {
		<-done
	}
	if got := len(e.smtp.Wait(t, n, 30*time.Second)); got != n {
		t.Errorf("%d mails, want %d", got, n)
	}
	if got, _ := e.disp.Reconcile(ctx); got != 0 {
		t.Errorf("a second reconcile re-queued %d", got)
	}
}

// steppingClock moves on by step every time it is read, as the time a
// reconcile takes does.
type steppingClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// A reconcile stops re-queueing when its budget is spent, and the next one
// goes on where it stopped.
func TestReconcileStopsAtItsBudget(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.disp.Batch = 10
	const n = 35
	lostBacklog(t, e, n)
	e.disp.Clock = &steppingClock{t: e.clock.Now(), step: time.Second}
	e.disp.Budget = 2 * time.Second // two batches
	if got, err := e.disp.Reconcile(ctx); err != nil || got != 20 {
		t.Fatalf("the first reconcile re-queued %d (%v), want two batches", got, err)
	}
	if got, err := e.disp.Reconcile(ctx); err != nil || got != 15 {
		t.Fatalf("the next reconcile re-queued %d (%v), want the 15 left", got, err)
	}
	if c := e.counts(t); c[dsar.OutboxPending] != n { // the mails; intake writes no future rows
		t.Errorf("outbox: %v", c)
	}
}
