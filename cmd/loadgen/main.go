// Command loadgen measures the intake rate of a running dsar serve process:
// how many POST /api/v1/requests it turns into durable cases per second, and
// with what latency.
//
// It runs two phases against one target:
//
//  1. peak: a closed loop of -c concurrent connections, each sending the
//     next request as soon as the previous answer arrived, for -d. This
//     finds the maximum rate.
//  2. fixed: an open loop at -rate requests per second (default: -fraction
//     of the measured peak) for -d, on -c connections. Every request has an
//     intended send time on a fixed schedule, and its latency is measured
//     from that time, not from when a connection was free to send it, so a
//     stalled server shows up as latency instead of as fewer samples
//     (no coordinated omission).
//
// It prints, per phase, the requests sent, the 201 answers, the errors, the
// rate of 201 answers per second and the latency percentiles p50, p90, p99
// and max (nearest rank, over every request sent, failed ones included with
// their time to the failure), then one line "SUMMARY key=value ..." for
// scripts. -timeline adds each phase second by second, which tells a steady
// tail from stalls.
//
// Requests carry an API key (-key, or DSAR_API_KEY), so that the per-address
// public rate limit does not apply; start the server with
// DSAR_KEY_RATE_LIMIT=0 too. loadgen refuses a target that is not on the
// loopback interface unless -allow-remote is given, and every run is bounded
// in time (-d at most 10m per phase) and in count (-max-requests per phase).
//
// Usage:
//
//	DSAR_API_KEY=dsar_... go run ./cmd/loadgen -url http://127.0.0.1:8080 -c 16 -d 20s
//
// cmd/loadgen/bench.sh runs the whole comparison with pgbench.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

// Limits that keep a run bounded whatever the flags say.
const (
	maxDuration    = 10 * time.Minute
	maxConcurrency = 1024
	maxRate        = 100000
	maxRequestsCap = 10_000_000
)

// options are the parsed flags.
type options struct {
	target      string
	key         string
	anonymous   bool
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	rate        float64
	fraction    float64
	maxRequests int
	timeout     time.Duration
	controllers []string
	phases      string
	allowRemote bool
	timeline    bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var ctrls string
	fs.StringVar(&o.target, "url", "http://127.0.0.1:8080", "base URL of the dsar serve process")
	fs.StringVar(&o.key, "key", "", "API key (default: $DSAR_API_KEY)")
	fs.BoolVar(&o.anonymous, "anonymous", false, "send without an API key (the public rate limit applies)")
	fs.IntVar(&o.concurrency, "c", 16, "concurrent connections")
	fs.DurationVar(&o.duration, "d", 20*time.Second, "duration of each phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unrecorded closed-loop warm-up before the peak phase")
	fs.Float64Var(&o.rate, "rate", 0, "open-loop rate of the fixed phase, requests/s (0: -fraction of the measured peak)")
	fs.Float64Var(&o.fraction, "fraction", 0.5, "fixed-phase rate as a fraction of the peak rate, when -rate is 0")
	fs.IntVar(&o.maxRequests, "max-requests", 1_000_000, "most requests sent per phase")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of one request")
	fs.StringVar(&ctrls, "controllers", "nte", "comma-separated controller keys the requests cycle through")
	fs.StringVar(&o.phases, "phases", "peak,fixed", "phases to run: peak, fixed or peak,fixed (fixed alone needs -rate)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a target that is not on the loopback interface")
	fs.BoolVar(&o.timeline, "timeline", false, "also print each phase second by second (to tell steady latency from stalls)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.key == "" {
		o.key = getenv("DSAR_API_KEY")
	}
	for _, c := range strings.Split(ctrls, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.controllers = append(o.controllers, c)
		}
	}
	var errs []error
	switch {
	case o.key == "" && !o.anonymous:
		errs = append(errs, errors.New("no API key: set -key or DSAR_API_KEY (or -anonymous)"))
	case o.key != "" && o.anonymous:
		errs = append(errs, errors.New("-anonymous and an API key exclude each other"))
	}
	if o.concurrency < 1 || o.concurrency > maxConcurrency {
		errs = append(errs, fmt.Errorf("-c: want 1 to %d", maxConcurrency))
	}
	if o.duration <= 0 || o.duration > maxDuration {
		errs = append(errs, fmt.Errorf("-d: want more than 0 and at most %s", maxDuration))
	}
	if o.warmup < 0 || o.warmup > time.Minute {
		errs = append(errs, errors.New("-warmup: want 0 to 1m"))
	}
	if o.rate < 0 || o.rate > maxRate || math.IsNaN(o.rate) {
		errs = append(errs, fmt.Errorf("-rate: want 0 to %d", maxRate))
	}
	if !(o.fraction > 0 && o.fraction <= 1) {
		errs = append(errs, errors.New("-fraction: want more than 0 and at most 1"))
	}
	if o.maxRequests < 1 || o.maxRequests > maxRequestsCap {
		errs = append(errs, fmt.Errorf("-max-requests: want 1 to %d", maxRequestsCap))
	}
	if o.timeout <= 0 || o.timeout > time.Minute {
		errs = append(errs, errors.New("-timeout: want more than 0 and at most 1m"))
	}
	if len(o.controllers) == 0 {
		errs = append(errs, errors.New("-controllers: want at least one controller key"))
	}
	for _, c := range o.controllers {
		if !validControllerKey(c) {
			errs = append(errs, fmt.Errorf("-controllers: %q is not a controller key (lowercase letters, digits, '-')", c))
		}
	}
	switch o.phases {
	case "peak", "peak,fixed":
	case "fixed":
		if o.rate == 0 {
			errs = append(errs, errors.New("-phases fixed needs -rate"))
		}
	default:
		errs = append(errs, errors.New("-phases: want peak, fixed or peak,fixed"))
	}
	return o, errors.Join(errs...)
}

func validControllerKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// checkTarget refuses URLs that are not http(s) on a loopback address,
// unless allowRemote. Host names are resolved with lookup, and every
// address must be a loopback one.
func checkTarget(raw string, allowRemote bool, lookup func(host string) ([]net.IP, error)) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url: want http:// or https://, got %q", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("-url: no host in %q", raw)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("-url: want the base URL only (scheme, host, port), got %q", raw)
	}
	if allowRemote {
		return u, nil
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if ips, err = lookup(host); err != nil {
		return nil, fmt.Errorf("-url: resolve %s: %v", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("-url: %s has no address", host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("-url: %s (%s) is not a loopback address; pass -allow-remote to load another machine", host, ip)
		}
	}
	return u, nil
}

// requestTypes are the request types the bodies cycle through.
var requestTypes = []string{"access", "erasure", "rectification", "portability", "objection", "restriction"}

// bodyGen makes request bodies; it is safe for concurrent use.
type bodyGen struct {
	controllers [][]byte // JSON-quoted controller keys
	run         string   // distinguishes runs in the subject addresses
	seq         atomic.Uint64
}

func newBodyGen(controllers []string, run string) *bodyGen {
	g := &bodyGen{run: run}
	for _, c := range controllers {
		g.controllers = append(g.controllers, []byte(strconv.Quote(c)))
	}
	return g
}

// next returns the body of the next request.
func (g *bodyGen) next() []byte { return g.body(g.seq.Add(1) - 1) }

// body returns the body of request n: a distinct subject address, the
// request types and controllers in turn, and a short details text. It is a
// plain append, to keep the client's share of the machine small.
func (g *bodyGen) body(n uint64) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"type":"`...)
	b = append(b, requestTypes[n%uint64(len(requestTypes))]...)
	b = append(b, `","controller":`...)
	b = append(b, g.controllers[n%uint64(len(g.controllers))]...)
	b = append(b, `,"subject":{"email":"load-`...)
	b = append(b, g.run...)
	b = append(b, '-')
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `@example.org","name":"Load Test `...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `"},"details":"Generated by cmd/loadgen."}`...)
	return b
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It returns 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// schedule is the open loop's fixed timetable: request i is due at
// start + i/rate.
type schedule struct {
	start time.Time
	rate  float64
}

