package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// TypeWebhook makes one attempt to deliver one webhook event to one
// subscription.
const TypeWebhook = "webhook:deliver"

// DefaultWebhookTimeout is how long a delivery waits for the endpoint's
// answer.
const DefaultWebhookTimeout = 10 * time.Second

// maxWebhookAnswer is how much of an endpoint's answer is read (and
// dropped), so that the connection can be reused.
const maxWebhookAnswer = 64 << 10

// ErrWebhookAddress is the error of a delivery to an address the
// deployment does not allow (private, loopback, link-local and the like).
var ErrWebhookAddress = errors.New("the endpoint's address is private, loopback, link-local or otherwise not public")

// WebhookClient posts webhook deliveries: it follows no redirect, uses no
// proxy, and, unless AllowPrivate, refuses to connect to an address that
// is not public, whatever the host name resolves to (checked on the
// connection's address, so a DNS answer that changes after a check cannot
// get around it).
type WebhookClient struct {
	http *http.Client
}

// NewWebhookClient returns a client that waits timeout (DefaultWebhookTimeout
// when 0) for an answer.
func NewWebhookClient(timeout time.Duration, allowPrivate bool) *WebhookClient {
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddress(ap.Addr()) {
				return ErrWebhookAddress
			}
			return nil
		}
	}
	tr := &http.Transport{DialContext: dialer.DialContext, Proxy: nil, TLSHandshakeTimeout: timeout,
		ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: webhookParallel, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	return &WebhookClient{http: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Close releases the client's idle connections.
func (c *WebhookClient) Close() { c.http.CloseIdleConnections() }

// PublicAddress reports whether a webhook may go to the address: not
// loopback, private (RFC 1918, unique local), link-local, unspecified,
// multicast, shared (100.64.0.0/10) or otherwise reserved.
func PublicAddress(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsLoopback(), a.IsPrivate(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(),
		a.IsInterfaceLocalMulticast(), a.IsMulticast(), a.IsUnspecified():
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // this network
	netip.MustParsePrefix("100.64.0.0/10"),  // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use IPv4/IPv6 translation
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("255.255.255.255/32"),
}

// Post delivers body to the subscription's URL, signed with each of its
// secrets at now, as the Standard Webhooks format says.
func (c *WebhookClient) Post(ctx context.Context, s *dsar.WebhookSubscription, id string, now time.Time, body []byte) dsar.WebhookResponse {
	start := time.Now()
	res := c.post(ctx, s, id, now, body)
	res.Duration = time.Since(start)
	return res
}

func (c *WebhookClient) post(ctx context.Context, s *dsar.WebhookSubscription, id string, now time.Time, body []byte) dsar.WebhookResponse {
	var sigs []string
	for _, raw := range s.Secrets(now) {
		secret, err := dsar.ParseWebhookSecret(raw)
		if err != nil {
			return dsar.WebhookResponse{Err: "bad secret"}
		}
		sigs = append(sigs, secret.Sign(id, now, body))
	}
	h := http.Header{}
	h.Set("User-Agent", "dsar-webhooks/1")
	h.Set(dsar.HeaderWebhookID, id)
	h.Set(dsar.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(dsar.HeaderWebhookSignature, strings.Join(sigs, " "))
	return c.send(ctx, s.URL, h, now, body)
}

// send posts a JSON body with the headers to the URL, under the client's
// rules (no redirect, no proxy, public addresses only unless allowed), and
// returns the answer's status and Retry-After, or why none came.
func (c *WebhookClient) send(ctx context.Context, target string, h http.Header, now time.Time, body []byte) dsar.WebhookResponse {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return dsar.WebhookResponse{Err: "bad URL"}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return dsar.WebhookResponse{Err: postError(err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookAnswer))
	return dsar.WebhookResponse{StatusCode: resp.StatusCode, RetryAfter: dsar.RetryAfter(resp.Header, now)}
}

// postError says why a post got no answer, without the URL (which may hold
// a token of the receiver's).
func postError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrWebhookAddress):
		return ErrWebhookAddress.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout: no answer in time"
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return Redact(ue.Unwrap().Error())
	}
	return Redact(err.Error())
}

// webhookParallel is how many of an item's events are posted to the
// endpoint at once.
const webhookParallel = 8

// deliverWebhook makes one attempt of a delivery of the item's events,
// webhookParallel of them at a time, and records what the domain decided
// of it, with the item's completion. A delivery whose events or
// subscription are gone, or whose subscription was disabled, is
// cancelled.
func (h *Handlers) deliverWebhook(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.WebhookPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.EventID == "" || p.SubscriptionID == "" || p.Attempt < 1 {
		return outcome{}, fmt.Errorf("bad webhook payload: %w", asynq.SkipRetry)
	}
	evs, sub, emails, err := h.Webhooks.Deliveries(ctx, p.EventIDs(), p.SubscriptionID)
	if dsar.ErrorCode(err) == dsar.ENOTFOUND {
		return outcome{cancel: true}, nil
	}
	if err != nil {
		return outcome{}, err
	}
	if !sub.Enabled || len(evs) == 0 {
		return outcome{cancel: true}, nil
	}
	now := h.Clock.Now()
	res := make([]dsar.WebhookResponse, len(evs))
	sem := make(chan struct{}, webhookParallel)
	var wg sync.WaitGroup
	for i, ev := range evs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res[i] = h.WebhookClient.Post(ctx, sub, ev.ID, now, ev.Body(emails[ev.RequestID]))
		}()
	}
	wg.Wait()
	env := dsar.Env{Now: h.Clock.Now(), NewID: func() string { return uuid.Must(uuid.NewV7()).String() }}
	d := dsar.DecideWebhookAttempts(env, sub, evs, p, res)
	if d.Disable != "" {
		h.Log.Warn("webhook subscription disabled", "subscription", sub.ID, "reason", d.Disable)
	}
	for i, a := range d.Attempts {
		if a.Outcome != dsar.WebhookDelivered {
			h.Log.Warn("webhook delivery failed", "subscription", sub.ID, "event", a.EventID, "attempt", p.Attempt,
				"status", res[i].StatusCode, "err", res[i].Err, "outcome", a.Outcome)
		}
	}
	if err := h.Webhooks.RecordAttempts(ctx, it, d); err != nil {
		return outcome{}, err
	}
	return outcome{completed: true}, nil
}
