package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows"
	"github.com/dsar-project/dsar/workflows/mail"
)

// heldSender holds the first message it is given until release is closed,
// as a slow relay (or a worker that hangs) does; then it fails it, when
// fail is set, or sends it. Later messages go straight through.
type heldSender struct {
	mail.Sender
	entered, release chan struct{}
	fail             bool
	once             sync.Once
}

func newHeldSender(next mail.Sender, fail bool) *heldSender {
	return &heldSender{Sender: next, entered: make(chan struct{}), release: make(chan struct{}), fail: fail}
}

func (s *heldSender) Send(ctx context.Context, m *mail.Message) error {
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.entered)
		<-s.release
		if s.fail {
			return errors.New("the worker was killed")
		}
	}
	return s.Sender.Send(ctx, m)
}

// renewSpy reports on renewed whether each renewal of a lease held.
type renewSpy struct {
	dsar.OutboxService
	renewed chan bool
}

func (s renewSpy) Renew(ctx context.Context, it *dsar.OutboxItem, now time.Time, lease time.Duration) (bool, error) {
	held, err := s.OutboxService.Renew(ctx, it, now, lease)
	s.renewed <- held && err == nil
	return held, err
}

// recv returns the next value of ch, or fails the test when none comes
// within ten seconds (what it waits for did not happen).
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
		var zero T
		return zero
	}
}

// manualTicks makes the handlers renew their leases when the test says so.
func manualTicks(h *workflows.Handlers) chan<- time.Time {
	ticks := make(chan time.Time)
	h.LeaseTicker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }
	return ticks
}

// A worker that stops renewing its lease (it was killed, or hangs) loses
// its row one lease after its last renewal: the next reconcile queues the
// row again, although asynq still holds the first task as active, another
// worker sends the mail, and the first worker's late end changes nothing.
func TestADeadWorkersRowIsTakenOverAfterOneLease(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.create(t, "nte")
	stuck := newHeldSender(e.handlers.Sender, true)
	e.handlers.Sender = stuck
	manualTicks(e.handlers) // never ticked: the stuck worker renews nothing
	if n, err := e.disp.Dispatch(ctx); err != nil || n != 1 {
		t.Fatalf("dispatch: %d, %v", n, err)
	}
	_, done := e.serve(t)
	recv(t, stuck.entered, "send began")

	e.clock.Advance(workflows.DefaultLease - time.Second)
	if n, err := e.disp.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("within the lease the reconciler re-queued %d (%v)", n, err)
	}
	e.clock.Advance(2 * time.Second)
	if n, err := e.disp.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("after the lease the reconciler re-queued %d (%v), want the stuck row", n, err)
	}
	recv(t, done, "second worker's task")
	if msgs := e.smtp.Wait(t, 1, 10*time.Second); len(msgs) != 1 {
		t.Fatalf("%d mails", len(msgs))
	}
	close(stuck.release)
	recv(t, done, "end of the first worker's task") // too late
	if c := e.counts(t); c[dsar.OutboxDone] != 1 || c[dsar.OutboxRunning] != 0 {
		t.Errorf("outbox: %v", c)
	}
	if n, _ := e.disp.Reconcile(ctx); n != 0 {
		t.Errorf("a later reconcile re-queued %d rows", n)
	}
	if len(e.smtp.Messages()) != 1 {
		t.Errorf("%d mails, want 1", len(e.smtp.Messages()))
	}
}

// A handler that runs longer than a lease keeps its row by renewing the
// lease: neither the reconciler nor another worker takes it.
func TestALongTaskKeepsItsLease(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.create(t, "nte")
	slow := newHeldSender(e.handlers.Sender, false)
	e.handlers.Sender = slow
	ticks := manualTicks(e.handlers)
	spy := renewSpy{OutboxService: e.outbox, renewed: make(chan bool)}
	e.handlers.Outbox = spy
	items, err := e.outbox.Due(ctx, e.clock.Now(), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("due: %d, %v", len(items), err)
	}
	if _, err := e.disp.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	task, err := workflows.NewOutboxTask(items[0])
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- e.process(task) }()
	recv(t, slow.entered, "send began")

	for i := 0; i < 3; i++ { // a minute and a half, twice the lease and more
		e.clock.Advance(workflows.DefaultLease / 2)
		select {
		case ticks <- e.clock.Now():
		case <-time.After(10 * time.Second):
			t.Fatal("the handler does not renew its lease")
		}
		if !recv(t, spy.renewed, "renewal") {
			t.Fatalf("renewal %d did not hold the lease", i+1)
		}
		e.clock.Advance(workflows.DefaultLease / 2)
		if n, err := e.disp.Reconcile(ctx); err != nil || n != 0 {
			t.Fatalf("the reconciler re-queued %d rows of a running handler (%v)", n, err)
		}
		if _, ok, err := e.outbox.Claim(ctx, items[0].ID, e.clock.Now(), workflows.DefaultLease); err != nil || ok {
			t.Fatalf("another worker claimed the row of a running handler: %v %v", ok, err)
		}
	}
	close(slow.release)
	if err := recv(t, errc, "end of the task"); err != nil {
		t.Fatal(err)
	}
	if c := e.counts(t); c[dsar.OutboxDone] != 1 || c[dsar.OutboxRunning] != 0 {
		t.Errorf("outbox: %v", c)
	}
	if len(e.smtp.Messages()) != 1 {
		t.Errorf("%d mails, want 1", len(e.smtp.Messages()))
	}
}
