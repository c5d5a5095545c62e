// Package http is the connector of systems that take a signed JSON action
// over HTTP (docs/connectors.md, "HTTP connector"): it posts the task to
// the system's endpoint, signed in the Standard Webhooks format, and maps
// the system's answer to an outcome the domain decides on (done, no data,
// accepted for a later callback or polling, retry, failed). Calls to one
// system are rate limited and bounded by its timeout; redirects are not
// followed.
package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// The defaults of a system that sets none, and the bounds of what is read
// of an answer.
const (
	// DefaultTimeout bounds one call to a system that sets no timeout.
	DefaultTimeout = 30 * time.Second
	// DefaultPollInterval is the wait before asking a status URL again when
	// the system gives no Retry-After.
	DefaultPollInterval = 30 * time.Second
	// maxAnswerBody is what is read of an answer's body.
	maxAnswerBody = 64 << 10
)

// ActionCancel is the action of the call that withdraws a task (StepCancel).
const ActionCancel = "cancel"

// Connector is the HTTP connector. It is safe for concurrent use.
type Connector struct {
	clock  dsar.Clock
	log    *slog.Logger
	client *nethttp.Client

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

var _ connector.Connector = (*Connector)(nil)

// New returns the HTTP connector: clock signs the calls and reads
// Retry-After dates; log gets one line a call (task, system, status; never
// the subject's data).
func New(clock dsar.Clock, log *slog.Logger) *Connector {
	tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	tr.MaxIdleConnsPerHost = 100
	return &Connector{clock: clock, log: log, limiters: map[string]*rate.Limiter{},
		client: &nethttp.Client{Transport: tr, CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error {
			return nethttp.ErrUseLastResponse // a redirect is an answer, not followed
		}}}
}

// Close releases the idle connections.
func (c *Connector) Close() { c.client.CloseIdleConnections() }

// Task is the body of a call: what the system is asked to do, for whom.
type Task struct {
	Type           string   `json:"type"` // always "dsar.task"
	TaskID         string   `json:"task_id"`
	IdempotencyKey string   `json:"idempotency_key"`
	Action         string   `json:"action"`
	Controller     string   `json:"controller"`
	System         string   `json:"system"`
	Case           Case     `json:"case"`
	Subject        Subject  `json:"subject"`
	Purposes       []string `json:"purposes"`
	Categories     []string `json:"categories"`
	CallbackURL    string   `json:"callback_url"`
	Details        string   `json:"details"`
}

// Case is the case a task belongs to.
type Case struct {
	Reference   string `json:"reference"`
	RequestType string `json:"request_type"`
	Deadline    string `json:"deadline"` // RFC 3339
	Regulation  string `json:"regulation"`
}

// Subject holds the identities of the data subject ("" where unknown).
type Subject struct {
	Email      string `json:"email"`
	CustomerID string `json:"customer_id"`
	Phone      string `json:"phone"`
	Name       string `json:"name"`
}

// Result is a system's answer with a result: the body of a 200 or 201, of
// a status URL's answer, and of a callback.
type Result struct {
	Status  string `json:"status"` // done, no_data, failed; pending from a status URL
	Count   int    `json:"count"`
	Message string `json:"message"`
	// ExpectedBy (RFC 3339), from a status URL, moves the expected end.
	ExpectedBy string `json:"expected_by"`
	// DataURL is, for an export done, where the system keeps the records
	// instead of a records list in the body (docs/connectors.md,
	// "Export data"); the records themselves are streamed, never decoded
	// into a Result.
	DataURL string `json:"data_url"`
}

// Accepted is the body of a 202: where to ask how the task stands (none:
// the system calls back), and when it expects to finish.
type Accepted struct {
	StatusURL  string `json:"status_url"`
	ExpectedBy string `json:"expected_by"`
}

// NewTask returns the body of the call of the order's step; action is the
// task's action, or ActionCancel.
func NewTask(o *connector.Order, action string) Task {
	r, t := o.Request, o.Task
	key := o.IdempotencyKey()
	if action == ActionCancel {
		key += ":" + ActionCancel
	}
	details := ""
	if t.Action == dsar.ActionRectify {
		details = r.Details // what to correct; other actions need no free text
	}
	return Task{
		Type: "dsar.task", TaskID: t.ID, IdempotencyKey: key, Action: action,
		Controller: o.Controller.Key, System: t.Target(),
		Case: Case{Reference: r.Reference, RequestType: string(r.Type), Deadline: r.Deadline.UTC().Format(time.RFC3339),
			Regulation: string(r.Regulation)},
		Subject:  Subject{Email: r.Subject.Email, CustomerID: r.Subject.CustomerID, Phone: r.Subject.Phone, Name: r.Subject.Name},
		Purposes: nonNil(t.Purposes), Categories: nonNil(t.Categories), CallbackURL: o.CallbackURL, Details: details,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Do carries out a step of a task: sends it (StepSend), asks its status URL
// how it stands (StepPoll), or withdraws it (StepCancel, best effort).
func (c *Connector) Do(ctx context.Context, o *connector.Order) dsar.TaskOutcome {
	cfg := o.Connector.HTTP
	if o.Connector.Kind != dsar.ConnectorHTTP || cfg == nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the system has no HTTP connector settings"}
	}
	raw, err := cfg.Secret.Value()
	if err != nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "the signing secret (" + cfg.Secret.String() + ") cannot be read: " + err.Error()}
	}
	secret, err := dsar.ParseWebhookSecret(raw)
	if err != nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "the signing secret (" + cfg.Secret.String() + ") is not usable: " + err.Error()}
	}
	switch o.Step {
	case dsar.StepSend:
		return c.send(ctx, o, cfg, secret, string(o.Task.Action))
	case dsar.StepPoll:
		return c.poll(ctx, o, cfg, secret)
	case dsar.StepCancel:
		return c.send(ctx, o, cfg, secret, ActionCancel)
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeReminded} // nothing to remind a machine of
}

