package http_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
	httpconn "github.com/dsar-project/dsar/workflows/connector/http"
	"github.com/dsar-project/dsar/workflows/connector/http/fakesystem"
)

var start = time.Date(2025, time.March, 5, 9, 0, 0, 0, time.UTC)

const secretEnv = "DSAR_TEST_HTTP_SYSTEM_SECRET"

// setup returns a connector, a fake system on loopback with the secret of
// secretEnv, and the system's settings.
func setup(t *testing.T) (*httpconn.Connector, *fakesystem.System, *dsar.HTTPConnector, *dsar.ManualClock) {
	t.Helper()
	clock := dsar.NewManualClock(start)
	raw := dsar.NewWebhookSecret()
	t.Setenv(secretEnv, raw)
	secret, err := dsar.ParseWebhookSecret(raw)
	if err != nil {
		t.Fatal(err)
	}
	sys := fakesystem.New(secret, clock, nil)
	srv := httptest.NewServer(sys)
	t.Cleanup(srv.Close)
	t.Cleanup(sys.Close)
	conn := httpconn.New(clock, slog.New(slog.DiscardHandler))
	t.Cleanup(conn.Close)
	return conn, sys, &dsar.HTTPConnector{URL: srv.URL + "/dsar", Secret: dsar.Secret{Env: secretEnv}, Timeout: 2 * time.Second,
		NoData: []int{404}}, clock
}

// order returns the first send of an erasure task to the system.
func order(cfg *dsar.HTTPConnector, callback string) *connector.Order {
	return &connector.Order{Step: dsar.StepSend, CallbackURL: callback, TaskOrder: &dsar.TaskOrder{
		Task: &dsar.Task{ID: "task-1", System: "crm", Action: dsar.ActionErase, Round: 1, Categories: []string{"contact"}},
		Request: &dsar.Request{Reference: "SHOP-2025-0001", Type: dsar.TypeErasure, Regulation: dsar.RegulationGDPR,
			Deadline: start.AddDate(0, 1, 0), Subject: dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann"}},
		Controller: &dsar.Controller{Key: "shop"},
		Connector:  &dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: cfg},
	}}
}

func noPersonalData(t *testing.T, o dsar.TaskOutcome) {
	t.Helper()
	if strings.Contains(strings.ToLower(o.Answer), "kari") {
		t.Errorf("the answer %q holds the subject's data", o.Answer)
	}
}

// TestEachModeOfTheSystemMapsToItsOutcome sends a task to the fake system
// in each of its modes.
func TestEachModeOfTheSystemMapsToItsOutcome(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		mode    fakesystem.Mode
		timeout time.Duration
		want    dsar.OutcomeKind
		answer  string
		applied int
	}{
		{fakesystem.ModeOK, 0, dsar.OutcomeDone, `HTTP 200: {"count":1,"status":"done"}`, 1},
		{fakesystem.ModeFail, 0, dsar.OutcomeRetry, "HTTP 500: ", 0},
		{fakesystem.ModeRateLimit, 0, dsar.OutcomeRetry, "HTTP 429: ", 0},
		{fakesystem.ModeSlow, 50 * time.Millisecond, dsar.OutcomeRetry, "no answer: timed out after 50ms", 0},
		{fakesystem.ModeClose, 0, dsar.OutcomeRetry, "no answer: the connection was closed", 0},
		{fakesystem.ModeGarbage, 0, dsar.OutcomeRetry, "HTTP 200: <html>", 0},
		{fakesystem.ModeCallback, 0, dsar.OutcomeAccepted, "HTTP 202: ", 1},
		{fakesystem.ModePoll, 0, dsar.OutcomeAccepted, "HTTP 202: ", 1},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			conn, sys, cfg, _ := setup(t)
			if tc.timeout > 0 {
				cfg.Timeout = tc.timeout
			}
			sys.SetMode(tc.mode)
			callbacks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
			defer callbacks.Close()
			o := conn.Do(ctx, order(cfg, callbacks.URL+"/cb"))
			if o.Kind != tc.want || !strings.HasPrefix(o.Answer, tc.answer) {
				t.Errorf("outcome %s %q, want %s %q…", o.Kind, o.Answer, tc.want, tc.answer)
			}
			noPersonalData(t, o)
			if got := sys.Applied("task-1"); got != tc.applied {
				t.Errorf("applied %d times, want %d", got, tc.applied)
			}
			switch tc.mode {
			case fakesystem.ModeOK:
				if o.Count != 1 {
					t.Errorf("count %d, want 1", o.Count)
				}
			case fakesystem.ModeRateLimit:
				if o.RetryAfter != fakesystem.RetryAfter {
					t.Errorf("retry after %v, want %v", o.RetryAfter, fakesystem.RetryAfter)
				}
			case fakesystem.ModeCallback:
				if o.PollAfter != 0 || o.External != "" || o.ExpectedBy == nil || !o.ExpectedBy.Equal(start.Add(time.Hour)) {
					t.Errorf("accepted for a callback: %+v", o)
				}
				if cb := <-sys.Callbacks(); cb.Err != nil || cb.Status != http.StatusNoContent || cb.TaskID != "task-1" {
					t.Errorf("callback %+v", cb)
				}
			case fakesystem.ModePoll:
				if o.PollAfter != httpconn.DefaultPollInterval || !strings.HasSuffix(o.External, "/dsar/status/task-1") {
					t.Fatalf("accepted for polling: %+v", o)
				}
				p := order(cfg, "")
				p.Step, p.Task.External = dsar.StepPoll, o.External
				if got := conn.Do(ctx, p); got.Kind != dsar.OutcomeDone || got.Count != 1 {
					t.Errorf("poll: %+v", got)
				}
			}
		})
	}
}

