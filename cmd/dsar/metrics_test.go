package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The all-in-one serves the HTTP server's and the worker's metrics on its
// listener to the bearer of DSAR_METRICS_TOKEN, and the queue monitor to
// signed-in admins only.
func TestAllInOneServesMetrics(t *testing.T) {
	e := migratedEnv(t)
	e["DSAR_METRICS_TOKEN"] = "scrape-token-for-the-test"
	svc := start(t, e)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, svc.url+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous /metrics: %d, want 401", code)
	}
	if code, _ := get("/metrics", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", code)
	}
	code, body := get("/metrics", e["DSAR_METRICS_TOKEN"])
	if code != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", code)
	}
	for _, m := range []string{"dsar_cases{", "dsar_cases_overdue{", "dsar_outbox_lag_seconds ", "dsar_stats_up 1",
		"dsar_task_failures_total{", "dsar_mail_failures_total{", "dsar_http_request_duration_seconds_bucket{", "go_goroutines "} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if code, _ := get("/admin/queues", e["DSAR_METRICS_TOKEN"]); code != http.StatusSeeOther {
		t.Errorf("/admin/queues without a session: %d, want a redirect to sign in", code)
	}
}