// limiter returns the rate limiter of the order's system, nil when it has
// no rate limit.
func (c *Connector) limiter(o *connector.Order, perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	key := o.Controller.Key + "/" + o.Task.Target()
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.limiters[key]
	burst := max(1, int(perSecond))
	switch {
	case !ok:
		l = rate.NewLimiter(rate.Limit(perSecond), burst)
		c.limiters[key] = l
	case l.Limit() != rate.Limit(perSecond):
		l.SetLimit(rate.Limit(perSecond)) // the configuration changed
		l.SetBurst(burst)
	}
	return l
}

// reader reads the body of a result (a 2xx other than 202 and 204, with a
// status not in no_data) as it arrives, within the call's timeout.
type reader func(status int, header nethttp.Header, body io.Reader) dsar.TaskOutcome

// call makes one signed call to the system within its rate limit and
// timeout, and returns the answer's status, header and the start of its
// body; a failure to get an answer is an outcome to retry. When read is
// set and the answer is a result, read gets the whole body instead and its
// outcome is returned, with the status and header.
func (c *Connector) call(ctx context.Context, o *connector.Order, cfg *dsar.HTTPConnector, method, target, webhookID, idemKey string,
	body []byte, secret dsar.WebhookSecret, read reader) (int, nethttp.Header, []byte, *dsar.TaskOutcome) {
	if l := c.limiter(o, cfg.RatePerSecond); l != nil {
		if err := l.Wait(ctx); err != nil {
			return 0, nil, nil, &dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "the system's rate limit leaves no call before the worker stops"}
		}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := nethttp.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the URL is not usable: " + err.Error()}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dsar")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	secret.SignHeaders(req.Header, webhookID, c.clock.Now(), body)
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		answer := "no answer: " + transportError(err, timeout)
		c.log.Warn("system call failed", "task", o.Task.ID, "system", o.Task.Target(), "method", method, "err", answer)
		return 0, nil, nil, &dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: answer}
	}
	defer resp.Body.Close()
	if read != nil && isResult(cfg, resp.StatusCode) {
		out := read(resp.StatusCode, resp.Header, resp.Body)
		c.log.Info("system call", "task", o.Task.ID, "system", o.Task.Target(), "method", method, "status", resp.StatusCode,
			"outcome", string(out.Kind), "records", out.Count, "ms", time.Since(start).Milliseconds())
		return resp.StatusCode, resp.Header, nil, &out
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBody))
	c.log.Info("system call", "task", o.Task.ID, "system", o.Task.Target(), "method", method, "status", resp.StatusCode,
		"ms", time.Since(start).Milliseconds())
	if err != nil {
		return 0, nil, nil, &dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: fmt.Sprintf("HTTP %d: the answer broke off: %s", resp.StatusCode, transportError(err, timeout))}
	}
	return resp.StatusCode, resp.Header, data, nil
}

