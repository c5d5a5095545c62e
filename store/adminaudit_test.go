package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

func TestAdminTrailIsChainedAndRecordsConfigChanges(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, clock)
	cli := dsar.Actor{ID: "cli:root", Role: dsar.RoleAdmin, IP: ""}
	if err := db.RecordAdmin(ctx, cli, store.AdminAPIKeyCreated, "key-1", map[string]string{"role": "system"}); err != nil {
		t.Fatal(err)
	}
	for i, cfg := range []string{"a: 1", "a: 1", "a: 2"} {
		got, err := db.RecordConfig(ctx, dsar.ActorService, "controllers.yaml", []byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if want := i != 1; got != want {
			t.Errorf("config %d (%q): recorded %v, want %v", i, cfg, got, want)
		}
	}
	rep, err := db.VerifyAudit(ctx)
	if err != nil || !rep.Intact() || rep.Events != 3 {
		t.Fatalf("admin trail: %+v %v", rep, err)
	}
	db.Close()
	var off, on []string
	if db.Dialect == store.SQLite {
		off = []string{"DROP TRIGGER admin_events_no_update"}
	} else {
		off = []string{"ALTER TABLE admin_events DISABLE TRIGGER admin_events_no_update"}
		on = []string{"ALTER TABLE admin_events ENABLE TRIGGER admin_events_no_update"}
	}
	for _, q := range append(append(off, fmt.Sprintf("UPDATE admin_events SET target = 'key-2' WHERE seq = %d", 1)), on...) {
		if err := storetest.Exec(t, url, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db = storetest.OpenURL(t, url, clock)
	rep, err = db.VerifyAudit(ctx)
	if err != nil || rep.Intact() || rep.Problems[0].Kind != "changed" {
		t.Errorf("a changed admin event: %+v %v", rep, err)
	}
	if err := storetest.Exec(t, url, "DELETE FROM admin_events WHERE seq = 2"); err == nil && db.Dialect == store.Postgres {
		t.Error("an admin event was deleted")
	}
}
