package dsar_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
)

// The records retention runs from the controller-local closing date for
// the controller's months, and removal is due the day after the period's
// last day.
func TestRetentionDue(t *testing.T) {
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	nte, _ := ctrls.Get("nte") // Europe/Oslo, the default 36 months
	keto, _ := ctrls.Get("keto-diets")
	ccpa := *keto
	ccpa.RetentionMonths = dsar.MinCCPARetentionMonths
	utc := func(y int, m time.Month, d, hh, mm int) *time.Time {
		t := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
		return &t
	}
	removed := utc(2026, time.January, 1, 0, 0)
	for _, tc := range []struct {
		name    string
		ctrl    *dsar.Controller
		status  dsar.Status
		closed  *time.Time
		removed *time.Time
		due     string // "" when never
	}{
		{"36 months", nte, dsar.StatusCompleted, utc(2023, time.March, 14, 11, 0), nil, "2026-03-15"},
		// 23:30 UTC on 31 Jan is 1 Feb in Oslo: the local date counts.
		{"local closing date", nte, dsar.StatusRefused, utc(2023, time.January, 31, 23, 30), nil, "2026-02-02"},
		// 29 Feb 2020 + 36 months is 28 Feb 2023 (a short month ends the period).
		{"end of a short month", nte, dsar.StatusWithdrawn, utc(2020, time.February, 29, 10, 0), nil, "2023-03-01"},
		{"CCPA 24 months", &ccpa, dsar.StatusCompleted, utc(2024, time.March, 14, 11, 0), nil, "2026-03-15"},
		{"open", nte, dsar.StatusInProgress, utc(2020, time.March, 14, 11, 0), nil, ""},
		{"never closed", nte, dsar.StatusExpiredUnverified, nil, nil, ""},
		{"already removed", nte, dsar.StatusCompleted, utc(2020, time.March, 14, 11, 0), removed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &dsar.Request{Status: tc.status, ClosedAt: tc.closed, PersonalDataRemovedAt: tc.removed}
			_, due, ok := dsar.RetentionDue(r, tc.ctrl)
			if got := map[bool]string{true: due.String()}[ok]; got != tc.due {
				t.Errorf("due %q, want %q", got, tc.due)
			}
			if !ok {
				return
			}
			// The store's bound selects every due case.
			if bound := dsar.RetentionClosedBefore(tc.ctrl, due.StartIn(tc.ctrl.Location)); !tc.closed.Before(bound) {
				t.Errorf("closed %s is not before the store's bound %s on the due date", tc.closed, bound)
			}
			c := &dsar.Case{Request: r, Controller: tc.ctrl}
			if _, err := dsar.PlanRemoval(c, dsar.PersonalDataHeld{}, due.StartIn(tc.ctrl.Location).Add(-time.Second)); dsar.ErrorMessage(err) != "error.retention.not_due" {
				t.Errorf("a second before the due date: %v", err)
			}
			if _, err := dsar.PlanRemoval(c, dsar.PersonalDataHeld{}, due.StartIn(tc.ctrl.Location)); err != nil {
				t.Errorf("on the due date: %v", err)
			}
		})
	}
}

// Redacting an event takes its client address, reason and free texts and
// keeps the rest; the seal covers what is left, so a change to it shows.
func TestRedactEventAndSeal(t *testing.T) {
	ev := &dsar.Event{RequestID: "r1", At: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC), Actor: "user:kari", ClientIP: "192.0.2.7",
		Kind: dsar.EventPartiallyRefused, From: dsar.StatusInProgress, To: dsar.StatusInProgress, Reason: "Ola's readings",
		Data: map[string]string{"ground": "art15_4", "part": "Ola's readings", "granted": "Kari's"}}
	ev.Seq, ev.PrevHash = 1, dsar.AuditGenesis
	ev.Hash = dsar.EventHash(ev.PrevHash, ev, ev.Seq)
	red, ok := dsar.RedactEvent(ev)
	if !ok {
		t.Fatal("nothing to redact")
	}
	want := *ev
	want.ClientIP, want.Reason, want.Data = "", "", map[string]string{"ground": "art15_4"}
	if diff := cmp.Diff(&want, red); diff != "" {
		t.Errorf("redacted (-want +got):\n%s", diff)
	}
	if _, ok := dsar.RedactEvent(red); ok {
		t.Error("a redacted event is redacted again")
	}
	plain := &dsar.Event{RequestID: "r1", Kind: dsar.EventMailSent, Data: map[string]string{"template": "completion"}}
	if got, ok := dsar.RedactEvent(plain); ok || got != plain {
		t.Error("an event without personal data was redacted")
	}
	seal := dsar.AuditSeal([]*dsar.Event{ev})
	if got := dsar.AuditSeal([]*dsar.Event{red}); got != seal {
		t.Error("the seal of the redacted event differs from the seal made before redacting it")
	}
	changed := *red
	changed.Actor = "user:ola"
	if dsar.AuditSeal([]*dsar.Event{&changed}) == seal {
		t.Error("the seal does not cover the actor")
	}
}

// A trail that no longer matches its hashes is never sealed: the removal
// waits until someone has looked into it.
func TestRemovalRefusesATamperedTrail(t *testing.T) {
	c := newCase(t, dsar.TypeAccess, "nte", true)
	closed := time.Date(2020, time.March, 14, 11, 0, 0, 0, time.UTC)
	c.Request.Status, c.Request.ClosedAt = dsar.StatusCompleted, &closed
	c.Request.Agent = &dsar.Agent{Name: "Privacy Helpers LLC", Email: "requests@privacyhelpers.example", Relationship: "registered business", Proof: "4471"}
	ev := &dsar.Event{ID: 7, RequestID: c.Request.ID, At: closed, Actor: "user:kari", ClientIP: "198.51.100.4", Kind: dsar.EventTransition,
		Reason: "Sent Ola everything.", Seq: 1, PrevHash: dsar.AuditGenesis}
	ev.Hash = dsar.EventHash(ev.PrevHash, ev, ev.Seq)
	env := testEnv()
	env.Now = closed.AddDate(4, 0, 0)
	eff, err := dsar.RemovePersonalData(env, c, dsar.PersonalDataHeld{Events: []*dsar.Event{ev}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{7}, eff.RedactEvents); diff != "" {
		t.Errorf("redacted events (-want +got):\n%s", diff)
	}
	if eff.Request.Agent != nil {
		t.Errorf("the authorised agent was kept: %+v", eff.Request.Agent)
	}
	if last := eff.Events[len(eff.Events)-1]; last.Data["audit_seal"] != dsar.AuditSeal([]*dsar.Event{ev}) {
		t.Errorf("the removal's event carries the seal %q", last.Data["audit_seal"])
	}
	ev.Reason = "Sent Kari everything."
	if _, err := dsar.RemovePersonalData(env, c, dsar.PersonalDataHeld{Events: []*dsar.Event{ev}}); dsar.ErrorMessage(err) != "error.retention.audit_changed" {
		t.Errorf("a changed event: %v", err)
	}
}
