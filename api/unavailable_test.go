package api_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows/queuetest"
)

// api calls the JSON API with the bearer key ("" for the public) and
// returns the status, the body and the headers.
func (p *pageClient) api(method, path, key, body string) (int, string, http.Header) {
	p.t.Helper()
	req, _ := http.NewRequest(method, p.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return p.do(req)
}

// unavailableAnswer fails the test unless the answer is a 503 that asks to
// come back later.
func unavailableAnswer(t *testing.T, what string, code int, h http.Header) {
	t.Helper()
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") != strconv.Itoa(api.RetryAfterUnavailable) {
		t.Errorf("%s: %d, Retry-After %q; want 503 with Retry-After", what, code, h.Get("Retry-After"))
	}
}

// unavailablePage fails the test unless the answer is the page that says
// the service is unavailable, in the language, with the officer still
// signed in.
func unavailablePage(t *testing.T, what string, code int, page string, h http.Header, lang string) {
	t.Helper()
	unavailableAnswer(t, what, code, h)
	want := map[string]string{"nb": "Tjenesten er midlertidig utilgjengelig", "en": "The service is temporarily unavailable"}[lang]
	if !strings.Contains(page, want) || h.Get("Content-Language") != lang || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("%s: not the unavailable page in %s (%s, %s)", what, lang, h.Get("Content-Language"), h.Get("Content-Type"))
	}
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == "dsar_session" {
			t.Errorf("%s: the session cookie was changed: %+v", what, ck)
		}
	}
}

const newRequestJSON = `{"type": "access", "controller": "nte", "language": "en", "subject": {"email": "ola@example.no", "name": "Ola"}}`

