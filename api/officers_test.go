package api_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// An officer signs in, sees the queue of their own controllers only, changes
// the password, and signs out; wrong passwords lock the account.
func TestOfficerSignInQueueAndSignOut(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	officer(t, db, "nte")
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	mine, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "proviso", Subject: dsar.Subject{Email: "b@example.no"}})
	if err != nil {
		t.Fatal(err)
	}

	if code, _ := p.get("/queue"); code != http.StatusSeeOther {
		t.Fatalf("the queue signed out: %d", code)
	}
	code, page, _ := p.post("/signin", url.Values{"email": {"kari@nte.no"}, "password": {"wrong"}}, "/signin")
	if code != http.StatusUnauthorized || !strings.Contains(page, "E-postadressen eller passordet er feil.") {
		t.Errorf("a wrong password: %d", code)
	}
	p.signIn("kari@nte.no", "officer password 123")
	code, page = p.get("/queue")
	if code != http.StatusOK || !strings.Contains(page, mine.Reference) || strings.Contains(page, other.Reference) {
		t.Fatalf("the queue of an nte officer: %d, has own %v, has proviso's %v", code, strings.Contains(page, mine.Reference), strings.Contains(page, other.Reference))
	}
	code, page, _ = p.post("/account/password", url.Values{"old": {"officer password 123"}, "new": {"short"}}, "/account/password")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Passordet må ha minst 12 tegn.") {
		t.Errorf("a short new password: %d", code)
	}
	code, _, _ = p.post("/account/password", url.Values{"old": {"officer password 123"}, "new": {"a better password 456"}}, "/account/password")
	if code != http.StatusOK {
		t.Errorf("change password: %d", code)
	}
	if code, _, h := p.post("/signout", url.Values{}, "/queue"); code != http.StatusSeeOther || h.Get("Location") != "/signin" {
		t.Errorf("sign out: %d", code)
	}
	if code, _ := p.get("/queue"); code != http.StatusSeeOther {
		t.Errorf("the queue after signing out: %d", code)
	}
	p.signIn("kari@nte.no", "a better password 456")
	// The session is also good for the API, within the officer's controllers.
	if code, _ := p.get("/api/v1/requests/" + other.ID); code != http.StatusUnauthorized {
		t.Errorf("the session used on the API (keys only): %d", code)
	}
}

