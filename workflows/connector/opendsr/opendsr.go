// Package opendsr is the connector of processors that speak OpenDSR 2.0
// (https://github.com/opengdpr/OpenDSR; docs/connectors.md, "OpenDSR
// connector"): it posts an access, portability or erasure request to
// {url}/requests, asks GET {url}/requests/{id} how it stands until the
// processor completes it (or calls back, api/opendsr.go), and withdraws it
// with DELETE {url}/requests/{id} when the case closes first. Redirects are
// not followed.
package opendsr

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
	"strconv"
	"strings"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// The waits and bounds of the connector.
const (
	// Timeout bounds one call to a processor.
	Timeout = 30 * time.Second
	// PollInterval is the wait before asking again when the processor gives
	// no expected completion time, or could not be asked.
	PollInterval = time.Hour
	// MinPoll and MaxPoll bound the wait before the next status request:
	// at the expected completion time, but at least MinPoll and at most
	// MaxPoll from now.
	MinPoll = 15 * time.Minute
	MaxPoll = 24 * time.Hour
	// maxAnswerBody is what is read of an answer's body.
	maxAnswerBody = 64 << 10
	// ResultsTimeout bounds the fetch of a request's results, and
	// MaxResultsBytes what is read of them.
	ResultsTimeout  = 10 * time.Minute
	MaxResultsBytes = dsar.DefaultMaxExportBytes
)

// Connector is the OpenDSR connector. It is safe for concurrent use.
type Connector struct {
	clock  dsar.Clock
	log    *slog.Logger
	client *nethttp.Client
}

var _ connector.Connector = (*Connector)(nil)

// New returns the OpenDSR connector: clock places the next status
// request; log gets one line a call (task, system, status; never the
// subject's data).
func New(clock dsar.Clock, log *slog.Logger) *Connector {
	tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	return &Connector{clock: clock, log: log,
		client: &nethttp.Client{Transport: tr, CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error {
			return nethttp.ErrUseLastResponse // a redirect is an answer, not followed
		}}}
}

// Close releases the idle connections.
func (c *Connector) Close() { c.client.CloseIdleConnections() }

// RequestType returns the OpenDSR request type of a task's action in a
// case of the type: export is access (portability in a portability case),
// erase is erasure; OpenDSR has no other, and ok is false.
func RequestType(a dsar.TaskAction, t dsar.RequestType) (typ string, ok bool) {
	switch a {
	case dsar.ActionExport:
		if t == dsar.TypePortability {
			return dsar.OpenDSRPortability, true
		}
		return dsar.OpenDSRAccess, true
	case dsar.ActionErase:
		return dsar.OpenDSRErasure, true
	}
	return "", false
}

// NewRequest returns the body of the order's request. The callback URL is
// given only when the system has a certificate to verify callbacks by.
func NewRequest(o *connector.Order, typ string) dsar.OpenDSRRequest {
	r := o.Request
	var ids []dsar.OpenDSRIdentity
	if v := strings.TrimSpace(r.Subject.Email); v != "" {
		ids = append(ids, dsar.OpenDSRIdentity{Type: "email", Value: v, Format: "raw"})
	}
	if v := strings.TrimSpace(r.Subject.CustomerID); v != "" {
		ids = append(ids, dsar.OpenDSRIdentity{Type: "controller_customer_id", Value: v, Format: "raw"})
	}
	reg := string(r.Regulation)
	if reg == "" {
		reg = string(dsar.RegulationGDPR)
	}
	req := dsar.OpenDSRRequest{Regulation: reg, SubjectRequestID: dsar.OpenDSRRequestID(o.IdempotencyKey()), SubjectRequestType: typ,
		SubmittedTime: r.ReceivedAt.UTC().Format(time.RFC3339), SubjectIdentities: ids, APIVersion: dsar.OpenDSRAPIVersion}
	if o.Connector.OpenDSR.Certificate != "" && o.OpenDSRCallbackURL != "" {
		req.StatusCallbackURLs = []string{o.OpenDSRCallbackURL}
	}
	return req
}

