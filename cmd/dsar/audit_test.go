package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

func TestAuditVerify(t *testing.T) {
	e := migratedEnv(t)
	if code, _, stderr := run(t, e, "audit"); code != 2 || !strings.Contains(stderr, "usage: dsar audit verify") {
		t.Errorf("dsar audit: exit %d, %s", code, stderr)
	}
	code, stdout, stderr := run(t, e, "audit", "verify")
	noCheckpoint := "no checkpoint of the cases yet (a worker records one every hour): a case deleted whole would not be found\n"
	if code != 0 || stdout != noCheckpoint+"audit trail intact: 0 events\n" {
		t.Fatalf("empty trail: exit %d, %q %s", code, stdout, stderr)
	}

	// A case: two events.
	url := e["DSAR_DATABASE_URL"]
	if url == "" {
		url = "sqlite:" + filepath.Join(e["DSAR_DATA_DIR"], "dsar.db")
	}
	db := storetest.OpenURL(t, url, dsar.SystemClock{})
	in := dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "kari@example.no"}}
	r, err := store.NewRequests(db).Create(context.Background(), dsar.ActorPublic, in)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := store.NewRequests(db).Events(context.Background(), dsar.ActorService, r.ID)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %v, %v", evs, err)
	}
	dialect := db.Dialect
	if code, stdout, stderr := run(t, e, "audit", "verify"); code != 0 || stdout != noCheckpoint+"audit trail intact: 2 events\n" {
		t.Fatalf("exit %d, %q %s", code, stdout, stderr)
	}
	// The hourly checkpoint (an admin event) covers the case.
	if err := db.Checkpoint(context.Background(), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if code, stdout, stderr := run(t, e, "audit", "verify"); code != 0 || !strings.HasPrefix(stdout, "cases checked against the checkpoint of ") ||
		!strings.HasSuffix(stdout, "audit trail intact: 3 events\n") {
		t.Fatalf("with a checkpoint: exit %d, %q %s", code, stdout, stderr)
	}

	// Someone with the database's owner rights rewrites the second event.
	stmts := []string{"ALTER TABLE request_events DISABLE TRIGGER request_events_no_update"}
	if dialect == store.SQLite {
		stmts = []string{"DROP TRIGGER request_events_no_update"}
	}
	stmts = append(stmts, "UPDATE request_events SET actor = 'service' WHERE seq = 2")
	for _, q := range stmts {
		if err := storetest.Exec(t, url, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	code, stdout, stderr = run(t, e, "audit", "verify")
	want := "changed: event " + strconv.FormatInt(evs[1].ID, 10) + " (case " + r.ID + ", seq 2): its fields do not match its hash"
	if code != 1 || !strings.Contains(stdout, want) || !strings.Contains(stderr, "audit trail damaged: 1 problems in 3 events") {
		t.Errorf("after tampering: exit %d\nstdout %s\nstderr %s\nwant %q", code, stdout, stderr, want)
	}
}