func (s schedule) at(i uint64) time.Time {
	return s.start.Add(time.Duration(float64(i) * float64(time.Second) / s.rate))
}

// slots returns how many requests the schedule holds in d, at most limit.
func (s schedule) slots(d time.Duration, limit int) uint64 {
	n := uint64(math.Ceil(d.Seconds() * s.rate))
	return min(n, uint64(limit))
}

// result is the outcome of one phase.
type result struct {
	name     string
	rate     float64 // intended rate of an open loop; 0 for a closed loop
	elapsed  time.Duration
	sent     int
	ok       int
	statuses map[int]int     // non-201 answers by status
	failures int             // no answer: transport errors and timeouts
	missed   int             // open loop: scheduled requests never sent before the hard stop
	lat      []time.Duration // sorted
	seconds  []bucket
	firstErr string
}

func (r *result) errors() int {
	n := r.failures
	for _, c := range r.statuses {
		n += c
	}
	return n
}

func (r *result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// recorder collects one worker's samples; merged after the phase.
type recorder struct {
	start              time.Time // of the phase
	sent, ok, failures int
	statuses           map[int]int
	lat                []time.Duration
	at                 []time.Duration // when each request was due (open loop) or sent (closed), from start
	firstErr           string
}

func newRecorder(start time.Time, capacity int) *recorder {
	return &recorder{start: start, lat: make([]time.Duration, 0, capacity), at: make([]time.Duration, 0, capacity)}
}

// add records one request, due or sent at t0, that took lat.
func (r *recorder) add(t0 time.Time, status int, err error, lat time.Duration) {
	r.sent++
	r.lat = append(r.lat, lat)
	r.at = append(r.at, t0.Sub(r.start))
	switch {
	case err != nil:
		r.failures++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
	case status == http.StatusCreated:
		r.ok++
	default:
		if r.statuses == nil {
			r.statuses = map[int]int{}
		}
		r.statuses[status]++
		if r.firstErr == "" {
			r.firstErr = "HTTP " + strconv.Itoa(status)
		}
	}
}

func merge(name string, rate float64, elapsed time.Duration, recs []*recorder) *result {
	res := &result{name: name, rate: rate, elapsed: elapsed, statuses: map[int]int{}}
	var at []time.Duration
	for _, r := range recs {
		res.sent += r.sent
		res.ok += r.ok
		res.failures += r.failures
		for s, c := range r.statuses {
			res.statuses[s] += c
		}
		res.lat = append(res.lat, r.lat...)
		at = append(at, r.at...)
		if res.firstErr == "" {
			res.firstErr = r.firstErr
		}
	}
	res.seconds = timeline(at, res.lat, time.Second)
	slices.Sort(res.lat)
	return res
}

// bucket is one slice of time of a phase: the requests due (or sent) in it.
type bucket struct {
	n             int
	p50, p99, max time.Duration
}

// timeline groups the samples (at[i], lat[i]) into buckets of width by at
// and returns each bucket's count and latency percentiles. Empty buckets
// between samples are kept, so that a stall shows.
func timeline(at, lat []time.Duration, width time.Duration) []bucket {
	if len(at) == 0 || width <= 0 {
		return nil
	}
	var groups [][]time.Duration
	for i, t := range at {
		k := max(int(t/width), 0)
		for len(groups) <= k {
			groups = append(groups, nil)
		}
		groups[k] = append(groups[k], lat[i])
	}
	out := make([]bucket, len(groups))
	for k, g := range groups {
		slices.Sort(g)
		out[k] = bucket{n: len(g), p50: percentile(g, 50), p99: percentile(g, 99), max: percentile(g, 100)}
	}
	return out
}

// client sends intake requests.
type client struct {
	hc       *http.Client
	endpoint string
	auth     string
	bodies   *bodyGen
}

func newClient(base *url.URL, key string, conns int, timeout time.Duration, bodies *bodyGen) *client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	c := &client{hc: &http.Client{Transport: tr, Timeout: timeout}, bodies: bodies,
		endpoint: strings.TrimSuffix(base.String(), "/") + "/api/v1/requests"}
	if key != "" {
		c.auth = "Bearer " + key
	}
	return c
}

