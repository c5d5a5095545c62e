// Command queuebench measures the latency of the officers' queue through the
// API: N sequential GETs of each given query (one connection, keep-alive),
// after a warm-up, with p50, p95, p99 and max (nearest rank). It prints one
// line "QUEUE name=... p50_ms=... p95_ms=... p99_ms=... max_ms=..." per
// query for scripts, and refuses a target off the loopback interface.
//
//	DSAR_API_KEY=dsar_... go run ./cmd/loadgen/queuebench -url http://127.0.0.1:8080 -n 2000 \
//	    -q 'queue=/api/v1/requests?controller=nte&status=received,in_progress&limit=50'
//
// A query named NAME+page2 is generated for each query: the same query with
// the cursor of its first page (the keyset comparison on (deadline, id)).
// The cursor is printed as "CURSOR name=... cursor=... deadline=... id=..."
// so that a script can run the same SQL.
package main

import (
	"context"
	"encoding/base64"
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
	"slices"
	"strings"
	"syscall"
	"time"
)

type query struct{ name, path string }

type queries []query

func (q *queries) String() string { return fmt.Sprint(*q) }
func (q *queries) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || !strings.HasPrefix(path, "/") {
		return errors.New("want NAME=/path?query")
	}
	*q = append(*q, query{name, path})
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "queuebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("queuebench", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "dsar serve base URL (loopback only)")
	key := fs.String("key", os.Getenv("DSAR_API_KEY"), "API key (default $DSAR_API_KEY)")
	n := fs.Int("n", 2000, "measured requests per query (at most 100000)")
	warm := fs.Int("warmup", 50, "unmeasured requests per query first")
	maxDur := fs.Duration("max-duration", 5*time.Minute, "stop after this long in all (at most 30m)")
	page2 := fs.Bool("page2", true, "also measure each query's second page (with the cursor of the first)")
	var qs queries
	fs.Var(&qs, "q", "NAME=/api/v1/requests?... (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(qs) == 0 || *key == "" || *n < 1 || *n > 100000 || *maxDur > 30*time.Minute {
		return errors.New("need -q, an API key, -n 1..100000 and -max-duration at most 30m")
	}
	u, err := url.Parse(*base)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return fmt.Errorf("%s is not on the loopback interface", u.Host)
	}
	ctx, cancel := context.WithTimeout(ctx, *maxDur)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(path string) (time.Duration, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*base, "/")+path, nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+*key)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
		}
		return d, body, err
	}
	var all []query
	for _, q := range qs {
		all = append(all, q)
		if !*page2 {
			continue
		}
		_, body, err := get(q.path)
		if err != nil {
			return err
		}
		var page struct {
			Data       []json.RawMessage `json:"data"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return fmt.Errorf("%s: %v", q.name, err)
		}
		if page.NextCursor == "" {
			return fmt.Errorf("%s: the first page (%d rows) has no next_cursor", q.name, len(page.Data))
		}
		// The cursor is base64url JSON {"s":sort,"t":time,"i":id}.
		var c struct {
			T time.Time `json:"t"`
			I string    `json:"i"`
		}
		if raw, err := base64.RawURLEncoding.DecodeString(page.NextCursor); err == nil {
			_ = json.Unmarshal(raw, &c)
		}
		fmt.Fprintf(out, "CURSOR name=%s cursor=%s deadline=%s id=%s\n", q.name, page.NextCursor, c.T.UTC().Format(time.RFC3339Nano), c.I)
		all = append(all, query{q.name + "+page2", q.path + "&cursor=" + url.QueryEscape(page.NextCursor)})
	}
	fmt.Fprintf(out, "%-20s %8s %8s %8s %8s %8s %6s\n", "query", "n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "rows")
	for _, q := range all {
		for range *warm {
			if _, _, err := get(q.path); err != nil {
				return err
			}
		}
		lat := make([]time.Duration, 0, *n)
		rows := 0
		for i := range *n {
			d, body, err := get(q.path)
			if err != nil {
				return err
			}
			lat = append(lat, d)
			if i == 0 {
				var page struct {
					Data []json.RawMessage `json:"data"`
				}
				_ = json.Unmarshal(body, &page)
				rows = len(page.Data)
			}
		}
		slices.Sort(lat)
		fmt.Fprintf(out, "%-20s %8d %8.3f %8.3f %8.3f %8.3f %6d\n", q.name, len(lat), ms(rank(lat, 50)), ms(rank(lat, 95)), ms(rank(lat, 99)), ms(lat[len(lat)-1]), rows)
		fmt.Fprintf(out, "QUEUE name=%s n=%d p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f rows=%d\n", q.name, len(lat),
			ms(rank(lat, 50)), ms(rank(lat, 95)), ms(rank(lat, 99)), ms(lat[len(lat)-1]), rows)
	}
	return nil
}

// rank returns the p-th percentile by nearest rank of sorted values.
func rank(v []time.Duration, p float64) time.Duration {
	r := int(p / 100 * float64(len(v)))
	if float64(r) < p/100*float64(len(v)) {
		r++
	}
	return v[max(r, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
