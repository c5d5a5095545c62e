package workflows_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows"
)

// receiver is an integrated system's webhook endpoint on loopback: it
// checks each delivery's signatures with the Standard Webhooks library
// (an implementation independent of ours) and its timestamp against the
// test's clock, refuses a replay (a timestamp outside the tolerance), and
// takes each webhook-id once, answering a repeat 200 without taking it
// again.
type receiver struct {
	t       *testing.T
	clock   *dsar.ManualClock
	secrets []string // each must verify the delivery

	mu     sync.Mutex
	status int // when not 0, every delivery is answered with it
	got    map[string]int
	types  map[string]string
	bodies []string
	sigs   []string
	last   *http.Request
	body   []byte

	addr string
	srv  *http.Server
	hold int // while stopped, a socket bound to addr that does not listen
}

func newReceiver(t *testing.T, clock *dsar.ManualClock) *receiver {
	t.Helper()
	r := &receiver{t: t, clock: clock, got: map[string]int{}, types: map[string]string{}}
	r.start()
	t.Cleanup(func() {
		_ = r.srv.Close()
		r.release()
	})
	return r
}

// start listens on the receiver's address (a new one the first time).
func (r *receiver) start() {
	r.t.Helper()
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	r.release()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
}

// stop closes the endpoint: deliveries find no one listening. The port
// stays the receiver's, bound without listening (connections to it are
// refused), so that nothing else on the machine takes it before start.
func (r *receiver) stop() {
	r.t.Helper()
	_ = r.srv.Close()
	ap, err := netip.ParseAddrPort(r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		r.t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		r.t.Fatal(err)
	}
	r.hold = fd
}

// release gives up the port stop held.
func (r *receiver) release() {
	if r.hold != 0 {
		_ = syscall.Close(r.hold)
		r.hold = 0
	}
}

func (r *receiver) url() string { return "http://" + r.addr + "/hooks/dsar" }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			r.t.Error(err)
			return
		}
		if err := wh.VerifyIgnoringTimestamp(body, req.Header); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
	}
	ts, err := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	if d := r.clock.Now().Sub(time.Unix(ts, 0)); err != nil || d > dsar.WebhookTolerance || d < -dsar.WebhookTolerance {
		http.Error(w, "replay", http.StatusBadRequest)
		return
	}
	r.last, r.body = req, body
	if r.status != 0 {
		w.WriteHeader(r.status)
		return
	}
	id := req.Header.Get("webhook-id")
	r.got[id]++
	r.sigs = append(r.sigs, req.Header.Get("webhook-signature"))
	if r.got[id] == 1 {
		r.bodies = append(r.bodies, string(body))
		var b struct{ Type string }
		if err := json.Unmarshal(body, &b); err != nil {
			r.t.Error(err)
		}
		r.types[id] = b.Type
	}
	w.WriteHeader(http.StatusNoContent)
}

// verifyWith sets the secrets that must each verify a delivery.
func (r *receiver) verifyWith(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = secrets
}

func (r *receiver) answer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// received returns how often each event type was taken, and fails the
// test for an event taken twice (the receiver would have processed a
// replay).
func (r *receiver) received() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for id, typ := range r.types {
		out[typ]++
		if r.got[id] != 1 {
			r.t.Errorf("event %s (%s) delivered %d times", id, typ, r.got[id])
		}
	}
	return out
}

// webhookEnv is the worker env with the webhook delivery, allowed to reach
// loopback, and a subscription to every event type at the receiver.
func webhookEnv(t *testing.T, allowPrivate bool) (*env, *store.Webhooks, *dsar.WebhookSubscription, *receiver) {
	t.Helper()
	e := newEnv(t, time.Now().UTC().Truncate(time.Second))
	hooks := store.NewWebhooks(e.db)
	client := workflows.NewWebhookClient(2*time.Second, allowPrivate)
	t.Cleanup(client.Close)
	e.handlers.Webhooks, e.handlers.WebhookClient = hooks, client
	rcv := newReceiver(t, e.clock)
	sub, err := hooks.CreateSubscription(ctx, admin, dsar.WebhookSubscriptionInput{URL: rcv.url(), Events: dsar.WebhookEventTypes})
	if err != nil {
		t.Fatal(err)
	}
	rcv.verifyWith(sub.Secret)
	return e, hooks, sub, rcv
}

