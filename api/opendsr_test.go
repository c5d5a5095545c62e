package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/connector/opendsr/opendsrtest"
)

// contractOpenDSRCallback drives an OpenDSR processor's status callback to a
// task through every answer: on its own service, whose NTE systems are
// OpenDSR processors with the fake processor's certificate.
func contractOpenDSRCallback(t *testing.T, base *contractEnv) {
	proc, err := opendsrtest.New(base.clock)
	if err != nil {
		t.Fatal(err)
	}
	certPath, err := proc.WriteCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := newContractEnv(t, func(cfg *api.Config, e *contractEnv) {
		ctrl, _ := e.db.Controllers.Get("nte")
		for i := range ctrl.Systems {
			ctrl.Systems[i].Connector = dsar.Connector{Kind: dsar.ConnectorOpenDSR, OpenDSR: &dsar.OpenDSRConnector{
				URL: "https://opendsr.processor.example/v2", Certificate: certPath}}
		}
	})
	e.cov = base.cov
	e.clock.Set(mustTime("2025-04-23T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "opendsr@example.no"}, "verified": true, "verification_method": "Signed in"}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/approve", key: "officer", body: map[string]any{}, want: 200})
	ctx := context.Background()
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	reqs := store.NewRequests(e.db)
	tasks, err := reqs.Tasks(ctx, admin, id)
	if err != nil || len(tasks) == 0 || tasks[0].Connector != dsar.ConnectorOpenDSR {
		t.Fatalf("tasks %v, %v", tasks, err)
	}
	task := tasks[0]
	token := e.db.Keyring.Token(dsar.TokenTaskCallback, task.ID)
	path := dsar.OpenDSRCallbackPath(task.ID, token)
	requestID := dsar.OpenDSRRequestID(task.ID)
	status := func(s string, extra map[string]any) string {
		m := map[string]any{"controller_id": "nte", "expected_completion_time": "2025-04-26T07:40:00Z",
			"status_callback_url": "https://dsar.example.com" + path, "subject_request_id": requestID, "request_status": s}
		for k, v := range extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	signed := func(body string) http.Header {
		return http.Header{"X-Opendsr-Signature": {proc.Sign([]byte(body))}, "X-Opendsr-Processor-Domain": {opendsrtest.Domain}}
	}
	good := status(dsar.OpenDSRCompleted, map[string]any{"results_url": "https://opendsr.processor.example/secure/r1", "results_count": 7})

	// The token must be the task's, and the task one the service knows:
	// the two are not told apart.
	for _, p := range []string{
		dsar.OpenDSRCallbackPath(task.ID, e.db.Keyring.Token(dsar.TokenTaskCallback, "another task")),
		dsar.OpenDSRCallbackPath(task.ID, ""),
		dsar.OpenDSRCallbackPath(unknownRequestID, e.db.Keyring.Token(dsar.TokenTaskCallback, unknownRequestID)),
	} {
		a := e.do(t, contractCall{method: "POST", path: p, body: good, header: signed(good), want: 404})
		if pr := a.problem(t); pr.Code != "not_found" {
			t.Errorf("problem %+v", pr)
		}
	}
	// Unsigned, forged with another key, tampered, for another domain.
	other, err := opendsrtest.New(e.clock)
	if err != nil {
		t.Fatal(err)
	}
	e.do(t, contractCall{method: "POST", path: path, body: good, want: 403, docRejects: true})
	for _, h := range []http.Header{
		{"X-Opendsr-Signature": {other.Sign([]byte(good))}, "X-Opendsr-Processor-Domain": {opendsrtest.Domain}},
		signed(strings.Replace(good, `"results_count":7`, `"results_count":70`, 1)),
		{"X-Opendsr-Signature": {proc.Sign([]byte(good))}, "X-Opendsr-Processor-Domain": {"other.example"}},
		{"X-Opendsr-Signature": {"not base64!"}, "X-Opendsr-Processor-Domain": {opendsrtest.Domain}},
	} {
		a := e.do(t, contractCall{method: "POST", path: path, body: good, header: h, want: 403})
		if pr := a.problem(t); pr.Code != "forbidden" || !strings.Contains(pr.Title, "X-OpenDSR-Signature") {
			t.Errorf("problem %+v", pr)
		}
	}
	// Too large, even when signed.
	big := good[:len(good)-1] + strings.Repeat(" ", contractBodyLimit) + `}`
	e.do(t, contractCall{method: "POST", path: path, body: big, header: signed(big), want: 413})
	// Signed but garbage, or not a status of this request to this URL.
	garbage := `{"request_status":`
	e.do(t, contractCall{method: "POST", path: path, body: garbage, header: signed(garbage), want: 400, docRejects: true})
	bad := status("maybe", map[string]any{"results_count": -1, "status_callback_url": "https://dsar.example.com/elsewhere"})
	a := e.do(t, contractCall{method: "POST", path: path, body: bad, header: signed(bad), want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"request_status": "field.enum", "results_count": "field.not_negative",
		"status_callback_url": "field.opendsr_mismatch"})
	otherRequest := status(dsar.OpenDSRCompleted, map[string]any{"subject_request_id": dsar.OpenDSRRequestID("another task")})
	a = e.do(t, contractCall{method: "POST", path: path, body: otherRequest, header: signed(otherRequest), want: 422})
	problemFields(t, a, map[string]string{"subject_request_id": "field.opendsr_mismatch"})
	otherURL := status(dsar.OpenDSRCompleted, map[string]any{"status_callback_url": "https://dsar.example.com" +
		dsar.OpenDSRCallbackPath(tasks[len(tasks)-1].ID+"x", token)})
	a = e.do(t, contractCall{method: "POST", path: path, body: otherURL, header: signed(otherURL), want: 422})
	problemFields(t, a, map[string]string{"status_callback_url": "field.opendsr_mismatch"})
	if got, _ := reqs.Tasks(ctx, admin, id); got[0].Status != dsar.TaskSent {
		t.Fatalf("after refused callbacks the task is %s", got[0].Status)
	}

	// In progress: the task waits for the processor until the expected
	// time. Fields of the processor's own are ignored.
	progress := status(dsar.OpenDSRInProgress, map[string]any{"api_version": "2.0", "processor_batch": 12})
	e.do(t, contractCall{method: "POST", path: path, body: progress, header: signed(progress), want: 204})
	got, _ := reqs.Tasks(ctx, admin, id)
	if got[0].Status != dsar.TaskWaitingSystem || got[0].ExpectedBy == nil || !got[0].ExpectedBy.Equal(mustTime("2025-04-26T07:40:00Z")) {
		t.Fatalf("task after in_progress: %s %v", got[0].Status, got[0].ExpectedBy)
	}
	// Completed, once; the exact body again is refused.
	e.do(t, contractCall{method: "POST", path: path, body: good, header: signed(good), want: 204})
	a = e.do(t, contractCall{method: "POST", path: path, body: good, header: signed(good), want: 409})
	if pr := a.problem(t); pr.Code != "conflict" {
		t.Errorf("problem %+v", pr)
	}
	got, _ = reqs.Tasks(ctx, admin, id)
	// An export's results are fetched by a worker: the task waits for it,
	// with the results_url to follow.
	if got[0].Status != dsar.TaskWaitingSystem || got[0].Count != 0 || got[0].External != "https://opendsr.processor.example/secure/r1" ||
		got[0].Answer != "callback: OpenDSR completed (7 results), results to fetch" {
		t.Errorf("task after the callback: %s %d %q %q", got[0].Status, got[0].Count, got[0].External, got[0].Answer)
	}
	// A certificate the service cannot read: try again later.
	if err := os.Remove(certPath); err != nil {
		t.Fatal(err)
	}
	a = e.do(t, contractCall{method: "POST", path: path, body: progress, header: signed(progress), want: 503})
	if a.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}
