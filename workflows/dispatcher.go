package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// Dispatcher moves outbox rows into the queue and, as the reconciler, puts
// back the ones the queue lost. Any number of dispatchers may run at once:
// the task ID (the row's ID) makes a second enqueue of a queued row a no-op.
type Dispatcher struct {
	Outbox dsar.OutboxService
	Client *asynq.Client
	Clock  dsar.Clock
	Log    *slog.Logger
	// Batch is how many rows one query takes (default 200).
	Batch int
	// Planners run at every reconcile, after the re-queueing, or at every
	// dispatch, before it, when they say so (Planners lists the service's).
	Planners []Planner
	// Grace is how long after queueing a row the reconciler leaves it alone
	// (default one minute): longer than a dispatch takes, shorter than anyone
	// waits for a mail.
	Grace time.Duration
	// Budget bounds how long one reconcile keeps re-queueing batch after
	// batch (default DefaultBudget); what is left waits for the next one.
	Budget time.Duration
}

// DefaultBudget is how long one reconcile may re-queue: the default
// reconcile interval, so that one tick catches up with any backlog it can
// queue in that time.
const DefaultBudget = 30 * time.Second

func (d *Dispatcher) batch() int {
	if d.Batch > 0 {
		return d.Batch
	}
	return 200
}

func (d *Dispatcher) grace() time.Duration {
	if d.Grace > 0 {
		return d.Grace
	}
	return time.Minute
}

// enqueue puts the items into the queue and reports which of them are there
// now (queued by this call or already queued). It stops at the first error
// other than a task ID conflict, returning what it managed.
func (d *Dispatcher) enqueue(ctx context.Context, items []*dsar.OutboxItem) (queued []string, added int, err error) {
	for _, it := range items {
		task, err := NewOutboxTask(it)
		if err != nil {
			return queued, added, err
		}
		_, err = d.Client.EnqueueContext(ctx, task)
		switch {
		case err == nil:
			added++
		case errors.Is(err, asynq.ErrTaskIDConflict):
		default:
			return queued, added, fmt.Errorf("enqueue outbox item: %w", err)
		}
		queued = append(queued, it.ID)
	}
	return queued, added, nil
}

// Dispatch queues every due row that was never queued and returns how many
// it queued.
func (d *Dispatcher) Dispatch(ctx context.Context) (int, error) {
	if err := d.plan(ctx, d.Clock.Now(), true); err != nil {
		return 0, err
	}
	total := 0
	for {
		now := d.Clock.Now()
		items, err := d.Outbox.Due(ctx, now, d.batch())
		if err != nil {
			return total, err
		}
		ids, added, err := d.enqueue(ctx, items)
		total += added
		if merr := d.Outbox.MarkEnqueued(ctx, ids, now); merr != nil {
			return total, merr
		}
		if err != nil || len(items) < d.batch() {
			return total, err
		}
	}
}

// Reconcile re-queues, batch after batch until none is left or the budget
// is spent, the rows a lost queue dropped: rows queued more than Grace ago
// and not done (Redis was emptied or failed over), and running rows whose
// lease expired (their worker died). Then it runs the planners. It returns
// how many rows it queued again.
func (d *Dispatcher) Reconcile(ctx context.Context) (int, error) {
	now := d.Clock.Now()
	budget := d.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	total := 0
	var err error
	for {
		var items []*dsar.OutboxItem
		if items, err = d.Outbox.Stale(ctx, now, now.Add(-d.grace()), d.batch()); err != nil {
			break
		}
		ids, added, qerr := d.enqueue(ctx, items)
		total += added
		err = errors.Join(qerr, d.Outbox.MarkEnqueued(ctx, ids, now))
		if err != nil || len(items) < d.batch() || d.Clock.Now().Sub(now) >= budget {
			break
		}
	}
	if total > 0 {
		d.Log.Warn("reconciler re-queued outbox items the queue had lost", "count", total)
	}
	return total, errors.Join(err, d.plan(ctx, now, false))
}

// plan runs the planners of the dispatch (atDispatch) or of the reconcile,
// each whatever the others did.
func (d *Dispatcher) plan(ctx context.Context, now time.Time, atDispatch bool) error {
	var err error
	for _, p := range d.Planners {
		if p.AtDispatch != atDispatch {
			continue
		}
		if _, perr := p.Plan(ctx, now); perr != nil {
			err = errors.Join(err, fmt.Errorf("plan %s: %w", p.Name, perr))
		}
	}
	return err
}

// Run dispatches every dispatchEvery and reconciles every reconcileEvery
// until ctx ends. Errors are logged, and the next tick tries again.
func (d *Dispatcher) Run(ctx context.Context, dispatchEvery, reconcileEvery time.Duration) {
	dt := time.NewTicker(dispatchEvery)
	defer dt.Stop()
	rt := time.NewTicker(reconcileEvery)
	defer rt.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-dt.C:
			if _, err := d.Dispatch(ctx); err != nil && ctx.Err() == nil {
				d.Log.Error("outbox dispatch failed", "err", err)
			}
		case <-rt.C:
			if _, err := d.Reconcile(ctx); err != nil && ctx.Err() == nil {
				d.Log.Error("outbox reconcile failed", "err", err)
			}
		}
	}
}