// transportError says in short why no answer came, without the URL.
func transportError(err error, timeout time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timed out after " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "the worker stopped"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection reset"):
		return "the connection was closed"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// send posts the task (or its cancellation) and maps the answer.
func (c *Connector) send(ctx context.Context, o *connector.Order, cfg *dsar.HTTPConnector, secret dsar.WebhookSecret, action string) dsar.TaskOutcome {
	task := NewTask(o, action)
	body, _ := json.Marshal(task) // strings and slices always marshal
	id := fmt.Sprintf("%s-%d-%d", o.Task.ID, o.Task.Round, o.Task.Attempts+1)
	if action == ActionCancel {
		id = fmt.Sprintf("%s-%d-%s", o.Task.ID, o.Task.Round, ActionCancel)
	}
	var read reader
	if action == string(dsar.ActionExport) {
		read = func(status int, header nethttp.Header, body io.Reader) dsar.TaskOutcome {
			return c.exportResult(ctx, o, cfg, secret, status, header, body, false, false)
		}
	}
	status, header, data, failed := c.call(ctx, o, cfg, nethttp.MethodPost, cfg.URL, id, task.IdempotencyKey, body, secret, read)
	if failed != nil {
		return *failed
	}
	return c.answer(o, cfg, status, header, data)
}

// answer maps a system's answer to the task to an outcome.
func (c *Connector) answer(o *connector.Order, cfg *dsar.HTTPConnector, status int, header nethttp.Header, data []byte) dsar.TaskOutcome {
	short := c.short(o, status, data)
	retryAfter := dsar.RetryAfter(header, c.clock.Now())
	switch {
	case slices.Contains(cfg.NoData, status):
		return dsar.TaskOutcome{Kind: dsar.OutcomeNoData, Answer: short}
	case status == nethttp.StatusNoContent && o.Task.Action == dsar.ActionExport:
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: short + " (an export's answer carries its records: want 200 with records or data_url)"}
	case status == nethttp.StatusNoContent:
		return dsar.TaskOutcome{Kind: dsar.OutcomeDone, Answer: short}
	case status == nethttp.StatusAccepted:
		return c.accepted(o, cfg, header, data, short)
	case status >= 200 && status < 300:
		return c.result(data, short, false)
	case status >= 300 && status < 400:
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: short + " (redirects are not followed: configure the final URL)"}
	case status == nethttp.StatusTooManyRequests || status == nethttp.StatusRequestTimeout || status >= 500:
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: short, RetryAfter: retryAfter}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: short}
}

// result maps a body with a result; pending says a status URL's "pending"
// is allowed.
func (c *Connector) result(data []byte, short string, pending bool) dsar.TaskOutcome {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil || r.Count < 0 {
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: short + " (not a result: want {\"status\":\"done\",\"count\":N})"}
	}
	return c.resultOutcome(r, short, pending)
}

// resultOutcome maps a result read.
func (c *Connector) resultOutcome(r Result, short string, pending bool) dsar.TaskOutcome {
	switch r.Status {
	case "done":
		return dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: r.Count, Answer: short}
	case "no_data":
		return dsar.TaskOutcome{Kind: dsar.OutcomeNoData, Answer: short}
	case "failed":
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: short}
	case "pending":
		if pending {
			return dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: short, ExpectedBy: c.time(r.ExpectedBy)}
		}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: short + " (unknown status: want done, no_data or failed)"}
}

