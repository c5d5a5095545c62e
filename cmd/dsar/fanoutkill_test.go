package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector/http/fakesystem"
)

// childWorker names the environment variable that makes the test binary
// run `dsar worker` instead of the tests: the kill test's worker is a
// process of its own, so that SIGKILL ends it the way a crash would.
const childWorker = "DSAR_TEST_CHILD_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(childWorker) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		mm := &Main{Getenv: os.Getenv, Stdout: io.Discard, Stderr: os.Stderr, Clock: dsar.SystemClock{}}
		os.Exit(mm.Run(ctx, []string{"worker"}))
	}
	os.Exit(m.Run())
}

// killSystem is one connected system of the kill test: the fake system
// behind a counter that reports each call as it arrives.
type killSystem struct {
	fake   *fakesystem.System
	url    string
	secret string
}

// killControllersYAML is a controller whose five systems are reached over
// HTTP at the fake systems, each with its own secret.
func killControllersYAML(systems []killSystem) string {
	var b strings.Builder
	b.WriteString(`controllers:
  - key: killtest
    legal_name: Kill Test AS
    jurisdiction: NO
    time_zone: Europe/Oslo
    languages: [en]
    privacy_contact:
      email: privacy@killtest.example
    supervisory_authority:
      name: Datatilsynet
      address: Postboks 458 Sentrum, 0105 Oslo
    default_regulation: gdpr
    data_categories:
      - key: account
        name: Customer account
        purpose: Run the account
        retention: Until the account is closed
        legal_bases: [contract]
    systems:
`)
	for i, s := range systems {
		fmt.Fprintf(&b, `      - key: system-%d
        name: System %d
        owner: IT
        role: internal
        country: NO
        legal_bases: [contract]
        purposes: [Accounts]
        data_categories: [account]
        connector:
          kind: http
          url: %s
          secret: {env: DSAR_TEST_KILL_SECRET_%d}
          timeout: 5s
          max_attempts: 20
`, i, i, s.url, i)
	}
	return b.String()
}

// TestWorkerKilledMidFanOutLosesNothing approves 200 erasures that fan out
// to five systems each over HTTP, SIGKILLs the worker process while the
// calls are under way, and starts another: every case completes, and each
// system applied each case's task exactly once (it honours the idempotency
// key; the killed worker's calls in flight are sent again). It needs
// PostgreSQL and Redis, which processes share.
func TestWorkerKilledMidFanOutLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute: the killed worker's leases must run out")
	}
	e := migratedEnv(t)
	if !strings.HasPrefix(e["DSAR_DATABASE_URL"], "postgres") || e["DSAR_REDIS_URL"] == "" {
		t.Skip("needs PostgreSQL and Redis (DSAR_TEST_DATABASE_URL, DSAR_TEST_REDIS_URL): the worker is another process")
	}
	// A Redis database of this test's own, emptied first.
	ru, err := url.Parse(e["DSAR_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	ru.Path = "/9"
	e["DSAR_REDIS_URL"] = ru.String()
	rdb := redis.NewClient(&redis.Options{Addr: ru.Host, DB: 9})
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}

	const cases, nsys, killAfter = 200, 5, 300
	var (
		mu     sync.Mutex
		calls  int
		killed = make(chan struct{})
		once   sync.Once
	)
	systems := make([]killSystem, nsys)
	for i := range systems {
		raw := dsar.NewWebhookSecret()
		secret, err := dsar.ParseWebhookSecret(raw)
		if err != nil {
			t.Fatal(err)
		}
		fake := fakesystem.New(secret, dsar.SystemClock{}, nil)
		t.Cleanup(fake.Close)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fake.ServeHTTP(w, r)
			mu.Lock()
			calls++
			if calls >= killAfter {
				once.Do(func() { close(killed) })
			}
			mu.Unlock()
		}))
		t.Cleanup(srv.Close)
		systems[i] = killSystem{fake: fake, url: srv.URL + "/dsar", secret: raw}
		e[fmt.Sprintf("DSAR_TEST_KILL_SECRET_%d", i)] = raw
	}
	config := filepath.Join(t.TempDir(), "controllers.yaml")
	if err := os.WriteFile(config, []byte(killControllersYAML(systems)), 0o600); err != nil {
		t.Fatal(err)
	}
	e["DSAR_CONFIG"] = config
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	e["DSAR_RECONCILE_INTERVAL"] = "1s"
	e["DSAR_SECRET_KEY"] = "a test secret of at least thirty-two bytes"

	svc := start(t, e, "serve")
	code, out, stderr := run(t, e, "apikey", "create", "--name", "killtest", "--role", "admin")
	if code != 0 {
		t.Fatalf("apikey create: %s", stderr)
	}
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	ids := make([]string, cases)
	for i := range ids {
		resp, body := post(t, svc.url+"/api/v1/requests", key, map[string]any{"type": "erasure", "controller": "killtest",
			"verified": true, "verification_method": "test", "subject": map[string]any{"email": fmt.Sprintf("subject-%d@example.test", i)}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %v", resp.StatusCode, body)
		}
		ids[i] = body["id"].(string)
	}
	for _, id := range ids {
		if resp, body := post(t, svc.url+"/api/v1/requests/"+id+"/approve", key, map[string]any{}); resp.StatusCode != http.StatusOK {
			t.Fatalf("approve: %d %v", resp.StatusCode, body)
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
		t.Fatal("the worker made no progress")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	mu.Lock()
	atKill := calls
	mu.Unlock()
	if atKill >= cases*nsys {
		t.Fatalf("the worker was killed after every call (%d): nothing was in flight", atKill)
	}

	second := worker()
	t.Cleanup(func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	})
	completed := func() int {
		st, err := svc.app.db.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return st.Cases[dsar.StatusCompleted]["killtest"]
	}
	deadline := time.Now().Add(3 * time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for completed() < cases {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d cases completed after the restart", completed(), cases)
		}
		<-tick.C
	}
	for i, s := range systems {
		keys := s.fake.AppliedKeys()
		if len(keys) != cases {
			t.Errorf("system %d applied %d tasks, want %d", i, len(keys), cases)
		}
		for _, k := range keys {
			if n := s.fake.Applied(k); n != 1 {
				t.Errorf("system %d applied task %s %d times", i, k, n)
			}
		}
	}
	mu.Lock()
	t.Logf("killed after %d calls; %d calls in all for %d tasks", atKill, calls, cases*nsys)
	mu.Unlock()
}
