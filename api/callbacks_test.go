package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
)

const callbackSecretEnv = "DSAR_TEST_CALLBACK_SECRET"

// signed returns the Standard Webhooks headers of a body signed with the
// secret at the time.
func signed(secret dsar.WebhookSecret, id string, at time.Time, body string) http.Header {
	h := http.Header{}
	secret.SignHeaders(h, id, at, []byte(body))
	return h
}

// contractTaskCallback drives a system's callback to a task through every
// answer: on its own service, whose NTE systems are reached over HTTP.
func contractTaskCallback(t *testing.T, base *contractEnv) {
	raw := dsar.NewWebhookSecret()
	t.Setenv(callbackSecretEnv, raw)
	secret, err := dsar.ParseWebhookSecret(raw)
	if err != nil {
		t.Fatal(err)
	}
	e := newContractEnv(t, func(cfg *api.Config, e *contractEnv) {
		ctrl, _ := e.db.Controllers.Get("nte")
		for i := range ctrl.Systems {
			ctrl.Systems[i].Connector = dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{
				URL: "https://hooks.nte.example/dsar", Secret: dsar.Secret{Env: callbackSecretEnv}}}
		}
	})
	e.cov = base.cov
	e.clock.Set(mustTime("2025-04-23T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "callback@example.no"}, "verified": true, "verification_method": "Signed in"}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/approve", key: "officer", body: map[string]any{}, want: 200})
	ctx := context.Background()
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	reqs := store.NewRequests(e.db)
	tasks, err := reqs.Tasks(ctx, admin, id)
	if err != nil || len(tasks) == 0 || tasks[0].Connector != dsar.ConnectorHTTP {
		t.Fatalf("tasks %v, %v", tasks, err)
	}
	task := tasks[0]
	path := dsar.TaskCallbackPath(task.ID, e.db.Keyring.Token(dsar.TokenTaskCallback, task.ID))
	now := e.clock.Now()
	good := `{"status":"done","count":3,"message":"Deleted the customer."}`

	// The token must be the task's, and the task one the service knows:
	// the two are not told apart.
	for _, p := range []string{
		dsar.TaskCallbackPath(task.ID, e.db.Keyring.Token(dsar.TokenTaskCallback, "another task")),
		dsar.TaskCallbackPath(task.ID, ""),
		dsar.TaskCallbackPath(unknownRequestID, e.db.Keyring.Token(dsar.TokenTaskCallback, unknownRequestID)),
	} {
		a := e.do(t, contractCall{method: "POST", path: p, body: good, header: signed(secret, "msg_0", now, good), want: 404})
		if pr := a.problem(t); pr.Code != "not_found" {
			t.Errorf("problem %+v", pr)
		}
	}
	// Unsigned, forged, tampered, too old, too new.
	other, _ := dsar.ParseWebhookSecret(dsar.NewWebhookSecret())
	e.do(t, contractCall{method: "POST", path: path, body: good, want: 401, docRejects: true})
	for _, h := range []http.Header{
		signed(other, "msg_1", now, good),
		signed(secret, "msg_1", now, `{"status":"done","count":30}`),
		signed(secret, "msg_1", now.Add(-dsar.WebhookTolerance-time.Second), good),
		signed(secret, "msg_1", now.Add(dsar.WebhookTolerance+time.Second), good),
	} {
		a := e.do(t, contractCall{method: "POST", path: path, body: good, header: h, want: 401})
		if pr := a.problem(t); !strings.Contains(pr.Title, "signature") {
			t.Errorf("problem %+v", pr)
		}
	}
	// Too large, even when signed.
	big := `{"status":"done"` + strings.Repeat(" ", contractBodyLimit) + `}`
	e.do(t, contractCall{method: "POST", path: path, body: big, header: signed(secret, "msg_2", now, big), want: 413})
	// Signed but wrong.
	bad := `{"status":"maybe","count":-1}`
	a := e.do(t, contractCall{method: "POST", path: path, body: bad, header: signed(secret, "msg_3", now, bad), want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"status": "field.enum", "count": "field.not_negative"})
	unknown := `{"status":"done","records":3}`
	e.do(t, contractCall{method: "POST", path: path, body: unknown, header: signed(secret, "msg_4", now, unknown), want: 400, docRejects: true})
	if got, _ := reqs.Tasks(ctx, admin, id); got[0].Status != dsar.TaskSent {
		t.Fatalf("after refused callbacks the task is %s", got[0].Status)
	}

	// The good one, once; a replay of it is refused.
	e.do(t, contractCall{method: "POST", path: path, body: good, header: signed(secret, "msg_5", now, good), want: 204})
	e.clock.Advance(time.Minute)
	a = e.do(t, contractCall{method: "POST", path: path, body: good, header: signed(secret, "msg_5", now, good), want: 409})
	if pr := a.problem(t); !strings.Contains(pr.Title, "webhook-id") {
		t.Errorf("problem %+v", pr)
	}
	got, _ := reqs.Tasks(ctx, admin, id)
	if got[0].Status != dsar.TaskDone || got[0].Count != 3 || got[0].Answer != "callback: done (3): Deleted the customer." {
		t.Errorf("task after the callback: %s %d %q", got[0].Status, got[0].Count, got[0].Answer)
	}
	// The same webhook-id for another task is another message.
	if len(tasks) > 1 {
		p2 := dsar.TaskCallbackPath(tasks[1].ID, e.db.Keyring.Token(dsar.TokenTaskCallback, tasks[1].ID))
		nodata := `{"status":"no_data"}`
		e.do(t, contractCall{method: "POST", path: p2, body: nodata, header: signed(secret, "msg_5", e.clock.Now(), nodata), want: 204})
	}
	contractExportCallback(t, e, secret)
	// A secret the service cannot read: try again later.
	t.Setenv(callbackSecretEnv, "")
	a = e.do(t, contractCall{method: "POST", path: path, body: good, header: signed(secret, "msg_6", e.clock.Now(), good), want: 503})
	if a.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// contractExportCallback: an export's done callback says where its records
