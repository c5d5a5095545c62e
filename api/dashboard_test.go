package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// The dashboard shows an officer the figures of their own controllers, the
// same as its JSON; anonymous visitors are sent to sign in, and a bad date
// comes back as the form with its message in the page's language.
func TestDashboardPageAndJSON(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	clock := db.Clock.(*dsar.ManualClock)
	u := officer(t, db, "nte")
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	mk := func(ctrl string, typ dsar.RequestType) *dsar.Request {
		t.Helper()
		r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: typ, Controller: ctrl, Subject: dsar.Subject{Email: "a@example.no"}, Verified: true, VerificationMethod: "portal"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// 5 March: nte gets an access request (answered on 10 March) and an
	// erasure request (open); proviso two portability requests, refused.
	done := mk("nte", dsar.TypeAccess)
	mk("nte", dsar.TypeErasure)
	pa, pb := mk("proviso", dsar.TypePortability), mk("proviso", dsar.TypePortability)
	clock.Advance(5 * 24 * time.Hour)
	storetest.Ready(t, db, done.ID)
	if _, err := reqs.Complete(ctx, admin, done.ID, dsar.Decision{Summary: "Sent."}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*dsar.Request{pa, pb} {
		if _, err := reqs.Refuse(ctx, admin, r.ID, dsar.Decision{Ground: dsar.GroundIdentity, Text: "Unknown."}); err != nil {
			t.Fatal(err)
		}
	}

	for _, path := range []string{"/dashboard", "/dashboard.json?from=2025-01-01"} {
		req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
		if code, _, h := p.do(req); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/signin?next=") {
			t.Errorf("%s signed out: %d %s", path, code, h.Get("Location"))
		}
	}
	p.signIn("kari@nte.no", "officer password 123")

	const query = "?from=2025-01-01&to=2025-03-31"
	code, page := p.get("/dashboard" + query)
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d\n%s", code, page)
	}
	want, err := db.Dashboard(ctx, u.Actor(), "", dsar.NewDate(2025, 1, 1), dsar.NewDate(2025, 3, 31))
	if err != nil {
		t.Fatal(err)
	}
	if want.ReceivedTotal != 2 || want.Answered != 1 || want.Open != 1 || len(want.Refusals) != 0 || !cmp.Equal(want.Controllers, []string{"nte"}) {
		t.Fatalf("the store's figures for the nte officer: %+v", want)
	}
	for _, s := range []string{
		`<option value="nte">Nord-Trøndelag Elektrisitetsverk AS</option>`,
		"Besvart (fullført eller avslått)</dt><dd>1</dd>",
		"Åpne</dt><dd>1</dd>",
		"<td>1</td><td>1</td><td>2</td></tr></tfoot>", // access 1, erasure 1, total 2
		`role="img"`,
		`href="/dashboard.json?from=2025-01-01&amp;to=2025-03-31"`,
		"Ingen avslag i perioden.",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("the dashboard does not show %q", s)
		}
	}
	for _, s := range []string{"proviso", "Dataportabilitet", "Vi kunne ikke bekrefte"} {
		if strings.Contains(page, s) {
			t.Errorf("the nte officer's dashboard shows %q", s)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, p.base+"/dashboard.json"+query, nil)
	code, body, h := p.do(req)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("dashboard.json: %d %s\n%s", code, h.Get("Content-Type"), body)
	}
	var got dsar.Dashboard
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("the JSON differs from the page's figures (-page +json):\n%s", diff)
	}
	for _, key := range []string{`"received_total":2`, `"share_within_one_month":1`, `"median_days_to_close":5`, `"by_type":{"access":1,"erasure":1}`, `"refusals":[]`} {
		if !strings.Contains(body, key) {
			t.Errorf("the JSON lacks %s:\n%s", key, body)
		}
	}

	// Another controller's figures are not found.
	if code, _ := p.get("/dashboard?controller=proviso"); code != http.StatusNotFound {
		t.Errorf("proviso's dashboard for an nte officer: %d", code)
	}
	req, _ = http.NewRequest(http.MethodGet, p.base+"/dashboard.json?controller=proviso", nil)
	if code, _, _ := p.do(req); code != http.StatusNotFound {
		t.Errorf("proviso's JSON for an nte officer: %d", code)
	}

	// The default period: the last 12 months, from the first of the month.
	code, page = p.get("/dashboard")
	if code != http.StatusOK || !strings.Contains(page, `name="from" value="2024-04-01"`) || !strings.Contains(page, `name="to" value="2025-03-10"`) {
		t.Errorf("the default period: %d", code)
	}

	// A bad date: 400, the form with the message, in the page's language.
	code, page = p.get("/dashboard?from=2025-13-01&to=2025-03-31")
	if code != http.StatusBadRequest || !strings.Contains(page, `lang="nb"`) || !strings.Contains(page, "from: Skriv inn en dato som ÅÅÅÅ-MM-DD") ||
		!strings.Contains(page, `value="2025-13-01"`) || strings.Contains(page, "<svg") {
		t.Errorf("a bad date: %d\n%s", code, page)
	}
	code, page = p.get("/dashboard?from=2025-03-31&to=2025-01-01&lang=en")
	if code != http.StatusBadRequest || !strings.Contains(page, `lang="en"`) || !strings.Contains(page, "to: The end of the period must not come before its start.") {
		t.Errorf("a period ending before it starts: %d", code)
	}
	req, _ = http.NewRequest(http.MethodGet, p.base+"/dashboard.json?from=yesterday", nil)
	code, body, h = p.do(req)
	if code != http.StatusBadRequest || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"field":"from"`) {
		t.Errorf("a bad date in the JSON: %d %s", code, body)
	}
}
