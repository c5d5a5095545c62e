package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
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
	if got, err := reqs.Get(ctx, admin, failing.ID); err != nil || got.Progress == nil || *got.Progress != *failing.Progress {
		t.Fatalf("the approval's answer shows progress %+v, Get %+v (%v)", failing.Progress, got.Progress, err)
	}
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

// TestRecordBatch: outcomes of several cases' tasks recorded in one
// transaction end each case as one by one would (tasks ended, the Art 19
// notices sent after the systems, the cases completed), with the audit
// chains intact; an item that is no longer held fails alone and leaves its
// case's other items recorded.
func TestRecordBatch(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 3, 9, 30))
	db := storetest.Open(t, clock)
	reqs, tasks, outbox := store.NewRequests(db), store.NewTasks(db), store.NewOutbox(db)
	cases := approvedErasures(t, reqs, 3)
	// due claims every task item due now and gives each of its tasks the
	// outcome.
	due := func(o dsar.TaskOutcome) []store.StepOutcome {
		t.Helper()
		items, err := outbox.Due(ctx, clock.Now(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		var steps []store.StepOutcome
		for _, it := range items {
			if it.Kind != dsar.OutboxTask {
				continue
			}
			var p dsar.TaskPayload
			if err := json.Unmarshal(it.Payload, &p); err != nil {
				t.Fatal(err)
			}
			claimed, ok, err := outbox.Claim(ctx, it.ID, clock.Now(), time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim %s: %v %v", it.ID, ok, err)
			}
			step := store.StepOutcome{Claimed: claimed}
			for _, ref := range p.Refs() {
				step.Results = append(step.Results, dsar.TaskResult{TaskID: ref.TaskID, Round: ref.Round, Outcome: o})
			}
			steps = append(steps, step)
		}
		return steps
	}
	// Each approval handed its systems' tasks over in one item; every
	// system accepts and is polled a minute later, one item a task.
	sent := due(dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, PollAfter: time.Minute, Answer: "HTTP 202"})
	if len(sent) != len(cases) || len(sent[0].Results) < 2 {
		t.Fatalf("%d items after %d approvals (the first with %d tasks); want one item a case with its tasks", len(sent), len(cases), len(sent[0].Results))
	}
	if errs, alone := tasks.RecordBatch(ctx, sent); alone != 0 || slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
		t.Fatalf("recording the approvals' items: %v, %d alone", errs, alone)
	}
	clock.Advance(time.Minute)
	polls := due(dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 2, Answer: "HTTP 200"})
	// Interleave the cases, and lose the claim of one poll of the second
	// case: another worker took it over.
	slices.SortFunc(polls, func(a, b store.StepOutcome) int { return strings.Compare(a.Results[0].TaskID, b.Results[0].TaskID) })
	lost := slices.IndexFunc(polls, func(s store.StepOutcome) bool { return s.Claimed.RequestID == cases[1].ID })
	taken := *polls[lost].Claimed
	polls[lost].Claimed = &taken
	taken.Attempts++
	errs, alone := tasks.RecordBatch(ctx, polls)
	if want := countCase(polls, cases[1].ID); want < 2 || alone != want {
		t.Errorf("%d items written alone; want the %d of the case with the lost claim", alone, want)
	}
	for i, err := range errs {
		if want := i == lost; (dsar.ErrorCode(err) == dsar.ECONFLICT) != want || !want && err != nil {
			t.Errorf("item %d (lost claim %v): %v", i, want, err)
		}
	}
	// The notices to recipients follow the systems; then every case but
	// the one with the lost step is completed.
	for round := 0; round < 3; round++ {
		steps := due(dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 2, Answer: "HTTP 200"})
		if len(steps) == 0 {
			break
		}
		errs, alone := tasks.RecordBatch(ctx, steps)
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, item %d: %v", round, i, err)
			}
		}
		if alone != 0 {
			t.Errorf("round %d: %d items written alone", round, alone)
		}
	}
	for i, c := range cases {
		got, err := reqs.Get(ctx, admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		ended := got.Progress != nil && got.Progress.Ended == got.Progress.Total
		if want := i != 1; ended != want || (got.Status == dsar.StatusCompleted) != want {
			t.Errorf("case %d: status %s, progress %+v; want ended %v", i, got.Status, got.Progress, want)
		}
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Fatalf("audit after the batches: %+v %v", rep, err)
	}
}

// approvedErasures creates n erasure requests to NTE and approves them.
func approvedErasures(t *testing.T, reqs *store.Requests, n int) []*dsar.Request {
	t.Helper()
	var out []*dsar.Request
	for range n {
		in := verifiedRequest("nte")
		in.Type = dsar.TypeErasure
		r, err := reqs.Create(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = reqs.Approve(ctx, admin, r.ID, "", nil); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// countCase counts the items of the case.
func countCase(steps []store.StepOutcome, caseID string) int {
	n := 0
	for _, s := range steps {
		if s.Claimed.RequestID == caseID {
			n++
		}
	}
	return n
}

// TestRecordConcurrently: outcomes recorded from many workers at once (the
// batches Record makes of them) all land, and the chains stay intact.
func TestRecordConcurrently(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 3, 9, 30))
	db := storetest.Open(t, clock)
	reqs, tasks, outbox := store.NewRequests(db), store.NewTasks(db), store.NewOutbox(db)
	approvedErasures(t, reqs, 12)
	items, err := outbox.Due(ctx, clock.Now(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(items))
	n := 0
	for _, it := range items {
		if it.Kind != dsar.OutboxTask {
			continue
		}
		var p dsar.TaskPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatal(err)
		}
		n += len(p.Refs())
		wg.Go(func() {
			claimed, ok, err := outbox.Claim(ctx, it.ID, clock.Now(), time.Minute)
			if err != nil || !ok {
				errs <- fmt.Errorf("claim %s: %v %v", it.ID, ok, err)
				return
			}
			var results []dsar.TaskResult
			for _, ref := range p.Refs() {
				results = append(results, dsar.TaskResult{TaskID: ref.TaskID, Round: ref.Round, Outcome: dsar.TaskOutcome{Kind: dsar.OutcomeNoData}})
			}
			errs <- tasks.Record(ctx, claimed, results...)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	page, err := reqs.List(ctx, admin, dsar.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ended := 0
	for _, r := range page.Requests {
		ts, err := reqs.Tasks(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range ts {
			if task.Status == dsar.TaskNoData {
				ended++
			}
		}
	}
	if ended != n {
		t.Errorf("%d tasks without data after %d outcomes", ended, n)
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Fatalf("audit: %+v %v", rep, err)
	}
}
