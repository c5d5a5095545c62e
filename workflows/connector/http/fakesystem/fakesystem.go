// Package fakesystem is a connected system that takes the HTTP connector's
// calls (docs/connectors.md, "HTTP connector"): a real HTTP server that
// verifies each call's signature, applies each idempotency key once and
// counts it, and answers in the mode a test sets (at once, failing, slow,
// later by callback or polling). An export's answer carries its records
// (docs/connectors.md, "Export data"): in the body, or at a data_url for a
// callback and in ModeDataURL; they are written as they are made, so a
// large export is streamed. `dsar sample-system` runs it for a
// newcomer to watch the HTTP connector end to end. It is safe for
// concurrent use.
package fakesystem

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dsar-project/dsar"
)

// Mode is how the system answers the calls.
type Mode string

// The modes.
const (
	// ModeOK carries out each task at once: 200 {"status":"done","count":N},
	// or 404 {"status":"no_data"} for a subject it does not hold.
	ModeOK Mode = "ok"
	// ModeFail answers 500 and carries out nothing.
	ModeFail Mode = "fail"
	// ModeRateLimit answers 429 with Retry-After: RetryAfter.
	ModeRateLimit Mode = "rate_limit"
	// ModeSlow answers only after the caller gave up (any timeout).
	ModeSlow Mode = "slow"
	// ModeClose closes the connection without an answer.
	ModeClose Mode = "close"
	// ModeGarbage answers 200 with a body that is not JSON.
	ModeGarbage Mode = "garbage"
	// ModeCallback accepts the task (202) and answers with a signed call to
	// the task's callback_url.
	ModeCallback Mode = "callback"
	// ModePoll accepts the task (202) with a status_url that tells the
	// result.
	ModePoll Mode = "poll"
	// ModeDataURL carries out each task at once like ModeOK, and answers an
	// export with a data_url where its records are instead of the records.
	ModeDataURL Mode = "data_url"
	// ModeBadRecords answers an export 200 with records whose count is
	// not the records' (a broken export), other tasks as ModeOK.
	ModeBadRecords Mode = "bad_records"
)

// ActionExport is the action whose answers carry records.
const ActionExport = "export"

// dataPath is where, below its path, the system serves an export's records
// (its data_url).
const dataPath = "/data/"

// RetryAfter is the wait ModeRateLimit asks for.
const RetryAfter = 7 * time.Second

// maxBody bounds a call's body.
const maxBody = 1 << 20

// statusPath is where, below its path, the system tells an accepted
// task's result.
const statusPath = "/status/"

// Task is what the system applied for one idempotency key.
type Task struct {
	Key    string
	TaskID string
	Action string
	Count  int
	NoData bool
	// Categories are the data categories the call named; an export's
	// records are of the first ("" when none).
	Categories []string
	// Times counts the applications (1: the key was honoured); Calls the
	// calls that carried the key.
	Times int
	Calls int
}

// CallbackResult is how the system's callback of a task went: the status
// the service answered, or the error that kept it from answering.
type CallbackResult struct {
	TaskID string
	Status int
	Err    error
}

// System is the fake system: an http.Handler serving Path.
type System struct {
	// Path is the path of the endpoint ("/dsar" unless set before use).
	Path   string
	secret dsar.WebhookSecret
	clock  dsar.Clock
	log    *slog.Logger
	client *http.Client
	stop   chan struct{}
	wg     sync.WaitGroup

	mu        sync.Mutex
	mode      Mode
	noData    bool           // subjects not held have no data
	pad       int            // bytes of padding in each exported record
	held      map[string]int // records per held e-mail address (lower case)
	tasks     map[string]*Task
	order     []string
	calls     int
	rejected  int
	stopped   bool
	callbacks chan CallbackResult
}

// New returns a system that verifies calls signed with secret against the
// clock's time, in ModeOK, holding one record of every subject; log gets a
// line for each task applied (its ID and action; never the subject's data).
func New(secret dsar.WebhookSecret, clock dsar.Clock, log *slog.Logger) *System {
	return &System{Path: "/dsar", secret: secret, clock: clock, log: log, client: &http.Client{Timeout: 10 * time.Second},
		stop: make(chan struct{}), mode: ModeOK, held: map[string]int{}, tasks: map[string]*Task{},
		callbacks: make(chan CallbackResult, 1024)}
}

