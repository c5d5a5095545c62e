package workflows_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows"
)

// receiverSecretEnv names the test receiver's signing secret.
const receiverSecretEnv = "DSAR_TEST_RECEIVER_SECRET"

// upload is one POST the receiver got, as it checked it.
type upload struct {
	header   http.Header
	sha256   string
	bytes    int
	verified error
}

// packageReceiver is another organisation's HTTPS endpoint for portable
// packages: it checks each upload's signature with the Standard Webhooks
// library, and answers with the statuses it is given, one an upload (the
// last one again when they run out).
type packageReceiver struct {
	mu       sync.Mutex
	answers  []func(w http.ResponseWriter)
	uploads  []upload
	verifier *standardwebhooks.Webhook
}

func (rc *packageReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.uploads = append(rc.uploads, upload{header: r.Header.Clone(), sha256: hex.EncodeToString(sum[:]), bytes: len(body),
		verified: rc.verifier.VerifyIgnoringTimestamp(body, r.Header)})
	answer := rc.answers[min(len(rc.uploads), len(rc.answers))-1]
	answer(w)
}

func (rc *packageReceiver) got() []upload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]upload(nil), rc.uploads...)
}

// status answers with the status and the body.
func status(code int, header map[string]string, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// transmitEnv is a portability case at Digiref, answered and its package
// assembled, whose subject asked for the package to go to Digiref's
// portability recipient: an HTTPS receiver on loopback that answers as
// told. The worker's client trusts the receiver's certificate.
func transmitEnv(t *testing.T, answers ...func(w http.ResponseWriter)) (*env, *packageReceiver, *dsar.Request) {
	t.Helper()
	raw := dsar.NewWebhookSecret()
	t.Setenv(receiverSecretEnv, raw)
	verifier, err := standardwebhooks.NewWebhook(raw)
	if err != nil {
		t.Fatal(err)
	}
	rc := &packageReceiver{answers: answers, verifier: verifier}
	srv := httptest.NewTLSServer(rc)
	t.Cleanup(srv.Close)
	e, _, r := answeredWith(t, dsar.TypePortability, dsar.LanguageEN, 2, func(e *env, in *dsar.NewRequest) {
		ctrl, _ := e.db.Controllers.Get("digiref")
		ctrl.PortabilityRecipients = []dsar.PortabilityRecipient{{Key: "kraftbytte", Name: "Kraftbytte AS", URL: srv.URL + "/packages",
			Secret: dsar.Secret{Env: receiverSecretEnv}, Timeout: 5 * time.Second, MaxAttempts: 3}}
		e.handlers.TransmitClient = srv.Client()
		in.TransmitTo = "kraftbytte"
	})
	if n := e.runKind(t, dsar.OutboxAssemble); n != 1 {
		t.Fatalf("%d assemblies", n)
	}
	if _, err := e.reqs.Complete(ctx, digirefOfficer, r.ID, dsar.Decision{Summary: "Your data is ready."}); err != nil {
		t.Fatal(err)
	}
	return e, rc, r
}

// mailsTo returns the templates of the mails sent so far, by recipient.
func (e *env) mailsTo(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range e.smtp.Messages() {
		out[m.To[0]] = append(out[m.To[0]], e.templateOf(t, m))
	}
	return out
}

// TestTransmitPackage: the package goes to the recipient's HTTPS endpoint
// signed in the Standard Webhooks format over the streamed body; a 503
// with Retry-After is tried again no sooner, with the same webhook-id; the
// 2xx's receipt is recorded, audited and mailed to the subject.
func TestTransmitPackage(t *testing.T) {
	e, rc, r := transmitEnv(t,
		status(http.StatusServiceUnavailable, map[string]string{"Retry-After": "600"}, "busy"),
		status(http.StatusAccepted, map[string]string{"Content-Type": "application/json"}, `{"receipt":"KB-2025-77"}`))
	got, _ := e.reqs.Get(ctx, admin, r.ID)
	if got.Transmit.State != dsar.TransmitPending {
		t.Fatalf("after completion: %+v", got.Transmit)
	}
	pkg, _ := got.Result(dsar.ResultPackage)
	sentAt := e.clock.Now()

	if n := e.runKind(t, dsar.OutboxTransmit); n != 1 {
		t.Fatalf("%d transmissions", n)
	}
	got, _ = e.reqs.Get(ctx, admin, r.ID)
	if tr := got.Transmit; tr.State != dsar.TransmitPending || tr.Attempts != 1 || tr.Status != 503 || !strings.Contains(tr.Reason, "503") {
		t.Fatalf("after the 503: %+v", tr)
	}
	// Not before the Retry-After.
	e.clock.Advance(599 * time.Second)
	if n := e.runKind(t, dsar.OutboxTransmit); n != 0 {
		t.Fatalf("tried again before the Retry-After")
	}
	e.clock.Advance(2 * time.Minute)
	if n := e.runKind(t, dsar.OutboxTransmit); n != 1 {
		t.Fatalf("%d transmissions after the Retry-After", n)
	}

	ups := rc.got()
	if len(ups) != 2 {
		t.Fatalf("%d uploads, want 2", len(ups))
	}
	for i, up := range ups {
		if up.verified != nil {
			t.Errorf("upload %d: the Standard Webhooks library refuses the signature: %v", i, up.verified)
		}
		if up.sha256 != pkg.SHA256 || int64(up.bytes) != pkg.Bytes {
			t.Errorf("upload %d: %d bytes, sha256 %s; the package has %d, %s", i, up.bytes, up.sha256, pkg.Bytes, pkg.SHA256)
		}
		h := up.header
		if h.Get("Content-Type") != "application/zip" || h.Get(workflows.HeaderReference) != got.Reference ||
			h.Get(workflows.HeaderPackageSHA256) != pkg.SHA256 || !strings.HasPrefix(h.Get("Content-Digest"), "sha-256=:") {
			t.Errorf("upload %d headers: %v", i, h)
		}
		if h.Get(dsar.HeaderWebhookID) != dsar.TransmissionID(got, pkg) {
			t.Errorf("upload %d: webhook-id %q", i, h.Get(dsar.HeaderWebhookID))
		}
	}
	if ups[0].header.Get("webhook-timestamp") != strconv.FormatInt(sentAt.Unix(), 10) ||
		ups[1].header.Get("webhook-timestamp") != strconv.FormatInt(e.clock.Now().Unix(), 10) {
		t.Errorf("timestamps %s, %s: want the time of each try", ups[0].header.Get("webhook-timestamp"), ups[1].header.Get("webhook-timestamp"))
	}

	got, _ = e.reqs.Get(ctx, admin, r.ID)
	tr := got.Transmit
	if tr.State != dsar.TransmitSent || tr.Receipt != "KB-2025-77" || tr.Status != 202 || tr.Attempts != 2 || tr.SHA256 != pkg.SHA256 || tr.At == nil {
		t.Errorf("after the 202: %+v", tr)
	}
	evs, _ := e.reqs.Events(ctx, admin, r.ID)
	var ev *dsar.Event
	for _, x := range evs {
		if x.Kind == dsar.EventTransmitted {
			ev = x
		}
	}
	if ev == nil || ev.Data["receipt"] != "KB-2025-77" || ev.Data["sha256"] != pkg.SHA256 || ev.Data["status"] != "202" ||
		ev.Data["recipient"] != "kraftbytte" || ev.Data["bytes"] != strconv.FormatInt(pkg.Bytes, 10) {
		t.Errorf("transmitted event %+v", ev)
	}

	e.runKind(t, dsar.OutboxMail)
	if m := e.mailsTo(t)["kari@example.no"]; !strings.Contains(strings.Join(m, ","), "transmitted") {
		t.Errorf("mails to the subject: %v", m)
	}
	for _, m := range e.smtp.Messages() {
		if e.templateOf(t, m) == "transmitted" && (!strings.Contains(string(m.Raw), "KB-2025-77") || !strings.Contains(string(m.Raw), pkg.SHA256)) {
			t.Errorf("the mail does not give the receipt and the SHA-256:\n%s", m.Raw)
		}
	}
}

// TestTransmitRefused: a 400 fails the transmission at once: audited
// with the reason, the subject told the download stays open, the
// officers alerted; nothing is tried again.
func TestTransmitRefused(t *testing.T) {
	e, rc, r := transmitEnv(t, status(http.StatusBadRequest, nil, "unknown customer kari@example.no"))
	if n := e.runKind(t, dsar.OutboxTransmit); n != 1 {
		t.Fatalf("%d transmissions", n)
	}
	got, _ := e.reqs.Get(ctx, admin, r.ID)
	if tr := got.Transmit; tr.State != dsar.TransmitFailed || tr.Status != 400 || tr.Attempts != 1 || strings.Contains(tr.Reason, "kari@") {
		t.Errorf("after the 400: %+v", tr)
	}
	e.clock.Advance(24 * time.Hour)
	if n := e.runKind(t, dsar.OutboxTransmit); n != 0 || len(rc.got()) != 1 {
		t.Errorf("tried again after a 400: %d uploads", len(rc.got()))
	}
	evs, _ := e.reqs.Events(ctx, admin, r.ID)
	failed := false
	for _, ev := range evs {
		if ev.Kind == dsar.EventTransmissionFailed {
			failed = ev.Data["status"] == "400" && strings.Contains(ev.Reason, "400") && !strings.Contains(ev.Reason, "kari@")
		}
	}
	if !failed {
		t.Errorf("no transmission_failed event with the status and no personal data: %+v", evs)
	}
	e.runKind(t, dsar.OutboxMail)
	to := e.mailsTo(t)
	if !strings.Contains(strings.Join(to["kari@example.no"], ","), "transmission_failed") {
		t.Errorf("mails to the subject: %v", to)
	}
	officers := 0
	for addr, ms := range to {
		if addr != "kari@example.no" && strings.Contains(strings.Join(ms, ","), "transmission_alert") {
			officers++
		}
	}
	if officers == 0 {
		t.Errorf("the officers were not alerted: %v", to)
	}
}
