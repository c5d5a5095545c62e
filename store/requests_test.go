package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

var (
	ctx     = context.Background()
	admin   = dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	nteOff  = dsar.Actor{ID: "apikey:nte", Role: dsar.RoleOfficer, Controllers: []string{"nte"}}
	oslo, _ = time.LoadLocation("Europe/Oslo")
)

// at returns an instant in Oslo.
func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, oslo) }

func newRequest(ctrl string) dsar.NewRequest {
	return dsar.NewRequest{Type: dsar.TypeAccess, Controller: ctrl, Subject: dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann"}}
}

// verifiedRequest is a request from a system that has authenticated the subject.
func verifiedRequest(ctrl string) dsar.NewRequest {
	in := newRequest(ctrl)
	in.Verified, in.VerificationMethod = true, "customer portal login"
	return in
}

func TestCreateWritesCaseEventAndOutboxTogether(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.April, 17, 10, 0))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)

	r, err := reqs.Create(ctx, dsar.ActorPublic, newRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	// 17 Apr 2025 + 1 month = Saturday 17 May (also Constitution Day) -> Monday 19 May.
	if got, want := r.DueDate.String(), "2025-05-19"; got != want {
		t.Errorf("due date = %s, want %s", got, want)
	}
	if got, want := r.Deadline.Format(time.RFC3339), "2025-05-19T23:59:59+02:00"; got != want {
		t.Errorf("deadline = %s, want %s", got, want)
	}
	if r.Status != dsar.StatusAwaitingVerification || r.Channel != dsar.ChannelWeb || r.Regulation != dsar.RegulationGDPR || r.Language != dsar.LanguageNB {
		t.Errorf("defaults: status %s channel %s regulation %s language %s", r.Status, r.Channel, r.Regulation, r.Language)
	}
	if len(r.Reference) != 9 || r.Reference[4] != '-' {
		t.Errorf("reference %q is not of the form XXXX-XXXX", r.Reference)
	}
	got, err := reqs.Get(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("Get differs from Create (-create +get):\n%s", diff)
	}
	evs, err := reqs.Events(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Kind != dsar.EventCreated || evs[0].Actor != "public" || evs[0].To != dsar.StatusReceived ||
		evs[1].From != dsar.StatusReceived || evs[1].To != dsar.StatusAwaitingVerification {
		t.Fatalf("events = %+v, want created, then received -> awaiting_verification", evs)
	}
	// The verification mail is due now, and it is the only row intake
	// writes: the 7d, 2d and overdue reminders are planned from the
	// deadline when their time comes.
	due, err := store.NewOutbox(db).Due(ctx, r.Deadline.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Kind != dsar.OutboxMail || !strings.Contains(string(due[0].Payload), `"verification"`) {
		t.Fatalf("outbox items after intake = %d, want the verification mail only", len(due))
	}
	if r.WakeAt == nil || !r.WakeAt.Equal(r.CreatedAt.Add(24*time.Hour)) {
		t.Errorf("next timer at %v, want the 24-hour verification reminder", r.WakeAt)
	}
	if _, err := db.PlanTimers(ctx, r.Deadline.Add(time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	later, err := store.NewOutbox(db).Due(ctx, r.Deadline.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var reminders []string
	for _, it := range later {
		if it.Kind == dsar.OutboxReminder {
			var p dsar.ReminderPayload
			if err := json.Unmarshal(it.Payload, &p); err != nil {
				t.Fatal(err)
			}
			reminders = append(reminders, p.Reminder+"@"+it.RunAt.In(oslo).Format("2006-01-02T15:04"))
		}
	}
	want := []string{"7d@2025-05-12T09:00", "2d@2025-05-17T09:00", "overdue@2025-05-20T00:00"}
	if diff := cmp.Diff(want, reminders); diff != "" {
		t.Errorf("reminders (-want +got):\n%s", diff)
	}
}

func TestCreateRefusesBadInputAndWritesNothing(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	future := clock.Now().Add(time.Hour)
	tests := []struct {
		name   string
		actor  dsar.Actor
		in     dsar.NewRequest
		code   string
		fields []string
	}{
		{"empty", dsar.ActorPublic, dsar.NewRequest{}, dsar.EINVALID, []string{"type", "subject.email", "controller"}},
		{"bad email and type", dsar.ActorPublic, dsar.NewRequest{Type: "forget-me", Controller: "nte", Subject: dsar.Subject{Email: "kari@"}}, dsar.EINVALID, []string{"type", "subject.email"}},
		{"unknown controller", dsar.ActorPublic, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "acme", Subject: dsar.Subject{Email: "a@b.no"}}, dsar.EUNPROCESSABLE, []string{"controller"}},
		{"public may not backdate", dsar.ActorPublic, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "a@b.no"}, ReceivedAt: &future, Channel: dsar.ChannelLetter}, dsar.EINVALID, []string{"channel", "received_at"}},
		{"no receipt in the future", admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "a@b.no"}, ReceivedAt: &future}, dsar.EINVALID, []string{"received_at"}},
		{"ccpa not allowed for nte", admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "a@b.no"}, Regulation: dsar.RegulationCCPA}, dsar.EINVALID, []string{"regulation"}},
		{"officer of another controller", nteOff, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "intility", Subject: dsar.Subject{Email: "a@b.no"}}, dsar.EFORBIDDEN, nil},
		{"auditor changes nothing", dsar.Actor{ID: "apikey:aud", Role: dsar.RoleAuditor, Controllers: []string{"nte"}}, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "a@b.no"}}, dsar.EFORBIDDEN, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reqs.Create(ctx, tt.actor, tt.in)
			if got := dsar.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			var fields []string
			if de, ok := err.(*dsar.Error); ok {
				for _, f := range de.Fields {
					fields = append(fields, f.Field)
				}
			}
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	page, err := reqs.List(ctx, admin, dsar.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.NewOutbox(db).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Requests) != 0 || len(n) != 0 {
		t.Errorf("refused input left %d requests and outbox %v behind", len(page.Requests), n)
	}
}

