package store_test

import (
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// TestRedeliverManyEvents: a redelivery of thousands of events (the most
// one call may ask for is 10,000) writes a delivery for each, on SQLite and
// PostgreSQL alike: more rows than one statement's parameters allow.
func TestRedeliverManyEvents(t *testing.T) {
	at := time.Date(2025, time.March, 3, 9, 30, 0, 0, time.UTC)
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, dsar.NewManualClock(at))
	hooks := store.NewWebhooks(db)
	sub, err := hooks.CreateSubscription(ctx, admin, dsar.WebhookSubscriptionInput{URL: "https://crm.example.com/hooks/dsar",
		Events: []dsar.WebhookEventType{dsar.WebhookRequestReceived}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 6000 // 12 columns an outbox row: 72,000 parameters in one statement
	if err := storetest.Exec(t, url, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO webhook_events (id, type, request_id, controller, at, data)
		SELECT 'event-' || i, ?, NULL, 'nte', ?, '{}' FROM seq`, n, string(dsar.WebhookRequestReceived), at); err != nil {
		t.Fatal(err)
	}
	got, err := hooks.Redeliver(ctx, admin, sub.ID, "", at.Add(-time.Minute), at.Add(time.Minute))
	if err != nil || got != n {
		t.Fatalf("redelivered %d events (%v), want %d", got, err, n)
	}
}