// While the database is down, the API answers 503 with Retry-After, and the
// officers' and subjects' pages say that the service is unavailable, in the
// reader's language, without signing anybody out; nothing is written. On
// Postgres the database is cut off behind a proxy, on SQLite closed.
func TestDatabaseDownAnswersUnavailable(t *testing.T) {
	ctx := context.Background()
	clock := dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))
	db, direct, cut := storetest.Cuttable(t, clock)
	_, rdb := queuetest.Redis(t)
	p := newPageClientOn(t, db, func(c *api.Config) {
		c.Limiter, c.PublicPerMinute, c.KeyPerMinute = api.NewRedisLimiter(rdb), 1000, 1000
	})
	officer(t, db, "nte")
	p.signIn("kari@nte.no", "officer password 123")
	_, key, err := store.NewAPIKeys(db).Create(ctx, "crm", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := p.api(http.MethodPost, "/api/v1/requests", "", newRequestJSON)
	if code != http.StatusCreated {
		t.Fatalf("create while up: %d %s", code, body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.get("/queue"); code != http.StatusOK {
		t.Fatalf("queue while up: %d", code)
	}
	base, _ := url.Parse(p.base)
	cookies := p.c.Jar.Cookies(base)

	cut()

	code, body, h := p.api(http.MethodPost, "/api/v1/requests", "", newRequestJSON)
	unavailableAnswer(t, "public create", code, h)
	var prob struct{ Code, Title string }
	if err := json.Unmarshal([]byte(body), &prob); err != nil || prob.Code != dsar.EUNAVAILABLE ||
		prob.Title != "The service is temporarily unavailable. Please try again in a little while." {
		t.Errorf("public create: problem %s", body)
	}
	code, _, h = p.api(http.MethodGet, "/api/v1/requests", key, "")
	unavailableAnswer(t, "list with a key", code, h)
	code, _, h = p.api(http.MethodGet, "/api/v1/requests/"+created.ID, key, "")
	unavailableAnswer(t, "get with a key", code, h)

	for _, path := range []string{"/queue", "/cases/" + created.ID, "/dashboard"} {
		req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
		code, page, h := p.do(req)
		unavailablePage(t, path, code, page, h, "nb")
	}
	// Another officer, signed out, tries to sign in.
	jar, _ := cookiejar.New(nil)
	other := *p
	other.c = &http.Client{Jar: jar, CheckRedirect: p.c.CheckRedirect}
	code, page, h := other.post("/signin", url.Values{"email": {"kari@nte.no"}, "password": {"officer password 123"}}, "/signin")
	unavailablePage(t, "sign in", code, page, h, "nb")

	// A subject, reading English.
	form := url.Values{"type": {"access"}, "email": {"per@example.no"}, "name": {"Per"}, "language": {"en"}}
	code, page, h = p.post("/c/nte", form, "/c/nte?lang=en")
	unavailablePage(t, "the request form", code, page, h, "en")
	req, _ := http.NewRequest(http.MethodGet, p.base+"/r/"+created.ID+"/verify", nil)
	code, page, h = p.do(req)
	unavailablePage(t, "the code page", code, page, h, "en")
	// A link is not taken for unknown when the database cannot say.
	for _, path := range []string{"/s/a-status-token-of-43-characters-aaaaaaaaaaa", "/v/a-verification-token-of-43-characters-aaaa"} {
		req, _ := http.NewRequest(http.MethodGet, p.base+path+"?lang=en", nil)
		code, page, h := p.do(req)
		unavailablePage(t, path, code, page, h, "en")
	}

	// Back up: nothing was written, nobody was signed out.
	up := storetest.OpenURL(t, direct, clock)
	list, err := store.NewRequests(up).List(ctx, dsar.Actor{ID: "a", Role: dsar.RoleAdmin}, dsar.RequestFilter{})
	if err != nil || len(list.Requests) != 1 || list.Requests[0].ID != created.ID {
		t.Errorf("requests after the outage: %d (%v), want the one created before", len(list.Requests), err)
	}
	for _, ck := range cookies {
		if ck.Name == "dsar_session" {
			if _, err := store.NewUsers(up).Session(ctx, ck.Value); err != nil {
				t.Errorf("the officer's session ended in the outage: %v", err)
			}
		}
	}
}

// closedAddr returns a loopback address that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// While Redis is down, the rate-limited calls are refused as unavailable
// (the limiter fails closed): the API answers 503 with Retry-After, the
// forms say the service is unavailable, nothing is written; the officers'
// pages, which need no limiter, go on working.
func TestRedisDownFailsClosed(t *testing.T) {
	ctx := context.Background()
	down := redis.NewClient(&redis.Options{Addr: closedAddr(t)})
	t.Cleanup(func() { down.Close() })
	p, db := newPageClientWith(t, func(c *api.Config) {
		c.Limiter, c.PublicPerMinute, c.KeyPerMinute = api.NewRedisLimiter(down), 1000, 1000
	})
	officer(t, db, "nte")

	code, body, h := p.api(http.MethodPost, "/api/v1/requests", "", newRequestJSON)
	unavailableAnswer(t, "public create", code, h)
	if !strings.Contains(body, `"code":"unavailable"`) {
		t.Errorf("public create: %s", body)
	}
	form := url.Values{"type": {"access"}, "email": {"per@example.no"}, "name": {"Per"}, "language": {"nb"}}
	code, page, h := p.post("/c/nte", form, "/c/nte")
	unavailablePage(t, "the request form", code, page, h, "nb")
	code, page, h = p.post("/signin", url.Values{"email": {"kari@nte.no"}, "password": {"officer password 123"}}, "/signin")
	unavailablePage(t, "sign in", code, page, h, "nb")

	_, token, err := store.NewUsers(db).SignIn(ctx, "kari@nte.no", "officer password 123")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(p.base)
	p.c.Jar.SetCookies(base, []*http.Cookie{{Name: "dsar_session", Value: token, Path: "/"}})
	if code, _ := p.get("/queue"); code != http.StatusOK {
		t.Errorf("the queue without Redis: %d", code)
	}
	list, err := store.NewRequests(db).List(ctx, dsar.Actor{ID: "a", Role: dsar.RoleAdmin}, dsar.RequestFilter{})
	if err != nil || len(list.Requests) != 0 {
		t.Errorf("%d requests written (%v)", len(list.Requests), err)
	}
}