// Every route refuses whom it must: no non-public route answers anonymous
// callers, and none that changes a case answers an auditor's or a system's
// key, or an officer of another controller. A route added without its guard
// fails here.
func TestEveryRouteIsGuarded(t *testing.T) {
	// Every optional part on, single sign-on included, so that every route is walked.
	p, db := newPageClientWith(t, func(c *api.Config) {
		c.OIDC = &api.OIDC{Issuer: "https://login.example/tenant", ClientID: "dsar", ClientSecret: "s", Name: "SSO"}
	})
	ctx := context.Background()
	keys := store.NewAPIKeys(db)
	key := func(role dsar.Role, ctrls ...string) string {
		_, secret, err := keys.Create(ctx, string(role), role, ctrls)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	auditor, system, otherOfficer := key(dsar.RoleAuditor, "nte"), key(dsar.RoleSystem, "nte"), key(dsar.RoleOfficer, "proviso")
	r, err := store.NewRequests(db).Create(ctx, dsar.Actor{ID: "a", Role: dsar.RoleAdmin},
		dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"}, Verified: true, VerificationMethod: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{
		"GET /healthz": true, "GET /readyz": true, "GET /openapi.yaml": true, "GET /api/v1/controllers": true, "POST /api/v1/requests": true,
		"GET /": true, "GET /c/:key": true, "POST /c/:key": true, "GET /r/:id/verify": true, "POST /r/:id/verify": true, "POST /r/:id/resend": true,
		"GET /v/:token": true, "POST /v/:token": true, "GET /s/:token": true, "POST /s/:token/reply": true, "POST /s/:token/withdraw": true,
		"GET /vendor/tasks/:id/:token": true, "POST /vendor/tasks/:id/:token": true, // the link's token guards them
		"GET /signin": true, "POST /signin": true, "GET /signin/oidc": true, "GET /signin/oidc/callback": true,
		// A system's callback carries the task's token and the system's signature instead of a key.
		"POST /api/v1/tasks/:id/callback": true, "POST /api/v1/opendsr/callback/:id": true,
	}
	fill := func(route string) string {
		path := strings.SplitN(route, " ", 2)[1]
		return strings.NewReplacer(":id", r.ID, ":doc", "x", ":name", "x.eml").Replace(path)
	}
	call := func(route, secret string) int {
		method := strings.SplitN(route, " ", 2)[0]
		req, _ := http.NewRequest(method, p.base+fill(route), strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		code, _, _ := p.do(req)
		return code
	}
	checked := 0
	for _, route := range p.srv.Routes() {
		if public[route] || strings.HasSuffix(route, "/*") || strings.Contains(route, "echo_route_not_found") {
			continue
		}
		checked++
		path := strings.SplitN(route, " ", 2)[1]
		code := call(route, "")
		if strings.HasPrefix(path, "/api/") {
			if code != http.StatusUnauthorized {
				t.Errorf("%s answers an anonymous caller with %d, want 401", route, code)
			}
			if code := call(route, otherOfficer); strings.Contains(route, ":id") && code != http.StatusNotFound && code != http.StatusForbidden {
				t.Errorf("%s answers an officer of another controller with %d", route, code)
			}
			if strings.HasPrefix(route, "POST") && strings.Contains(route, ":id") {
				for name, k := range map[string]string{"auditor": auditor, "system": system} {
					if code := call(route, k); code != http.StatusForbidden {
						t.Errorf("%s answers a %s key with %d, want 403", route, name, code)
					}
				}
			}
		} else if code != http.StatusSeeOther && code != http.StatusForbidden {
			t.Errorf("%s answers an anonymous visitor with %d, want a redirect to sign in or 403", route, code)
		}
	}
	if checked < 15 {
		t.Fatalf("only %d guarded routes found: is the walk broken?", checked)
	}
}

// An officer works a case from its page: extends it with a reason, refuses
// it partly; the actions are audited with the officer as actor; a case of
// another controller is not found.
func TestOfficerWorksACaseFromItsPage(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	u := officer(t, db, "nte")
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"}, Verified: true, VerificationMethod: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "proviso", Subject: dsar.Subject{Email: "b@example.no"}})
	if err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	if code, page := p.get("/cases/" + r.ID); code != http.StatusOK || !strings.Contains(page, r.Reference) || !strings.Contains(page, "a@example.no") {
		t.Fatalf("case page: %d", code)
	}
	if code, _ := p.get("/cases/" + other.ID); code != http.StatusNotFound {
		t.Errorf("another controller's case: %d", code)
	}
	if code, page, _ := p.post("/cases/"+r.ID+"/extend", url.Values{"reason": {""}}, "/cases/"+r.ID); code != http.StatusUnprocessableEntity || !strings.Contains(page, "reason: Dette feltet må fylles ut.") {
		t.Errorf("extend without reason: %d", code)
	}
	if code, _, h := p.post("/cases/"+r.ID+"/extend", url.Values{"reason": {"Many systems to search."}}, "/cases/"+r.ID); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "notice=done") {
		t.Fatalf("extend: %d", code)
	}
	if code, _, _ := p.post("/cases/"+r.ID+"/extend", url.Values{"reason": {"Again."}}, "/cases/"+r.ID); code != http.StatusConflict {
		t.Errorf("a second extension: %d", code)
	}
	// Assign to a colleague, by name on the page; approve for execution, once.
	ola, err := store.NewUsers(db).Create(ctx, "ola@nte.no", "officer password 456", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewUsers(db).Create(ctx, "per@proviso.no", "officer password 789", dsar.RoleOfficer, []string{"proviso"}); err != nil {
		t.Fatal(err)
	}
	if code, page := p.get("/cases/" + r.ID); !strings.Contains(page, `<option value="`+ola.ID+`">ola@nte.no</option>`) || strings.Contains(page, "per@proviso.no") ||
		!strings.Contains(page, `action="/cases/`+r.ID+`/approve"`) {
		t.Errorf("case page (%d) does not offer nte's officers and approval", code)
	}
	if code, _, _ := p.post("/cases/"+r.ID+"/assign", url.Values{"to": {ola.ID}}, "/cases/"+r.ID); code != http.StatusSeeOther {
		t.Fatalf("assign to a colleague: %d", code)
	}
	if code, _, _ := p.post("/cases/"+r.ID+"/approve", url.Values{"note": {"Scope: the customer account."}}, "/cases/"+r.ID); code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	if code, page, _ := p.post("/cases/"+r.ID+"/approve", url.Values{}, "/cases/"+r.ID); code != http.StatusConflict || !strings.Contains(page, "Saken er allerede godkjent for utførelse.") {
		t.Errorf("approving twice: %d", code)
	}
	if code, page := p.get("/cases/" + r.ID); !strings.Contains(page, "<dd>ola@nte.no</dd>") || !strings.Contains(page, "av kari@nte.no") ||
		strings.Contains(page, `action="/cases/`+r.ID+`/approve"`) {
		t.Errorf("case page (%d) after assigning and approving: %s", code, page)
	}
	if code, page, _ := p.post("/cases/"+r.ID+"/refuse", url.Values{"ground": {"art17_3_b"}, "text": {"Orders are kept five years."}}, "/cases/"+r.ID); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "confirm: Dette feltet må fylles ut.") {
		t.Errorf("a refusal without ticking that the subject is told: %d", code)
	}
	if got, _ := reqs.Get(ctx, admin, r.ID); got.Status != dsar.StatusInProgress {
		t.Errorf("an unconfirmed refusal changed the case: %s", got.Status)
	}
	if code, page, _ := p.post("/cases/"+r.ID+"/refuse", url.Values{"ground": {"art15_4"}, "text": {"Others' data."}, "confirm": {"yes"}}, "/cases/"+r.ID); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "art15_4") {
		t.Errorf("an erasure refused on Art 15(4): %d", code)
	}
	if code, _, _ := p.post("/cases/"+r.ID+"/refuse", url.Values{"ground": {"art17_3_b"}, "text": {"Orders are kept five years."}, "partial": {"yes"}, "confirm": {"yes"},
		"part": {"The orders."}, "granted": {"The account."}}, "/cases/"+r.ID); code != http.StatusSeeOther {
		t.Fatalf("refuse in part: %d", code)
	}
	// The approval sent NTE's systems their tasks: the case cannot be
	// completed by hand while they run. The officer skips each from the
	// page, and the case completes by itself when the last has ended.
	if code, page, _ := p.post("/cases/"+r.ID+"/complete", url.Values{"summary": {"The account is erased."}}, "/cases/"+r.ID); code != http.StatusConflict ||
		!strings.Contains(page, "systemoppgaver som ikke er avsluttet") {
		t.Errorf("completing with tasks open: %d", code)
	}
	tasks, err := reqs.Tasks(ctx, admin, r.ID)
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks: %d %v", len(tasks), err)
	}
	if code, page := p.get("/cases/" + r.ID); code != http.StatusOK || !strings.Contains(page, "Tilkoblede systemer") ||
		!strings.Contains(page, `action="/cases/`+r.ID+`/skip_task"`) {
		t.Errorf("case page (%d) does not show the systems' tasks", code)
	}
	if code, page, _ := p.post("/cases/"+r.ID+"/skip_task", url.Values{"task": {tasks[0].ID}, "reason": {""}}, "/cases/"+r.ID); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "reason: Dette feltet må fylles ut.") {
		t.Errorf("skipping without a reason: %d", code)
	}
	for _, task := range tasks {
		if task.Status.Ended() {
			continue
		}
		if code, _, _ := p.post("/cases/"+r.ID+"/skip_task", url.Values{"task": {task.ID}, "reason": {"Erased by the customer service desk."}}, "/cases/"+r.ID); code != http.StatusSeeOther {
			t.Fatalf("skip %s: %d", task.System, code)
		}
	}
	got, err := reqs.Get(ctx, admin, r.ID)
	if err != nil || got.Status != dsar.StatusCompleted || !got.Extended || !got.Decision.Partial || got.Decision.Ground != dsar.GroundLegalObligation ||
		got.Assignee != ola.ID || got.ApprovedBy != "user:"+u.ID || got.ApprovedAt == nil {
		t.Fatalf("after the actions: %+v %v", got, err)
	}
	evs, _ := reqs.Events(ctx, admin, r.ID)
	var byOfficer []string
	for _, ev := range evs {
		if ev.Actor == "user:"+u.ID && ev.Kind != dsar.EventTask {
			byOfficer = append(byOfficer, string(ev.Kind))
		}
	}
	if strings.Join(byOfficer, ",") != "extended,assigned,approved,partially_refused,tasks_ended,transition" {
		t.Errorf("events by the officer: %v", byOfficer)
	}
	// A closed case can be reopened, with a reason.
	if code, _, _ := p.post("/cases/"+r.ID+"/reopen", url.Values{"reason": {"The subject sent new facts."}}, "/cases/"+r.ID); code != http.StatusSeeOther {
		t.Fatalf("reopen: %d", code)
	}
	got, _ = reqs.Get(ctx, admin, r.ID)
	if got.Status != dsar.StatusInProgress || got.Decision.Ground != "" || got.ClosedAt != nil || got.ApprovedAt != nil {
		t.Errorf("after reopening: %s %+v, approved %v", got.Status, got.Decision, got.ApprovedAt)
	}
	if code, _, _ := p.post("/cases/"+r.ID+"/reopen", url.Values{"reason": {"again"}}, "/cases/"+r.ID); code != http.StatusConflict {
		t.Errorf("reopening an open case: %d", code)
	}
}

