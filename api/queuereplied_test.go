package api_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// The queue marks a case whose subject answered until an officer works it;
// assigning the case is not working it.
func TestQueueMarksTheSubjectsReply(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	u := officer(t, db, "nte")
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Language: dsar.LanguageEN,
		Subject: dsar.Subject{Email: "a@example.no"}, Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Ask(ctx, u.Actor(), r.ID, dsar.MessageClarification, "Which account?"); err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	row := regexp.MustCompile(`<tr><td><a href="/cases/` + r.ID + `">.*</tr>`)
	marked := func() bool {
		t.Helper()
		code, page := p.get("/queue")
		if code != http.StatusOK {
			t.Fatalf("queue: %d", code)
		}
		line := row.FindString(page)
		if line == "" {
			t.Fatalf("the case is not in the queue:\n%s", page)
		}
		return regexp.MustCompile(`(?i)the subject replied|den registrerte har svart`).MatchString(line)
	}
	if marked() {
		t.Error("marked before the subject answered")
	}
	if _, err := store.NewSubjects(db).Reply(ctx, db.Keyring.Token(dsar.TokenStatus, r.ID), "The webshop.", nil, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if !marked() {
		t.Error("not marked after the subject answered")
	}
	if _, err := reqs.Assign(ctx, admin, r.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if !marked() {
		t.Error("assigning the case took the mark away")
	}
	if _, err := reqs.Note(ctx, u.Actor(), r.ID, "Read the answer."); err != nil {
		t.Fatal(err)
	}
	if marked() {
		t.Error("still marked after the officer worked the case")
	}
}