func (e *env) deliver(t *testing.T) int {
	t.Helper()
	return e.runKind(t, dsar.OutboxWebhook)
}

// pendingDeliveries counts the webhook deliveries waiting in the outbox,
// due or not.
func (e *env) pendingDeliveries(t *testing.T) int {
	t.Helper()
	items, err := e.outbox.Due(ctx, e.clock.Now().Add(1000*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Kind == dsar.OutboxWebhook {
			n++
		}
	}
	return n
}

// TestWebhooksAreSignedRetriedAndCaughtUp: a case's events reach the
// receiver signed (checked with the Standard Webhooks library) and once
// each; while the receiver is down the deliveries are retried on the
// schedule, and once it is back the backlog arrives, each event once; a
// replayed delivery is refused.
func TestWebhooksAreSignedRetriedAndCaughtUp(t *testing.T) {
	e, hooks, sub, rcv := webhookEnv(t, true)
	r := e.create(t, "digiref")
	if n := e.deliver(t); n == 0 {
		t.Fatal("no deliveries")
	}
	first := rcv.received()
	if first["request.received"] != 1 || first["request.status_changed"] != 1 || first["request.verified"] != 1 {
		t.Fatalf("received %v", first)
	}
	for _, b := range rcv.bodies {
		if strings.Contains(b, "kari") || strings.Contains(b, "Kari") {
			t.Errorf("personal data in %s", b)
		}
		if !strings.Contains(b, r.Reference) {
			t.Errorf("no reference in %s", b)
		}
	}

	// A replay: the same delivery again, some minutes later, is refused.
	rcv.mu.Lock()
	replay, body := rcv.last, rcv.body
	rcv.mu.Unlock()
	e.clock.Advance(dsar.WebhookTolerance + time.Second)
	again, err := http.NewRequest(http.MethodPost, rcv.url(), strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	again.Header = replay.Header.Clone()
	resp, err := http.DefaultClient.Do(again)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a replay was answered %d", resp.StatusCode)
	}

	// The receiver goes down: the next case's events are tried on the
	// schedule.
	rcv.stop()
	e.create(t, "digiref")
	if n := e.deliver(t); n == 0 {
		t.Fatal("no deliveries of the second case")
	}
	for _, wait := range dsar.WebhookRetrySchedule[:2] {
		if n := e.deliver(t); n != 0 {
			t.Fatalf("%d deliveries tried again before their time", n)
		}
		e.clock.Advance(wait)
		if n := e.deliver(t); n == 0 {
			t.Fatalf("no retry after %v", wait)
		}
	}
	log, err := hooks.Attempts(ctx, admin, sub.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	retrying := 0
	for _, a := range log {
		if a.Outcome == dsar.WebhookRetrying {
			retrying++
			if a.StatusCode != 0 || a.Error == "" || a.NextAt == nil {
				t.Errorf("a failed attempt's log entry: %+v", a)
			}
		}
	}
	if retrying != 3*3 {
		t.Errorf("%d failed attempts logged, want 3 attempts of 3 events", retrying)
	}

	// Back up: the backlog arrives at the next step of the schedule.
	rcv.start()
	e.clock.Advance(dsar.WebhookRetrySchedule[2])
	if n := e.deliver(t); n != 1 {
		t.Fatalf("%d items delivered the backlog, want 1 for both events of the case", n)
	}
	if got := rcv.received(); got["request.received"] != 2 || got["request.status_changed"] != 2 || got["request.verified"] != 2 {
		t.Errorf("after the backlog: %v", got)
	}
	if n := e.deliver(t); n != 0 {
		t.Errorf("%d deliveries after every event arrived", n)
	}
	log, err = hooks.Attempts(ctx, admin, sub.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if log[0].Outcome != dsar.WebhookDelivered || log[0].StatusCode != http.StatusNoContent || log[0].Attempt != 4 {
		t.Errorf("the newest log entry: %+v", log[0])
	}
	if s, _ := hooks.Subscription(ctx, admin, sub.ID); s.FailingSince != nil || !s.Enabled {
		t.Errorf("after a success the subscription is %+v", s)
	}

	// Redelivery of the first case's events keeps their IDs: the receiver
	// drops them as seen.
	n, err := hooks.Redeliver(ctx, admin, sub.ID, "", time.Time{}, e.clock.Now().Add(time.Second))
	if err != nil || n != 6 {
		t.Fatalf("redeliver: %d, %v", n, err)
	}
	e.deliver(t)
	rcv.mu.Lock()
	for id, n := range rcv.got {
		if n != 2 {
			t.Errorf("event %s came %d times, want twice (once, and its redelivery)", id, n)
		}
	}
	rcv.mu.Unlock()
}

// withAdmins gives the env an admin and an officer account, and returns
// the mails the admins were sent about disabled subscriptions.
func (e *env) withAdmins(t *testing.T) func() []string {
	t.Helper()
	users := store.NewUsers(e.db)
	e.handlers.Officers = users
	for email, role := range map[string]dsar.Role{"admin@dsar.example": dsar.RoleAdmin, "kari@nte.no": dsar.RoleOfficer} {
		var ctrls []string
		if role == dsar.RoleOfficer {
			ctrls = []string{"nte"}
		}
		if _, err := users.Create(ctx, email, "a long enough password", role, ctrls); err != nil {
			t.Fatal(err)
		}
	}
	return func() []string {
		e.runKind(t, dsar.OutboxWebhookDisabled)
		var out []string
		for _, m := range e.smtp.Messages() {
			if strings.Contains(m.Header.Get("Subject"), "webhook") {
				out = append(out, strings.Join(m.To, ",")+": "+string(m.Raw))
			}
		}
		return out
	}
}

// TestGoneDisablesTheSubscription: an endpoint that answers 410 Gone
// disables its subscription and the admins are told once; its other
// deliveries are dropped and no new ones are made.
func TestGoneDisablesTheSubscription(t *testing.T) {
	e, hooks, sub, rcv := webhookEnv(t, true)
	told := e.withAdmins(t)
	rcv.answer(http.StatusGone)
	e.create(t, "digiref")
	e.deliver(t)
	mails := told()
	if len(mails) != 1 || !strings.HasPrefix(mails[0], "admin@dsar.example: ") || !strings.Contains(mails[0], sub.ID) {
		t.Errorf("the admins were told %d times: %v", len(mails), mails)
	}
	s, err := hooks.Subscription(ctx, admin, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Enabled || s.DisabledReason != dsar.WebhookDisabledGone {
		t.Fatalf("after 410: %+v", s)
	}
	if n := e.pendingDeliveries(t); n != 0 {
		t.Errorf("%d deliveries still pending", n)
	}
	e.create(t, "digiref")
	if n := e.deliver(t); n != 0 {
		t.Errorf("%d deliveries to a disabled subscription", n)
	}
	if _, err := hooks.Redeliver(ctx, admin, sub.ID, "", time.Time{}, e.clock.Now()); dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("redelivery to a disabled subscription: %v", err)
	}
}

// TestPersistentFailureDisablesTheSubscription: deliveries that fail for
// five days, without a success, disable the subscription and tell the
// admins; one success in between starts the count afresh.
func TestPersistentFailureDisablesTheSubscription(t *testing.T) {
	e, hooks, sub, rcv := webhookEnv(t, true)
	told := e.withAdmins(t)
	rcv.answer(http.StatusServiceUnavailable)
	// A new case every 12 hours keeps deliveries failing for days.
	for i := 0; ; i++ {
		s, err := hooks.Subscription(ctx, admin, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Enabled {
			t.Fatalf("disabled after %d half-days", i)
		}
		if s.FailingSince != nil && e.clock.Now().Sub(*s.FailingSince) >= dsar.WebhookDisableAfter {
			break
		}
		if i == 4 { // one success: the count starts again
			rcv.answer(0)
			e.create(t, "digiref")
			e.deliver(t)
			rcv.answer(http.StatusServiceUnavailable)
			if s, _ := hooks.Subscription(ctx, admin, sub.ID); s.FailingSince != nil {
				t.Fatalf("failing since %v after a success", s.FailingSince)
			}
		}
		e.create(t, "digiref")
		e.deliver(t)
		e.clock.Advance(12 * time.Hour)
	}
	e.create(t, "digiref")
	e.deliver(t)
	s, err := hooks.Subscription(ctx, admin, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Enabled || s.DisabledReason != dsar.WebhookDisabledFailing {
		t.Fatalf("after %v of failures: %+v", dsar.WebhookDisableAfter, s)
	}
	if mails := told(); len(mails) != 1 {
		t.Errorf("the admins were told %d times", len(mails))
	}
	// What happens while it is disabled is kept; enabled again, it gets
	// new events, and what it missed on request.
	e.clock.Advance(time.Hour)
	missedAt := e.clock.Now()
	missed := e.create(t, "digiref")
	if n := e.deliver(t); n != 0 {
		t.Errorf("%d deliveries to a disabled subscription", n)
	}
	on := true
	if _, err := hooks.UpdateSubscription(ctx, admin, sub.ID, dsar.WebhookSubscriptionInput{URL: s.URL, Events: s.Events, Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	rcv.answer(0)
	e.clock.Advance(time.Minute)
	e.create(t, "digiref")
	if n := e.deliver(t); n != 1 {
		t.Errorf("%d items delivered once enabled again, want 1 for both events of the case", n)
	}
	n, err := hooks.Redeliver(ctx, admin, sub.ID, "", missedAt, missedAt.Add(time.Second))
	if err != nil || n != 3 {
		t.Fatalf("redelivery of what it missed: %d, %v", n, err)
	}
	e.deliver(t)
	if !strings.Contains(strings.Join(rcv.bodies, "\n"), missed.Reference) {
		t.Error("the case made while it was disabled never reached the receiver")
	}
}

// TestNoSubscriptionKeepsNoEvents: a service without subscriptions writes
// no webhook events and no deliveries.
func TestNoSubscriptionKeepsNoEvents(t *testing.T) {
	e, hooks, sub, _ := webhookEnv(t, true)
	if err := hooks.DeleteSubscription(ctx, admin, sub.ID); err != nil {
		t.Fatal(err)
	}
	e.create(t, "digiref")
	if n := e.pendingDeliveries(t); n != 0 {
		t.Errorf("%d deliveries without a subscription", n)
	}
	// A subscription made afterwards finds nothing to redeliver.
	later, err := hooks.CreateSubscription(ctx, admin, dsar.WebhookSubscriptionInput{URL: sub.URL, Events: dsar.WebhookEventTypes})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := hooks.Redeliver(ctx, admin, later.ID, "", e.clock.Now().Add(-time.Hour), e.clock.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("%d events kept without a subscription (%v)", n, err)
	}
}

// TestIncludeEmailAddsTheSubjectsAddress: a subscription that asks for it
// gets the subject's address in the payload; others never do.
func TestIncludeEmailAddsTheSubjectsAddress(t *testing.T) {
	e, hooks, sub, rcv := webhookEnv(t, true)
	if _, err := hooks.UpdateSubscription(ctx, admin, sub.ID, dsar.WebhookSubscriptionInput{URL: sub.URL,
		Events: []dsar.WebhookEventType{dsar.WebhookRequestReceived}, IncludeEmail: true}); err != nil {
		t.Fatal(err)
	}
	e.create(t, "digiref")
	e.deliver(t)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bodies) != 1 || !strings.Contains(rcv.bodies[0], `"email":"kari@example.no"`) {
		t.Errorf("bodies %v", rcv.bodies)
	}
}

// TestWebhooksRefusePrivateAddresses: without the deployment's leave, a
// delivery to loopback is refused before any connection, and logged.
func TestWebhooksRefusePrivateAddresses(t *testing.T) {
	e, hooks, sub, rcv := webhookEnv(t, false)
	e.create(t, "digiref")
	e.deliver(t)
	if got := rcv.received(); len(got) != 0 {
		t.Errorf("the loopback receiver got %v", got)
	}
	log, err := hooks.Attempts(ctx, admin, sub.ID, 0)
	if err != nil || len(log) == 0 {
		t.Fatalf("log %v, %v", log, err)
	}
	for _, a := range log {
		if a.Outcome != dsar.WebhookRetrying || a.Error != workflows.ErrWebhookAddress.Error() {
			t.Errorf("attempt %+v", a)
		}
	}
	for addr, public := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false,
		"224.0.0.1": false, "93.184.216.34": true, "2606:4700::1111": true,
	} {
		if got := workflows.PublicAddress(netip.MustParseAddr(addr)); got != public {
			t.Errorf("PublicAddress(%s) = %v", addr, got)
		}
	}
}

// TestRotationSendsBothSignatures: after a rotation each delivery carries
// a signature by the new secret and one by the old, which both verify,
// until the overlap ends.
func TestRotationSendsBothSignatures(t *testing.T) {
	e, hooks, sub, rcv := webhookEnv(t, true)
	rotated, err := hooks.RotateSecret(ctx, admin, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == sub.Secret || rotated.PreviousSecret != sub.Secret {
		t.Fatalf("rotation: %+v", rotated)
	}
	rcv.verifyWith(sub.Secret, rotated.Secret) // each must verify
	e.create(t, "digiref")
	e.deliver(t)
	rcv.mu.Lock()
	sigs := rcv.sigs
	rcv.mu.Unlock()
	if len(sigs) == 0 {
		t.Fatal("nothing delivered")
	}
	for _, s := range sigs {
		if len(strings.Fields(s)) != 2 {
			t.Errorf("signatures %q, want two", s)
		}
	}
	e.clock.Advance(dsar.WebhookRotationOverlap)
	rcv.verifyWith(rotated.Secret)
	e.create(t, "digiref")
	e.deliver(t)
	rcv.mu.Lock()
	last := rcv.sigs[len(rcv.sigs)-1]
	rcv.mu.Unlock()
	if len(strings.Fields(last)) != 1 {
		t.Errorf("after the overlap: signatures %q, want one", last)
	}
}

// TestTestEventAndDeletedSubscription: a test event reaches the receiver;
// the deliveries of a deleted subscription are dropped.
func TestTestEventAndDeletedSubscription(t *testing.T) {
	e, hooks, sub, rcv := webhookEnv(t, true)
	ev, err := hooks.SendTest(ctx, admin, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(t)
	if got := rcv.received(); got["webhook.test"] != 1 {
		t.Errorf("received %v", got)
	}
	rcv.mu.Lock()
	n := rcv.got[ev.ID]
	rcv.mu.Unlock()
	if n != 1 {
		t.Errorf("the test event %s came %d times", ev.ID, n)
	}
	e.create(t, "digiref")
	if err := hooks.DeleteSubscription(ctx, admin, sub.ID); err != nil {
		t.Fatal(err)
	}
	e.deliver(t)
	if got := rcv.received(); len(got) != 1 {
		t.Errorf("a deleted subscription still got %v", got)
	}
	if n := e.pendingDeliveries(t); n != 0 {
		t.Errorf("%d deliveries of a deleted subscription still pending", n)
	}
	_, err = hooks.SendTest(ctx, dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer}, sub.ID)
	if dsar.ErrorCode(err) != dsar.EFORBIDDEN {
		t.Errorf("an officer sent a test: %v", err)
	}
}

// TestWebhooksFollowNoRedirect: an endpoint that redirects has not taken
// the event: the redirect's target is never called, and the attempt is a
// failure with the redirect's status, tried again later.
func TestWebhooksFollowNoRedirect(t *testing.T) {
	e, hooks, sub, _ := webhookEnv(t, true)
	target := newReceiver(t, e.clock)
	target.verifyWith(sub.Secret)
	redirect := httptest.NewServer(http.RedirectHandler(target.url(), http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	if _, err := hooks.UpdateSubscription(ctx, admin, sub.ID, dsar.WebhookSubscriptionInput{URL: redirect.URL + "/hooks/dsar", Events: dsar.WebhookEventTypes}); err != nil {
		t.Fatal(err)
	}
	e.create(t, "digiref")
	if n := e.deliver(t); n == 0 {
		t.Fatal("nothing delivered")
	}
	if got := target.received(); len(got) != 0 {
		t.Errorf("the redirect was followed: the target got %v", got)
	}
	log, err := hooks.Attempts(ctx, admin, sub.ID, 0)
	if err != nil || len(log) == 0 {
		t.Fatalf("log %v, %v", log, err)
	}
	for _, a := range log {
		if a.Outcome != dsar.WebhookRetrying || a.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("attempt %+v", a)
		}
	}
}
