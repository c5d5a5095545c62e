package workflows

import (
	"context"
	"time"

	"github.com/dsar-project/dsar/store"
)

// A Planner writes, from the database, outbox rows that no change of a case
// writes, such as the officers' morning digests. Each row's ID names what
// it is for, so planning twice plans once, and every worker plans at every
// reconcile: the plans survive a lost Redis like everything else.
type Planner struct {
	Name string
	// Plan writes the rows due by now that are not written yet and
	// returns how many it wrote.
	Plan func(ctx context.Context, now time.Time) (int, error)
	// AtDispatch runs the planner at every dispatch rather than at every
	// reconcile: for rows that must go out within a dispatch interval of
	// their time, such as deadline reminders.
	AtDispatch bool
}

// TimerBudget bounds the time the timers planner takes at one dispatch; a
// larger backlog goes on at the next.
const TimerBudget = 10 * time.Second

// Planners returns the service's planners on db.
func Planners(db *store.DB) []Planner {
	return []Planner{
		{Name: "timers", Plan: func(ctx context.Context, now time.Time) (int, error) {
			return db.PlanTimers(ctx, now, TimerBudget)
		}, AtDispatch: true},
		{Name: "digests", Plan: store.NewUsers(db).PlanDigests},
		{Name: "checkpoint", Plan: db.PlanCheckpoint},
		{Name: "retention", Plan: db.PlanRetention},
	}
}