// The queue filters, finds by reference or e-mail, shows "my cases" and
// exports the filter as CSV.
func TestQueueFiltersSearchAndCSV(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	u := officer(t, db, "nte", "proviso")
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	mk := func(ctrl string, typ dsar.RequestType, email string) *dsar.Request {
		r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: typ, Controller: ctrl, Subject: dsar.Subject{Email: email}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := mk("nte", dsar.TypeAccess, "a@example.no"), mk("proviso", dsar.TypeErasure, "=cmd@example.no"), mk("nte", dsar.TypeErasure, "c@example.no")
	if _, err := reqs.Assign(ctx, u.Actor(), c.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	shows := func(query string, want ...*dsar.Request) {
		t.Helper()
		code, page := p.get("/queue?" + query)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", query, code)
		}
		for _, r := range []*dsar.Request{a, b, c} {
			has, wanted := strings.Contains(page, r.Reference), false
			for _, w := range want {
				wanted = wanted || w == r
			}
			if has != wanted {
				t.Errorf("queue?%s shows %s: %v, want %v", query, r.Reference, has, wanted)
			}
		}
	}
	shows("", a, b, c)
	shows("controller=nte", a, c)
	shows("type=erasure", b, c)
	shows("mine=1", c)
	shows("q="+strings.ToLower(a.Reference), a)
	shows("q=c@example.no", c)
	shows("notice=1") // created today: their notice dates are a month away
	shows("assignee="+u.ID, c)
	shows("assignee=none", a, b)
	// a and b wait for verification; c is settled by an officer and approved.
	if _, err := reqs.MarkVerified(ctx, u.Actor(), c.ID, "Called the customer"); err != nil {
		t.Fatal(err)
	}
	shows("approval=pending", c)
	if _, err := reqs.Approve(ctx, u.Actor(), c.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	shows("approval=pending")
	shows("approval=approved", c)
	req, _ := http.NewRequest(http.MethodGet, p.base+"/queue.csv?type=erasure", nil)
	code, body, h := p.do(req)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", code, h.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "reference,") || !strings.Contains(body, "'=cmd@example.no") {
		t.Errorf("csv:\n%s", body)
	}
	// A bulk action first shows how many and which cases it will change,
	// and changes nothing until confirmed.
	code, page, _ := p.post("/queue/bulk?type=erasure", url.Values{"action": {"note"}, "body": {"Checked the backlog."}}, "/queue?type=erasure")
	if code != http.StatusOK || !strings.Contains(page, "Legg notatet til 2 saker.") || !strings.Contains(page, a.Reference) && !strings.Contains(page, b.Reference) {
		t.Fatalf("bulk note preview: %d", code)
	}
	if msgs, _ := reqs.Messages(ctx, u.Actor(), b.ID); len(msgs) != 0 {
		t.Fatalf("the preview changed a case: %+v", msgs)
	}
	// Confirmed, it applies to every case of the filter, each audited.
	code, _, h = p.post("/queue/bulk?type=erasure", url.Values{"action": {"note"}, "body": {"Checked the backlog."}, "confirm": {"yes"}}, "/queue?type=erasure")
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=2") {
		t.Fatalf("bulk note: %d %s", code, h.Get("Location"))
	}
	for _, r := range []*dsar.Request{a, b, c} {
		msgs, _ := reqs.Messages(ctx, u.Actor(), r.ID)
		if noted := len(msgs) == 1; noted != (r.Type == dsar.TypeErasure) {
			t.Errorf("%s (%s): noted %v", r.Reference, r.Type, noted)
		}
	}
	if code, page := p.get(h.Get("Location")); code != http.StatusOK || !strings.Contains(page, "2") {
		t.Errorf("after the bulk action: %d", code)
	}
}

