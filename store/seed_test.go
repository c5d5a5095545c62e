package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// all lists every case through the store, as an administrator.
func allCases(t *testing.T, db *store.DB) []*dsar.Request {
	t.Helper()
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "admin", Role: dsar.RoleAdmin}
	var out []*dsar.Request
	f := dsar.RequestFilter{Sort: "received_at", Limit: store.MaxListLimit}
	for {
		page, err := reqs.List(context.Background(), admin, f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Requests...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	db := storetest.Open(t, dsar.NewManualClock(now))
	const n = 2000
	if err := db.Seed(ctx, store.SeedOptions{Cases: n, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	cases := allCases(t, db)
	if len(cases) != n {
		t.Fatalf("%d cases, want %d", len(cases), n)
	}
	var open, openPast, openFuture int
	ctrls, statuses, types := map[string]int{}, map[dsar.Status]int{}, map[dsar.RequestType]int{}
	refs := map[string]bool{}
	for _, r := range cases {
		ctrls[r.Controller]++
		statuses[r.Status]++
		types[r.Type]++
		refs[r.Reference] = true
		if r.Status.Open() {
			open++
			if r.Deadline.Before(now) {
				openPast++
			} else {
				openFuture++
			}
		}
		if r.ReceivedAt.After(now) || r.ReceivedAt.Before(now.AddDate(-1, 0, -2)) {
			t.Errorf("%s received at %v, outside the year before %v", r.ID, r.ReceivedAt, now)
		}
		if !r.Deadline.After(r.ReceivedAt) {
			t.Errorf("%s: deadline %v not after receipt %v", r.ID, r.Deadline, r.ReceivedAt)
		}
	}
	if len(refs) != n {
		t.Errorf("%d distinct references, want %d", len(refs), n)
	}
	if pct := 100 * open / n; pct < 10 || pct > 20 {
		t.Errorf("%d%% open (%d), want 10-20%%", pct, open)
	}
	if openPast == 0 || openFuture == 0 {
		t.Errorf("open cases: %d overdue, %d due later; want both", openPast, openFuture)
	}
	for _, c := range db.Controllers.All() {
		if ctrls[c.Key] < n/20 {
			t.Errorf("controller %s has %d cases", c.Key, ctrls[c.Key])
		}
	}
	if len(statuses) != len(dsar.Statuses) {
		t.Errorf("statuses %v, want all %d", statuses, len(dsar.Statuses))
	}
	if len(types) != len(dsar.RequestTypes) {
		t.Errorf("types %v, want all %d", types, len(dsar.RequestTypes))
	}
	t.Logf("open %d (%d overdue); statuses %v; controllers %v", open, openPast, statuses, ctrls)

	// Each case has its first audit event.
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "admin", Role: dsar.RoleAdmin}
	for _, r := range []*dsar.Request{cases[0], cases[n/2], cases[n-1]} {
		evs, err := reqs.Events(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Kind != dsar.EventCreated || evs[0].Actor != store.SeedActor || evs[0].Data["due_date"] == "" {
			t.Errorf("events of %s: %+v", r.ID, evs)
		}
	}

	// A database with cases is refused, unless forced.
	if err := db.Seed(ctx, store.SeedOptions{Cases: 10, Seed: 7}); dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("second seed: %v, want ECONFLICT", err)
	}
	if err := db.Seed(ctx, store.SeedOptions{Cases: 100, Seed: 7, Force: true}); err != nil {
		t.Fatalf("forced seed: %v", err)
	}
	if got := len(allCases(t, db)); got != n+100 {
		t.Errorf("%d cases after the forced seed, want %d", got, n+100)
	}

	// The same seed on the same day gives the same cases.
	db2 := storetest.Open(t, dsar.NewManualClock(now.Add(3*time.Hour)))
	if err := db2.Seed(ctx, store.SeedOptions{Cases: n, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	again := allCases(t, db2)
	for i := range again {
		a, b := cases[i], again[i]
		if a.ID != b.ID || a.Reference != b.Reference || a.Status != b.Status || !a.Deadline.Equal(b.Deadline) || a.Subject != b.Subject {
			t.Fatalf("case %d differs: %+v\n%+v", i, a, b)
		}
	}
}