// SetMode sets how the system answers from now on.
func (s *System) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// Hold makes the system hold records of the subject with the e-mail
// address; HoldOnly makes every other subject one it has no data about.
func (s *System) Hold(email string, records int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[strings.ToLower(strings.TrimSpace(email))] = records
}

// PadRecords makes each record of an export carry n bytes of padding, to
// make large exports of few records.
func (s *System) PadRecords(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pad = n
}

// HoldOnly makes the subjects not given to Hold unknown: their tasks
// answer 404 {"status":"no_data"}.
func (s *System) HoldOnly() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noData = true
}

// Applied returns how many times the task with the idempotency key was
// applied: 1 when the key was honoured, 0 when it never was.
func (s *System) Applied(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tasks[key]; ok {
		return t.Times
	}
	return 0
}

// AppliedKeys returns the idempotency keys applied, in the order of their
// first application.
func (s *System) AppliedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Task returns what was applied for the idempotency key.
func (s *System) Task(key string) (Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[key]
	if !ok {
		return Task{}, false
	}
	return *t, true
}

// Calls returns the calls that carried a valid signature; Rejected those
// that did not.
func (s *System) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Rejected returns the calls refused for a missing or wrong signature.
func (s *System) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// Callbacks delivers the outcome of each callback the system made.
func (s *System) Callbacks() <-chan CallbackResult { return s.callbacks }

// Close ends the slow answers and waits for the callbacks under way.
func (s *System) Close() {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// ServeHTTP takes a task (POST Path) or tells an accepted task's result
// (GET Path/status/KEY).
func (s *System) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if _, err := s.secret.Verify(r.Header, body, s.clock.Now()); err != nil {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == s.Path:
		s.take(w, r, body)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, s.Path+statusPath):
		s.status(w, strings.TrimPrefix(r.URL.Path, s.Path+statusPath))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, s.Path+dataPath):
		s.data(w, strings.TrimPrefix(r.URL.Path, s.Path+dataPath))
	default:
		http.NotFound(w, r)
	}
}

// call is the part of a task's body the system reads.
type call struct {
	Type           string   `json:"type"`
	TaskID         string   `json:"task_id"`
	IdempotencyKey string   `json:"idempotency_key"`
	Action         string   `json:"action"`
	CallbackURL    string   `json:"callback_url"`
	Categories     []string `json:"categories"`
	Subject        struct {
		Email string `json:"email"`
	} `json:"subject"`
}