// TestIdempotentRepeatAndCancel sends a task twice and withdraws it.
func TestIdempotentRepeatAndCancel(t *testing.T) {
	ctx := context.Background()
	conn, sys, cfg, _ := setup(t)
	o := order(cfg, "")
	for range 2 {
		if got := conn.Do(ctx, o); got.Kind != dsar.OutcomeDone {
			t.Fatalf("send: %+v", got)
		}
	}
	task, _ := sys.Task("task-1")
	if task.Times != 1 || task.Calls != 2 || task.Action != "erase" {
		t.Errorf("after two sends: %+v", task)
	}
	o.Step = dsar.StepCancel
	conn.Do(ctx, o)
	if c, ok := sys.Task("task-1:cancel"); !ok || c.Action != httpconn.ActionCancel || c.TaskID != "task-1" {
		t.Errorf("cancel: %+v", c)
	}
	if keys := sys.AppliedKeys(); len(keys) != 2 {
		t.Errorf("applied keys %v", keys)
	}
}

// TestNoDataForAnUnknownSubject: a 404 counts as "no data" only where the
// system's settings say so.
func TestNoDataForAnUnknownSubject(t *testing.T) {
	ctx := context.Background()
	conn, sys, cfg, _ := setup(t)
	sys.HoldOnly()
	sys.Hold("ola@example.no", 3)
	if got := conn.Do(ctx, order(cfg, "")); got.Kind != dsar.OutcomeNoData {
		t.Errorf("unknown subject: %+v", got)
	}
	cfg.NoData = nil
	o := order(cfg, "")
	o.Task.ID = "task-2"
	if got := conn.Do(ctx, o); got.Kind != dsar.OutcomeFailed || !strings.HasPrefix(got.Answer, "HTTP 404") {
		t.Errorf("404 without no_data: %+v", got)
	}
	o.Task.ID, o.Request.Subject.Email = "task-3", "OLA@example.no"
	if got := conn.Do(ctx, o); got.Kind != dsar.OutcomeDone || got.Count != 3 {
		t.Errorf("held subject: %+v", got)
	}
}