func TestBackdatedLetterCountsFromItsReceipt(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.February, 10, 9, 0))
	reqs := store.NewRequests(storetest.Open(t, clock))
	received := at(2025, time.January, 31, 16, 0)
	in := newRequest("nte")
	in.ReceivedAt, in.Channel = &received, dsar.ChannelLetter
	r, err := reqs.Create(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	// 31 Jan + 1 month = 28 Feb 2025 (no 31 Feb), a Friday.
	if r.DueDate.String() != "2025-02-28" || r.Channel != dsar.ChannelLetter || !r.ReceivedAt.Equal(received) {
		t.Errorf("got due %s channel %s received %s", r.DueDate, r.Channel, r.ReceivedAt)
	}
}

func TestExtendOnceBeforeTheDeadline(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	reqs := store.NewRequests(storetest.Open(t, clock))
	r, err := reqs.Create(ctx, admin, newRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Extend(ctx, admin, r.ID, "  "); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Fatalf("extend without reason: %v, want invalid", err)
	}
	if _, err := reqs.Extend(ctx, nteOff, r.ID, "many systems"); err != nil {
		t.Fatalf("officer of nte extends: %v", err)
	}
	got, err := reqs.Get(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	// 5 Mar + 3 months = Thursday 5 June 2025.
	if !got.Extended || got.DueDate.String() != "2025-06-05" || got.ExtensionReason != "many systems" || got.ExtensionNoticeBy.String() != "2025-04-07" {
		t.Errorf("after extension: extended %v due %s reason %q notice-by %s", got.Extended, got.DueDate, got.ExtensionReason, got.ExtensionNoticeBy)
	}
	if _, err := reqs.Extend(ctx, admin, r.ID, "again"); dsar.ErrorMessage(err) != "error.extend.already_extended" {
		t.Errorf("second extension: %v", err)
	}
	evs, _ := reqs.Events(ctx, admin, r.ID)
	last := evs[len(evs)-1]
	if last.Kind != dsar.EventExtended || last.Reason != "many systems" || last.Data["old_due_date"] != "2025-04-07" || last.Actor != nteOff.ID {
		t.Errorf("extension event = %+v", last)
	}

	// Another request, extended too late: 5 Mar + 1 month = Saturday 5 Apr -> Monday 7 Apr 2025.
	late, err := reqs.Create(ctx, admin, newRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(at(2025, time.April, 8, 0, 0))
	if _, err := reqs.Extend(ctx, admin, late.ID, "too late"); dsar.ErrorMessage(err) != "error.extend.past_deadline" || dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("extension after the deadline: %v", err)
	}
}

func TestPauseMovesTheDeadlineByWholeLocalDays(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	r, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Resume(ctx, admin, r.ID); dsar.ErrorMessage(err) != "error.pause.not_paused" {
		t.Fatalf("resume without pause: %v", err)
	}
	clock.Set(at(2025, time.March, 10, 23, 30))
	p, err := reqs.Pause(ctx, admin, r.ID, dsar.PauseIdentity, "please send proof")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != dsar.StatusAwaitingSubject || p.PausedAt == nil {
		t.Fatalf("paused: status %s paused_at %v", p.Status, p.PausedAt)
	}
	if _, err := reqs.Pause(ctx, admin, r.ID, dsar.PauseClarification, ""); dsar.ErrorMessage(err) != "error.pause.already_paused" {
		t.Errorf("second pause: %v", err)
	}
	// Paused on 10 Mar (local), resumed on 13 Mar: 3 days. 5 Apr + 3 = Tuesday 8 Apr.
	clock.Set(at(2025, time.March, 13, 0, 30))
	got, err := reqs.Resume(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != dsar.StatusInProgress || got.PausedDays != 3 || got.DueDate.String() != "2025-04-08" || got.PausedAt != nil {
		t.Errorf("resumed: status %s paused days %d due %s", got.Status, got.PausedDays, got.DueDate)
	}
	evs, _ := reqs.Events(ctx, admin, r.ID)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, fmt.Sprintf("%s:%s->%s", e.Kind, e.From, e.To))
	}
	want := []string{"created:->received", "transition:received->in_progress", "paused:in_progress->awaiting_subject", "resumed:awaiting_subject->in_progress"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if evs[3].Data["paused_days"] != "3" || evs[3].Data["new_due_date"] != "2025-04-08" {
		t.Errorf("resume event data = %v", evs[3].Data)
	}
	// The reminders of the old deadline were cancelled and new ones planned.
	later, err := store.NewOutbox(db).Due(ctx, got.Deadline.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range later {
		if it.Kind != dsar.OutboxReminder {
			continue
		}
		var pl dsar.ReminderPayload
		_ = json.Unmarshal(it.Payload, &pl)
		if !pl.Deadline.Equal(got.Deadline) {
			t.Errorf("a pending reminder still aims at the old deadline %s", pl.Deadline)
		}
	}
}

func TestCCPAPauseDoesNotStopTheClock(t *testing.T) {
	clock := dsar.NewManualClock(time.Date(2025, time.March, 3, 10, 0, 0, 0, time.UTC))
	reqs := store.NewRequests(storetest.Open(t, clock))
	in := newRequest("keto-diets")
	in.Regulation = dsar.RegulationCCPA
	r, err := reqs.Create(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Pause(ctx, admin, r.ID, dsar.PauseClarification, ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * 24 * time.Hour)
	got, err := reqs.Resume(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DueDate != r.DueDate || got.PausedDays != 0 {
		t.Errorf("CCPA pause moved the due date from %s to %s (%d days)", r.DueDate, got.DueDate, got.PausedDays)
	}
}

func TestOfficersSeeOnlyTheirControllers(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	reqs := store.NewRequests(storetest.Open(t, clock))
	other, err := reqs.Create(ctx, admin, newRequest("intility"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Get(ctx, nteOff, other.ID); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("officer of nte reads an intility case: %v", err)
	}
	if _, err := reqs.Events(ctx, nteOff, other.ID); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("officer of nte reads an intility trail: %v", err)
	}
	if _, err := reqs.Extend(ctx, nteOff, other.ID, "x"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("officer of nte extends an intility case: %v", err)
	}
	page, err := reqs.List(ctx, nteOff, dsar.RequestFilter{Controller: []string{"intility"}})
	if err != nil || len(page.Requests) != 0 {
		t.Errorf("officer of nte lists intility: %d cases, %v", len(page.Requests), err)
	}
	auditor := dsar.Actor{ID: "apikey:aud", Role: dsar.RoleAuditor, Controllers: []string{"intility"}}
	if _, err := reqs.Get(ctx, auditor, other.ID); err != nil {
		t.Errorf("auditor reads: %v", err)
	}
	if _, err := reqs.Extend(ctx, auditor, other.ID, "x"); dsar.ErrorCode(err) != dsar.EFORBIDDEN {
		t.Errorf("auditor extends: %v", err)
	}
}

func TestListFiltersSortsAndPages(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 1, 12, 0))
	reqs := store.NewRequests(storetest.Open(t, clock))
	var ids []string
	for i := 0; i < 7; i++ {
		received := at(2025, time.January, 20+i, 12, 0)
		in := newRequest([]string{"nte", "intility"}[i%2])
		in.ReceivedAt = &received
		if i == 3 {
			in.Type = dsar.TypeErasure
		}
		r, err := reqs.Create(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	// Walk all pages of two.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := reqs.List(ctx, admin, dsar.RequestFilter{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Requests {
			seen = append(seen, r.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if diff := cmp.Diff(ids, seen); diff != "" {
		t.Errorf("deadline order over pages (-want +got):\n%s", diff)
	}
	check := func(name string, f dsar.RequestFilter, want ...int) {
		t.Helper()
		page, err := reqs.List(ctx, admin, f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []int
		for _, r := range page.Requests {
			for i, id := range ids {
				if id == r.ID {
					got = append(got, i)
				}
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	yes := true
	before, after := dsar.NewDate(2025, time.February, 24), dsar.NewDate(2025, time.February, 20)
	check("controller", dsar.RequestFilter{Controller: []string{"intility"}}, 1, 3, 5)
	check("type", dsar.RequestFilter{Type: []dsar.RequestType{dsar.TypeErasure}}, 3)
	// Received 20..26 Jan: due 20 and 21 Feb, 24 Feb (22nd is a Saturday, 23rd a
	// Sunday), 24 Feb (Sunday 23rd rolled), 24, 25 and 26 Feb: all overdue on 1 Mar.
	check("overdue", dsar.RequestFilter{Overdue: &yes}, 0, 1, 2, 3, 4, 5, 6)
	check("due window", dsar.RequestFilter{DueBefore: &before, DueAfter: &after}, 1)
	check("newest first", dsar.RequestFilter{Sort: "-received_at", Limit: 3}, 6, 5, 4)
	if _, err := reqs.List(ctx, admin, dsar.RequestFilter{Cursor: "garbage"}); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestAuditTrailIsAppendOnly(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, clock)
	r, err := store.NewRequests(db).Create(ctx, admin, newRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close() // SQLite: let the raw connection write
	if err := storetest.Exec(t, url, "UPDATE request_events SET reason = 'x' WHERE request_id = ?", r.ID); err == nil {
		t.Error("an audit event was changed")
	}
	if err := storetest.Exec(t, url, "DELETE FROM request_events WHERE request_id = ?", r.ID); err == nil {
		t.Error("an audit event was deleted")
	}
	if err := storetest.Exec(t, url, "UPDATE requests SET details = 'x' WHERE id = ?", r.ID); err != nil {
		t.Errorf("the raw connection cannot write at all, so the checks above prove nothing: %v", err)
	}
}

func TestRevokedKeyStopsWorking(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	keys, other := store.NewAPIKeys(db), store.NewAPIKeys(db) // two serve processes
	k, secret, err := keys.Create(ctx, "crm", dsar.RoleSystem, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*store.APIKeys{keys, other} {
		if got, err := s.Authenticate(ctx, secret); err != nil || got.ID != k.ID {
			t.Fatalf("authenticate: %v", err)
		}
	}
	if _, err := keys.Authenticate(ctx, secret+"x"); dsar.ErrorCode(err) != dsar.EUNAUTHORIZED {
		t.Errorf("a wrong secret: %v", err)
	}
	if err := keys.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Authenticate(ctx, secret); dsar.ErrorCode(err) != dsar.EUNAUTHORIZED {
		t.Errorf("the revoking process still accepts the key: %v", err)
	}
	// The other process forgets the key within store.KeyCacheTTL.
	clock.Advance(store.KeyCacheTTL + time.Second)
	if _, err := other.Authenticate(ctx, secret); dsar.ErrorCode(err) != dsar.EUNAUTHORIZED {
		t.Errorf("another process accepts a revoked key after the cache time: %v", err)
	}
}

// TestListReadsWhatGetReads: the listing scans its columns by position, so
// a case with every field set must come out of List exactly as Get reads it.
func TestListReadsWhatGetReads(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 3, 9, 30))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	users := store.NewUsers(db)
	officer, err := users.Create(ctx, "ola@nte.example", "a long enough password", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	in := verifiedRequest("nte")
	in.Subject.Phone, in.Subject.CustomerID, in.Details = "+47 900 00 000", "K-1", "Alt dere har om meg, også «fakturaer»."
	open, err := reqs.Create(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	steps := []func() (*dsar.Request, error){
		func() (*dsar.Request, error) { return reqs.Extend(ctx, admin, open.ID, "many systems") },
		func() (*dsar.Request, error) { return reqs.Assign(ctx, admin, open.ID, officer.ID) },
		func() (*dsar.Request, error) {
			return reqs.Ask(ctx, admin, open.ID, dsar.MessageClarification, "Which accounts?")
		},
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	erasure := verifiedRequest("nte")
	erasure.Type = dsar.TypeErasure
	closed, err := reqs.Create(ctx, admin, erasure)
	if err != nil {
		t.Fatal(err)
	}
	dup, err := reqs.Create(ctx, admin, erasure)
	if err != nil {
		t.Fatal(err)
	}
	// Approved with every system left out, the case has nothing to wait
	// for and completes at once.
	plan, err := reqs.Plan(ctx, admin, closed.ID)
	if err != nil {
		t.Fatal(err)
	}
	leaveOut := map[string]string{}
	for _, task := range append(plan.Tasks, plan.Notify...) {
		leaveOut[task.Target()] = "Erased at the counter."
	}
	if _, err := reqs.Approve(ctx, admin, closed.ID, "scope checked", leaveOut); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{open.ID, closed.ID, dup.ID} {
		want, err := reqs.Get(ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		page, err := reqs.List(ctx, admin, dsar.RequestFilter{Search: want.Reference})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Requests) != 1 {
			t.Fatalf("search %s: %d requests", want.Reference, len(page.Requests))
		}
		if diff := cmp.Diff(want, page.Requests[0]); diff != "" {
			t.Errorf("List differs from Get (-get +list):\n%s", diff)
		}
	}
	// And all three in one page: nothing of one row may leak into the next.
	page, err := reqs.List(ctx, admin, dsar.RequestFilter{Sort: "received_at"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Requests) != 3 {
		t.Fatalf("listed %d requests, want 3", len(page.Requests))
	}
	for _, r := range page.Requests {
		want, _ := reqs.Get(ctx, admin, r.ID)
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("List of all differs from Get (-get +list):\n%s", diff)
		}
	}
	got, _ := reqs.Get(ctx, admin, open.ID)
	if got.PausedAt == nil || !got.Extended || got.Assignee != officer.ID || got.VerifiedAt == nil || got.Subject.Phone == "" {
		t.Errorf("the open case does not have every field set: %+v", got)
	}
	if got, _ := reqs.Get(ctx, admin, closed.ID); got.ApprovedAt == nil || got.ApprovedBy != admin.ID || got.Status != dsar.StatusCompleted {
		t.Errorf("the closed case is not approved and completed: %v %q %s", got.ApprovedAt, got.ApprovedBy, got.Status)
	}
	if got, _ := reqs.Get(ctx, admin, dup.ID); got.DuplicateOf != closed.ID {
		t.Errorf("duplicate_of = %q, want %q", got.DuplicateOf, closed.ID)
	}
}

// The planner writes each due timer once, however often it runs and
// however many workers run it, and takes a backlog larger than one batch
// in one call.
func TestPlanTimersOnceAndWholeBacklog(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	const n = 520 // more than one batch of 500
	for i := 0; i < n; i++ {
		in := verifiedRequest("nte")
		in.Subject.Email = fmt.Sprintf("k%d@example.no", i)
		if _, err := reqs.Create(ctx, admin, in); err != nil {
			t.Fatal(err)
		}
	}
	// 31 March 09:00 Oslo: every case's 7-day reminder (due 7 April) is due.
	when := at(2025, time.March, 31, 9, 0)
	got, err := db.PlanTimers(ctx, when, time.Minute)
	if err != nil || got != n {
		t.Fatalf("planned %d (%v), want %d", got, err, n)
	}
	if again, err := db.PlanTimers(ctx, when, time.Minute); err != nil || again != 0 {
		t.Fatalf("a second planning wrote %d (%v)", again, err)
	}
	due, err := store.NewOutbox(db).Due(ctx, when, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	reminders := 0
	for _, it := range due {
		if it.Kind == dsar.OutboxReminder {
			reminders++
		}
	}
	if reminders != n {
		t.Errorf("%d reminders due, want %d", reminders, n)
	}
}

// TestVisible: Visible answers as Get does, without reading the case: nil
// for an actor who sees the case, ENOTFOUND for an officer of another
// controller and for a case that is not there.
func TestVisible(t *testing.T) {
	db := storetest.Open(t, dsar.NewManualClock(at(2025, time.March, 3, 9, 30)))
	reqs := store.NewRequests(db)
	r, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		actor dsar.Actor
		id    string
		want  string
	}{
		{admin, r.ID, ""},
		{dsar.Actor{ID: "user:nte", Role: dsar.RoleOfficer, Controllers: []string{"nte"}}, r.ID, ""},
		{dsar.Actor{ID: "user:keto", Role: dsar.RoleOfficer, Controllers: []string{"keto-diets"}}, r.ID, dsar.ENOTFOUND},
		{admin, "no-such-case", dsar.ENOTFOUND},
	} {
		err := reqs.Visible(ctx, tc.actor, tc.id)
		_, getErr := reqs.Get(ctx, tc.actor, tc.id)
		if got := dsar.ErrorCode(err); got != tc.want || got != dsar.ErrorCode(getErr) {
			t.Errorf("%s on %s: Visible %v, Get %v; want %q", tc.actor.ID, tc.id, err, getErr, tc.want)
		}
	}
}
