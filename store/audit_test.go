package store_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// auditCases writes a few cases with changes, as different actors from
// different addresses, and returns the requests.
func auditCases(t *testing.T, db *store.DB, clock *dsar.ManualClock) []*dsar.Request {
	t.Helper()
	reqs := store.NewRequests(db)
	public := dsar.ActorPublic
	public.IP = "192.0.2.10"
	officer := nteOff
	officer.IP = "2001:db8::7"
	a, err := reqs.Create(ctx, public, newRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if _, err := reqs.Extend(ctx, officer, b.ID, "The request covers ten years of metering data."); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Pause(ctx, officer, b.ID, dsar.PauseClarification, "Which address?"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(48 * time.Hour)
	if _, err := reqs.Resume(ctx, officer, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Pause(ctx, officer, a.ID, dsar.PauseIdentity, ""); err != nil {
		t.Fatal(err)
	}
	return []*dsar.Request{a, b}
}

func TestAuditChainVerifies(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	rep, err := db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() || rep.Events != 0 || rep.PreChain != 0 {
		t.Fatalf("empty trail: %+v", rep)
	}

	cases := auditCases(t, db, clock)
	reqs := store.NewRequests(db)
	var all []*dsar.Event
	for _, r := range cases {
		evs, err := reqs.Events(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
	}
	// Each case's trail is its own chain: seqs 1, 2, 3, … in order, each
	// event linked to the one before it, starting from the genesis hash.
	for _, r := range cases {
		evs, _ := reqs.Events(ctx, admin, r.ID)
		prev := dsar.AuditGenesis
		for i, ev := range evs {
			if ev.Seq != int64(i+1) || ev.PrevHash != prev || len(ev.Hash) != 64 {
				t.Errorf("case %s event %d: seq %d, prev %q, hash %q", r.Reference, ev.ID, ev.Seq, ev.PrevHash, ev.Hash)
			}
			if want := dsar.EventHash(ev.PrevHash, ev, ev.Seq); ev.Hash != want {
				t.Errorf("event %d: hash %s, recomputed %s", ev.ID, ev.Hash, want)
			}
			prev = ev.Hash
		}
	}
	a := all[:2]
	if a[0].Seq != 1 || a[0].PrevHash != dsar.AuditGenesis || a[1].PrevHash != a[0].Hash {
		t.Errorf("the first events do not start the chain: %+v %+v", a[0], a[1])
	}
	// The client address is recorded.
	if a[0].ClientIP != "192.0.2.10" || a[1].ClientIP != "192.0.2.10" {
		t.Errorf("public intake from %q, %q", a[0].ClientIP, a[1].ClientIP)
	}
	var officerEvents int
	for _, ev := range all {
		if ev.Actor == nteOff.ID {
			officerEvents++
			if ev.ClientIP != "2001:db8::7" {
				t.Errorf("officer's %s event from %q", ev.Kind, ev.ClientIP)
			}
		}
	}
	if officerEvents != 4 {
		t.Errorf("%d events by the officer, want 4", officerEvents)
	}

	rep, err = db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() || rep.Events != int64(len(all)) || rep.PreChain != 0 {
		t.Errorf("report %+v, want intact with %d events", rep, len(all))
	}
}

// tamper runs statements on the database past the append-only triggers,
// over connections of their own, with the store closed.
func tamper(t *testing.T, db *store.DB, url string, stmts ...string) {
	t.Helper()
	db.Close() // SQLite: let the raw connection write
	off := []string{"ALTER TABLE request_events DISABLE TRIGGER request_events_no_update"}
	on := []string{"ALTER TABLE request_events ENABLE TRIGGER request_events_no_update"}
	if db.Dialect == store.SQLite {
		off = []string{"DROP TRIGGER request_events_no_update", "DROP TRIGGER request_events_no_delete"}
		on = nil
	}
	for _, q := range append(append(off, stmts...), on...) {
		if err := storetest.Exec(t, url, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// eventAt returns the ID of the event at seq.
func eventAt(t *testing.T, db *store.DB, reqs []*dsar.Request, seq int64) int64 {
	t.Helper()
	for _, r := range reqs {
		evs, err := store.NewRequests(db).Events(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Seq == seq {
				return ev.ID
			}
		}
	}
	t.Fatalf("no event at seq %d", seq)
	return 0
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name  string
		stmts func(id3, last int64) []string
		want  func(id3, last int64) []store.AuditProblem
	}{
		{
			name: "changed reason",
			stmts: func(id3, _ int64) []string {
				return []string{fmt.Sprintf("UPDATE request_events SET reason = 'nothing to see' WHERE id = %d", id3)}
			},
			want: func(id3, _ int64) []store.AuditProblem {
				return []store.AuditProblem{{ID: id3, Seq: 3, Kind: "changed"}}
			},
		},
		{
			name: "changed client address",
			stmts: func(id3, _ int64) []string {
				return []string{fmt.Sprintf("UPDATE request_events SET client_ip = '198.51.100.1' WHERE id = %d", id3)}
			},
			want: func(id3, _ int64) []store.AuditProblem {
				return []store.AuditProblem{{ID: id3, Seq: 3, Kind: "changed"}}
			},
		},
		{
			// A row given another hash no longer matches it, and the row
			// after it no longer links to it.
			name: "hash replaced",
			stmts: func(id3, _ int64) []string {
				return []string{fmt.Sprintf("UPDATE request_events SET hash = '%064d' WHERE id = %d", 1, id3)}
			},
			want: func(id3, _ int64) []store.AuditProblem {
				return []store.AuditProblem{{ID: id3, Seq: 3, Kind: "changed"}, {Seq: 4, Kind: "link"}}
			},
		},
		{
			name: "deleted row",
			stmts: func(id3, _ int64) []string {
				return []string{fmt.Sprintf("DELETE FROM request_events WHERE id = %d", id3)}
			},
			want: func(_, _ int64) []store.AuditProblem { return []store.AuditProblem{{Seq: 4, Kind: "gap"}} },
		},
		{
			name: "deleted last row",
			stmts: func(_, last int64) []string {
				return []string{fmt.Sprintf("DELETE FROM request_events WHERE id = %d", last)}
			},
			want: func(_, _ int64) []store.AuditProblem { return []store.AuditProblem{{Kind: "head"}} },
		},
		{
			name: "row without a place in the chain",
			stmts: func(id3, _ int64) []string {
				return []string{fmt.Sprintf(`INSERT INTO request_events (request_id, at, actor, kind, data)
					SELECT request_id, at, 'apikey:forged', 'message', '{}' FROM request_events WHERE id = %d`, id3)}
			},
			want: func(_, _ int64) []store.AuditProblem { return []store.AuditProblem{{Kind: "unchained"}} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
			url := storetest.URL(t)
			db := storetest.OpenURL(t, url, clock)
			cases := auditCases(t, db, clock)
			rep, err := db.VerifyAudit(ctx)
			if err != nil || !rep.Intact() {
				t.Fatalf("before tampering: %+v, %v", rep, err)
			}
			// Tamper with the second case, whose trail is the longest.
			evs, err := store.NewRequests(db).Events(ctx, admin, cases[1].ID)
			if err != nil || len(evs) < 5 {
				t.Fatalf("the second case has %d events: %v", len(evs), err)
			}
			id3, last := eventAt(t, db, cases[1:], 3), evs[len(evs)-1].ID
			tamper(t, db, url, tt.stmts(id3, last)...)

			db = storetest.OpenURL(t, url, clock)
			rep, err = db.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want(id3, last)
			if rep.Intact() || rep.ProblemCount != len(want) || len(rep.Problems) != len(want) {
				t.Fatalf("problems %+v, want %+v", rep.Problems, want)
			}
			for i, w := range want {
				p := rep.Problems[i]
				if p.Kind != w.Kind || (w.Seq != 0 && p.Seq != w.Seq) || (w.ID != 0 && p.ID != w.ID) || p.Message == "" {
					t.Errorf("problem %d: %+v, want %+v", i, p, w)
				}
				t.Log(p.Message)
			}
		})
	}
}

// Writers appending at once to the same cases keep each case's chain whole:
// no fork, no gap. On Postgres this also races a case's own change against
// a worker completing one of the case's outbox items.
func TestAuditChainUnderConcurrentWriters(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	reqs, outbox := store.NewRequests(db), store.NewOutbox(db)
	const writers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		ids  []string
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := admin
			actor.IP = fmt.Sprintf("192.0.2.%d", i+1)
			r, err := reqs.Create(ctx, actor, verifiedRequest("nte"))
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			ids = append(ids, r.ID)
			mu.Unlock()
			var inner sync.WaitGroup
			inner.Add(2)
			go func() { // the officer works the case
				defer inner.Done()
				for range 3 {
					if _, err := reqs.Pause(ctx, actor, r.ID, dsar.PauseClarification, "?"); err != nil {
						fail(err)
						return
					}
					if _, err := reqs.Resume(ctx, actor, r.ID); err != nil {
						fail(err)
						return
					}
				}
			}()
			go func() { // a worker sends the acknowledgement
				defer inner.Done()
				due, err := outbox.Due(ctx, clock.Now(), 100)
				if err != nil {
					fail(err)
					return
				}
				for _, it := range due {
					if it.RequestID != r.ID {
						continue
					}
					claimed, ok, err := outbox.Claim(ctx, it.ID, clock.Now(), time.Minute)
					if err != nil || !ok {
						continue // another case's worker, or cancelled meanwhile
					}
					ev := &dsar.Event{RequestID: r.ID, At: clock.Now(), Actor: dsar.ActorService.ID, Kind: dsar.EventMailSent,
						Data: map[string]string{"template": "acknowledgement"}}
					if err := outbox.Complete(ctx, claimed, clock.Now(), ev, nil); err != nil {
						fail(fmt.Errorf("complete: %w", err))
					}
				}
			}()
			inner.Wait()
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d writers failed, first: %v", len(errs), errs[0])
	}
	rep, err := db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, id := range ids {
		evs, err := reqs.Events(ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		n += int64(len(evs))
	}
	if !rep.Intact() || rep.Events != n || n < writers*8 {
		t.Errorf("report %+v (problems %v) over %d events", rep, rep.Problems, n)
	}
}

// A case deleted whole (its row and every event) leaves no gap in any
// chain; the hourly checkpoint in the admin chain finds it.
func TestCheckpointFindsACaseDeletedWhole(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, clock)
	cases := auditCases(t, db, clock)
	clock.Advance(3 * time.Hour)
	// Planned once an hour, however many workers plan it.
	for i, want := range []int{1, 0} {
		if planned, err := db.PlanCheckpoint(ctx, clock.Now()); err != nil || planned != want {
			t.Fatalf("plan %d: %v %v, want %v", i, planned, err, want)
		}
	}
	// A case created within the margin is not covered yet; later ones neither.
	late, err := store.NewRequests(db).Create(ctx, admin, newRequest("proviso"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Checkpoint(ctx, clock.Now().Add(-store.CheckpointMargin)); err != nil {
		t.Fatal(err)
	}
	rep, err := db.VerifyAudit(ctx)
	if err != nil || !rep.Intact() || rep.Checkpoint == nil || !rep.Checkpoint.Equal(clock.Now()) {
		t.Fatalf("after the checkpoint: %+v, %v", rep, err)
	}
	del := func(id string) []string {
		var out []string
		for _, table := range []string{"request_events", "request_pauses", "outbox", "verifications", "request_messages", "identity_documents", "webhook_events"} {
			out = append(out, fmt.Sprintf("DELETE FROM %s WHERE request_id = '%s'", table, id))
		}
		return append(out, fmt.Sprintf("DELETE FROM requests WHERE id = '%s'", id))
	}
	// Deleting the late case is not found (the known window); the first one is.
	tamper(t, db, url, append(del(late.ID), del(cases[0].ID)...)...)
	db = storetest.OpenURL(t, url, clock)
	rep, err = db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ProblemCount != 1 || rep.Problems[0].Kind != "checkpoint" || !strings.Contains(rep.Problems[0].Message, "counted 2 cases") {
		t.Fatalf("problems %+v", rep.Problems)
	}
	t.Log(rep.Problems[0].Message)
}

// A case replaced by another (the count stays, the chains verify) differs
// in the checkpoint's digest.
func TestCheckpointFindsAReplacedCase(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, clock)
	cases := auditCases(t, db, clock)
	clock.Advance(3 * time.Hour)
	if err := db.Checkpoint(ctx, clock.Now().Add(-store.CheckpointMargin)); err != nil {
		t.Fatal(err)
	}
	// The first case loses its trail and takes another ID: a case without
	// chained events, which its own check accepts.
	id := cases[0].ID
	var stmts []string
	for _, table := range []string{"request_events", "request_pauses", "outbox", "verifications", "request_messages", "identity_documents", "webhook_events"} {
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE request_id = '%s'", table, id))
	}
	stmts = append(stmts, fmt.Sprintf("UPDATE requests SET id = '%s', audit_seq = 0, audit_hash = '' WHERE id = '%s'", "f"+id[1:], id))
	tamper(t, db, url, stmts...)
	db = storetest.OpenURL(t, url, clock)
	rep, err := db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ProblemCount != 1 || rep.Problems[0].Kind != "checkpoint" || !strings.Contains(rep.Problems[0].Message, "not those of the checkpoint") {
		t.Fatalf("problems %+v", rep.Problems)
	}
	t.Log(rep.Problems[0].Message)
}