// Do carries out a step of a task: sends its request (StepSend), asks how
// the request stands (StepPoll), or cancels it (StepCancel, best effort:
// a processor may cancel only a pending request).
func (c *Connector) Do(ctx context.Context, o *connector.Order) dsar.TaskOutcome {
	cfg := o.Connector.OpenDSR
	if o.Connector.Kind != dsar.ConnectorOpenDSR || cfg == nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the system has no OpenDSR connector settings"}
	}
	typ, ok := RequestType(o.Task.Action, o.Request.Type)
	if !ok {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf(
			"OpenDSR has no request for the action %s: a processor takes access, portability and erasure only (export and erase tasks); skip this task and ask the processor another way",
			o.Task.Action)}
	}
	token := ""
	if !cfg.Token.IsZero() {
		v, err := cfg.Token.Value()
		if err != nil {
			return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "the bearer token (" + cfg.Token.String() + ") cannot be read: " + err.Error()}
		}
		token = v
	}
	id := dsar.OpenDSRRequestID(o.IdempotencyKey())
	switch o.Step {
	case dsar.StepSend:
		return c.send(ctx, o, cfg, token, typ)
	case dsar.StepPoll:
		return c.poll(ctx, o, cfg, token, id)
	case dsar.StepCancel:
		return c.cancel(ctx, o, cfg, token, id)
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeReminded} // nothing to remind a machine of
}

// endpoint returns the URL of a path below the processor's OpenDSR URL.
func endpoint(cfg *dsar.OpenDSRConnector, path string) string {
	return strings.TrimRight(cfg.URL, "/") + path
}

// call makes one call to the processor within the timeout, and returns the
// answer's status, header and the start of its body; a failure to get an
// answer is returned as its reason.
func (c *Connector) call(ctx context.Context, o *connector.Order, method, target, token string, body []byte) (int, nethttp.Header, []byte, string) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := nethttp.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, "the URL is not usable: " + err.Error()
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dsar")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		why := "no answer: " + transportError(err)
		c.log.Warn("processor call failed", "task", o.Task.ID, "system", o.Task.Target(), "method", method, "err", why)
		return 0, nil, nil, why
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBody))
	c.log.Info("processor call", "task", o.Task.ID, "system", o.Task.Target(), "method", method, "status", resp.StatusCode,
		"ms", time.Since(start).Milliseconds())
	if err != nil {
		return 0, nil, nil, fmt.Sprintf("HTTP %d: the answer broke off: %s", resp.StatusCode, transportError(err))
	}
	return resp.StatusCode, resp.Header, data, ""
}

// transportError says in short why no answer came, without the URL.
func transportError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timed out after " + Timeout.String()
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

// send posts the task's request and maps the answer: 201 (or 200) is
// accepted, waiting until the expected completion time; 409 says the
// processor has the request already (a repeated send), which is asked
// after at once; 408, 429 and 5xx are tried again; anything else failed.
func (c *Connector) send(ctx context.Context, o *connector.Order, cfg *dsar.OpenDSRConnector, token, typ string) dsar.TaskOutcome {
	req := NewRequest(o, typ)
	if len(req.SubjectIdentities) == 0 {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the subject has no identity OpenDSR takes (an e-mail address or a customer ID)"}
	}
	body, _ := json.Marshal(req) // strings and slices always marshal
	status, header, data, why := c.call(ctx, o, nethttp.MethodPost, endpoint(cfg, "/requests"), token, body)
	if why != "" {
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: why}
	}
	switch {
	case status == nethttp.StatusCreated || status == nethttp.StatusOK:
		var r dsar.OpenDSRResponse
		if err := json.Unmarshal(data, &r); err != nil || (r.SubjectRequestID != "" && !strings.EqualFold(r.SubjectRequestID, req.SubjectRequestID)) {
			return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: fmt.Sprintf("HTTP %d: not an OpenDSR response for subject_request_id %s", status, req.SubjectRequestID)}
		}
		out := dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, External: req.SubjectRequestID,
			Answer: fmt.Sprintf("HTTP %d: OpenDSR %s request %s received", status, typ, req.SubjectRequestID)}
		if t, err := time.Parse(time.RFC3339, r.ExpectedCompletionTime); err == nil {
			out.ExpectedBy = &t
			out.Answer += ", expected by " + t.UTC().Format(time.RFC3339)
		}
		out.PollAfter = c.pollAfter(out.ExpectedBy)
		return out
	case status == nethttp.StatusConflict:
		return dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, External: req.SubjectRequestID, PollAfter: time.Minute,
			Answer: fmt.Sprintf("HTTP 409: the processor has request %s already", req.SubjectRequestID)}
	case status == nethttp.StatusTooManyRequests || status == nethttp.StatusRequestTimeout || status >= 500:
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: c.short(o, status, data), RetryAfter: dsar.RetryAfter(header, c.clock.Now())}
	case status >= 300 && status < 400:
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: c.short(o, status, data) + " (redirects are not followed: configure the final URL)"}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: c.short(o, status, data)}
}

