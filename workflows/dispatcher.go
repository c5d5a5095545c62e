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
	// Timers, when set, writes the cases' timers that have come due
	// (reminders, verification reminders and expiries) into the outbox at
	// every dispatch, within the given time budget.
	Timers interface {
		PlanTimers(ctx context.Context, now time.Time, budget time.Duration) (int, error)
	}
	// Digests, when set, plans the officers' daily digests at every
	// reconcile, from the database: they survive a lost Redis too.
	Digests interface {
		PlanDigests(ctx context.Context, now time.Time) (int, error)
	}
	// Checkpoints, when set, plans the hourly checkpoint of the cases in the
	// audit trail at every reconcile.
	Checkpoints interface {
		PlanCheckpoint(ctx context.Context, now time.Time) (bool, error)
	}
	// Grace is how long after queueing a row the reconciler leaves it alone
	// (default one minute): longer than a dispatch takes, shorter than anyone
	// waits for a mail.
	Grace time.Duration
}

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
	if d.Timers != nil {
		if _, err := d.Timers.PlanTimers(ctx, d.Clock.Now(), 10*time.Second); err != nil {
			return 0, err
		}
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

// Reconcile re-queues rows that were queued more than Grace ago and are not
// done, when the queue no longer holds their task (Redis was emptied or
// failed over, or a worker died holding the lease). It returns how many it
// queued again.
func (d *Dispatcher) Reconcile(ctx context.Context) (int, error) {
	now := d.Clock.Now()
	if d.Digests != nil {
		if _, err := d.Digests.PlanDigests(ctx, now); err != nil {
			return 0, err
		}
	}
	if d.Checkpoints != nil {
		if _, err := d.Checkpoints.PlanCheckpoint(ctx, now); err != nil {
			return 0, err
		}
	}
	items, err := d.Outbox.Stale(ctx, now, now.Add(-d.grace()), d.batch())
	if err != nil {
		return 0, err
	}
	ids, added, err := d.enqueue(ctx, items)
	if merr := d.Outbox.MarkEnqueued(ctx, ids, now); merr != nil && err == nil {
		err = merr
	}
	if added > 0 {
		d.Log.Warn("reconciler re-queued outbox items the queue had lost", "count", added)
	}
	return added, err
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
