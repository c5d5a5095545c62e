package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// TestSuppressionKeepsNoAddress completes an erasure case and reads the
// suppressions table directly: it holds a keyed hash of the normalised
// address for the controller, never the address; the list answers for the
// address in any case and with spaces, and for no other controller.
func TestSuppressionKeepsNoAddress(t *testing.T) {
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, dsar.NewManualClock(at(2025, time.March, 5, 9, 0)))
	reqs := store.NewRequests(db)
	r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte",
		Subject: dsar.Subject{Email: "Kari.Nordmann@Example.no"}, Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reqs.Plan(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	leaveOut := map[string]string{}
	for _, task := range append(plan.Tasks, plan.Notify...) {
		leaveOut[task.Target()] = "Erased at the counter."
	}
	if _, err := reqs.Approve(ctx, admin, r.ID, "", leaveOut); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Controller, Hash, RequestID string
	}
	storetest.Select(t, url, &rows, "SELECT controller, hash, request_id FROM suppressions")
	if len(rows) != 1 || rows[0].Controller != "nte" || rows[0].RequestID != r.ID {
		t.Fatalf("suppressions %+v, want one row of the case", rows)
	}
	if h := strings.ToLower(rows[0].Hash); strings.Contains(h, "kari") || strings.Contains(h, "example") || strings.Contains(h, "@") {
		t.Errorf("the list keeps the address, or part of it: %q", rows[0].Hash)
	}
	for email, want := range map[string]bool{"kari.nordmann@example.no": true, "  KARI.NORDMANN@EXAMPLE.NO\t": true, "kari@example.no": false} {
		if on, err := reqs.Suppressed(ctx, "nte", email); err != nil || on != want {
			t.Errorf("Suppressed(nte, %q) = %v, %v; want %v", email, on, err, want)
		}
	}
	if on, _ := reqs.Suppressed(ctx, "keto-diets", "kari.nordmann@example.no"); on {
		t.Error("NTE's list answers for Keto Diets")
	}
}
