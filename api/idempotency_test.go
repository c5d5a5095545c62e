package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/templates"
)

// gatedRequests is the store's request service whose Create can be held
// (gate) or made to fail (fail) by the test.
type gatedRequests struct {
	*store.Requests
	mu   sync.Mutex
	gate chan struct{} // when set, Create says it has begun on entered and waits for gate to close
	// entered gets a value when a held Create has begun.
	entered chan struct{}
	fail    int // how many Creates fail with an internal error
	creates int // how many Creates ran
}

func (g *gatedRequests) Create(ctx context.Context, a dsar.Actor, in dsar.NewRequest) (*dsar.Request, error) {
	g.mu.Lock()
	gate, fail := g.gate, g.fail > 0
	g.creates++
	if fail {
		g.fail--
	}
	g.mu.Unlock()
	if gate != nil {
		g.entered <- struct{}{}
		<-gate
	}
	if fail {
		return nil, dsar.Errorf(dsar.EINTERNAL, "the test's failure")
	}
	return g.Requests.Create(ctx, a, in)
}

type idemEnv struct {
	clock *dsar.ManualClock
	db    *store.DB
	reqs  *gatedRequests
	url   string
	keys  map[string]string
	ids   map[string]string
}

func newIdemEnv(t *testing.T) *idemEnv {
	t.Helper()
	e := &idemEnv{clock: dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)), keys: map[string]string{}, ids: map[string]string{}}
	e.db = storetest.Open(t, e.clock)
	e.reqs = &gatedRequests{Requests: store.NewRequests(e.db), entered: make(chan struct{}, 8)}
	keys := store.NewAPIKeys(e.db)
	for _, k := range []struct {
		name   string
		role   dsar.Role
		scopes []dsar.Scope
	}{
		{"crm", dsar.RoleOfficer, nil},
		{"other", dsar.RoleOfficer, nil},
		{"portal", dsar.RoleSystem, []dsar.Scope{dsar.ScopeRequestsCreate, dsar.ScopeRequestsRead}},
		{"trusted", dsar.RoleSystem, []dsar.Scope{dsar.ScopeRequestsCreate, dsar.ScopeRequestsVerified, dsar.ScopeRequestsRead}},
		{"reader", dsar.RoleOfficer, []dsar.Scope{dsar.ScopeRequestsRead}},
		{"worker", dsar.RoleOfficer, []dsar.Scope{dsar.ScopeCasesWrite, dsar.ScopeRequestsRead}},
	} {
		key, secret, err := keys.Create(context.Background(), k.name, k.role, []string{"nte"}, k.scopes...)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[k.name], e.ids[k.name] = secret, key.ID
	}
	srv, err := api.New(api.Config{
		Requests: e.reqs, Cases: store.NewRequests(e.db), Suppression: store.NewRequests(e.db), APIKeys: keys,
		Idempotency: store.NewIdempotency(e.db), Controllers: e.db.Controllers, Clock: e.clock, Log: quietLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// answer is what a call got.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) problem(t *testing.T) (code, title string, fields map[string]string) {
	t.Helper()
	var p struct {
		Code, Title string
		Errors      []struct{ Field, Code string }
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("not a problem: %s", a.body)
	}
	fields = map[string]string{}
	for _, f := range p.Errors {
		fields[f.Field] = f.Code
	}
	return p.Code, p.Title, fields
}

// call sends method path with a JSON body, the named key and, when set,
// the Idempotency-Key; header holds more headers, name and value.
func (e *idemEnv) call(t *testing.T, method, path, key, idem, body string, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[key])
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Idempotency-Key" {
			req.Header.Add(header[i], header[i+1]) // a second one
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

const (
	kariRequest = `{"type":"access","controller":"nte","subject":{"email":"kari@example.no"}}`
	olaRequest  = `{"type":"access","controller":"nte","subject":{"email":"ola@example.no"}}`
)

// cases counts the cases of NTE.
func (e *idemEnv) cases(t *testing.T) int {
	t.Helper()
	page, err := store.NewRequests(e.db).List(context.Background(), dsar.ActorService, dsar.RequestFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Requests)
}

// The same key and body give the first answer again, status, headers and
// body, marked as replayed, and no second case; another body under the key
// is 422; other callers' keys and other paths are their own.
func TestIdempotencyReplaysTheFirstAnswer(t *testing.T) {
	e := newIdemEnv(t)
	first := e.call(t, "POST", "/api/v1/requests", "crm", "order-1", kariRequest)
	if first.status != http.StatusCreated || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first call: %d %v %s", first.status, first.header, first.body)
	}
	e.clock.Advance(time.Hour)
	again := e.call(t, "POST", "/api/v1/requests", "crm", "order-1", kariRequest)
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("Location") != first.header.Get("Location") || again.header.Get("Content-Type") != first.header.Get("Content-Type") {
		t.Errorf("the same call again: %d %v %s\nfirst: %d %v %s", again.status, again.header, again.body, first.status, first.header, first.body)
	}
	if n := e.cases(t); n != 1 {
		t.Errorf("%d cases, want 1", n)
	}

	other := e.call(t, "POST", "/api/v1/requests", "crm", "order-1", olaRequest, "Accept-Language", "nb")
	code, title, _ := other.problem(t)
	if other.status != http.StatusUnprocessableEntity || code != dsar.EUNPROCESSABLE ||
		title != templates.T(dsar.LanguageNB, "error.idempotency.mismatch", nil) || other.header.Get("Content-Language") != "nb" {
		t.Errorf("another body under the key: %d %s", other.status, other.body)
	}
	// The body's content type is part of the call.
	if a := e.call(t, "POST", "/api/v1/requests", "crm", "order-1", kariRequest, "Content-Type", "application/json; charset=utf-8"); a.status != http.StatusUnprocessableEntity {
		t.Errorf("another content type under the key: %d %s", a.status, a.body)
	}
	// Another key's caller, with the same Idempotency-Key, makes a call of
	// its own; so does the first caller's key on another path.
	if a := e.call(t, "POST", "/api/v1/requests", "other", "order-1", olaRequest); a.status != http.StatusCreated || a.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("another caller, the same key: %d %v %s", a.status, a.header, a.body)
	}
	id := strings.TrimPrefix(first.header.Get("Location"), "/api/v1/requests/")
	note := `{"body":"Ringt kunden."}`
	if a := e.call(t, "POST", "/api/v1/requests/"+id+"/notes", "crm", "order-1", note); a.status != http.StatusOK || a.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("another path, the same key: %d %v %s", a.status, a.header, a.body)
	}
	// A refusal (4xx) is an answer like another, kept and replayed.
	bad := `{"type":"access","controller":"nte","subject":{"email":"not an address"}}`
	r1 := e.call(t, "POST", "/api/v1/requests", "crm", "bad-1", bad, "Accept-Language", "nb")
	r2 := e.call(t, "POST", "/api/v1/requests", "crm", "bad-1", bad, "Accept-Language", "nb")
	if r1.status != http.StatusUnprocessableEntity || r2.status != r1.status || !bytes.Equal(r1.body, r2.body) || r2.header.Get("Idempotent-Replayed") != "true" ||
		r2.header.Get("Content-Language") != "nb" || r2.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("a refusal replayed: %d %s, then %d %v %s", r1.status, r1.body, r2.status, r2.header, r2.body)
	}
	// Without the header nothing is kept.
	e.call(t, "POST", "/api/v1/requests", "crm", "", olaRequest)
	if a := e.call(t, "POST", "/api/v1/requests", "crm", "", olaRequest); a.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a call without a key was replayed")
	}
	if n := e.cases(t); n != 4 {
		t.Errorf("%d cases, want 4", n)
	}
}

