package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

func TestSignInLockoutAndSessions(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	users := store.NewUsers(storetest.Open(t, clock))
	if _, err := users.Create(ctx, "Kari@Example.no", "short", dsar.RoleOfficer, nil); dsar.ErrorCode(err) != dsar.EINVALID || len(err.(*dsar.Error).Fields) != 2 {
		t.Fatalf("a short password and no controller: %v", err)
	}
	u, err := users.Create(ctx, "Kari@Example.no", "correct horse battery", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "kari@example.no" || u.Actor().Controllers[0] != "nte" {
		t.Errorf("user %+v", u)
	}
	if _, err := users.Create(ctx, "kari@example.no", "another long password", dsar.RoleAuditor, []string{"nte"}); dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("a second account with the same e-mail: %v", err)
	}
	if _, _, err := users.SignIn(ctx, "nobody@example.no", "correct horse battery"); dsar.ErrorMessage(err) != "error.signin" {
		t.Errorf("unknown user: %v", err)
	}
	for i := 1; i < store.MaxFailedLogins; i++ {
		if _, _, err := users.SignIn(ctx, "kari@example.no", "wrong"); dsar.ErrorMessage(err) != "error.signin" {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	users.SignIn(ctx, "kari@example.no", "wrong") // the fifth locks
	if _, _, err := users.SignIn(ctx, "kari@example.no", "correct horse battery"); dsar.ErrorMessage(err) != "error.signin_locked" {
		t.Fatalf("the right password while locked: %v", err)
	}
	clock.Advance(store.LockoutTime + time.Second)
	_, token, err := users.SignIn(ctx, "kari@example.no", "correct horse battery")
	if err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	if got, err := users.Session(ctx, token); err != nil || got.ID != u.ID {
		t.Fatalf("session: %v", err)
	}
	_, other, err := users.SignIn(ctx, "kari@example.no", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := users.ChangePassword(ctx, u.ID, "wrong", "a brand new password", token); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("change with a wrong old password: %v", err)
	}
	if err := users.ChangePassword(ctx, u.ID, "correct horse battery", "a brand new password", token); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Session(ctx, other); err == nil {
		t.Error("the other session survived the password change")
	}
	if _, err := users.Session(ctx, token); err != nil {
		t.Errorf("the session that changed the password ended: %v", err)
	}
	clock.Advance(store.SessionIdle + time.Minute)
	if _, err := users.Session(ctx, token); dsar.ErrorMessage(err) != "error.session_expired" {
		t.Errorf("an idle session: %v", err)
	}
	_, token, _ = users.SignIn(ctx, "kari@example.no", "a brand new password")
	if err := users.SignOut(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Session(ctx, token); err == nil {
		t.Error("a session outlived sign-out")
	}
}

func TestAssignNoteAndSearch(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	users, reqs, subjects := store.NewUsers(db), store.NewRequests(db), store.NewSubjects(db)
	kari, err := users.Create(ctx, "kari@nte.no", "officer password 123", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	per, err := users.Create(ctx, "per@proviso.no", "officer password 123", dsar.RoleOfficer, []string{"proviso"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Assign(ctx, admin, r.ID, per.ID); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("assigning an officer of another controller: %v", err)
	}
	got, err := reqs.Assign(ctx, kari.Actor(), r.ID, kari.ID)
	if err != nil || got.Assignee != kari.ID {
		t.Fatalf("assign: %v", err)
	}
	mine, err := reqs.List(ctx, kari.Actor(), dsar.RequestFilter{Assignee: kari.ID})
	if err != nil || len(mine.Requests) != 1 {
		t.Errorf("my cases: %v", err)
	}
	for _, q := range []string{r.Reference, strings.ToLower(r.Reference), "KARI@example.no"} {
		found, err := reqs.List(ctx, kari.Actor(), dsar.RequestFilter{Search: q})
		if err != nil || len(found.Requests) != 1 {
			t.Errorf("search %q: %d, %v", q, len(found.Requests), err)
		}
	}
	if _, err := reqs.Note(ctx, kari.Actor(), r.ID, "Called the customer; they confirmed by phone."); err != nil {
		t.Fatal(err)
	}
	all, _ := reqs.Messages(ctx, kari.Actor(), r.ID)
	forSubject, _ := subjects.SubjectMessages(ctx, r.ID)
	if len(all) != 1 || all[0].Kind != dsar.MessageNote || len(forSubject) != 0 {
		t.Errorf("notes: officer sees %d, subject sees %d", len(all), len(forSubject))
	}
}

func TestDuplicatesAreLinkedNotMerged(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	first, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	if first.DuplicateOf != "" {
		t.Fatalf("the first request is a duplicate of %q", first.DuplicateOf)
	}
	again := verifiedRequest("nte")
	again.Subject.Email = "KARI@example.no"
	second, err := reqs.Create(ctx, admin, again)
	if err != nil {
		t.Fatal(err)
	}
	if second.DuplicateOf != first.ID {
		t.Errorf("the same request again: duplicate of %q, want %q", second.DuplicateOf, first.ID)
	}
	if got, _ := reqs.Get(ctx, admin, second.ID); got.DuplicateOf != first.ID {
		t.Errorf("stored duplicate_of %q", got.DuplicateOf)
	}
	other := verifiedRequest("nte")
	other.Type = dsar.TypeErasure
	if r, _ := reqs.Create(ctx, admin, other); r.DuplicateOf != "" {
		t.Errorf("another type is flagged as a duplicate")
	}
	if r, _ := reqs.Create(ctx, admin, verifiedRequest("proviso")); r.DuplicateOf != "" {
		t.Errorf("another controller is flagged as a duplicate")
	}
	for _, id := range []string{first.ID, second.ID} {
		storetest.Ready(t, db, id)
		if _, err := reqs.Complete(ctx, admin, id, dsar.Decision{Summary: "Sent the copy."}); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := reqs.Create(ctx, admin, verifiedRequest("nte")); r.DuplicateOf != "" {
		t.Errorf("a request after the first was closed is flagged (a yearly repeat is never excessive)")
	}
}

func TestNoticeFilter(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	reqs := store.NewRequests(storetest.Open(t, clock))
	a, err := reqs.Create(ctx, admin, verifiedRequest("nte")) // notice by Monday 7 April
	if err != nil {
		t.Fatal(err)
	}
	b, err := reqs.Create(ctx, admin, verifiedRequest("intility"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Extend(ctx, admin, b.ID, "complex"); err != nil {
		t.Fatal(err)
	}
	count := func(before dsar.Date) int {
		page, err := reqs.List(ctx, admin, dsar.RequestFilter{NoticeBefore: &before})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Requests)
	}
	if n := count(dsar.NewDate(2025, time.April, 7)); n != 0 {
		t.Errorf("before 7 April: %d cases", n)
	}
	if n := count(dsar.NewDate(2025, time.April, 8)); n != 1 {
		t.Errorf("before 8 April: %d cases, want %s only (the other is extended)", n, a.Reference)
	}
}

// An admin disables an officer who left, changes a role, resets a lost
// password: each takes effect at once, sessions included.
func TestAdministerUsers(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	db := storetest.Open(t, clock)
	users, reqs := store.NewUsers(db), store.NewRequests(db)
	kari, err := users.Create(ctx, "kari@nte.no", "correct horse battery", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	ola, err := users.Create(ctx, "ola@nte.no", "another long password", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Assign(ctx, admin, r.ID, kari.ID); err != nil {
		t.Fatal(err)
	}
	_, token, err := users.SignIn(ctx, "kari@nte.no", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := users.SetDisabled(ctx, "nobody@nte.no", true); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("disabling an unknown user: %v", err)
	}
	u, err := users.SetDisabled(ctx, "KARI@nte.no ", true)
	if err != nil || u.DisabledAt == nil || !u.DisabledAt.Equal(clock.Now()) {
		t.Fatalf("disable: %+v %v", u, err)
	}
	if _, err := users.Session(ctx, token); err == nil {
		t.Error("a session of a disabled user still works")
	}
	if _, _, err := users.SignIn(ctx, "kari@nte.no", "correct horse battery"); dsar.ErrorMessage(err) != "error.signin" {
		t.Errorf("a disabled user signs in: %v", err)
	}
	if w, _ := users.Workers(ctx, []string{"nte"}); len(w) != 1 || w[0].ID != ola.ID {
		t.Errorf("workers of nte: %v", w)
	}
	// Her case's reminders go to the controller's other officers.
	if to, _ := users.ReminderRecipients(ctx, "nte", kari.ID, false); len(to) != 1 || to[0] != "ola@nte.no" {
		t.Errorf("reminders of a disabled assignee's case go to %v", to)
	}
	if _, err := reqs.Assign(ctx, admin, r.ID, kari.ID); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("assigning a disabled user: %v", err)
	}
	clock.Advance(time.Hour)
	if u, err := users.SetDisabled(ctx, "kari@nte.no", true); err != nil || !u.DisabledAt.Equal(clock.Now().Add(-time.Hour)) {
		t.Errorf("disabling twice moves the date: %+v %v", u, err)
	}
	if u, err := users.SetDisabled(ctx, "kari@nte.no", false); err != nil || u.DisabledAt != nil {
		t.Fatalf("enable: %+v %v", u, err)
	}
	_, token, err = users.SignIn(ctx, "kari@nte.no", "correct horse battery")
	if err != nil {
		t.Fatalf("sign-in after enabling: %v", err)
	}

	// A new role ends the sessions of the old one.
	if _, _, err := users.Update(ctx, "kari@nte.no", "boss", []string{"acme"}); dsar.ErrorCode(err) != dsar.EINVALID || len(err.(*dsar.Error).Fields) != 2 {
		t.Errorf("a bad role and controller: %v", err)
	}
	before, after, err := users.Update(ctx, "kari@nte.no", dsar.RoleAuditor, []string{"proviso", "nte", "proviso"})
	if err != nil || before.Role != dsar.RoleOfficer || after.Role != dsar.RoleAuditor || strings.Join(after.Controllers, ",") != "nte,proviso" {
		t.Fatalf("update: %+v → %+v, %v", before, after, err)
	}
	if _, err := users.Session(ctx, token); err == nil {
		t.Error("a session survived the change of role")
	}

	// A reset password unlocks the account and ends its sessions.
	_, token, _ = users.SignIn(ctx, "kari@nte.no", "correct horse battery")
	for i := 0; i < store.MaxFailedLogins; i++ {
		users.SignIn(ctx, "kari@nte.no", "wrong")
	}
	if _, err := users.ResetPassword(ctx, "kari@nte.no", "short"); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("a short reset password: %v", err)
	}
	if _, err := users.ResetPassword(ctx, "kari@nte.no", "a password from the admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Session(ctx, token); err == nil {
		t.Error("a session survived the password reset")
	}
	if _, _, err := users.SignIn(ctx, "kari@nte.no", "correct horse battery"); err == nil {
		t.Error("the old password still works")
	}
	if _, _, err := users.SignIn(ctx, "kari@nte.no", "a password from the admin"); err != nil {
		t.Errorf("the reset password (the account was locked): %v", err)
	}
	list, err := users.List(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "kari@nte.no" || list[1].Email != "ola@nte.no" {
		t.Errorf("list: %v %v", list, err)
	}
}