// Bulk approval approves the cases of the filter that are in progress and
// not yet approved, and leaves the others as they are.
func TestBulkApprove(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	u := officer(t, db, "nte")
	reqs := store.NewRequests(db)
	mk := func(verified bool) *dsar.Request {
		r, err := reqs.Create(ctx, u.Actor(), dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"},
			Verified: verified, VerificationMethod: map[bool]string{true: "portal"}[verified]})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ready, waiting, done := mk(true), mk(false), mk(true)
	if _, err := reqs.Approve(ctx, u.Actor(), done.ID, "earlier", nil); err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	code, page, _ := p.post("/queue/bulk?type=erasure", url.Values{"action": {"approve"}, "body": {"Reviewed in the Monday meeting."}}, "/queue?type=erasure")
	if code != http.StatusOK || !strings.Contains(page, "Godkjenn 1 saker") || !strings.Contains(page, ready.Reference) ||
		strings.Contains(page, waiting.Reference) || !strings.Contains(page, "2 saker i filteret blir ikke endret") {
		t.Fatalf("bulk approve preview: %d", code)
	}
	code, _, h := p.post("/queue/bulk?type=erasure", url.Values{"action": {"approve"}, "body": {"Reviewed in the Monday meeting."}, "confirm": {"yes"}}, "/queue?type=erasure")
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=1") {
		t.Fatalf("bulk approve: %d %s", code, h.Get("Location"))
	}
	for _, c := range []struct {
		r    *dsar.Request
		note string
	}{{ready, "Reviewed in the Monday meeting."}, {waiting, ""}, {done, "earlier"}} {
		got, _ := reqs.Get(ctx, u.Actor(), c.r.ID)
		evs, _ := reqs.Events(ctx, u.Actor(), c.r.ID)
		note := ""
		for _, ev := range evs {
			if ev.Kind == dsar.EventApproved {
				note = ev.Reason
			}
		}
		if (got.ApprovedAt != nil) != (c.note != "") || note != c.note {
			t.Errorf("%s (%s): approved %v with %q, want %q", got.Reference, got.Status, got.ApprovedAt, note, c.note)
		}
	}
	if code, page := p.get(h.Get("Location")); code != http.StatusOK || strings.Count(page, "· godkjent") != 2 {
		t.Errorf("the queue after bulk approval (%d) does not tag the two approved cases", code)
	}
}

