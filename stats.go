package dsar

import (
	"context"
	"time"
)

// DueSoonWindow is how far ahead Stats counts open cases as due soon.
const DueSoonWindow = 7 * 24 * time.Hour

// Stats is a snapshot of the case load and of the outbox for monitoring. It
// holds counts only, keyed by controller key, status and outbox kind: never
// anything about a data subject.
type Stats struct {
	// Cases counts the cases by status, then by controller.
	Cases map[Status]map[string]int
	// DueSoon counts, per controller, the open cases whose deadline falls in
	// the next DueSoonWindow; Overdue those whose deadline has passed.
	DueSoon map[string]int
	Overdue map[string]int
	// OutboxPending counts the pending outbox rows per kind (due or not);
	// OutboxFailed the rows given up on, which need an operator.
	OutboxPending map[OutboxKind]int
	OutboxFailed  map[OutboxKind]int
	// OutboxLag is how long the oldest pending row whose time has come has
	// waited (0 when none waits).
	OutboxLag time.Duration
}

// StatsSource computes Stats.
type StatsSource interface {
	Stats(ctx context.Context) (*Stats, error)
}
