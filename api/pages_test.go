package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows/mail"
)

// pageClient is a browser without JavaScript: cookies, forms, no redirects.
type pageClient struct {
	t    *testing.T
	base string
	c    *http.Client
	srv  *api.Server
	box  *mail.Mailbox
}

func newPageClient(t *testing.T) (*pageClient, *store.DB) {
	t.Helper()
	return newPageClientWith(t, nil)
}

// officer creates kari@nte.no, an officer of the controllers, with the
// password "officer password 123".
func officer(t *testing.T, db *store.DB, controllers ...string) *dsar.User {
	t.Helper()
	u, err := store.NewUsers(db).Create(context.Background(), "kari@nte.no", "officer password 123", dsar.RoleOfficer, controllers)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newPageClientWith is newPageClient with the server's configuration
// changed by configure first.
func newPageClientWith(t *testing.T, configure func(*api.Config)) (*pageClient, *store.DB) {
	t.Helper()
	db := storetest.Open(t, dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)))
	return newPageClientOn(t, db, configure), db
}

// newPageClientOn is newPageClientWith on the given database.
func newPageClientOn(t *testing.T, db *store.DB, configure func(*api.Config)) *pageClient {
	t.Helper()
	reqs := store.NewRequests(db)
	box, err := mail.NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := store.NewAPIKeys(db)
	cfg := api.Config{Requests: reqs, Cases: reqs, Subjects: store.NewSubjects(db), APIKeys: keys, Admin: store.NewAdmin(db, keys),
		Tasks: store.NewTasks(db), Suppression: reqs, Webhooks: store.NewWebhooks(db),
		Users: store.NewUsers(db), Mailbox: box, Dashboard: db, Controllers: db.Controllers, Clock: db.Clock, Keyring: db.Keyring, Log: quietLog}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return &pageClient{t: t, base: ts.URL, srv: srv, box: box, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (p *pageClient) do(req *http.Request) (int, string, http.Header) {
	p.t.Helper()
	req.Header.Set("Accept-Language", "nb-NO,nb;q=0.9")
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (p *pageClient) get(path string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
	code, body, _ := p.do(req)
	return code, body
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (p *pageClient) post(path string, form url.Values, csrfFrom string) (int, string, http.Header) {
	p.t.Helper()
	_, page := p.get(csrfFrom)
	if m := csrfRE.FindStringSubmatch(page); m != nil {
		form.Set("_csrf", m[1])
	}
	req, _ := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(req)
}

// signIn signs in through the page and fails the test unless it works.
func (p *pageClient) signIn(email, password string) {
	p.t.Helper()
	code, _, h := p.post("/signin", url.Values{"email": {email}, "password": {password}, "next": {"/queue"}}, "/signin")
	if code != http.StatusSeeOther || h.Get("Location") != "/queue" {
		p.t.Fatalf("sign in as %s: %d", email, code)
	}
}

// Bad input on the pages gets a message in the subject's language and
// changes nothing.
func TestPagesRefuseBadInputInTheSubjectsLanguage(t *testing.T) {
	p, db := newPageClient(t)
	count := func() int {
		page, err := store.NewRequests(db).List(context.Background(), dsar.Actor{ID: "a", Role: dsar.RoleAdmin}, dsar.RequestFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Requests)
	}

	code, page, _ := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@"}, "details": {"<script>alert(1)</script>"}}, "/c/nte")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Skriv inn en gyldig e-postadresse.") {
		t.Errorf("bad e-mail: %d", code)
	}
	if strings.Contains(page, "<script>alert(1)") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the typed script is not kept escaped in the form")
	}
	long := strings.Repeat("x", dsar.MaxDetailsLength+1)
	if code, page, _ := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@example.no"}, "details": {long}}, "/c/nte"); code != http.StatusUnprocessableEntity || !strings.Contains(page, "Dette er for langt. Maksimum er 10000 tegn.") {
		t.Errorf("oversized details: %d", code)
	}
	if code, page, _ := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@example.no"}}, "/nothing"); code != http.StatusUnprocessableEntity || !strings.Contains(page, "ingenting ble sendt") {
		t.Errorf("a form without its CSRF token: %d", code)
	}
	if code, _, h := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"bot@example.no"}, "website": {"http://spam"}}, "/c/nte"); code != http.StatusSeeOther || strings.Contains(h.Get("Location"), "/r/") {
		t.Errorf("the honeypot: %d %s", code, h.Get("Location"))
	}
	if n := count(); n != 0 {
		t.Fatalf("refused forms left %d requests", n)
	}

	code, _, h := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@example.no"}, "language": {"nb"}}, "/c/nte")
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/r/") {
		t.Fatalf("a good form: %d %s", code, h.Get("Location"))
	}
	verify := h.Get("Location")
	code, page, _ = p.post(verify, url.Values{"code": {"abcdef"}}, verify)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Koden er ikke riktig. Du har 4 forsøk igjen.") {
		t.Errorf("a wrong code: %d", code)
	}
	if code, page := p.get("/s/forged-token"); code != http.StatusNotFound || !strings.Contains(page, "Denne lenken er ikke gyldig.") {
		t.Errorf("a forged status token: %d", code)
	}
	if code, page := p.get("/v/forged-token"); code != http.StatusNotFound || !strings.Contains(page, "Denne bekreftelseslenken er ikke gyldig.") {
		t.Errorf("a forged verification link: %d", code)
	}
	if n := count(); n != 1 {
		t.Errorf("%d requests, want the one good form", n)
	}
}