// TestSignatureAndSecret: a call with another system's secret is refused
// by the system; a secret that cannot be read is retried.
func TestSignatureAndSecret(t *testing.T) {
	ctx := context.Background()
	conn, sys, cfg, clock := setup(t)
	t.Setenv("DSAR_TEST_OTHER_SECRET", dsar.NewWebhookSecret())
	cfg.Secret = dsar.Secret{Env: "DSAR_TEST_OTHER_SECRET"}
	if got := conn.Do(ctx, order(cfg, "")); got.Kind != dsar.OutcomeFailed || !strings.HasPrefix(got.Answer, "HTTP 401") {
		t.Errorf("wrong secret: %+v", got)
	}
	cfg.Secret = dsar.Secret{Env: "DSAR_TEST_NO_SUCH_SECRET"}
	if got := conn.Do(ctx, order(cfg, "")); got.Kind != dsar.OutcomeRetry || !strings.Contains(got.Answer, "DSAR_TEST_NO_SUCH_SECRET") {
		t.Errorf("missing secret: %+v", got)
	}
	// A call signed by a clock that is off by more than the tolerance.
	cfg.Secret = dsar.Secret{Env: secretEnv}
	skewed := httpconn.New(dsar.NewManualClock(clock.Now().Add(-dsar.WebhookTolerance-time.Minute)), slog.New(slog.DiscardHandler))
	if got := skewed.Do(ctx, order(cfg, "")); got.Kind != dsar.OutcomeFailed || !strings.HasPrefix(got.Answer, "HTTP 401") {
		t.Errorf("old timestamp: %+v", got)
	}
	if sys.Rejected() != 2 || sys.Applied("task-1") != 0 {
		t.Errorf("rejected %d, applied %d", sys.Rejected(), sys.Applied("task-1"))
	}
}

