package store_test

import (
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// TestQueueShowsTaskProgress: the list and the case carry the progress of
// the case's tasks, and the queue's filter tasks=failing finds the cases
// with a failed task or a waiting one past its expected time, counted in
// SQL the same way on SQLite and Postgres.
func TestQueueShowsTaskProgress(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 3, 9, 30))
	db := storetest.Open(t, clock)
	reqs, tasks := store.NewRequests(db), store.NewTasks(db)
	approved := func() *dsar.Request {
		t.Helper()
		in := verifiedRequest("nte")
		in.Type = dsar.TypeErasure
		r, err := reqs.Create(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = reqs.Approve(ctx, admin, r.ID, "", nil); err != nil {
			t.Fatal(err)
		}
		return r
	}
	failing, slow, fine := approved(), approved(), approved()
	untouched, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	// Some of NTE's tasks end at once (recipients that cannot be told).
	if failing.Progress == nil || failing.Progress.Total == 0 || failing.Progress.Ended == failing.Progress.Total {
		t.Fatalf("the approval's answer shows progress %+v", failing.Progress)
	}
	total, ended := failing.Progress.Total, failing.Progress.Ended
	first := func(r *dsar.Request) string {
		t.Helper()
		ts, err := reqs.Tasks(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range ts {
			if task.Status == dsar.TaskSent {
				return task.ID
			}
		}
		t.Fatalf("no task of %s was sent", r.Reference)
		return ""
	}
	if err := tasks.Callback(ctx, first(failing), dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "HTTP 400"}); err != nil {
		t.Fatal(err)
	}
	expected := clock.Now().Add(time.Hour)
	if err := tasks.Callback(ctx, first(slow), dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, ExpectedBy: &expected}); err != nil {
		t.Fatal(err)
	}
	if err := tasks.Callback(ctx, first(fine), dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 3}); err != nil {
		t.Fatal(err)
	}
	listed := func(f dsar.RequestFilter) map[string]*dsar.TaskProgress {
		t.Helper()
		page, err := reqs.List(ctx, admin, f)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*dsar.TaskProgress{}
		for _, r := range page.Requests {
			out[r.ID] = r.Progress
			got, err := reqs.Get(ctx, admin, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if (got.Progress == nil) != (r.Progress == nil) || got.Progress != nil && *got.Progress != *r.Progress {
				t.Errorf("%s: Get shows %+v, List %+v", r.Reference, got.Progress, r.Progress)
			}
		}
		return out
	}
	all := listed(dsar.RequestFilter{})
	if p := all[failing.ID]; p == nil || *p != (dsar.TaskProgress{Total: total, Ended: ended, Failed: 1}) {
		t.Errorf("failing case: %+v", p)
	}
	if p := all[fine.ID]; p == nil || *p != (dsar.TaskProgress{Total: total, Ended: ended + 1}) {
		t.Errorf("case with a done task: %+v", p)
	}
	if p := all[slow.ID]; p == nil || *p != (dsar.TaskProgress{Total: total, Ended: ended}) {
		t.Errorf("slow case within its time: %+v", p)
	}
	if p, ok := all[untouched.ID]; !ok || p != nil {
		t.Errorf("a case without tasks: %+v (listed %v)", p, ok)
	}
	if got := listed(dsar.RequestFilter{Tasks: dsar.TasksFailing}); len(got) != 1 || got[failing.ID] == nil {
		t.Errorf("tasks=failing within the slow system's time: %v", got)
	}
	// Past the time the slow system expected to finish, it is overdue.
	clock.Advance(2 * time.Hour)
	got := listed(dsar.RequestFilter{Tasks: dsar.TasksFailing, Count: true})
	if len(got) != 2 || got[failing.ID] == nil || got[slow.ID] == nil || got[slow.ID].Overdue != 1 {
		t.Errorf("tasks=failing past the slow system's time: %v", got)
	}
	if _, err := reqs.List(ctx, admin, dsar.RequestFilter{Tasks: "stuck"}); err == nil || dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("tasks=stuck: %v", err)
	}
}
