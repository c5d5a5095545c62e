package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/memredis"
)

// A separate worker serves its counters on DSAR_METRICS_ADDR, to a bearer
// of DSAR_METRICS_TOKEN only.
func TestWorkerServesItsOwnMetrics(t *testing.T) {
	e := migratedEnv(t)
	if os.Getenv("DSAR_TEST_REDIS_URL") == "" {
		m, err := memredis.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		e["DSAR_REDIS_URL"] = m.URL()
	}
	e["DSAR_SECRET_KEY"] = "a test secret of at least thirty-two bytes"
	e["DSAR_METRICS_TOKEN"] = "scrape-me"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e["DSAR_METRICS_ADDR"] = ln.Addr().String()
	m := &Main{Getenv: e.get, Stdout: io.Discard, Stderr: io.Discard, Clock: dsar.SystemClock{},
		started: func(a *App) { a.metricsListener = ln }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- m.Run(ctx, []string{"worker"}) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("worker exit %d", code)
		}
	}()
	get := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d", code)
	}
	if code, _ := get("wrong"); code != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %d", code)
	}
	code, body := get("scrape-me")
	if code != http.StatusOK || !strings.Contains(body, "dsar_task_failures_total") {
		t.Errorf("with the token: %d\n%.300s", code, body)
	}
}

func TestMetricsAddrNeedsAToken(t *testing.T) {
	_, err := LoadConfig(env{"DSAR_METRICS_ADDR": ":9100"}.get)
	if err == nil || !strings.Contains(err.Error(), "DSAR_METRICS_TOKEN") {
		t.Errorf("DSAR_METRICS_ADDR without a token: %v", err)
	}
}
