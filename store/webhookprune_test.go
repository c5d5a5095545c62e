package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// deliverWebhooks makes one attempt of every webhook delivery due at the
// clock's time for which answer gives a status code (the others wait),
// as the worker records it.
func deliverWebhooks(t *testing.T, db *store.DB, clock *dsar.ManualClock, answer func(eventID string) int) {
	t.Helper()
	out, hooks := store.NewOutbox(db), store.NewWebhooks(db)
	due, err := out.Due(ctx, clock.Now(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range due {
		var p dsar.WebhookPayload
		if it.Kind != dsar.OutboxWebhook || json.Unmarshal(it.Payload, &p) != nil {
			continue
		}
		codes := make([]int, 0, 1+len(p.More))
		for _, id := range p.EventIDs() {
			if c := answer(id); c != 0 {
				codes = append(codes, c)
			}
		}
		if len(codes) == 0 {
			continue
		}
		if len(codes) != 1+len(p.More) {
			t.Fatalf("item %s: answers for some of its events only", it.ID)
		}
		claimed, ok, err := out.Claim(ctx, it.ID, clock.Now(), time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim %s: %v %v", it.ID, ok, err)
		}
		evs, sub, _, err := hooks.Deliveries(ctx, p.EventIDs(), p.SubscriptionID)
		if err != nil {
			t.Fatal(err)
		}
		res := make([]dsar.WebhookResponse, len(evs))
		for i, ev := range evs {
			res[i] = dsar.WebhookResponse{StatusCode: answer(ev.ID)}
		}
		n := 0
		env := dsar.Env{Now: clock.Now(), NewID: func() string { n++; return fmt.Sprintf("a-%s-%s-%d", it.ID, clock.Now().Format("150405.000"), n) }}
		if err := hooks.RecordAttempts(ctx, claimed, dsar.DecideWebhookAttempts(env, sub, evs, p, res)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPruneWebhooks: the events older than the redelivery window go with
// their delivery log, batch by batch, oldest first; an old event still
// being delivered (a retry, a late redelivery) and every event within the
// window stay, and a pending one goes once delivered.
func TestPruneWebhooks(t *testing.T) {
	t0 := time.Date(2025, time.March, 3, 9, 30, 0, 0, time.UTC)
	url := storetest.URL(t)
	clock := dsar.NewManualClock(t0)
	db := storetest.OpenURL(t, url, clock)
	hooks := store.NewWebhooks(db)
	sub, err := hooks.CreateSubscription(ctx, admin, dsar.WebhookSubscriptionInput{URL: "https://crm.example.com/hooks/dsar",
		Events: []dsar.WebhookEventType{dsar.WebhookRequestReceived}})
	if err != nil {
		t.Fatal(err)
	}
	test := func() string {
		t.Helper()
		ev, err := hooks.SendTest(ctx, admin, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	answer := map[string]int{}
	deliver := func() { deliverWebhooks(t, db, clock, func(id string) int { return answer[id] }) }

	delivered := test() // at t0: delivered, goes
	answer[delivered] = 200
	deliver()
	clock.Advance(time.Minute)
	retrying := test() // at t0+1m: fails, a retry stays pending
	answer[retrying] = 500
	deliver()
	clock.Advance(time.Minute)
	redelivered := test() // at t0+2m: delivered, then redelivered late
	answer[redelivered] = 204
	deliver()
	// Many old events, after the pending ones in the order, with attempts.
	const bulk = 1203
	if err := storetest.Exec(t, url, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO webhook_events (id, type, request_id, controller, at, data)
		SELECT 'event-' || i, ?, NULL, 'nte', ?, '{}' FROM seq`, bulk, string(dsar.WebhookRequestReceived), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Exec(t, url, `INSERT INTO webhook_attempts (id, event_id, subscription_id, attempt, outcome, status_code, at)
		SELECT 'attempt-' || id, id, ?, 1, 'delivered', 200, at FROM webhook_events WHERE id LIKE 'event-%'`, sub.ID); err != nil {
		t.Fatal(err)
	}

	// Two old events redelivered late as a range: one item carries both.
	late := t0.Add(2 * time.Hour)
	if err := storetest.Exec(t, url, `INSERT INTO webhook_events (id, type, request_id, controller, at, data)
		VALUES ('late-1', ?, NULL, 'nte', ?, '{}'), ('late-2', ?, NULL, 'nte', ?, '{}')`,
		string(dsar.WebhookRequestReceived), late, string(dsar.WebhookRequestReceived), late); err != nil {
		t.Fatal(err)
	}

	clock.Set(t0.Add(dsar.WebhookRetention + 24*time.Hour))
	if n, err := hooks.Redeliver(ctx, admin, sub.ID, redelivered, time.Time{}, time.Time{}); err != nil || n != 1 {
		t.Fatalf("redeliver: %d, %v", n, err)
	}
	if n, err := hooks.Redeliver(ctx, admin, sub.ID, "", late, late.Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("redeliver the range: %d, %v", n, err)
	}
	// The retry is long due (5 s after the first attempt) and the
	// redelivery due now: leave them pending, as a worker that is behind
	// would.
	delete(answer, retrying)
	delete(answer, redelivered)
	recent := test() // within the window: stays
	answer[recent] = 200
	deliver()

	events := func() []string {
		var ids []string
		storetest.Select(t, url, &ids, "SELECT id FROM webhook_events ORDER BY id")
		return ids
	}
	attempts := func() []string {
		var ids []string
		storetest.Select(t, url, &ids, "SELECT DISTINCT event_id FROM webhook_attempts ORDER BY event_id")
		return ids
	}
	// A run stopped after its first transaction says there is more; the
	// next goes on from there.
	n, more, err := db.PruneWebhooks(ctx, clock.Now(), 2, func() bool { return true })
	if err != nil || n != 1 || !more {
		t.Fatalf("a stopped run pruned %d events (more %v, %v), want the first one and more", n, more, err)
	}
	n, more, err = db.PruneWebhooks(ctx, clock.Now(), 2, nil)
	if err != nil || n != bulk || more {
		t.Fatalf("pruned %d events (more %v, %v), want %d", n, more, err, bulk)
	}
	want := []string{recent, redelivered, retrying, "late-1", "late-2"}
	slices.Sort(want)
	if got := events(); !slices.Equal(got, want) {
		t.Errorf("events left: %v, want %v", got, want)
	}
	want = slices.DeleteFunc(want, func(id string) bool { return strings.HasPrefix(id, "late-") }) // never attempted
	if got := attempts(); !slices.Equal(got, want) {
		t.Errorf("attempts left for events %v, want %v", got, want)
	}
	if n, _, err := db.PruneWebhooks(ctx, clock.Now(), 100, nil); err != nil || n != 0 {
		t.Errorf("a second run pruned %d (%v), want nothing", n, err)
	}

	// Once the retry and the redelivery are done, their events go too.
	answer[retrying], answer[redelivered], answer["late-1"], answer["late-2"] = 200, 200, 200, 200
	deliver()
	if n, _, err := db.PruneWebhooks(ctx, clock.Now(), 0, nil); err != nil || n != 4 {
		t.Fatalf("pruned %d events (%v) once delivered, want 4", n, err)
	}
	if got := events(); !slices.Equal(got, []string{recent}) {
		t.Errorf("events left: %v, want only the recent one", got)
	}
	log, err := hooks.Attempts(ctx, admin, sub.ID, 0)
	if err != nil || len(log) != 1 || log[0].EventID != recent {
		t.Errorf("the delivery log after pruning: %v (%v), want the recent event's attempt", log, err)
	}
}