// post sends one request and reads the whole answer.
func (c *client) post(ctx context.Context) (int, error) {
	status, _, err := c.send(ctx, 0)
	return status, err
}

// send sends one request, reads the whole answer and returns its first
// keep bytes.
func (c *client) send(ctx context.Context, keep int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(c.bodies.next()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var head []byte
	if keep > 0 {
		if head, err = io.ReadAll(io.LimitReader(resp.Body, keep)); err != nil {
			return resp.StatusCode, head, err
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, head, err
}

// closedLoop runs conns workers that each send back to back until d has
// passed, limit requests were sent, or ctx ends.
func (c *client) closedLoop(ctx context.Context, name string, conns int, d time.Duration, limit int) *result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		budget atomic.Int64
		wg     sync.WaitGroup
	)
	budget.Store(int64(limit))
	recs := make([]*recorder, conns)
	start := time.Now()
	stop := start.Add(d)
	for w := range recs {
		recs[w] = newRecorder(start, 1024)
		wg.Add(1)
		go func(r *recorder) {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(stop) && budget.Add(-1) >= 0 {
				t := time.Now()
				status, err := c.post(ctx)
				if ctx.Err() != nil {
					return // interrupted: not a sample
				}
				r.add(t, status, err, time.Since(t))
			}
		}(recs[w])
	}
	wg.Wait()
	return merge(name, 0, time.Since(start), recs)
}

// openLoop sends requests on a fixed schedule of rate a second for d (at
// most limit), on conns connections. A worker takes the next due slot,
// waits for its time if it is early, and measures the latency from the
// slot's time. Slots not sent by the hard stop (d plus a grace of half of
// d, at least 5s) count as missed.
func (c *client) openLoop(ctx context.Context, name string, conns int, rate float64, d time.Duration, limit int) *result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := schedule{start: time.Now(), rate: rate}
	n := s.slots(d, limit)
	hardStop := s.start.Add(d + max(d/2, 5*time.Second))
	var (
		next atomic.Uint64
		wg   sync.WaitGroup
	)
	recs := make([]*recorder, conns)
	for w := range recs {
		recs[w] = newRecorder(s.start, int(n)/conns+16)
		wg.Add(1)
		go func(r *recorder) {
			defer wg.Done()
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				due := s.at(i)
				if wait := time.Until(due); wait > 0 {
					timer.Reset(wait)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
				if time.Now().After(hardStop) {
					return
				}
				status, err := c.post(ctx)
				if ctx.Err() != nil {
					return
				}
				r.add(due, status, err, time.Since(due))
			}
		}(recs[w])
	}
	wg.Wait()
	res := merge(name, rate, time.Since(s.start), recs)
	if ctx.Err() == nil {
		res.missed = int(n) - res.sent
	}
	return res
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

func printTimeline(w io.Writer, r *result) {
	fmt.Fprintf(w, "%s, second by second (by due time):\n", r.name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "second\trequests\tp50 ms\tp99 ms\tmax ms\t")
	for k, b := range r.seconds {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t\n", k, b.n, ms(b.p50), ms(b.p99), ms(b.max))
	}
	tw.Flush()
}

func printResults(w io.Writer, results []*result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\ttarget/s\tsent\t201\terrors\tmissed\t201/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, r := range results {
		target := "max"
		if r.rate > 0 {
			target = strconv.FormatFloat(r.rate, 'f', 1, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t\n", r.name, target, r.sent, r.ok, r.errors(), r.missed,
			r.rps(), ms(percentile(r.lat, 50)), ms(percentile(r.lat, 90)), ms(percentile(r.lat, 99)), ms(percentile(r.lat, 100)))
	}
	tw.Flush()
	for _, r := range results {
		if r.errors() > 0 {
			var parts []string
			for _, s := range slices.Sorted(maps.Keys(r.statuses)) {
				parts = append(parts, fmt.Sprintf("HTTP %d: %d", s, r.statuses[s]))
			}
			if r.failures > 0 {
				parts = append(parts, fmt.Sprintf("no answer: %d", r.failures))
			}
			fmt.Fprintf(w, "%s errors: %s (first: %s)\n", r.name, strings.Join(parts, ", "), r.firstErr)
		}
	}
}

// summary is the one-line key=value form of the results.
func summary(results []*result) string {
	var b strings.Builder
	b.WriteString("SUMMARY")
	for _, r := range results {
		fmt.Fprintf(&b, " %s_rps=%.1f %s_sent=%d %s_ok=%d %s_errors=%d %s_p50_ms=%s %s_p90_ms=%s %s_p99_ms=%s %s_max_ms=%s",
			r.name, r.rps(), r.name, r.sent, r.name, r.ok, r.name, r.errors(),
			r.name, ms(percentile(r.lat, 50)), r.name, ms(percentile(r.lat, 90)), r.name, ms(percentile(r.lat, 99)), r.name, ms(percentile(r.lat, 100)))
		if r.rate > 0 {
			fmt.Fprintf(&b, " %s_target_rps=%.1f %s_missed=%d", r.name, r.rate, r.name, r.missed)
		}
	}
	return b.String()
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "loadgen:", err)
		}
		return 2
	}
	base, err := checkTarget(o.target, o.allowRemote, func(h string) ([]net.IP, error) { return net.DefaultResolver.LookupIP(ctx, "ip", h) })
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	bodies := newBodyGen(o.controllers, strconv.FormatInt(time.Now().UnixNano()%1e9, 36))
	c := newClient(base, o.key, o.concurrency, o.timeout, bodies)

	// One request first, to fail fast on a wrong key or a stopped server.
	pctx, cancel := context.WithTimeout(ctx, o.timeout)
	status, head, err := c.send(pctx, 512)
	cancel()
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "loadgen: POST %s: %v\n", c.endpoint, err)
		return 1
	case status != http.StatusCreated:
		fmt.Fprintf(stderr, "loadgen: POST %s: HTTP %d, want 201 (API key? rate limits?): %s\n", c.endpoint, status, bytes.TrimSpace(head))
		return 1
	}
	fmt.Fprintf(stdout, "loadgen: %s, %d connections, %s per phase\n", c.endpoint, o.concurrency, o.duration)

	var results []*result
	rate := o.rate
	if strings.HasPrefix(o.phases, "peak") {
		if o.warmup > 0 {
			c.closedLoop(ctx, "warmup", o.concurrency, o.warmup, o.maxRequests)
		}
		peak := c.closedLoop(ctx, "peak", o.concurrency, o.duration, o.maxRequests)
		results = append(results, peak)
		if rate == 0 {
			rate = math.Round(peak.rps()*o.fraction*10) / 10
		}
	}
	if strings.HasSuffix(o.phases, "fixed") && ctx.Err() == nil {
		if rate < 0.1 {
			fmt.Fprintln(stderr, "loadgen: the peak phase made no requests; skipping the fixed phase")
		} else {
			results = append(results, c.openLoop(ctx, "fixed", o.concurrency, rate, o.duration, o.maxRequests))
		}
	}
	if o.timeline {
		for _, r := range results {
			printTimeline(stdout, r)
		}
	}
	printResults(stdout, results)
	fmt.Fprintln(stdout, summary(results))
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "loadgen: interrupted; the figures cover the part that ran")
		return 1
	}
	return 0
}