// A processor's case is forwarded to the controller responsible; the
// subject is told, and the case closes.
func TestOfficerForwardsAProcessorCase(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	if _, err := store.NewUsers(db).Create(ctx, "it@intility.no", "officer password 123", dsar.RoleOfficer, []string{"intility"}); err != nil {
		t.Fatal(err)
	}
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "intility", Subject: dsar.Subject{Email: "user@customer.example"}})
	if err != nil {
		t.Fatal(err)
	}
	p.signIn("it@intility.no", "officer password 123")
	if code, _, _ := p.post("/cases/"+r.ID+"/forward", url.Values{"to": {""}, "confirm": {"yes"}}, "/cases/"+r.ID); code != http.StatusUnprocessableEntity {
		t.Errorf("forward without a recipient: %d", code)
	}
	if code, _, _ := p.post("/cases/"+r.ID+"/forward", url.Values{"to": {"Customer AS, personvern@customer.example"}, "confirm": {"yes"}}, "/cases/"+r.ID); code != http.StatusSeeOther {
		t.Fatalf("forward: %d", code)
	}
	got, err := reqs.Get(ctx, admin, r.ID)
	if err != nil || got.Status != dsar.StatusForwarded || got.ClosedAt == nil {
		t.Fatalf("after forwarding: %+v %v", got, err)
	}
	evs, _ := reqs.Events(ctx, admin, r.ID)
	if last := evs[len(evs)-1]; last.Data["forwarded_to"] != "Customer AS, personvern@customer.example" {
		t.Errorf("forward event: %+v", last)
	}
}

