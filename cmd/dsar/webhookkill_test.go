package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestWorkerKilledMidDeliveryLosesNoWebhook subscribes a receiver on
// loopback to request.received, creates 40 requests, and SIGKILLs the
// worker process while deliveries are in flight: the receiver holds its
// answer to every delivery after the 15th until the worker is dead, so
// those reached it and were never recorded as delivered. Another worker
// takes over: the receiver, which checks every signature with the
// Standard Webhooks library and takes each webhook-id once, gets every
// event, the held ones a second time with the same ID, and the delivery
// log records each event delivered once. It needs PostgreSQL and Redis,
// which processes share.
func TestWorkerKilledMidDeliveryLosesNoWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute: the killed worker's leases must run out")
	}
	e := migratedEnv(t)
	if !strings.HasPrefix(e["DSAR_DATABASE_URL"], "postgres") || e["DSAR_REDIS_URL"] == "" {
		t.Skip("needs PostgreSQL and Redis (DSAR_TEST_DATABASE_URL, DSAR_TEST_REDIS_URL): the worker is another process")
	}
	opt, err := redis.ParseURL(e["DSAR_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}

	const cases, killAfter = 40, 15
	var (
		mu      sync.Mutex
		secret  string
		got     = map[string]int{}
		held    = make(chan struct{}) // closed once the first worker is dead
		killed  = make(chan struct{}) // closed at the killAfter-th new event
		once    sync.Once
		badSigs int
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			badSigs++
			mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id")
		got[id]++
		n := len(got)
		mu.Unlock()
		if n >= killAfter {
			once.Do(func() { close(killed) })
			<-held // in flight when the worker dies
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	t.Cleanup(func() {
		select {
		case <-held:
		default:
			close(held)
		}
	})
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	e["DSAR_RECONCILE_INTERVAL"] = "1s"
	e["DSAR_SECRET_KEY"] = "a test secret of at least thirty-two bytes"
	e["DSAR_WEBHOOK_ALLOW_PRIVATE"] = "true"
	e["DSAR_WEBHOOK_TIMEOUT"] = "2m"

	svc := start(t, e, "serve")
	code, out, stderr := run(t, e, "apikey", "create", "--name", "hooks", "--role", "admin")
	if code != 0 {
		t.Fatalf("apikey create: %s", stderr)
	}
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	resp, sub := post(t, svc.url+"/api/v1/webhooks", key, map[string]any{"url": rcv.URL + "/hooks", "events": []string{"request.received"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("subscribe: %d %v", resp.StatusCode, sub)
	}
	mu.Lock()
	secret = sub["secret"].(string)
	mu.Unlock()
	for i := range cases {
		resp, body := post(t, svc.url+"/api/v1/requests", key, map[string]any{"type": "access", "controller": "nte",
			"verified": true, "verification_method": "test", "subject": map[string]any{"email": fmt.Sprintf("subject-%d@example.test", i)}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %v", resp.StatusCode, body)
		}
	}

	worker := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = []string{childWorker + "=1", "PATH=" + os.Getenv("PATH")}
		for k, v := range e {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := worker()
	select {
	case <-killed:
	case <-time.After(2 * time.Minute):
		_ = first.Process.Kill()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the worker delivered %d events, %d with a bad signature", len(got), badSigs)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	close(held)
	mu.Lock()
	atKill := len(got)
	mu.Unlock()

	second := worker()
	t.Cleanup(func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	})
	delivered := func() int {
		req, _ := http.NewRequest(http.MethodGet, svc.url+"/api/v1/webhooks/"+sub["id"].(string)+"/deliveries?limit=500", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var log struct {
			Deliveries []struct {
				EventID string `json:"event_id"`
				Outcome string `json:"outcome"`
			} `json:"deliveries"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, d := range log.Deliveries {
			if d.Outcome == "delivered" {
				per[d.EventID]++
			}
		}
		for id, n := range per {
			if n != 1 {
				t.Fatalf("event %s logged delivered %d times", id, n)
			}
		}
		return len(per)
	}
	deadline := time.Now().Add(3 * time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for delivered() < cases {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events logged delivered after the restart", delivered(), cases)
		}
		<-tick.C
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != cases || badSigs != 0 {
		t.Errorf("the receiver got %d events (want %d), %d with a bad signature", len(got), cases, badSigs)
	}
	again := 0
	for _, n := range got {
		if n > 1 {
			again++
		}
	}
	if again == 0 {
		t.Error("no delivery in flight at the kill came again: the test killed nothing mid-delivery")
	}
	t.Logf("killed with %d events received; %d came again with the same webhook-id", atKill, again)
}