// poll asks how the task's request stands. An answer that cannot be had or
// trusted (no answer, 5xx, a signature that does not verify against the
// certificate, a body that is no status) keeps the task waiting, asked
// again later: the processor has the request, and the task shows the
// reason and becomes overdue after its expected completion time.
func (c *Connector) poll(ctx context.Context, o *connector.Order, cfg *dsar.OpenDSRConnector, token, id string) dsar.TaskOutcome {
	wait := func(answer string) dsar.TaskOutcome {
		return dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: "status: " + answer, PollAfter: c.pollAfter(nil)}
	}
	status, header, data, why := c.call(ctx, o, nethttp.MethodGet, endpoint(cfg, "/requests/"+url.PathEscape(id)), token, nil)
	if why != "" {
		return wait(why)
	}
	if status != nethttp.StatusOK {
		if status == nethttp.StatusTooManyRequests || status == nethttp.StatusRequestTimeout || status >= 500 {
			return wait(c.short(o, status, data))
		}
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "status: " + c.short(o, status, data)}
	}
	if cfg.Certificate != "" {
		cert, err := dsar.LoadOpenDSRCertificate(cfg.Certificate)
		if err != nil {
			return wait("the processor's certificate cannot be read: " + err.Error())
		}
		if err := dsar.VerifyOpenDSR(cert, header.Get(dsar.HeaderOpenDSRDomain), header.Get(dsar.HeaderOpenDSRSignature), data); err != nil {
			return wait("HTTP 200: " + err.Error())
		}
	}
	var s dsar.OpenDSRStatus
	if err := json.Unmarshal(data, &s); err != nil {
		return wait("HTTP 200: not an OpenDSR status")
	}
	out, err := s.Outcome(id)
	if err != nil {
		return wait("HTTP 200: not a status of request " + id + ": " + fieldsOf(err))
	}
	out.Answer = "status: " + out.Answer
	if out.Kind == dsar.OutcomeAccepted {
		out.PollAfter = c.pollAfter(out.ExpectedBy)
	}
	if out.Kind == dsar.OutcomeDone && o.Task.Action == dsar.ActionExport && s.ResultsURL != "" {
		return c.results(ctx, o, cfg, token, s.ResultsURL, out)
	}
	return out
}

