// Command fanoutbench measures the fan-out of approved cases to connected
// systems (issue 11's benchmark), the delivery of webhook events to a
// subscriber (issue 13's), and the baseline both are held against: asynq
// processing the same number of no-op tasks on the same machine.
//
//	fanoutbench fanout -url http://127.0.0.1:8080 -db postgres://... -controller bench -cases 1000
//	fanoutbench webhooks -url http://127.0.0.1:8080 -db postgres://... -controller bench -events 10000
//	fanoutbench noop -redis redis://127.0.0.1:6379/11 -n 10000 -c 10
//
// fanout creates -cases verified erasure requests of the controller through
// the API (not timed), waits until the outbox is idle (the requests'
// mails sent: not timed either), then approves them all (-c at once) and waits until
// every case is completed, reading the database; it prints one line
// "FANOUT cases=... tasks=... seconds=..." where seconds runs from the first
// approval to the last completion. webhooks runs a receiver on loopback,
// subscribes it (disabled) to request.received, creates -events requests
// through the API (not timed), waits until the outbox is idle, enables the
// subscription and asks for the
// redelivery of every event at once; it prints "WEBHOOKS events=...
// seconds=..." from the redelivery call until the receiver holds every
// event ID. With -pause PID,..., fanout splits its clock in two: it stops
// those processes (the workers, SIGSTOP) while it approves, so that
// "approve_seconds" is the approvals alone, then continues them (SIGCONT)
// and adds "fanout_seconds", the workers alone from there to the last
// completion. noop enqueues -n tasks that do nothing
// and processes them with an asynq server of -c workers; it prints
// "NOOP tasks=... seconds=..." from the first enqueue to the last task done.
// cmd/loadgen/fanout_bench.sh runs both against a real serve, worker and
// sample system, and prints the ratio. Both refuse targets off loopback.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/dsar-project/dsar/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fanoutbench fanout|webhooks|noop [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "fanout":
		err = fanout(ctx, os.Args[2:], os.Stdout)
	case "webhooks":
		err = webhooks(ctx, os.Args[2:], os.Stdout)
	case "noop":
		err = noop(ctx, os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q (want fanout, webhooks or noop)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanoutbench:", err)
		os.Exit(1)
	}
}

// loopback refuses a host that is not on the loopback interface.
func loopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not on loopback", hostport)
	}
	return nil
}

