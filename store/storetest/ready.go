package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// Ready brings an access or portability case to where an officer can
// complete it: approved, every system answered (no data), its files
// assembled (as the worker records them).
func Ready(t testing.TB, db *store.DB, id string) {
	clock := db.Clock
	t.Helper()
	reqs, tasks, outbox, results := store.NewRequests(db), store.NewTasks(db), store.NewOutbox(db), store.NewResults(db)
	ctx, admin := context.Background(), dsar.Actor{ID: "storetest", Role: dsar.RoleAdmin}
	r, err := reqs.Get(ctx, admin, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.ApprovedAt == nil {
		if _, err := reqs.Approve(ctx, admin, id, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		items, err := outbox.Due(ctx, clock.Now(), 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.RequestID != id || (it.Kind != dsar.OutboxTask && it.Kind != dsar.OutboxAssemble) {
				continue
			}
			claimed, ok, err := outbox.Claim(ctx, it.ID, clock.Now(), time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim %s: %v %v", it.ID, ok, err)
			}
			if it.Kind == dsar.OutboxAssemble {
				files := []dsar.ResultFile{{Name: dsar.ResultNames(r.Type)[0], Key: dsar.ResultBlobKey(id, it.ID, "f"), Bytes: 1, SHA256: strings.Repeat("0", 64)}}
				if err := results.Assembled(ctx, claimed, files, 0); err != nil {
					t.Fatal(err)
				}
				return
			}
			var p dsar.TaskPayload
			if err := json.Unmarshal(it.Payload, &p); err != nil {
				t.Fatal(err)
			}
			var results []dsar.TaskResult
			for _, ref := range p.Refs() {
				results = append(results, dsar.TaskResult{TaskID: ref.TaskID, Round: ref.Round, Outcome: dsar.TaskOutcome{Kind: dsar.OutcomeNoData}})
			}
			if err := tasks.Record(ctx, claimed, results...); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatalf("the files of %s were never asked for", id)
}
