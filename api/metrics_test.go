package api_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows/queuetest"
)

const metricsToken = "scrape-token-0123456789"

// newMetricsClient is newPageClient with /metrics and the queue monitor:
// an own registry, the database's stats, a metrics token and a test Redis.
func newMetricsClient(t *testing.T) (*pageClient, *store.DB, *dsar.ManualClock) {
	t.Helper()
	clock := dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	opt, _ := queuetest.Redis(t)
	srv, err := api.New(api.Config{Requests: reqs, Cases: reqs, Subjects: store.NewSubjects(db), APIKeys: store.NewAPIKeys(db),
		Users: store.NewUsers(db), Controllers: db.Controllers, Clock: clock, Keyring: db.Keyring, Log: quietLog,
		Metrics: prometheus.NewRegistry(), Stats: db, MetricsToken: metricsToken, Queue: opt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return &pageClient{t: t, base: ts.URL, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}, db, clock
}

// scrape reads /metrics with the bearer (none: the client's cookies only).
func (p *pageClient) scrape(bearer string) (int, string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.base+"/metrics", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	code, body, _ := p.do(req)
	return code, body
}

func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// value returns the value of the series of the family with the labels, and
// whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsRefuseAllButAdminsAndTheToken(t *testing.T) {
	p, db, _ := newMetricsClient(t)
	ctx := context.Background()
	users := store.NewUsers(db)
	if _, err := users.Create(ctx, "admin@dsar.example", "admin password 123", dsar.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	officer(t, db, "nte")
	keys := store.NewAPIKeys(db)
	_, adminKey, err := keys.Create(ctx, "ops", dsar.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, officerKey, err := keys.Create(ctx, "crm", dsar.RoleOfficer, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name, bearer string
		want         int
	}{
		{"anonymous", "", http.StatusUnauthorized},
		{"a wrong token", "not-the-token", http.StatusUnauthorized},
		{"an officer's API key", officerKey, http.StatusForbidden},
		{"an admin API key", adminKey, http.StatusOK},
		{"the metrics token", metricsToken, http.StatusOK},
	} {
		if code, body := p.scrape(tt.bearer); code != tt.want {
			t.Errorf("%s: %d, want %d: %.200s", tt.name, code, tt.want, body)
		}
	}
	p.signIn("kari@nte.no", "officer password 123")
	if code, _ := p.scrape(""); code != http.StatusForbidden {
		t.Errorf("signed-in officer: %d, want 403", code)
	}
	p.signIn("admin@dsar.example", "admin password 123")
	if code, body := p.scrape(""); code != http.StatusOK || !strings.Contains(body, "dsar_cases") {
		t.Errorf("signed-in admin: %d", code)
	}
}

func TestMetricsCountCasesAndOutbox(t *testing.T) {
	p, db, clock := newMetricsClient(t)
	ctx := context.Background()
	reqs := store.NewRequests(db)
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	create := func(ctrl string, received time.Time) *dsar.Request {
		t.Helper()
		r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: ctrl, Channel: dsar.ChannelLetter,
			ReceivedAt: &received, Subject: dsar.Subject{Email: "kari.nordmann@example.no", Name: "Kari Nordmann"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	now := clock.Now()
	cases := []*dsar.Request{
		create("nte", time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)),  // overdue
		create("nte", time.Date(2025, 2, 10, 10, 0, 0, 0, time.UTC)), // due within 7 days
		create("nte", now),     // due in a month
		create("proviso", now), // due in a month
	}
	// The expectation follows the deadlines the service computed.
	wantOverdue, wantSoon := map[string]float64{}, map[string]float64{}
	for _, r := range cases {
		switch {
		case r.Deadline.Before(now):
			wantOverdue[r.Controller]++
		case r.Deadline.Before(now.Add(7 * 24 * time.Hour)):
			wantSoon[r.Controller]++
		}
	}
	if wantOverdue["nte"] != 1 || wantSoon["nte"] != 1 {
		t.Fatalf("the test's cases are not one overdue and one due soon: deadlines %v, %v, %v", cases[0].Deadline, cases[1].Deadline, cases[2].Deadline)
	}

	// Ten minutes on, the outbox rows written with the cases wait.
	clock.Advance(10 * time.Minute)
	due, err := store.NewOutbox(db).Due(ctx, clock.Now(), 1)
	if err != nil || len(due) != 1 {
		t.Fatalf("no due outbox row: %v", err)
	}
	wantLag := clock.Now().Sub(due[0].RunAt).Seconds()
	counts, err := store.NewOutbox(db).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.get("/api/v1/requests/" + cases[0].ID) // one API call to observe (401 without key)

	code, body := p.scrape(metricsToken)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	if strings.Contains(body, "kari") || strings.Contains(body, "Nordmann") || strings.Contains(body, cases[0].ID) || strings.Contains(body, cases[0].Reference) {
		t.Error("/metrics shows personal data or a case's identity")
	}
	fams := parseMetrics(t, body)
	check := func(name string, labels map[string]string, want float64) {
		t.Helper()
		got, ok := value(fams, name, labels)
		if !ok || got != want {
			t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
		}
	}
	check("dsar_stats_up", nil, 1)
	status := string(cases[0].Status)
	check("dsar_cases", map[string]string{"status": status, "controller": "nte"}, 3)
	check("dsar_cases", map[string]string{"status": status, "controller": "proviso"}, 1)
	check("dsar_cases", map[string]string{"status": string(dsar.StatusCompleted), "controller": "nte"}, 0)
	check("dsar_cases_overdue", map[string]string{"controller": "nte"}, 1)
	check("dsar_cases_overdue", map[string]string{"controller": "proviso"}, 0)
	check("dsar_cases_due_7d", map[string]string{"controller": "nte"}, 1)
	check("dsar_cases_due_7d", map[string]string{"controller": "proviso"}, 0)
	pending := 0.0
	for _, kind := range dsar.OutboxKinds {
		k := string(kind)
		v, ok := value(fams, "dsar_outbox_pending", map[string]string{"kind": k})
		if !ok {
			t.Errorf("no dsar_outbox_pending{kind=%q}", k)
		}
		pending += v
		check("dsar_outbox_failed", map[string]string{"kind": k}, 0)
	}
	if pending != float64(counts[dsar.OutboxPending]) || pending == 0 {
		t.Errorf("dsar_outbox_pending sums to %v, want %d", pending, counts[dsar.OutboxPending])
	}
	check("dsar_outbox_lag_seconds", nil, wantLag)
	if wantLag < 600 {
		t.Errorf("outbox lag %v, want at least the 10 minutes waited", wantLag)
	}
	// The latency histogram names the route pattern, never the path.
	check("dsar_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/api/v1/requests/:id", "status": "401"}, 1)
	// A scrape is observed after it answered: the next one shows it.
	_, body = p.scrape(metricsToken)
	if v, _ := value(parseMetrics(t, body), "dsar_http_request_duration_seconds", map[string]string{"route": "/metrics", "status": "200"}); v != 1 {
		t.Errorf("the first scrape observed %v times, want 1", v)
	}
}

func TestMetricsGaugesFollowTheStore(t *testing.T) {
	// The all-zero state: a fresh database has a series for every
	// configured controller, status and kind, and no lag.
	p, db, _ := newMetricsClient(t)
	_, body := p.scrape(metricsToken)
	fams := parseMetrics(t, body)
	ctrls := db.Controllers.All()
	if n := len(fams["dsar_cases"].GetMetric()); n != len(ctrls)*len(dsar.Statuses) {
		t.Errorf("%d dsar_cases series, want %d", n, len(ctrls)*len(dsar.Statuses))
	}
	if v, ok := value(fams, "dsar_outbox_lag_seconds", nil); !ok || v != 0 {
		t.Errorf("lag on an empty outbox = %v", v)
	}
}

func TestQueueMonitorIsForAdminsOnly(t *testing.T) {
	p, db, _ := newMetricsClient(t)
	ctx := context.Background()
	users := store.NewUsers(db)
	if _, err := users.Create(ctx, "admin@dsar.example", "admin password 123", dsar.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	officer(t, db, "nte")
	req := func(method, path string, h map[string]string) int {
		t.Helper()
		r, _ := http.NewRequest(method, p.base+path, nil)
		for k, v := range h {
			r.Header.Set(k, v)
		}
		code, _, _ := p.do(r)
		return code
	}

	for _, path := range []string{"/admin/queues", "/admin/queues/api/queues"} {
		code, _, h := p.do(mustRequest(t, http.MethodGet, p.base+path))
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/signin?next=") {
			t.Errorf("anonymous %s: %d %q, want a redirect to sign in", path, code, h.Get("Location"))
		}
	}
	p.signIn("kari@nte.no", "officer password 123")
	if code := req(http.MethodGet, "/admin/queues", nil); code != http.StatusForbidden {
		t.Errorf("officer: %d, want 403", code)
	}
	p.signIn("admin@dsar.example", "admin password 123")
	code, body, h := p.do(mustRequest(t, http.MethodGet, p.base+"/admin/queues"))
	if code != http.StatusOK || !strings.Contains(body, "Asynq") {
		t.Errorf("admin /admin/queues: %d", code)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("the monitor's CSP %q would block its UI", csp)
	}
	code, body, _ = p.do(mustRequest(t, http.MethodGet, p.base+"/admin/queues/api/queues"))
	if code != http.StatusOK || !strings.Contains(body, "queues") {
		t.Errorf("admin /admin/queues/api/queues: %d %.200s", code, body)
	}
	// An unsafe call from another site is refused even with the session.
	if code := req(http.MethodPost, "/admin/queues/api/queues/default:pause", map[string]string{"Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", code)
	}
	if code := req(http.MethodPost, "/admin/queues/api/queues/default:pause", map[string]string{"Sec-Fetch-Site": "same-origin"}); code == http.StatusForbidden {
		t.Errorf("same-origin POST refused: %d", code)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