// results fetches the results of a completed export from its results_url
// into the task's blob, streamed and capped at MaxResultsBytes, and returns
// the done outcome with the records stored. The results are JSON, JSON
// Lines or CSV (connector.Convert), by the answer's Content-Type or the
// URL's extension; each record is of the task's data category when it has
// only one. The results_url must be https, or on the processor's own
// scheme and host; only there is the bearer token sent. Results that
// cannot be fetched or read are a failed attempt that stores nothing: the
// request is sent again (the processor answers it has it) and asked after.
func (c *Connector) results(ctx context.Context, o *connector.Order, cfg *dsar.OpenDSRConnector, token, raw string, done dsar.TaskOutcome) dsar.TaskOutcome {
	failed := func(why string) dsar.TaskOutcome {
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: done.Answer + "; the results cannot be used: " + why}
	}
	u, err := url.Parse(raw)
	base, _ := url.Parse(cfg.URL)
	own := err == nil && base != nil && u.Scheme == base.Scheme && u.Host == base.Host
	if err != nil || !(own || u.Scheme == "https") {
		return failed("results_url must be https or on the processor's own host")
	}
	if !own {
		token = "" // the processor's token goes to the processor only
	}
	ctx, cancel := context.WithTimeout(ctx, ResultsTimeout)
	defer cancel()
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodGet, u.String(), nil)
	if err != nil {
		return failed("results_url is not usable")
	}
	req.Header.Set("Accept", "application/json, application/x-ndjson, text/csv")
	req.Header.Set("User-Agent", "dsar")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return failed("no answer: " + transportError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != nethttp.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBody))
		return failed(c.short(o, resp.StatusCode, data))
	}
	format := connector.FormatOf(resp.Header.Get("Content-Type"), u.Path)
	if format == "" {
		return failed(fmt.Sprintf("HTTP 200: %q is not %s", resp.Header.Get("Content-Type"), connector.Formats))
	}
	category := ""
	if len(o.Task.Categories) == 1 {
		category = o.Task.Categories[0]
	}
	ex, err := connector.StartExport(ctx, o.Blobs, o.Task.RequestID, o.Task.ID)
	if err != nil {
		return failed(err.Error())
	}
	if err := connector.Convert(ex, format, category, &connector.CapReader{R: resp.Body, Left: MaxResultsBytes}); err != nil {
		ex.Abort(err)
		if errors.Is(err, connector.ErrTooLarge) {
			return failed(fmt.Sprintf("over %d bytes", MaxResultsBytes))
		}
		return failed(err.Error())
	}
	n, err := ex.Commit()
	if err != nil {
		return failed("they could not be stored: " + err.Error())
	}
	c.log.Info("processor results", "task", o.Task.ID, "system", o.Task.Target(), "records", n, "ms", time.Since(start).Milliseconds())
	done.Count = n
	done.Answer += ", " + strconv.Itoa(n) + " records stored"
	return done
}

// fieldsOf names the fields of a validation error.
func fieldsOf(err error) string {
	var de *dsar.Error
	if !errors.As(err, &de) {
		return err.Error()
	}
	names := make([]string, 0, len(de.Fields))
	for _, f := range de.Fields {
		names = append(names, f.Field)
	}
	return strings.Join(names, ", ")
}

// cancel withdraws the task's request; the processor answers 202 while it
// is pending. Its outcome is not recorded: the task is cancelled already.
func (c *Connector) cancel(ctx context.Context, o *connector.Order, cfg *dsar.OpenDSRConnector, token, id string) dsar.TaskOutcome {
	status, _, data, why := c.call(ctx, o, nethttp.MethodDelete, endpoint(cfg, "/requests/"+url.PathEscape(id)), token, nil)
	switch {
	case why != "":
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "cancel: " + why}
	case status == nethttp.StatusAccepted || status == nethttp.StatusOK || status == nethttp.StatusNoContent:
		return dsar.TaskOutcome{Kind: dsar.OutcomeDone, Answer: "cancel: " + c.short(o, status, nil)}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "cancel: " + c.short(o, status, data)}
}

// pollAfter returns the wait before the next status request: at the
// expected completion time, within MinPoll and MaxPoll from now.
func (c *Connector) pollAfter(expected *time.Time) time.Duration {
	if expected == nil {
		return PollInterval
	}
	return min(max(expected.Sub(c.clock.Now()), MinPoll), MaxPoll)
}

// short returns an answer as the officers see it: the status and the
// processor's error message (section 7.6) on one line, with the subject's
// identities blanked in case the processor echoes them. Nothing else of a
// body is kept: a 201 carries the encoded request, which a controller must
// not keep.
func (c *Connector) short(o *connector.Order, status int, body []byte) string {
	var e dsar.OpenDSRErrorResponse
	s := ""
	if json.Unmarshal(body, &e) == nil {
		s = e.Error.Message
	}
	return connector.Answer(o.Request.Subject, status, s)
}