// The form says which objection an objection is; the choice belongs to an
// objection only.
func TestFormRecordsTheKindOfObjection(t *testing.T) {
	p, db := newPageClient(t)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	for _, tc := range []struct {
		typ, objection string
		want           dsar.ObjectionKind
	}{
		{"objection", "direct_marketing", dsar.ObjectionDirectMarketing},
		{"objection", "", ""},
		{"access", "art21_1", ""},
	} {
		code, _, h := p.post("/c/nte", url.Values{"type": {tc.typ}, "email": {"kari@example.no"}, "objection": {tc.objection}}, "/c/nte")
		if code != http.StatusSeeOther {
			t.Fatalf("%s/%s: %d", tc.typ, tc.objection, code)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/r/"), "/verify")
		r, err := store.NewRequests(db).Get(context.Background(), admin, id)
		if err != nil || r.Objection != tc.want {
			t.Errorf("%s/%s: objection %q (%v), want %q", tc.typ, tc.objection, r.Objection, err, tc.want)
		}
	}
}

// verificationLink returns the path of the verification link mailed for
// the request.
func verificationLink(t *testing.T, db *store.DB, requestID string) string {
	t.Helper()
	items, err := store.NewOutbox(db).Due(context.Background(), db.Clock.Now().Add(time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		var p dsar.MailPayload
		if it.RequestID == requestID && it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == "verification" {
			return "/v/" + db.Keyring.Token("verify", p.VerificationID)
		}
	}
	t.Fatalf("no verification mail for request %s", requestID)
	return ""
}

// Opening the e-mailed link shows a page and changes nothing (mail
// scanners open links); only its button, a post with the page's CSRF
// token, confirms the request.
func TestVerificationLinkConfirmsOnlyByItsButton(t *testing.T) {
	p, db := newPageClient(t)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	code, _, h := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@example.no"}, "language": {"nb"}}, "/c/nte")
	if code != http.StatusSeeOther {
		t.Fatalf("the form: %d", code)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/r/"), "/verify")
	status := func() dsar.Status {
		r, err := store.NewRequests(db).Get(context.Background(), admin, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	link := verificationLink(t, db, id)
	for range 2 {
		code, page := p.get(link)
		if code != http.StatusOK || !strings.Contains(page, `<form method="post" action="`+link+`">`) || !csrfRE.MatchString(page) ||
			!strings.Contains(page, "Bekreft forespørselen") {
			t.Fatalf("GET %s: %d\n%s", link, code, page)
		}
	}
	if s := status(); s != dsar.StatusAwaitingVerification {
		t.Fatalf("opening the link made the request %s", s)
	}
	if code, _, _ := p.post(link, url.Values{}, "/nothing"); code != http.StatusForbidden || status() != dsar.StatusAwaitingVerification {
		t.Errorf("a confirmation without the page's token: %d, %s", code, status())
	}
	code, _, h = p.post(link, url.Values{}, link)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/s/") || !strings.HasSuffix(h.Get("Location"), "?notice=verified") {
		t.Fatalf("the confirm button: %d %s", code, h.Get("Location"))
	}
	if s := status(); s != dsar.StatusInProgress {
		t.Errorf("after the confirm button the request is %s", s)
	}
	// Used before: the page says so, and its button leads to the status page.
	if code, page := p.get(link); code != http.StatusOK || !strings.Contains(page, "er allerede bekreftet") {
		t.Errorf("the used link: %d", code)
	}
	if code, _, h2 := p.post(link, url.Values{}, link); code != http.StatusSeeOther || h2.Get("Location") != h.Get("Location") {
		t.Errorf("the used link's button: %d %s", code, h2.Get("Location"))
	}
}

// The status page speaks the language the request was made in, whatever
// the browser prefers, until the subject switches with the language
// switch; the switch sticks.
func TestStatusPageSpeaksTheRequestsLanguage(t *testing.T) {
	p, db := newPageClient(t) // the browser prefers bokmål
	code, _, h := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@example.no"}, "language": {"en"}}, "/c/nte")
	if code != http.StatusSeeOther {
		t.Fatalf("the form: %d", code)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/r/"), "/verify")
	link := verificationLink(t, db, id)
	if _, page := p.get(link); !strings.Contains(page, "Confirm the request") {
		t.Errorf("the link's page is not in the request's language")
	}
	if code, _, _ := p.post(link, url.Values{}, link); code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", code)
	}
	status := "/s/" + db.StatusToken(id)
	req, _ := http.NewRequest(http.MethodGet, p.base+status, nil)
	_, page, hdr := p.do(req)
	if hdr.Get("Content-Language") != "en" || !strings.Contains(page, "Your request") {
		t.Errorf("status page in %q, want the request's en", hdr.Get("Content-Language"))
	}
	// An error on the page is in the page's language too.
	if code, page, _ := p.post(status+"/withdraw", url.Values{}, status); code != http.StatusUnprocessableEntity || !strings.Contains(page, `lang="en"`) {
		t.Errorf("withdraw unconfirmed: %d", code)
	}
	for _, path := range []string{status + "?lang=nb", status} {
		req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
		if _, page, hdr := p.do(req); hdr.Get("Content-Language") != "nb" || !strings.Contains(page, "Forespørselen din") {
			t.Errorf("%s after the switch: %q", path, hdr.Get("Content-Language"))
		}
	}
}

// A request form sent after its token expired (the cookie is gone) comes
// back with what was typed, a fresh token and a message, and keeps nothing;
// sent again, it goes through.
func TestExpiredFormKeepsWhatWasTyped(t *testing.T) {
	p, db := newPageClient(t)
	_, page := p.get("/c/nte")
	stale := csrfRE.FindStringSubmatch(page)[1]
	jar, _ := cookiejar.New(nil)
	p.c.Jar = jar // an hour later the browser has dropped the cookie
	form := url.Values{"_csrf": {stale}, "type": {"erasure"}, "email": {"kari@example.no"}, "name": {"Kari Nordmann"},
		"details": {"Slett alt om meg, også & <det> gamle abonnementet."}, "language": {"nb"}}
	req, _ := http.NewRequest(http.MethodPost, p.base+"/c/nte", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, page, h := p.do(req)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "ingenting ble sendt") ||
		!strings.Contains(page, `value="kari@example.no"`) || !strings.Contains(page, "Slett alt om meg, også &amp; &lt;det&gt; gamle abonnementet.") ||
		!strings.Contains(page, `value="Kari Nordmann"`) || !strings.Contains(page, `value="erasure" aria-describedby="type-erasure-hint" checked`) {
		t.Fatalf("the expired form: %d\n%s", code, page)
	}
	fresh := csrfRE.FindStringSubmatch(page)
	if fresh == nil || fresh[1] == stale || !strings.HasPrefix(h.Get("Set-Cookie"), "dsar_csrf=") {
		t.Fatalf("no fresh token: %v, Set-Cookie %q", fresh, h.Get("Set-Cookie"))
	}
	list := func() int {
		page, err := store.NewRequests(db).List(context.Background(), dsar.Actor{ID: "a", Role: dsar.RoleAdmin}, dsar.RequestFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Requests)
	}
	if n := list(); n != 0 {
		t.Fatalf("the expired form kept %d requests", n)
	}
	form.Set("_csrf", fresh[1])
	req, _ = http.NewRequest(http.MethodPost, p.base+"/c/nte", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _, h := p.do(req); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/r/") {
		t.Fatalf("sent again: %d", code)
	}
	if n := list(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// The form offers the regulations the controller allows: a California
// resident makes a CCPA request of keto-diets; a controller with one
// regulation asks nothing and takes no other.
func TestFormOffersTheControllersRegulations(t *testing.T) {
	p, db := newPageClient(t)
	admin := dsar.Actor{ID: "a", Role: dsar.RoleAdmin}
	if _, page := p.get("/c/keto-diets"); !strings.Contains(page, `name="regulation" value="ccpa"`) || !strings.Contains(page, `name="regulation" value="gdpr" checked`) {
		t.Errorf("keto-diets' form does not offer the CCPA beside the default GDPR")
	}
	if _, page := p.get("/c/nte"); strings.Contains(page, `name="regulation"`) {
		t.Errorf("nte's form offers a choice of regulation it does not have")
	}
	for _, tc := range []struct {
		form, regulation string
		want             dsar.Regulation
	}{{"keto-diets", "ccpa", dsar.RegulationCCPA}, {"keto-diets", "gdpr", dsar.RegulationGDPR}, {"keto-diets", "", dsar.RegulationGDPR}} {
		code, _, h := p.post("/c/"+tc.form, url.Values{"type": {"access"}, "email": {"kari@example.no"}, "phone": {"+15551234567"}, "regulation": {tc.regulation}}, "/c/"+tc.form)
		if code != http.StatusSeeOther {
			t.Fatalf("%s %q: %d", tc.form, tc.regulation, code)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/r/"), "/verify")
		r, err := store.NewRequests(db).Get(context.Background(), admin, id)
		if err != nil || r.Regulation != tc.want {
			t.Errorf("%s %q: regulation %q (%v), want %q", tc.form, tc.regulation, r.Regulation, err, tc.want)
		}
	}
	code, page, _ := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@example.no"}, "regulation": {"ccpa"}}, "/c/nte")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Dette regelverket gjelder ikke") {
		t.Errorf("a CCPA request of nte: %d", code)
	}
}

// postRaw posts a form as it is, with the cookies given and the header
// Sec-Fetch-Site when not empty; no cookie jar.
func (p *pageClient) postRaw(path string, form url.Values, secFetchSite string, cookies ...*http.Cookie) int {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secFetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", secFetchSite)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pageToken opens a page with a fresh browser and returns its CSRF token
// and the cookies it got.
func (p *pageClient) pageToken(path string, cookies ...*http.Cookie) (string, []*http.Cookie) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := csrfRE.FindStringSubmatch(string(b))
	if m == nil {
		p.t.Fatalf("%s has no CSRF token", path)
	}
	return m[1], resp.Cookies()
}

// The CSRF token is tied to the pre-session cookie (subjects) or to the
// session (officers): a post without it is refused whatever Sec-Fetch-Site
// says, and so is a cookie and field pair the sender chose, a token of
// another cookie or session, and a cross-site post.
func TestCSRFTokenIsTiedToTheCookieOrSession(t *testing.T) {
	p, db := newPageClient(t)
	officer(t, db, "nte")
	form := func(tok string) url.Values {
		return url.Values{"_csrf": {tok}, "email": {"kari@nte.no"}, "password": {"officer password 123"}, "next": {"/queue"}}
	}
	tokA, cookiesA := p.pageToken("/signin")
	_, cookiesB := p.pageToken("/signin")
	for _, site := range []string{"same-origin", "none", ""} {
		if code := p.postRaw("/signin", form(""), site, cookiesA...); code != http.StatusForbidden {
			t.Errorf("no token, Sec-Fetch-Site %q: %d, want 403", site, code)
		}
	}
	chosen := &http.Cookie{Name: "dsar_csrf", Value: "attacker-chosen"}
	if code := p.postRaw("/signin", form("attacker-chosen"), "same-origin", chosen); code != http.StatusForbidden {
		t.Errorf("a cookie and field the sender chose: %d, want 403", code)
	}
	if code := p.postRaw("/signin", form(tokA), "same-origin", cookiesB...); code != http.StatusForbidden {
		t.Errorf("the token of another cookie: %d, want 403", code)
	}
	if code := p.postRaw("/signin", form(tokA), "cross-site", cookiesA...); code != http.StatusForbidden {
		t.Errorf("a cross-site post with its token: %d, want 403", code)
	}
	if code := p.postRaw("/signin", form(tokA), "same-origin", cookiesA...); code != http.StatusSeeOther {
		t.Fatalf("the token of its own cookie: %d, want 303", code)
	}

	// Signed in, the token is the session's: the pre-session one, or one of
	// another session, no longer does.
	session := func() *http.Cookie {
		tok, cks := p.pageToken("/signin")
		req, _ := http.NewRequest(http.MethodPost, p.base+"/signin", strings.NewReader(form(tok).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range cks {
			req.AddCookie(ck)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if ck.Name == "dsar_session" {
				return ck
			}
		}
		t.Fatal("no session")
		return nil
	}
	s1, s2 := session(), session()
	tok1, _ := p.pageToken("/account/password", s1)
	tok2, _ := p.pageToken("/account/password", s2)
	if tok1 == tok2 {
		t.Fatal("two sessions have the same token")
	}
	if code := p.postRaw("/signout", url.Values{"_csrf": {tokA}}, "same-origin", append(cookiesA, s1)...); code != http.StatusForbidden {
		t.Errorf("a signed-in post with the pre-session token: %d, want 403", code)
	}
	if code := p.postRaw("/signout", url.Values{"_csrf": {tok2}}, "same-origin", s1); code != http.StatusForbidden {
		t.Errorf("a signed-in post with another session's token: %d, want 403", code)
	}
	if code := p.postRaw("/signout", url.Values{}, "same-origin", s1); code != http.StatusForbidden {
		t.Errorf("a signed-in post without a token: %d, want 403", code)
	}
	if code := p.postRaw("/signout", url.Values{"_csrf": {tok1}}, "same-origin", s1); code != http.StatusSeeOther {
		t.Errorf("a signed-in post with its session's token: %d, want 303", code)
	}
}

// The page that asks for the e-mailed code speaks the request's language,
// not the browser's.
func TestCheckEmailPageSpeaksTheRequestsLanguage(t *testing.T) {
	p, _ := newPageClient(t)
	code, _, h := p.post("/c/nte", url.Values{"type": {"access"}, "email": {"kari@example.no"}, "language": {"nb"}}, "/c/nte")
	if code != http.StatusSeeOther {
		t.Fatalf("form: %d", code)
	}
	// Another browser (no cookies), set to English, opens the page.
	req, _ := http.NewRequest(http.MethodGet, p.base+h.Get("Location"), nil)
	req.Header.Set("Accept-Language", "en")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	code, page, hh := res.StatusCode, string(b), res.Header
	if code != http.StatusOK || hh.Get("Content-Language") != "nb" || !strings.Contains(page, `<html lang="nb">`) {
		t.Errorf("the code page of a Norwegian request: %d, Content-Language %q", code, hh.Get("Content-Language"))
	}
}