// A fee for a further copy is announced before charging: a message on the
// case (shown to the subject) and a mail; only for access requests.
func TestOfficerAnnouncesAFee(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	officer(t, db, "nte")
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	access, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"}, Verified: true, VerificationMethod: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	erasure, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "b@example.no"}, Verified: true, VerificationMethod: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	if code, _, _ := p.post("/cases/"+erasure.ID+"/fee", url.Values{"basis": {"art12_5"}, "text": {"NOK 150"}}, "/cases/"+erasure.ID); code != http.StatusConflict {
		t.Errorf("a fee on an erasure request: %d", code)
	}
	if code, page, _ := p.post("/cases/"+access.ID+"/fee", url.Values{"basis": {"further_copy"}, "text": {"NOK 150"}}, "/cases/"+access.ID); code != http.StatusConflict ||
		!strings.Contains(page, "artikkel 15 nr. 3") {
		t.Errorf("a fee for a first copy as a further copy: %d", code)
	}
	if code, _, _ := p.post("/cases/"+access.ID+"/fee", url.Values{"basis": {"art12_5"}, "text": {"A further copy costs NOK 150."}}, "/cases/"+access.ID); code != http.StatusSeeOther {
		t.Fatalf("announce a fee: %d", code)
	}
	msgs, err := store.NewSubjects(db).SubjectMessages(ctx, access.ID)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != dsar.MessageFee || msgs[0].Body != "A further copy costs NOK 150." {
		t.Errorf("the subject's messages: %+v %v", msgs, err)
	}
}