func fanout(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "dsar serve base URL (loopback only)")
	dsn := fs.String("db", "", "the service's PostgreSQL database URL (loopback only)")
	ctrl := fs.String("controller", "bench", "the controller whose systems the cases fan out to")
	n := fs.Int("cases", 1000, "erasure cases to approve")
	c := fs.Int("c", 16, "approvals sent at once")
	limit := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	pause := fs.String("pause", "", "comma-separated PIDs of the workers to stop while approving (the clock split in two)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var paused []int
	for f := range strings.SplitSeq(*pause, ",") {
		if f == "" {
			continue
		}
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 1 {
			return fmt.Errorf("-pause: %q is not a process ID", f)
		}
		paused = append(paused, pid)
	}
	signalAll := func(sig syscall.Signal) error {
		for _, pid := range paused {
			if err := syscall.Kill(pid, sig); err != nil {
				return fmt.Errorf("signal %v to %d: %w", sig, pid, err)
			}
		}
		return nil
	}
	key := os.Getenv("DSAR_API_KEY")
	u, err := url.Parse(*base)
	if err != nil || key == "" || *dsn == "" || *n < 1 || *c < 1 {
		return errors.New("want -url, -db, -cases >= 1, -c >= 1 and DSAR_API_KEY")
	}
	if err := loopback(u.Host); err != nil {
		return err
	}
	db, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if err := loopback(db.Config().Host); err != nil {
		return err
	}
	api := newAPI(*base, key, *c)
	call := func(path string, body any) (map[string]any, error) { return api.do(ctx, http.MethodPost, path, body) }
	ids, err := api.createRequests(ctx, *ctrl, *n, *c)
	if err != nil {
		return err
	}
	if err := waitIdle(ctx, db, *limit); err != nil {
		return err
	}

	if err := signalAll(syscall.SIGSTOP); err != nil {
		return err
	}
	defer signalAll(syscall.SIGCONT) // never leave a worker stopped
	start := time.Now()
	if err := parallel(*c, *n, func(i int) error {
		_, err := call("/api/v1/requests/"+ids[i]+"/approve", map[string]any{"note": "benchmark"})
		return err
	}); err != nil {
		return err
	}
	approved := time.Since(start)
	workers := time.Now()
	if err := signalAll(syscall.SIGCONT); err != nil {
		return err
	}
	deadline := time.Now().Add(*limit)
	var completed int
	for {
		if err := db.QueryRow(ctx, `SELECT count(*) FROM requests WHERE controller = $1 AND status = 'completed'`, *ctrl).Scan(&completed); err != nil {
			return err
		}
		if completed >= *n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d cases completed after %s", completed, *n, *limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	done := time.Now()
	elapsed := done.Sub(start)
	var tasks, failed int
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE t.status IN ('done', 'no_data')), count(*) FILTER (WHERE t.status = 'failed')
		FROM tasks t JOIN requests r ON r.id = t.request_id WHERE r.controller = $1`, *ctrl).Scan(&tasks, &failed); err != nil {
		return err
	}
	split := ""
	if len(paused) > 0 {
		split = fmt.Sprintf(" fanout_seconds=%.3f", done.Sub(workers).Seconds())
	}
	fmt.Fprintf(out, "FANOUT cases=%d tasks=%d failed=%d approve_seconds=%.3f seconds=%.3f%s\n", *n, tasks, failed, approved.Seconds(), elapsed.Seconds(), split)
	return nil
}

// apiClient calls the service's API with a key.
type apiClient struct {
	base, key string
	hc        *http.Client
}

func newAPI(base, key string, conns int) *apiClient {
	return &apiClient{base: base, key: key, hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}}
}

// do sends the body as JSON and returns the JSON object of a 2xx answer.
func (a *apiClient) do(ctx context.Context, method, path string, body any) (map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	var v map[string]any
	if len(raw) == 0 {
		return v, nil
	}
	return v, json.Unmarshal(raw, &v)
}

// createRequests creates n verified erasure requests of the controller, c
// at once, and returns their IDs.
func (a *apiClient) createRequests(ctx context.Context, ctrl string, n, c int) ([]string, error) {
	ids := make([]string, n)
	err := parallel(c, n, func(i int) error {
		v, err := a.do(ctx, http.MethodPost, "/api/v1/requests", map[string]any{"type": "erasure", "controller": ctrl, "verified": true,
			"verification_method": "benchmark", "subject": map[string]any{"email": fmt.Sprintf("bench-%d@example.test", i)}})
		if err == nil {
			ids[i], _ = v["id"].(string)
		}
		return err
	})
	return ids, err
}

func webhooks(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "dsar serve base URL (loopback only)")
	ctrl := fs.String("controller", "bench", "the controller whose requests make the events")
	dsn := fs.String("db", "", "the service's PostgreSQL database URL (loopback only)")
	n := fs.Int("events", 10000, "events to deliver (at most 10,000: one redelivery)")
	c := fs.Int("c", 16, "requests created at once")
	limit := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := os.Getenv("DSAR_API_KEY")
	u, err := url.Parse(*base)
	if err != nil || key == "" || *dsn == "" || *n < 1 || *n > 10000 || *c < 1 {
		return errors.New("want -url, -db, -events from 1 to 10000, -c >= 1 and DSAR_API_KEY")
	}
	if err := loopback(u.Host); err != nil {
		return err
	}
	db, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if err := loopback(db.Config().Host); err != nil {
		return err
	}
	// The subscriber: it counts each event ID once, whatever redelivery
	// brings it again, and answers 204 at once.
	var (
		seen  sync.Map
		count atomic.Int64
	)
	all := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if _, again := seen.LoadOrStore(r.Header.Get("webhook-id"), true); !again && count.Add(1) == int64(*n) {
			close(all)
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	api := newAPI(*base, key, *c)
	sub := map[string]any{"url": "http://" + ln.Addr().String() + "/dsar", "events": []string{"request.received"}, "controllers": []string{*ctrl}}
	v, err := api.do(ctx, http.MethodPost, "/api/v1/webhooks", sub)
	if err != nil {
		return err
	}
	id, _ := v["id"].(string)
	enable := func(on bool) error {
		sub["enabled"] = on
		_, err := api.do(ctx, http.MethodPut, "/api/v1/webhooks/"+id, sub)
		return err
	}
	// Disabled, the subscription keeps the events without delivering them.
	if err := enable(false); err != nil {
		return err
	}
	from := time.Now().Add(-time.Minute).UTC()
	if _, err := api.createRequests(ctx, *ctrl, *n, *c); err != nil {
		return err
	}
	to := time.Now().Add(time.Minute).UTC()
	if err := waitIdle(ctx, db, *limit); err != nil {
		return err
	}
	if err := enable(true); err != nil {
		return err
	}
	start := time.Now()
	if _, err := api.do(ctx, http.MethodPost, "/api/v1/webhooks/"+id+"/redeliver", map[string]any{"from": from, "to": to}); err != nil {
		return err
	}
	select {
	case <-all:
	case <-time.After(*limit):
		return fmt.Errorf("%d of %d events delivered after %s", count.Load(), *n, *limit)
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Fprintf(out, "WEBHOOKS events=%d seconds=%.3f\n", *n, time.Since(start).Seconds())
	return nil
}

// waitIdle waits until the service's outbox holds no item due now that is
// not done (the created requests' mails), so that the timed part starts
// from an idle worker: the backlog of setting up is not what is measured.
func waitIdle(ctx context.Context, db *pgx.Conn, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var busy int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status IN ('pending', 'running') AND run_at <= now()`).Scan(&busy); err != nil {
			return err
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the outbox still holds %d due items after %s", busy, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// parallel runs do(0..n-1) on c goroutines and returns the first error.
func parallel(c, n int, do func(int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func noop(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("noop", flag.ContinueOnError)
	redisURL := fs.String("redis", "redis://127.0.0.1:6379/11", "an empty Redis database for this run (loopback only)")
	n := fs.Int("n", 10000, "no-op tasks")
	c := fs.Int("c", 10, "asynq server concurrency (the worker's DSAR_WORKER_CONCURRENCY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opt, err := asynq.ParseRedisURI(*redisURL)
	if err != nil {
		return err
	}
	ro, ok := opt.(asynq.RedisClientOpt)
	if !ok {
		return errors.New("-redis: want redis://host:port/db")
	}
	if err := loopback(ro.Addr); err != nil {
		return err
	}
	var processed atomic.Int64
	done := make(chan struct{})
	// Configured as dsar's worker is: with asynq's default check interval
	// an idle server first slept 0.5 to 1.5 s, a random part of the
	// baseline.
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: *c, Queues: map[string]int{"bench": 1}, LogLevel: asynq.WarnLevel,
		TaskCheckInterval: workflows.TaskCheckInterval})
	handler := asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if processed.Add(1) == int64(*n) {
			close(done)
		}
		return nil
	})
	if err := srv.Start(handler); err != nil {
		return err
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	start := time.Now()
	for i := range *n {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask("bench:noop", nil), asynq.Queue("bench"), asynq.TaskID(fmt.Sprintf("noop-%d", i))); err != nil {
			return err
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Minute):
		return fmt.Errorf("%d of %d tasks done after 10 minutes", processed.Load(), *n)
	}
	fmt.Fprintf(out, "NOOP tasks=%d concurrency=%d seconds=%.3f\n", *n, *c, time.Since(start).Seconds())
	return nil
}
