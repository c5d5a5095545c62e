package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows/queuetest"
)

// The public endpoint is limited per client address in Redis, shared by
// every serve process; each address has its own budget, and API keys have
// theirs.
func TestPublicRateLimitInRedis(t *testing.T) {
	db := storetest.Open(t, dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)))
	_, rdb := queuetest.Redis(t)
	keys := store.NewAPIKeys(db)
	_, secret, err := keys.Create(context.Background(), "crm", dsar.RoleSystem, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{
		Requests: store.NewRequests(db), APIKeys: keys, Controllers: db.Controllers, Clock: db.Clock,
		Limiter: api.NewRedisLimiter(rdb), PublicPerMinute: 3, KeyPerMinute: 100,
		TrustedProxies: []string{"127.0.0.0/8"}, Log: quietLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	send := func(ip, key string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/requests",
			strings.NewReader(`{"type":"access","controller":"nte","subject":{"email":"a@example.no"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		req.Header.Set("Accept-Language", "nb")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := 0; i < 3; i++ {
		if resp := send("203.0.113.7", ""); resp.StatusCode != http.StatusCreated {
			t.Fatalf("call %d: %d", i+1, resp.StatusCode)
		}
	}
	resp := send("203.0.113.7", "")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Content-Language") != "nb" {
		t.Errorf("fourth call: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	if resp := send("203.0.113.8", ""); resp.StatusCode != http.StatusCreated {
		t.Errorf("another address: %d", resp.StatusCode)
	}
	if resp := send("203.0.113.7", secret); resp.StatusCode != http.StatusCreated {
		t.Errorf("an API key from the limited address: %d", resp.StatusCode)
	}
	// Guessing keys from one address costs that address's budget.
	for i := 0; i < 3; i++ {
		if resp := send("203.0.113.9", "dsar_wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp := send("203.0.113.9", "dsar_wrong"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("fourth wrong key: %d, want 429", resp.StatusCode)
	}
	page, err := store.NewRequests(db).List(context.Background(), dsar.Actor{ID: "x", Role: dsar.RoleAdmin}, dsar.RequestFilter{})
	if err != nil || len(page.Requests) != 5 {
		t.Errorf("%d requests stored, want 5 (the refused one changes nothing): %v", len(page.Requests), err)
	}
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// An unknown path is a 404 for everyone, not a 401 for callers without a key.
func TestUnknownPathIsNotFound(t *testing.T) {
	srv, err := api.New(api.Config{Log: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/nothing", "/api/v1/requests/x/nothing", "/nothing"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

func TestReadyz(t *testing.T) {
	var down error
	srv, err := api.New(api.Config{Ready: func(context.Context) error { return down }, Log: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if get("/readyz") != http.StatusOK || get("/healthz") != http.StatusOK {
		t.Error("not ready while everything answers")
	}
	down = errors.New("redis: connection refused")
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("readyz with Redis down: %d", got)
	}
	if get("/healthz") != http.StatusOK {
		t.Error("healthz depends on Redis; it must only say the process is up")
	}
}
