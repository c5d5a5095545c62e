package workflows_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows"
	"github.com/dsar-project/dsar/workflows/connector/opendsr/opendsrtest"
)

// openDSRReceiver is an OpenDSR client's callback URL on loopback: it
// answers with status and keeps the bodies whose signature verifies
// against the certificate.
type openDSRReceiver struct {
	cert   *dsar.OpenDSRSigner
	mu     sync.Mutex
	status int
	bodies []string
	calls  int
}

func (r *openDSRReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if dsar.VerifyOpenDSR(r.cert.Certificate, req.Header.Get(dsar.HeaderOpenDSRDomain), req.Header.Get(dsar.HeaderOpenDSRSignature), body) != nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if r.status != 0 {
		w.WriteHeader(r.status)
		return
	}
	r.bodies = append(r.bodies, string(body))
	w.WriteHeader(http.StatusNoContent)
}

// openDSRIntakeEnv is the worker env with the OpenDSR callbacks signed by a new
// certificate, through a client that may reach loopback when allowPrivate,
// and a case of digiref submitted by OpenDSR with the receiver's URL.
func openDSRIntakeEnv(t *testing.T, allowPrivate bool) (*env, *openDSRReceiver, *dsar.OpenDSRIntake) {
	t.Helper()
	e := newEnv(t, time.Now().UTC().Truncate(time.Second))
	certPEM, keyPEM, err := opendsrtest.NewCertificate(e.clock.Now(), "dsar.example.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := dsar.ParseOpenDSRSigner(certPEM, keyPEM, "dsar.example.test")
	if err != nil {
		t.Fatal(err)
	}
	client := workflows.NewWebhookClient(2*time.Second, allowPrivate)
	t.Cleanup(client.Close)
	e.handlers.WebhookClient, e.handlers.OpenDSRSigner = client, signer
	rcv := &openDSRReceiver{cert: signer}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	key := dsar.Actor{ID: "apikey:client", Role: dsar.RoleSystem, Controllers: []string{"digiref"}}
	in, _, created, err := store.NewOpenDSR(e.db).Submit(ctx, key, &dsar.OpenDSRRequest{Regulation: "gdpr",
		SubjectRequestID: "a7551968-d5d6-44b2-9831-815ac9017798", SubjectRequestType: "erasure",
		SubmittedTime: e.clock.Now().Format(time.RFC3339), StatusCallbackURLs: []string{srv.URL + "/cb"},
		SubjectIdentities: []dsar.OpenDSRIdentity{{Type: "email", Value: "kari@example.no", Format: "raw"}}}, "dsar.example.test")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	// The client withdraws it: the status moves to cancelled.
	if _, _, err := store.NewOpenDSR(e.db).Cancel(ctx, key, in.ID); err != nil {
		t.Fatal(err)
	}
	return e, rcv, in
}

// pendingCallbacks returns the callbacks waiting in the outbox, due or not.
func (e *env) pendingCallbacks(t *testing.T) []*dsar.OutboxItem {
	t.Helper()
	items, err := e.outbox.Due(ctx, e.clock.Now().Add(1000*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*dsar.OutboxItem
	for _, it := range items {
		if it.Kind == dsar.OutboxOpenDSRCallback {
			out = append(out, it)
		}
	}
	return out
}

// TestOpenDSRCallbacksAreSignedAndRetried: a change of an OpenDSR case's
// status makes one callback, posted signed; an answer that is not 2xx is
// tried again after the retry schedule's first wait, and once delivered
// it is not posted again.
func TestOpenDSRCallbacksAreSignedAndRetried(t *testing.T) {
	e, rcv, in := openDSRIntakeEnv(t, true)
	if n := len(e.pendingCallbacks(t)); n != 1 {
		t.Fatalf("%d callbacks after the cancellation, want 1", n)
	}
	rcv.status = http.StatusServiceUnavailable
	if n := e.runKind(t, dsar.OutboxOpenDSRCallback); n != 1 || rcv.calls != 1 {
		t.Fatalf("ran %d, receiver called %d times", n, rcv.calls)
	}
	next := e.pendingCallbacks(t)
	if len(next) != 1 || !next[0].RunAt.Equal(e.clock.Now().Add(dsar.WebhookRetrySchedule[0])) {
		t.Fatalf("the retry: %v", next)
	}
	if n := e.runKind(t, dsar.OutboxOpenDSRCallback); n != 0 {
		t.Errorf("the retry ran %d times before its time", n)
	}
	rcv.status = 0
	e.clock.Advance(dsar.WebhookRetrySchedule[0])
	if n := e.runKind(t, dsar.OutboxOpenDSRCallback); n != 1 || len(rcv.bodies) != 1 {
		t.Fatalf("ran %d, received %v", n, rcv.bodies)
	}
	var got dsar.OpenDSRStatus
	if err := json.Unmarshal([]byte(rcv.bodies[0]), &got); err != nil || got.SubjectRequestID != in.ID || got.RequestStatus != dsar.OpenDSRCancelled ||
		got.ControllerID != "digiref" {
		t.Errorf("callback %s", rcv.bodies[0])
	}
	if left := e.pendingCallbacks(t); len(left) != 0 {
		t.Errorf("callbacks left after the delivery: %v", left)
	}
}

// TestOpenDSRCallbackGivenUpIsInTheTrail: a client whose callback URL
// fails at every attempt of the schedule gets no more, and the case's
// audit trail says so (the status it was not told, its last answer), for
// the officers to see.
func TestOpenDSRCallbackGivenUpIsInTheTrail(t *testing.T) {
	e, rcv, in := openDSRIntakeEnv(t, true)
	rcv.status = http.StatusBadGateway
	for attempt := 1; ; attempt++ {
		if n := e.runKind(t, dsar.OutboxOpenDSRCallback); n != 1 {
			t.Fatalf("attempt %d: ran %d", attempt, n)
		}
		next := e.pendingCallbacks(t)
		if attempt == len(dsar.WebhookRetrySchedule)+1 {
			if len(next) != 0 {
				t.Fatalf("a callback after the last attempt: %v", next)
			}
			break
		}
		if len(next) != 1 {
			t.Fatalf("attempt %d: %d callbacks pending", attempt, len(next))
		}
		e.clock.Set(next[0].RunAt)
	}
	if rcv.calls != len(dsar.WebhookRetrySchedule)+1 {
		t.Errorf("the receiver was called %d times", rcv.calls)
	}
	evs, err := e.reqs.Events(ctx, admin, in.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	var failed []*dsar.Event
	for _, ev := range evs {
		if ev.Kind == dsar.EventOpenDSRCallbackFailed {
			failed = append(failed, ev)
		}
	}
	if len(failed) != 1 || failed[0].Reason != "HTTP 502" || failed[0].Data["status"] != dsar.OpenDSRCancelled ||
		failed[0].Data["attempts"] != "10" {
		t.Errorf("the trail's record of the given-up callback: %+v", failed)
	}
}

// TestOpenDSRCallbacksRefusePrivateAddresses: like webhooks, a callback
// does not reach a loopback address unless the deployment allows private
// addresses; it is tried again later.
func TestOpenDSRCallbacksRefusePrivateAddresses(t *testing.T) {
	e, rcv, _ := openDSRIntakeEnv(t, false)
	if n := e.runKind(t, dsar.OutboxOpenDSRCallback); n != 1 || rcv.calls != 0 {
		t.Fatalf("ran %d, the loopback receiver was called %d times", n, rcv.calls)
	}
	if next := e.pendingCallbacks(t); len(next) != 1 {
		t.Errorf("no retry after the refused address: %v", next)
	}
}
