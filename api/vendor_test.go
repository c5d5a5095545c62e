package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
)

// vendorCase approves an erasure at NTE whose first two systems are
// reached by vendor mail (every other target left out) and returns the two
// tasks, waiting for their vendors as after the instruction went out.
func vendorCase(t *testing.T, db *store.DB) (*dsar.Request, []*dsar.Task) {
	t.Helper()
	ctx := context.Background()
	ctrl, _ := db.Controllers.Get("nte")
	vendors := map[string]bool{}
	for i := range ctrl.Systems[:2] {
		ctrl.Systems[i].Connector = dsar.Connector{Kind: dsar.ConnectorVendorMail, VendorMail: &dsar.VendorMailConnector{
			Email: "privacy@vendor.example", RemindEveryDays: 5, AfterDays: 14, OnOverdue: dsar.OverdueBlock}}
		vendors[ctrl.Systems[i].Key] = true
	}
	reqs := store.NewRequests(db)
	r, err := reqs.Create(ctx, dsar.ActorService, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Language: dsar.LanguageEN,
		Subject:  dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann", Phone: "+4791234567", CustomerID: "K-77"},
		Verified: true, VerificationMethod: "Signed in"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reqs.Plan(ctx, dsar.ActorService, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	leaveOut := map[string]string{}
	for _, task := range append(plan.Tasks, plan.Notify...) {
		if !vendors[task.Target()] {
			leaveOut[task.Target()] = "Erased at the counter."
		}
	}
	if _, err := reqs.Approve(ctx, dsar.ActorService, r.ID, "", leaveOut); err != nil {
		t.Fatal(err)
	}
	all, err := reqs.Tasks(ctx, dsar.ActorService, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []*dsar.Task
	for _, task := range all {
		if vendors[task.System] {
			if err := store.NewTasks(db).Callback(ctx, task.ID, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson}); err != nil {
				t.Fatal(err)
			}
			out = append(out, task)
		}
	}
	if len(out) != 2 {
		t.Fatalf("%d vendor tasks, want 2", len(out))
	}
	return r, out
}

// The vendor's link shows what was asked and takes the confirmation; a
// wrong token finds nothing; a task recorded before says so.
func TestVendorConfirmsThroughItsLink(t *testing.T) {
	p, db := newPageClient(t)
	r, tasks := vendorCase(t, db)
	link := func(task *dsar.Task) string {
		return dsar.VendorConfirmPath(task.ID, db.Keyring.Token(dsar.TokenVendorConfirm, task.ID))
	}
	done, noData := link(tasks[0]), link(tasks[1])

	code, page := p.get(done)
	if code != http.StatusOK {
		t.Fatalf("GET the link: %d", code)
	}
	for _, want := range []string{"Bekreft en instruks", r.Reference, "kari@example.no", "K-77", "Slett alle personopplysninger", `name="evidence"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"Nordmann", "91234567"} {
		if strings.Contains(page, never) {
			t.Errorf("the page shows %q, which the instruction did not", never)
		}
	}

	// Wrong tokens: another task's, a status token, none.
	for _, bad := range []string{
		dsar.VendorConfirmPath(tasks[0].ID, db.Keyring.Token(dsar.TokenVendorConfirm, tasks[1].ID)),
		dsar.VendorConfirmPath(tasks[0].ID, db.Keyring.Token(dsar.TokenStatus, tasks[0].ID)),
		dsar.VendorConfirmPath("no-such-task", db.Keyring.Token(dsar.TokenVendorConfirm, "no-such-task")),
	} {
		if code, _ := p.get(bad); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, code)
		}
		if code, _, _ := p.post(bad, url.Values{"outcome": {"done"}, "evidence": {"x"}}, done); code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", bad, code)
		}
	}
	// Without its CSRF token the form changes nothing.
	if code := p.postRaw(done, url.Values{"outcome": {"done"}, "evidence": {"Deleted."}}, ""); code != http.StatusForbidden {
		t.Errorf("POST without CSRF: %d, want 403", code)
	}
	// Evidence is required, the count a whole number.
	code, page, _ = p.post(done, url.Values{"outcome": {"done"}, "count": {"three"}, "evidence": {"  "}}, done)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="evidence-error"`) || !strings.Contains(page, `id="count-error"`) {
		t.Errorf("POST without evidence: %d", code)
	}
	code, page, _ = p.post(done, url.Values{"count": {"3"}, "evidence": {"Deleted."}}, done)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="outcome-error"`) {
		t.Errorf("POST without an outcome: %d", code)
	}

	code, page, _ = p.post(done, url.Values{"outcome": {"done"}, "count": {"3"}, "evidence": {"Deleted the profile and its events, 3 records."}}, done)
	if code != http.StatusOK || !strings.Contains(page, "Takk") {
		t.Fatalf("POST done: %d", code)
	}
	code, page, _ = p.post(noData, url.Values{"outcome": {"no_data"}, "evidence": {"Searched by e-mail and customer number: nothing."}}, noData)
	if code != http.StatusOK || !strings.Contains(page, "Takk") {
		t.Fatalf("POST no data: %d", code)
	}
	got, err := store.NewRequests(db).Tasks(context.Background(), dsar.ActorService, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range got {
		switch task.ID {
		case tasks[0].ID:
			if task.Status != dsar.TaskDone || task.Count != 3 || task.Evidence != "Deleted the profile and its events, 3 records." {
				t.Errorf("done task: %s, %d, %q", task.Status, task.Count, task.Evidence)
			}
		case tasks[1].ID:
			if task.Status != dsar.TaskNoData {
				t.Errorf("no-data task: %s", task.Status)
			}
		}
	}

	// Recorded: the link says so and takes nothing more.
	if code, page := p.get(done); code != http.StatusOK || !strings.Contains(page, "Allerede registrert") || strings.Contains(page, `name="evidence"`) {
		t.Errorf("GET after: %d", code)
	}
	if code, page, _ := p.post(done, url.Values{"outcome": {"no_data"}, "evidence": {"Again."}}, "/c/nte"); code != http.StatusConflict || !strings.Contains(page, "Allerede registrert") {
		t.Errorf("POST after: %d", code)
	}
	if c, _ := store.NewRequests(db).Get(context.Background(), dsar.ActorService, r.ID); c.Status != dsar.StatusCompleted {
		t.Errorf("the case after both vendors: %s", c.Status)
	}
}

// The link is rate-limited per client address like the other public
// pages, so that tokens cannot be guessed at speed.
func TestVendorLinkIsRateLimited(t *testing.T) {
	p, db := newPageClientWith(t, func(cfg *api.Config) {
		cfg.Limiter, cfg.PublicPerMinute = newContractLimiter(cfg.Clock), 2
	})
	_, tasks := vendorCase(t, db)
	link := dsar.VendorConfirmPath(tasks[0].ID, db.Keyring.Token(dsar.TokenVendorConfirm, tasks[0].ID))
	wrong := dsar.VendorConfirmPath(tasks[0].ID, db.Keyring.Token(dsar.TokenVendorConfirm, "guess"))
	if code, _ := p.get(wrong); code != http.StatusNotFound {
		t.Fatalf("a wrong token: %d", code)
	}
	if code, _ := p.get(link); code != http.StatusOK {
		t.Fatalf("the link: %d", code)
	}
	if code, _ := p.get(link); code != http.StatusTooManyRequests {
		t.Errorf("the third call in a minute: %d, want 429", code)
	}
}

// contractVendorPage drives the vendor's confirmation page through its
// answers and validates each against the document.
func contractVendorPage(t *testing.T, e *contractEnv) {
	_, tasks := vendorCase(t, e.db)
	const csrf = "contract-csrf-token"
	link := func(task *dsar.Task) string {
		return dsar.VendorConfirmPath(task.ID, e.db.Keyring.Token(dsar.TokenVendorConfirm, task.ID))
	}
	form := func(kv ...string) string {
		v := url.Values{"_csrf": {csrf}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	post := func(path, body string, want int) {
		t.Helper()
		e.do(t, contractCall{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded", csrf: csrf, want: want})
	}
	done := link(tasks[0])
	e.do(t, contractCall{method: "GET", path: done, want: 200})
	e.do(t, contractCall{method: "GET", path: dsar.VendorConfirmPath(tasks[0].ID, e.db.Keyring.Token(dsar.TokenStatus, tasks[0].ID)), want: 404})
	post(done, form("outcome", "done", "count", "three", "evidence", "Deleted."), 422)
	post(done, form("outcome", "done", "count", "3", "evidence", "Deleted the profile."), 200)
	post(done, form("outcome", "no_data", "evidence", "Again."), 409)
	e.do(t, contractCall{method: "GET", path: done, want: 200})
	post(link(tasks[1]), "outcome=no_data&evidence=x", 403)
}
