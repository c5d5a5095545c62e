package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// A key with scopes makes only the calls of its scopes, and those only as
// far as its role allows; a key without scopes is limited by its role.
func TestScopesLimitKeys(t *testing.T) {
	e := newIdemEnv(t)
	created := e.call(t, "POST", "/api/v1/requests", "portal", "", kariRequest)
	if created.status != http.StatusCreated {
		t.Fatalf("portal creates: %d %s", created.status, created.body)
	}
	id := strings.TrimPrefix(created.header.Get("Location"), "/api/v1/requests/")
	if a := e.call(t, "GET", "/api/v1/requests/"+id, "portal", "", ""); a.status != http.StatusOK {
		t.Errorf("portal reads: %d %s", a.status, a.body)
	}
	note := `{"body":"Ringt kunden."}`
	for _, c := range []struct {
		key, method, path, body string
		missing                 dsar.Scope // "" for allowed
	}{
		{"reader", "POST", "/api/v1/requests", kariRequest, dsar.ScopeRequestsCreate},
		{"reader", "GET", "/api/v1/requests/" + id, "", ""},
		{"reader", "POST", "/api/v1/requests/" + id + "/notes", note, dsar.ScopeCasesWrite},
		{"worker", "POST", "/api/v1/requests/" + id + "/notes", note, ""},
		{"crm", "POST", "/api/v1/requests/" + id + "/notes", note, ""}, // no scopes: its role decides
		{"worker", "POST", "/api/v1/suppression/check", `{"controller":"nte","email":"kari@example.no"}`, dsar.ScopeSuppressionCheck},
		{"portal", "GET", "/api/v1/requests/" + id + "/events", "", ""},
	} {
		a := e.call(t, c.method, c.path, c.key, "", c.body, "Accept-Language", "nb")
		if c.missing == "" {
			if a.status >= 400 {
				t.Errorf("%s %s %s: %d %s", c.key, c.method, c.path, a.status, a.body)
			}
			continue
		}
		code, title, _ := a.problem(t)
		if a.status != http.StatusForbidden || code != dsar.EFORBIDDEN || title != templates.T(dsar.LanguageNB, "error.scope_missing", map[string]any{"scope": string(c.missing)}) {
			t.Errorf("%s %s %s: %d %s, want 403 naming %s", c.key, c.method, c.path, a.status, a.body, c.missing)
		}
	}
	// Scopes never widen the role: a system key may still not change a case.
	if a := e.call(t, "POST", "/api/v1/requests/"+id+"/notes", "portal", "", note); a.status != http.StatusForbidden {
		t.Errorf("portal notes: %d %s", a.status, a.body)
	}
	// Completing a task with data attached needs exports:write; without, cases:write.
	done := "/api/v1/requests/" + id + "/tasks/01966c01-2a4b-7c3d-8e5f-0a1b2c3d4e5f/done"
	a := e.call(t, "POST", done, "worker", "", "--b\r\nContent-Disposition: form-data; name=\"evidence\"\r\n\r\nx\r\n--b--\r\n",
		"Content-Type", "multipart/form-data; boundary=b")
	if code, title, _ := a.problem(t); a.status != http.StatusForbidden || code != dsar.EFORBIDDEN || !strings.Contains(title, string(dsar.ScopeExportsWrite)) {
		t.Errorf("worker attaches data: %d %s", a.status, a.body)
	}
	if a := e.call(t, "POST", done, "worker", "", `{"evidence":"Gjort for hånd.","count":1}`); a.status == http.StatusForbidden {
		t.Errorf("worker completes a task without data: %d %s", a.status, a.body)
	}
}

// A key with requests:verified submits a request whose subject its system
// has authenticated: the case is in progress at once, its verification
// and its audit trail name the key and the method. A key without the scope
// is refused and nothing is made.
func TestPreVerifiedIntakeNeedsItsScope(t *testing.T) {
	e := newIdemEnv(t)
	body := `{"type":"access","controller":"nte","subject":{"email":"kari@example.no"},"verified":true,"verification_method":"BankID on Min side"}`
	a := e.call(t, "POST", "/api/v1/requests", "portal", "", body, "Accept-Language", "en")
	if _, _, fields := a.problem(t); a.status != http.StatusUnprocessableEntity || fields["verified"] != "field.scope_missing" {
		t.Errorf("portal without requests:verified: %d %s", a.status, a.body)
	}
	if !strings.Contains(string(a.body), string(dsar.ScopeRequestsVerified)) {
		t.Errorf("the refusal does not name the scope: %s", a.body)
	}
	if n := e.cases(t); n != 0 {
		t.Fatalf("%d cases after a refusal", n)
	}
	a = e.call(t, "POST", "/api/v1/requests", "trusted", "", body)
	var r struct {
		ID           string
		Status       string
		Verification struct{ By, Method string }
	}
	if err := json.Unmarshal(a.body, &r); err != nil || a.status != http.StatusCreated {
		t.Fatalf("trusted: %d %s", a.status, a.body)
	}
	by := "apikey:" + e.ids["trusted"]
	if r.Status != string(dsar.StatusInProgress) || r.Verification.By != by || r.Verification.Method != "BankID on Min side" {
		t.Errorf("trusted: %+v", r)
	}
	evs := e.call(t, "GET", "/api/v1/requests/"+r.ID+"/events", "trusted", "", "")
	var trail struct {
		Data []struct {
			Actor, Kind, To string
			Data            map[string]string
		}
	}
	if err := json.Unmarshal(evs.body, &trail); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range trail.Data {
		if ev.To == string(dsar.StatusInProgress) && ev.Actor == by && ev.Data["verified_by"] == by && ev.Data["method"] == "BankID on Min side" {
			found = true
		}
	}
	if !found {
		t.Errorf("no audited verification by the key: %s", evs.body)
	}
	// A key without scopes keeps what its role allowed before scopes.
	if a := e.call(t, "POST", "/api/v1/requests", "crm", "", body); a.status != http.StatusCreated {
		t.Errorf("a key without scopes: %d %s", a.status, a.body)
	}
}