// A second call while the first one with its key runs is 409 and changes
// nothing; once the first has answered, the second gets its answer.
func TestIdempotencyConflictWhileRunning(t *testing.T) {
	e := newIdemEnv(t)
	gate := make(chan struct{})
	e.reqs.mu.Lock()
	e.reqs.gate = gate
	e.reqs.mu.Unlock()
	firstDone := make(chan answer, 1)
	go func() { firstDone <- e.call(t, "POST", "/api/v1/requests", "crm", "order-2", kariRequest) }()
	<-e.reqs.entered // the first call runs, holding its key
	e.reqs.mu.Lock()
	e.reqs.gate = nil
	e.reqs.mu.Unlock()
	second := e.call(t, "POST", "/api/v1/requests", "crm", "order-2", kariRequest, "Accept-Language", "en")
	code, title, _ := second.problem(t)
	if second.status != http.StatusConflict || code != dsar.ECONFLICT || title != templates.T(dsar.LanguageEN, "error.idempotency.running", nil) {
		t.Errorf("a second call while the first runs: %d %s", second.status, second.body)
	}
	close(gate)
	first := <-firstDone
	if first.status != http.StatusCreated {
		t.Fatalf("first call: %d %s", first.status, first.body)
	}
	third := e.call(t, "POST", "/api/v1/requests", "crm", "order-2", kariRequest)
	if third.status != http.StatusCreated || !bytes.Equal(third.body, first.body) || third.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("after the first answered: %d %v %s", third.status, third.header, third.body)
	}
	if e.reqs.creates != 1 || e.cases(t) != 1 {
		t.Errorf("%d creates, %d cases; want 1 and 1", e.reqs.creates, e.cases(t))
	}
}