// take answers a task in the current mode; a task carried out is applied
// once per idempotency key.
func (s *System) take(w http.ResponseWriter, r *http.Request, body []byte) {
	var c call
	if err := json.Unmarshal(body, &c); err != nil || c.Type != "dsar.task" || c.TaskID == "" || c.Action == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "not a dsar.task"})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || key != c.IdempotencyKey {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Idempotency-Key header missing or unlike idempotency_key"})
		return
	}
	s.mu.Lock()
	s.calls++
	mode := s.mode
	s.mu.Unlock()
	switch mode {
	case ModeFail:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the system is down"})
		return
	case ModeRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "slow down"})
		return
	case ModeSlow:
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
		return
	case ModeClose:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection where hijacking is not possible
	case ModeGarbage:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body>Internal proxy page</body></html>"))
		return
	}
	t := s.apply(key, c)
	switch {
	case mode == ModeCallback:
		writeJSON(w, http.StatusAccepted, map[string]string{"expected_by": s.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		s.callBack(c, t)
	case mode == ModePoll:
		writeJSON(w, http.StatusAccepted, map[string]string{"status_url": s.Path + statusPath + url.PathEscape(key),
			"expected_by": s.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case t.NoData:
		writeJSON(w, http.StatusNotFound, map[string]any{"status": "no_data"})
	case t.Action == ActionExport && mode == ModeDataURL:
		writeJSON(w, http.StatusOK, map[string]any{"status": "done", "count": t.Count, "data_url": s.dataURL(key)})
	case t.Action == ActionExport:
		s.records(w, t, mode == ModeBadRecords)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "done", "count": t.Count})
	}
}

// dataURL is where the records of the key's export are, relative to the
// system's host.
func (s *System) dataURL(key string) string { return s.Path + dataPath + url.PathEscape(key) }

// records answers 200 with an export's records, written as they are made:
// {"status":"done","count":N,"records":[{"category":"…","record":{…}},…]}.
// broken claims one record more than it gives.
func (s *System) records(w http.ResponseWriter, t Task, broken bool) {
	s.mu.Lock()
	pad := strings.Repeat("x", s.pad)
	s.mu.Unlock()
	category := ""
	if len(t.Categories) > 0 {
		category = t.Categories[0]
	}
	count := t.Count
	if broken {
		count++
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	fmt.Fprintf(bw, `{"status":"done","count":%d,"records":[`, count)
	enc := json.NewEncoder(bw)
	for i := range t.Count {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		rec := map[string]any{"n": i + 1, "task": t.TaskID}
		if pad != "" {
			rec["pad"] = pad
		}
		_ = enc.Encode(map[string]any{"category": category, "record": rec})
	}
	_, _ = bw.WriteString("]}\n")
	_ = bw.Flush()
}

// data serves an export's records at its data_url.
func (s *System) data(w http.ResponseWriter, escaped string) {
	key, err := url.PathUnescape(escaped)
	t, ok := s.Task(key)
	if err != nil || !ok || t.Action != ActionExport || t.NoData {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such export"})
		return
	}
	s.records(w, t, false)
}

// apply carries out the task of the key, unless it was already.
func (s *System) apply(key string, c call) Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[key]
	if !ok {
		n, held := s.held[strings.ToLower(strings.TrimSpace(c.Subject.Email))]
		if !held && !s.noData {
			n, held = 1, true
		}
		t = &Task{Key: key, TaskID: c.TaskID, Action: c.Action, Count: n, NoData: !held, Categories: c.Categories}
		s.tasks[key] = t
		s.order = append(s.order, key)
		t.Times++
		if s.log != nil {
			s.log.Info("applied", "task", c.TaskID, "action", c.Action)
		}
	}
	t.Calls++
	return *t
}

// status tells an accepted task's result.
func (s *System) status(w http.ResponseWriter, escaped string) {
	key, err := url.PathUnescape(escaped)
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such task"})
		return
	}
	t, ok := s.Task(key)
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such task"})
	case t.NoData:
		writeJSON(w, http.StatusOK, map[string]any{"status": "no_data"})
	case t.Action == ActionExport:
		s.records(w, t, false)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "done", "count": t.Count})
	}
}

// callBack answers a task later: a signed call to its callback URL.
func (s *System) callBack(c call, t Task) {
	result := map[string]any{"status": "done", "count": t.Count}
	switch {
	case t.NoData:
		result = map[string]any{"status": "no_data"}
	case t.Action == ActionExport:
		// An export's records are not posted to the callback: it says where
		// they are.
		result["data_url"] = s.dataURL(t.Key)
	}
	body, _ := json.Marshal(result) // plain values always marshal
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		res := CallbackResult{TaskID: c.TaskID}
		defer func() {
			select {
			case s.callbacks <- res:
			default: // nobody reads them (dsar sample-system)
			}
		}()
		req, err := http.NewRequest(http.MethodPost, c.CallbackURL, bytes.NewReader(body))
		if err != nil {
			res.Err = err
			return
		}
		req.Header.Set("Content-Type", "application/json")
		s.secret.SignHeaders(req.Header, fmt.Sprintf("cb-%s-%d", c.TaskID, t.Calls), s.clock.Now(), body)
		resp, err := s.client.Do(req)
		if err != nil {
			res.Err = err
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res.Status = resp.StatusCode
		if s.log != nil {
			s.log.Info("called back", "task", c.TaskID, "status", resp.StatusCode)
		}
	}()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
