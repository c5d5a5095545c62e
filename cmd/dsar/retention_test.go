package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// dsar retention --dry-run lists the due cases without their data and
// removes nothing; dsar retention removes them, once; the trail verifies.
func TestRetentionCommand(t *testing.T) {
	e := migratedEnv(t)
	url := e["DSAR_DATABASE_URL"]
	if url == "" {
		url = "sqlite:" + filepath.Join(e["DSAR_DATA_DIR"], "dsar.db")
	}
	oslo, _ := time.LoadLocation("Europe/Oslo")
	clock := dsar.NewManualClock(time.Date(2023, time.March, 1, 10, 0, 0, 0, oslo))
	db := storetest.OpenURL(t, url, clock)
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	in := dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann"},
		Details: "My meter readings.", Verified: true, VerificationMethod: "portal login"}
	r, err := reqs.Create(context.Background(), admin, in)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2023, time.March, 14, 10, 0, 0, 0, oslo))
	storetest.Ready(t, db, r.ID)
	if _, err := reqs.Complete(context.Background(), admin, r.ID, dsar.Decision{Summary: "Sent Kari her readings."}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	clock.Set(time.Date(2026, time.March, 15, 9, 0, 0, 0, oslo))
	cmd := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut syncBuffer
		m := &Main{Getenv: e.get, Stdout: &out, Stderr: &errOut, Clock: clock}
		return m.Run(context.Background(), args), out.String(), errOut.String()
	}
	if code, _, stderr := cmd("retention", "--now"); code != 2 || !strings.Contains(stderr, "usage: dsar retention [--dry-run]") {
		t.Errorf("bad flag: exit %d, %s", code, stderr)
	}
	code, stdout, stderr := cmd("retention", "--dry-run")
	want := "CASE       CONTROLLER  CLOSED      DUE         REMOVES\n" +
		r.Reference + "  nte         2023-03-14  2026-03-15  subject,details,texts,mail,audit_personal\n" +
		"1 cases due; nothing was removed (dry run)\n"
	if code != 0 || stdout != want {
		t.Fatalf("dry run: exit %d\n%s\nwant\n%s%s", code, stdout, want, stderr)
	}
	if code, stdout, stderr := cmd("retention", "--dry-run"); code != 0 || !strings.HasSuffix(stdout, "1 cases due; nothing was removed (dry run)\n") {
		t.Errorf("the dry run removed something: exit %d, %s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := cmd("retention"); code != 0 || stdout != "personal data removed from 1 cases\n" {
		t.Fatalf("run: exit %d, %q %s", code, stdout, stderr)
	}
	if code, stdout, stderr := cmd("retention"); code != 0 || stdout != "personal data removed from 0 cases\n" {
		t.Errorf("second run: exit %d, %q %s", code, stdout, stderr)
	}
	if code, stdout, stderr := cmd("audit", "verify"); code != 0 || !strings.Contains(stdout, "audit trail intact") {
		t.Errorf("audit verify after the removal: exit %d, %s%s", code, stdout, stderr)
	}
}
