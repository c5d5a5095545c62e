package store_test

import (
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// A database that cannot be reached is EUNAVAILABLE, whatever meets it: a
// query, a transaction, a session lookup, the workers' outbox; never "not
// found", "no session" or an internal error.
func TestAnUnreachableDatabaseIsUnavailable(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db, _, cut := storetest.Cuttable(t, clock)
	reqs, users, outbox := store.NewRequests(db), store.NewUsers(db), store.NewOutbox(db)
	r, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, "kari@nte.no", "officer password 123", dsar.RoleOfficer, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	_, token, err := users.SignIn(ctx, "kari@nte.no", "officer password 123")
	if err != nil {
		t.Fatal(err)
	}
	cut()
	for name, call := range map[string]func() error{
		"get":     func() error { _, err := reqs.Get(ctx, admin, r.ID); return err },
		"create":  func() error { _, err := reqs.Create(ctx, admin, verifiedRequest("nte")); return err },
		"extend":  func() error { _, err := reqs.Extend(ctx, admin, r.ID, "complex"); return err },
		"session": func() error { _, err := users.Session(ctx, token); return err },
		"sign in": func() error { _, _, err := users.SignIn(ctx, "kari@nte.no", "officer password 123"); return err },
		"due":     func() error { _, err := outbox.Due(ctx, clock.Now(), 10); return err },
		"claim":   func() error { _, _, err := outbox.Claim(ctx, "x", clock.Now(), time.Minute); return err },
		"ping":    func() error { return db.Ping(ctx) },
	} {
		if err := call(); dsar.ErrorCode(err) != dsar.EUNAVAILABLE {
			t.Errorf("%s: %v, want %s", name, err, dsar.EUNAVAILABLE)
		}
	}
}