// accepted maps a 202: the system answers later, by callback or at the
// status URL it gave, which must be on the system's own host.
func (c *Connector) accepted(o *connector.Order, cfg *dsar.HTTPConnector, header nethttp.Header, data []byte, short string) dsar.TaskOutcome {
	var a Accepted
	_ = json.Unmarshal(data, &a) // an empty or other body: the system calls back
	out := dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: short, ExpectedBy: c.time(a.ExpectedBy)}
	if a.StatusURL == "" {
		return out
	}
	u, err := cfg.Resolve(a.StatusURL)
	if err != nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: short + " (status_url " + err.Error() + ")"}
	}
	out.External, out.PollAfter = u, c.pollAfter(header)
	return out
}

// poll asks the status URL how an accepted task stands.
func (c *Connector) poll(ctx context.Context, o *connector.Order, cfg *dsar.HTTPConnector, secret dsar.WebhookSecret) dsar.TaskOutcome {
	if o.Task.External == "" {
		return dsar.TaskOutcome{Kind: dsar.OutcomeAccepted} // waits for the callback
	}
	id := fmt.Sprintf("%s-%d-poll-%d", o.Task.ID, o.Task.Round, c.clock.Now().Unix())
	var read reader
	if o.Task.Action == dsar.ActionExport {
		read = func(status int, header nethttp.Header, body io.Reader) dsar.TaskOutcome {
			return c.exportResult(ctx, o, cfg, secret, status, header, body, true, false)
		}
	}
	status, header, data, failed := c.call(ctx, o, cfg, nethttp.MethodGet, o.Task.External, id, "", nil, secret, read)
	if read != nil && failed != nil && isResult(cfg, status) {
		return *failed // the export's data was read: a failed attempt when it cannot be used
	}
	if failed != nil {
		// The system has the task: ask again later rather than send it anew.
		return dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: "status: " + failed.Answer, PollAfter: DefaultPollInterval}
	}
	short := "status: " + c.short(o, status, data)
	switch {
	case status == nethttp.StatusAccepted:
		return dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: short, PollAfter: c.pollAfter(header)}
	case slices.Contains(cfg.NoData, status):
		return dsar.TaskOutcome{Kind: dsar.OutcomeNoData, Answer: short}
	case status >= 200 && status < 300:
		out := c.result(data, short, true)
		switch out.Kind {
		case dsar.OutcomeAccepted:
			out.PollAfter = c.pollAfter(header)
		case dsar.OutcomeRetry:
			out = dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: out.Answer, PollAfter: c.pollAfter(header)}
		}
		return out
	case status == nethttp.StatusTooManyRequests || status == nethttp.StatusRequestTimeout || status >= 500:
		return dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: short, PollAfter: c.pollAfter(header)}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: short}
}

// isResult reports whether an answer's status is one whose body is a
// result: a 2xx other than 202 (accepted) and 204 (no body), not listed in
// no_data.
func isResult(cfg *dsar.HTTPConnector, status int) bool {
	return status >= 200 && status < 300 && status != nethttp.StatusAccepted && status != nethttp.StatusNoContent &&
		!slices.Contains(cfg.NoData, status)
}

// pollAfter is the wait before the next poll: the Retry-After, or the
// default.
func (c *Connector) pollAfter(h nethttp.Header) time.Duration {
	if d := dsar.RetryAfter(h, c.clock.Now()); d > 0 {
		return d
	}
	return DefaultPollInterval
}

// time reads an RFC 3339 time, nil when there is none.
func (c *Connector) time(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &t
}

// short returns the answer as the officers see it: the status and the
// start of the body on one line, with the subject's identities blanked in
// case the system echoes them.
func (c *Connector) short(o *connector.Order, status int, body []byte) string {
	return connector.Answer(o.Request.Subject, status, string(body))
}
