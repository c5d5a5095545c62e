package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/mail"
)

// The local mailbox of the embedded default is a page for signed-in
// administrators.
func TestMailboxPage(t *testing.T) {
	p, db := newPageClient(t)
	users := store.NewUsers(db)
	if _, err := users.Create(context.Background(), "admin@example.no", "admin password 123", dsar.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(context.Background(), "kari@nte.no", "officer password 123", dsar.RoleOfficer, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	if err := p.box.Send(context.Background(), &mail.Message{ID: "m1@dsar.test", From: "NTE <dsar@dsar.test>", To: []string{"kari@example.no"},
		Subject: "Bekreft <forespørselen>", Text: "Koden din er 123456.", Date: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.get("/mailbox"); code != http.StatusSeeOther {
		t.Errorf("signed out: %d", code)
	}
	p.signIn("kari@nte.no", "officer password 123")
	if code, _ := p.get("/mailbox"); code != http.StatusForbidden {
		t.Errorf("an officer: %d", code)
	}
	p.signIn("admin@example.no", "admin password 123")
	code, page := p.get("/mailbox")
	if code != http.StatusOK || !strings.Contains(page, "kari@example.no") || !strings.Contains(page, "Bekreft &lt;forespørselen&gt;") {
		t.Fatalf("list: %d\n%s", code, page)
	}
	code, page = p.get("/mailbox/m1@dsar.test.eml")
	if code != http.StatusOK || !strings.Contains(page, "Koden din er 123456.") {
		t.Errorf("one message: %d", code)
	}
	if code, _ := p.get("/mailbox/..%2Fsecret.key"); code != http.StatusNotFound {
		t.Errorf("outside the mailbox: %d", code)
	}
}
