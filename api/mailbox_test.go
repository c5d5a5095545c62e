package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows/mail"
)

// The local mailbox of the embedded default is a page for administrators.
func TestMailboxPage(t *testing.T) {
	db := storetest.Open(t, dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)))
	keys := store.NewAPIKeys(db)
	_, adminKey, err := keys.Create(context.Background(), "me", dsar.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, officerKey, err := keys.Create(context.Background(), "officer", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	box, err := mail.NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := box.Send(context.Background(), &mail.Message{ID: "m1@dsar.test", From: "NTE <dsar@dsar.test>", To: []string{"kari@example.no"},
		Subject: "Bekreft <forespørselen>", Text: "Koden din er 123456.", Date: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{APIKeys: keys, Controllers: db.Controllers, Clock: db.Clock, Mailbox: box, Log: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	get := func(path, password string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if password != "" {
			req.SetBasicAuth("admin", password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/mailbox", ""); code != http.StatusUnauthorized {
		t.Errorf("without a key: %d", code)
	}
	if code, _ := get("/mailbox", officerKey); code != http.StatusUnauthorized {
		t.Errorf("with an officer's key: %d", code)
	}
	code, page := get("/mailbox", adminKey)
	if code != http.StatusOK || !strings.Contains(page, "kari@example.no") || !strings.Contains(page, "Bekreft &lt;forespørselen&gt;") {
		t.Fatalf("list: %d\n%s", code, page)
	}
	code, page = get("/mailbox/m1@dsar.test.eml", adminKey)
	if code != http.StatusOK || !strings.Contains(page, "Koden din er 123456.") {
		t.Errorf("one message: %d", code)
	}
	if code, _ := get("/mailbox/..%2Fsecret.key", adminKey); code != http.StatusNotFound {
		t.Errorf("outside the mailbox: %d", code)
	}
}