// The case page offers exactly the actions the domain allows the officer on
// the case now, as GET /actions lists them, in every state it passes.
func TestCasePageOffersTheDomainsActions(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	u := officer(t, db, "nte")
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"}})
	if err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	forms := regexp.MustCompile(`action="/cases/` + regexp.QuoteMeta(r.ID) + `/([a-z]+)"`)
	check := func(state string) {
		t.Helper()
		_, page := p.get("/cases/" + r.ID)
		offered := map[string]bool{}
		for _, m := range forms.FindAllStringSubmatch(page, -1) {
			offered[m[1]] = true
		}
		want, err := reqs.Actions(ctx, u.Actor(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got, exp []string
		for a := range offered {
			got = append(got, a)
		}
		for _, a := range want {
			exp = append(exp, string(a))
		}
		slices.Sort(got)
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("%s: the page offers %v, the domain allows %v", state, got, exp)
		}
	}
	check("awaiting verification")
	if _, err := reqs.MarkVerified(ctx, admin, r.ID, "passport seen"); err != nil {
		t.Fatal(err)
	}
	check("in progress")
	if _, err := reqs.Pause(ctx, admin, r.ID, dsar.PauseClarification, ""); err != nil {
		t.Fatal(err)
	}
	check("paused")
	if _, err := reqs.Resume(ctx, admin, r.ID); err != nil {
		t.Fatal(err)
	}
	storetest.Ready(t, db, r.ID)
	check("files assembled")
	if _, err := reqs.Complete(ctx, admin, r.ID, dsar.Decision{Summary: "Sent."}); err != nil {
		t.Fatal(err)
	}
	check("completed")
}

// Auditors are offered no bulk action, and one posted anyway is refused.
func TestAuditorsHaveNoBulkActions(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	if _, err := store.NewUsers(db).Create(ctx, "revisor@nte.no", "auditor password 123", dsar.RoleAuditor, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewRequests(db).Create(ctx, dsar.Actor{ID: "a", Role: dsar.RoleAdmin}, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte",
		Subject: dsar.Subject{Email: "a@example.no"}, Verified: true, VerificationMethod: "portal"}); err != nil {
		t.Fatal(err)
	}
	p.signIn("revisor@nte.no", "auditor password 123")
	if code, page := p.get("/queue"); code != http.StatusOK || strings.Contains(page, `id="bulk-action"`) {
		t.Errorf("the auditor's queue (%d) offers bulk actions", code)
	}
	if code, _, _ := p.post("/queue/bulk", url.Values{"action": {"assign_me"}, "confirm": {"yes"}}, "/queue"); code != http.StatusForbidden {
		t.Errorf("an auditor's bulk action: %d", code)
	}
}

// The queue is a work list: the officers' words for the status, the receipt
// date, who works each case, and sorting by receipt or due date.
func TestQueueIsAWorkList(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	u := officer(t, db, "nte")
	reqs := store.NewRequests(db)
	old := time.Date(2025, time.February, 1, 9, 0, 0, 0, time.UTC)
	first, err := reqs.Create(ctx, u.Actor(), dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"}, ReceivedAt: &old})
	if err != nil {
		t.Fatal(err)
	}
	second, err := reqs.Create(ctx, u.Actor(), dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: dsar.Subject{Email: "b@example.no"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Assign(ctx, u.Actor(), second.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	_, page := p.get("/queue?sort=-received_at")
	for _, want := range []string{"Venter på bekreftelse fra den registrerte", `aria-sort="descending"`, "<td>kari@nte.no</td>", "· 2 saker</caption>",
		`<time datetime="2025-02-01">`, "Nord-Trøndelag Elektrisitetsverk AS"} {
		if !strings.Contains(page, want) {
			t.Errorf("the queue does not show %q", want)
		}
	}
	if strings.Index(page, second.Reference) > strings.Index(page, first.Reference) {
		t.Error("newest received is not first with sort=-received_at")
	}
	if strings.Contains(page, "Waiting for you to confirm") || strings.Contains(page, "Venter på at du") {
		t.Error("the queue speaks to the subject")
	}
	// The filters sit in a panel, open only while one is set.
	if _, page := p.get("/queue"); !strings.Contains(page, `<details class="filter-panel">`) {
		t.Error("the filter panel is open with no filter set")
	}
	if _, page := p.get("/queue?type=erasure&overdue=1"); !strings.Contains(page, `<details class="filter-panel" open>`) || !strings.Contains(page, "(2 valgt)") {
		t.Error("the filter panel does not show the two filters set")
	}
}

// The identity documents are on the case page; every opening is audited,
// and auditors may not open them.
func TestCasePageShowsDocumentsAndAuditsEachView(t *testing.T) {
	p, db := newPageClient(t)
	ctx := context.Background()
	u := officer(t, db, "nte")
	reqs := store.NewRequests(db)
	r, err := reqs.Create(ctx, u.Actor(), dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "a@example.no"},
		Verified: true, VerificationMethod: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Ask(ctx, u.Actor(), r.ID, dsar.MessageIdentity, "Please send a copy of your ID."); err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
	if _, err := store.NewSubjects(db).Reply(ctx, db.StatusToken(r.ID), "Here it is.", &dsar.Document{FileName: "id.pdf", ContentType: "application/pdf", Data: pdf}, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	p.signIn("kari@nte.no", "officer password 123")
	_, page := p.get("/cases/" + r.ID)
	link := regexp.MustCompile(`href="(/documents/[^"]+)"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatal("the case page lists no document")
	}
	req, _ := http.NewRequest(http.MethodGet, p.base+link[1], nil)
	code, body, h := p.do(req)
	if code != http.StatusOK || body != string(pdf) || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("open the document: %d %q", code, h.Get("Content-Disposition"))
	}
	evs, _ := reqs.Events(ctx, u.Actor(), r.ID)
	if last := evs[len(evs)-1]; last.Kind != dsar.EventDocumentViewed || last.Actor != "user:"+u.ID {
		t.Errorf("the view is not audited: %+v", last)
	}
	if _, err := store.NewUsers(db).Create(ctx, "revisor@nte.no", "auditor password 123", dsar.RoleAuditor, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	p.signIn("revisor@nte.no", "auditor password 123")
	req, _ = http.NewRequest(http.MethodGet, p.base+link[1], nil)
	if code, _, _ := p.do(req); code != http.StatusForbidden && code != http.StatusNotFound {
		t.Errorf("an auditor opens the document: %d", code)
	}
}