// are (data_url, on the system's host), never carries them; the task waits
// on for a worker to fetch them.
func contractExportCallback(t *testing.T, e *contractEnv, secret dsar.WebhookSecret) {
	ctx := context.Background()
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "export@example.no"}, "verified": true, "verification_method": "Signed in"}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/approve", key: "officer", body: map[string]any{}, want: 200})
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	reqs := store.NewRequests(e.db)
	tasks, err := reqs.Tasks(ctx, admin, id)
	if err != nil || len(tasks) == 0 || tasks[0].Action != dsar.ActionExport {
		t.Fatalf("tasks %v, %v", tasks, err)
	}
	task := tasks[0]
	path := dsar.TaskCallbackPath(task.ID, e.db.Keyring.Token(dsar.TokenTaskCallback, task.ID))
	now := e.clock.Now()
	for i, tc := range []struct{ body, field, message string }{
		{`{"status":"done","count":3}`, "data_url", "field.callback.data_url_required"},
		{`{"status":"done","count":3,"data_url":"https://elsewhere.example/x"}`, "data_url", "field.callback.data_url_host"},
		{`{"status":"no_data","data_url":"/dsar/data/1"}`, "data_url", "field.callback.data_url_unexpected"},
	} {
		a := e.do(t, contractCall{method: "POST", path: path, body: tc.body, header: signed(secret, fmt.Sprintf("exp_%d", i), now, tc.body), want: 422})
		problemFields(t, a, map[string]string{tc.field: tc.message})
	}
	good := `{"status":"done","count":3,"data_url":"/dsar/data/1"}`
	e.do(t, contractCall{method: "POST", path: path, body: good, header: signed(secret, "exp_ok", now, good), want: 204})
	got, _ := reqs.Tasks(ctx, admin, id)
	if got[0].Status != dsar.TaskWaitingSystem || got[0].External != "https://hooks.nte.example/dsar/data/1" || got[0].Count != 0 ||
		got[0].Answer != "callback: done (3) (the data is fetched from data_url)" {
		t.Errorf("export task after the callback: %s %q %d %q", got[0].Status, got[0].External, got[0].Count, got[0].Answer)
	}
}

// A callback's body is capped at 16 KiB, below the server's general limit.
func TestCallbackBodyLimit(t *testing.T) {
	p, db := newPageClientWith(t, nil)
	path := dsar.TaskCallbackPath("x", db.Keyring.Token(dsar.TokenTaskCallback, "x"))
	for _, tc := range []struct {
		size int
		want int
	}{
		{20 << 10, http.StatusRequestEntityTooLarge},
		{8 << 10, http.StatusNotFound}, // read, then no such task
	} {
		body := `{"status":"done"` + strings.Repeat(" ", tc.size) + `}`
		req, _ := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if code, _, _ := p.do(req); code != tc.want {
			t.Errorf("%d bytes: %d, want %d", len(body), code, tc.want)
		}
	}
}