// Calls that race with one key, started together: one runs, the others
// get 409 or, once it has answered, its answer; one case is made.
func TestIdempotencyRace(t *testing.T) {
	e := newIdemEnv(t)
	const n = 8
	start := make(chan struct{})
	answers := make(chan answer, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers <- e.call(t, "POST", "/api/v1/requests", "crm", "order-3", kariRequest)
		}()
	}
	close(start)
	wg.Wait()
	close(answers)
	ran, conflicts, replays := 0, 0, 0
	for a := range answers {
		switch {
		case a.status == http.StatusCreated && a.header.Get("Idempotent-Replayed") == "":
			ran++
		case a.status == http.StatusCreated:
			replays++
		case a.status == http.StatusConflict:
			conflicts++
		default:
			t.Errorf("unexpected answer %d %s", a.status, a.body)
		}
	}
	if ran != 1 || ran+conflicts+replays != n || e.cases(t) != 1 {
		t.Errorf("%d ran, %d conflicts, %d replays, %d cases; want one run and one case", ran, conflicts, replays, e.cases(t))
	}
}

// A failure of the service (5xx) is not kept: the key is free and the
// same call runs again.
func TestIdempotencyForgetsFailures(t *testing.T) {
	e := newIdemEnv(t)
	e.reqs.fail = 1
	if a := e.call(t, "POST", "/api/v1/requests", "crm", "order-4", kariRequest); a.status != http.StatusInternalServerError {
		t.Fatalf("failing call: %d %s", a.status, a.body)
	}
	a := e.call(t, "POST", "/api/v1/requests", "crm", "order-4", kariRequest)
	if a.status != http.StatusCreated || a.header.Get("Idempotent-Replayed") != "" || e.reqs.creates != 2 {
		t.Errorf("the call again after a failure: %d %v %s (%d creates)", a.status, a.header, a.body, e.reqs.creates)
	}
}

// After 24 hours the answer is gone and the key is free: the same call
// runs again, and another body under the key is a new call.
func TestIdempotencyExpires(t *testing.T) {
	e := newIdemEnv(t)
	first := e.call(t, "POST", "/api/v1/requests", "crm", "order-5", kariRequest)
	e.clock.Advance(dsar.IdempotencyTTL - time.Second)
	if a := e.call(t, "POST", "/api/v1/requests", "crm", "order-5", kariRequest); a.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("just before 24 hours: %d %v", a.status, a.header)
	}
	e.clock.Advance(time.Second)
	a := e.call(t, "POST", "/api/v1/requests", "crm", "order-5", olaRequest)
	if a.status != http.StatusCreated || a.header.Get("Idempotent-Replayed") != "" || bytes.Equal(a.body, first.body) {
		t.Errorf("after 24 hours, another body: %d %v %s", a.status, a.header, a.body)
	}
	// The lapsed answer was deleted, not only ignored.
	e.clock.Advance(dsar.IdempotencyTTL)
	if n, err := e.db.PurgeIdempotency(context.Background(), e.clock.Now()); err != nil || n != 1 {
		t.Errorf("purge after another 24 hours: %d, %v; want the one left", n, err)
	}
}

// Bad keys are 400; the public cannot send one.
func TestIdempotencyKeyChecks(t *testing.T) {
	e := newIdemEnv(t)
	for _, c := range []struct {
		name, key, idem string
		extra           []string
	}{
		{"too long", "crm", strings.Repeat("k", dsar.MaxIdempotencyKeyLength+1), nil},
		{"not printable ASCII", "crm", "ordre-æ", nil},
		{"control character", "crm", "a\tb", nil},
		{"twice", "crm", "a", []string{"Idempotency-Key", "b"}},
		{"public", "", "a", nil},
	} {
		a := e.call(t, "POST", "/api/v1/requests", c.key, c.idem, kariRequest, c.extra...)
		if code, title, _ := a.problem(t); a.status != http.StatusBadRequest || code != dsar.EINVALID || strings.Contains(title, "error.") {
			t.Errorf("%s: %d %s", c.name, a.status, a.body)
		}
	}
	if a := e.call(t, "POST", "/api/v1/requests", "crm", strings.Repeat("k", dsar.MaxIdempotencyKeyLength), kariRequest); a.status != http.StatusCreated {
		t.Errorf("a key of the longest length: %d %s", a.status, a.body)
	}
	// An upload over the limit of a call with a key is refused, and says
	// to send it without one.
	id := strings.TrimPrefix(e.call(t, "POST", "/api/v1/requests", "crm", "", olaRequest).header.Get("Location"), "/api/v1/requests/")
	upload := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.jsonl\"\r\n\r\n" +
		strings.Repeat("{}\n", dsar.MaxIdempotentBody/3+1) + "\r\n--b--\r\n"
	a := e.call(t, "POST", "/api/v1/requests/"+id+"/tasks/01966c01-2a4b-7c3d-8e5f-0a1b2c3d4e5f/done", "crm", "upload-1", upload,
		"Content-Type", "multipart/form-data; boundary=b")
	if code, title, _ := a.problem(t); a.status != http.StatusRequestEntityTooLarge || code != dsar.ETOOLARGE ||
		title != templates.T(dsar.LanguageEN, "error.idempotency.too_large", map[string]any{"limit": dsar.MaxIdempotentBody}) {
		t.Errorf("an upload over the limit with a key: %d %s", a.status, a.body)
	}
	if n := e.cases(t); n != 2 {
		t.Errorf("%d cases, want 2: refused calls change nothing", n)
	}
}