// TestTheWireFormat checks the request a system receives, and each answer
// a system may give.
func TestTheWireFormat(t *testing.T) {
	ctx := context.Background()
	clock := dsar.NewManualClock(start)
	raw := dsar.NewWebhookSecret()
	t.Setenv(secretEnv, raw)
	secret, _ := dsar.ParseWebhookSecret(raw)
	var (
		status int
		header http.Header
		body   string
		got    *http.Request
		gotB   []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotB, _ = io.ReadAll(r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	conn := httpconn.New(clock, slog.New(slog.DiscardHandler))
	cfg := &dsar.HTTPConnector{URL: srv.URL + "/hook", Secret: dsar.Secret{Env: secretEnv}, NoData: []int{410}}

	status, body = http.StatusOK, `{"status":"done","count":4}`
	o := order(cfg, "https://dsar.example/api/v1/tasks/task-1/callback?token=abc")
	o.Task.Attempts = 2
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeDone || out.Count != 4 {
		t.Errorf("200: %+v", out)
	}
	if id, err := secret.Verify(got.Header, gotB, start); err != nil || id != "task-1-1-3" {
		t.Errorf("webhook-id %q: %v", id, err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/hook" || got.Header.Get("Idempotency-Key") != "task-1" ||
		got.Header.Get("Content-Type") != "application/json" || got.Header.Get(dsar.HeaderWebhookTimestamp) != "1741165200" {
		t.Errorf("request %s %s %v", got.Method, got.URL, got.Header)
	}
	var sent map[string]any
	if err := json.Unmarshal(gotB, &sent); err != nil {
		t.Fatal(err)
	}
	want := `{"action":"erase","callback_url":"https://dsar.example/api/v1/tasks/task-1/callback?token=abc",` +
		`"case":{"deadline":"2025-04-05T09:00:00Z","reference":"SHOP-2025-0001","regulation":"gdpr","request_type":"erasure"},` +
		`"categories":["contact"],"controller":"shop","details":"","idempotency_key":"task-1","purposes":[],` +
		`"subject":{"customer_id":"","email":"kari@example.no","name":"Kari Nordmann","phone":""},` +
		`"system":"crm","task_id":"task-1","type":"dsar.task"}`
	if b, _ := json.Marshal(sent); string(b) != want {
		t.Errorf("body\n%s\nwant\n%s", b, want)
	}

	for _, tc := range []struct {
		status int
		header http.Header
		body   string
		want   dsar.OutcomeKind
		check  func(o dsar.TaskOutcome) bool
	}{
		{201, nil, `{"status":"no_data"}`, dsar.OutcomeNoData, nil},
		{200, nil, `{"status":"failed","message":"account locked"}`, dsar.OutcomeFailed, nil},
		{200, nil, `{"status":"maybe"}`, dsar.OutcomeRetry, nil},
		{200, nil, ``, dsar.OutcomeRetry, nil},
		{204, nil, ``, dsar.OutcomeDone, func(o dsar.TaskOutcome) bool { return o.Count == 0 && o.Answer == "HTTP 204" }},
		{410, nil, `gone`, dsar.OutcomeNoData, nil},
		{202, nil, `{"status_url":"/hook/status/9","expected_by":"2025-03-08T12:00:00Z"}`, dsar.OutcomeAccepted, func(o dsar.TaskOutcome) bool {
			return o.External == srv.URL+"/hook/status/9" && o.PollAfter == httpconn.DefaultPollInterval && o.ExpectedBy != nil
		}},
		{202, http.Header{"Retry-After": {"120"}}, `{"status_url":"/hook/status/9"}`, dsar.OutcomeAccepted, func(o dsar.TaskOutcome) bool {
			return o.PollAfter == 2*time.Minute
		}},
		{202, nil, `{"status_url":"https://elsewhere.example/status"}`, dsar.OutcomeFailed, nil},
		{202, nil, ``, dsar.OutcomeAccepted, func(o dsar.TaskOutcome) bool { return o.External == "" && o.PollAfter == 0 }},
		{301, http.Header{"Location": {"https://elsewhere.example/"}}, ``, dsar.OutcomeFailed, nil},
		{400, nil, `{"error":"no customer kari@EXAMPLE.no (Kari Nordmann)"}`, dsar.OutcomeFailed, func(o dsar.TaskOutcome) bool {
			return o.Answer == `HTTP 400: {"error":"no customer [subject] ([subject])"}`
		}},
		{404, nil, ``, dsar.OutcomeFailed, nil},
		{408, nil, ``, dsar.OutcomeRetry, nil},
		{502, nil, strings.Repeat("x", 500), dsar.OutcomeRetry, func(o dsar.TaskOutcome) bool { return len(o.Answer) == len("HTTP 502: ")+200 }},
		{503, http.Header{"Retry-After": {start.Add(90 * time.Second).Format(http.TimeFormat)}}, ``, dsar.OutcomeRetry, func(o dsar.TaskOutcome) bool {
			return o.RetryAfter == 90*time.Second
		}},
		{429, http.Header{"Retry-After": {"99999999"}}, ``, dsar.OutcomeRetry, func(o dsar.TaskOutcome) bool {
			return o.RetryAfter == 99999999*time.Second // the system's word; the domain caps the wait (dsar.Backoff)
		}},
	} {
		status, header, body = tc.status, tc.header, tc.body
		out := conn.Do(ctx, order(cfg, ""))
		if out.Kind != tc.want || tc.check != nil && !tc.check(out) {
			t.Errorf("%d %s: %+v, want %s", tc.status, tc.body, out, tc.want)
		}
		noPersonalData(t, out)
	}
	header = nil

	// Polling: pending, then done; a failing status URL is asked again.
	p := order(cfg, "")
	p.Step, p.Task.External = dsar.StepPoll, srv.URL+"/hook/status/9"
	for _, tc := range []struct {
		status int
		body   string
		want   dsar.OutcomeKind
	}{
		{200, `{"status":"pending","expected_by":"2025-03-09T12:00:00Z"}`, dsar.OutcomeAccepted},
		{202, ``, dsar.OutcomeAccepted},
		{500, ``, dsar.OutcomeAccepted},
		{200, `garbage`, dsar.OutcomeAccepted},
		{200, `{"status":"done","count":2}`, dsar.OutcomeDone},
		{410, ``, dsar.OutcomeNoData},
		{404, ``, dsar.OutcomeFailed},
	} {
		status, body = tc.status, tc.body
		out := conn.Do(ctx, p)
		if out.Kind != tc.want || out.Kind == dsar.OutcomeAccepted && out.PollAfter <= 0 {
			t.Errorf("poll %d %s: %+v, want %s", tc.status, tc.body, out, tc.want)
		}
		if got.Method != http.MethodGet || got.URL.Path != "/hook/status/9" {
			t.Errorf("poll request %s %s", got.Method, got.URL)
		}
		if _, err := secret.Verify(got.Header, nil, start); err != nil {
			t.Errorf("poll signature: %v", err)
		}
	}
}

// TestRateLimit: a system's rate limit makes a call wait, and a call that
// cannot wait long enough is tried again later.
func TestRateLimit(t *testing.T) {
	conn, sys, cfg, _ := setup(t)
	cfg.RatePerSecond = 0.001 // one call, then one every 1,000 seconds
	if got := conn.Do(context.Background(), order(cfg, "")); got.Kind != dsar.OutcomeDone {
		t.Fatalf("first call: %+v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	o := order(cfg, "")
	o.Task.ID = "task-2"
	if got := conn.Do(ctx, o); got.Kind != dsar.OutcomeRetry {
		t.Errorf("second call: %+v", got)
	}
	if sys.Calls() != 1 {
		t.Errorf("%d calls reached the system, want 1", sys.Calls())
	}
}
