package opendsr_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
	"github.com/dsar-project/dsar/workflows/connector/opendsr"
	"github.com/dsar-project/dsar/workflows/connector/opendsr/opendsrtest"
)

var start = time.Date(2025, time.March, 5, 9, 0, 0, 0, time.UTC)

const tokenEnv = "DSAR_TEST_OPENDSR_TOKEN"

// setup returns a connector, a fake processor on loopback that wants a
// bearer token, and the system's settings with the processor's certificate.
func setup(t *testing.T) (*opendsr.Connector, *opendsrtest.Processor, *dsar.OpenDSRConnector, *dsar.ManualClock) {
	t.Helper()
	clock := dsar.NewManualClock(start)
	p, err := opendsrtest.New(clock)
	if err != nil {
		t.Fatal(err)
	}
	p.Token = "processor-token"
	t.Setenv(tokenEnv, p.Token)
	srv := httptest.NewServer(http.StripPrefix("/v2", p))
	t.Cleanup(srv.Close)
	p.SetURL(srv.URL + "/v2")
	cert, err := p.WriteCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conn := opendsr.New(clock, slog.New(slog.DiscardHandler))
	t.Cleanup(conn.Close)
	return conn, p, &dsar.OpenDSRConnector{URL: srv.URL + "/v2/", Token: dsar.Secret{Env: tokenEnv}, Certificate: cert}, clock
}

// order returns the send of a task with the action in a case of the type.
func order(cfg *dsar.OpenDSRConnector, action dsar.TaskAction, typ dsar.RequestType) *connector.Order {
	return &connector.Order{Step: dsar.StepSend, OpenDSRCallbackURL: "https://dsar.example/api/v1/opendsr/callback/task-1?token=t",
		TaskOrder: &dsar.TaskOrder{
			Task: &dsar.Task{ID: "task-1", System: "analytics", Action: action, Round: 1},
			Request: &dsar.Request{Reference: "NTE-2025-0001", Type: typ, Regulation: dsar.RegulationGDPR, ReceivedAt: start.Add(-48 * time.Hour),
				Deadline: start.AddDate(0, 1, 0), Subject: dsar.Subject{Email: "kari@example.no", CustomerID: "C-77", Name: "Kari Nordmann"}},
			Controller: &dsar.Controller{Key: "nte"},
			Connector:  &dsar.Connector{Kind: dsar.ConnectorOpenDSR, OpenDSR: cfg},
		}}
}

func noPersonalData(t *testing.T, o dsar.TaskOutcome) {
	t.Helper()
	if s := strings.ToLower(o.Answer); strings.Contains(s, "kari") || strings.Contains(s, "c-77") {
		t.Errorf("the answer %q holds the subject's data", o.Answer)
	}
}

// TestSendWaitsForTheProcessor sends each OpenDSR request type: the
// processor gets the spec's body once, even when the send is repeated, and
// the task waits for it with the request ID and its expected completion.
func TestSendWaitsForTheProcessor(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		action dsar.TaskAction
		typ    dsar.RequestType
		want   string
	}{
		{dsar.ActionExport, dsar.TypeAccess, "access"},
		{dsar.ActionExport, dsar.TypePortability, "portability"},
		{dsar.ActionErase, dsar.TypeErasure, "erasure"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			conn, p, cfg, _ := setup(t)
			o := order(cfg, tc.action, tc.typ)
			id := dsar.OpenDSRRequestID(o.IdempotencyKey())
			out := conn.Do(ctx, o)
			if out.Kind != dsar.OutcomeAccepted || out.External != id || out.ExpectedBy == nil ||
				!out.ExpectedBy.Equal(start.Add(opendsrtest.ExpectedAfter)) || out.PollAfter != opendsr.MaxPoll {
				t.Fatalf("outcome %+v", out)
			}
			noPersonalData(t, out)
			if again := conn.Do(ctx, o); again.Kind != dsar.OutcomeAccepted || again.External != id {
				t.Fatalf("a repeated send: %+v", again)
			}
			rec, ok := p.Request(id)
			if !ok || rec.Posts != 2 || p.Len() != 1 || rec.Type != tc.want || rec.Status != dsar.OpenDSRPending {
				t.Fatalf("the processor holds %d requests; this one %v: %+v", p.Len(), ok, rec)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body, &body); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"regulation": "gdpr", "subject_request_id": id, "subject_request_type": tc.want,
				"submitted_time": "2025-03-03T09:00:00Z", "api_version": "2.0",
				"status_callback_urls": []any{"https://dsar.example/api/v1/opendsr/callback/task-1?token=t"},
				"subject_identities": []any{
					map[string]any{"identity_type": "email", "identity_value": "kari@example.no", "identity_format": "raw"},
					map[string]any{"identity_type": "controller_customer_id", "identity_value": "C-77", "identity_format": "raw"}}}
			if g, w := mustJSON(t, body), mustJSON(t, want); g != w {
				t.Errorf("body\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRequestIDIsAStableUUIDv4 checks the layout of the derived ID.
func TestRequestIDIsAStableUUIDv4(t *testing.T) {
	a, b := dsar.OpenDSRRequestID("task-1"), dsar.OpenDSRRequestID("task-2")
	if a != dsar.OpenDSRRequestID("task-1") || a == b {
		t.Fatalf("ids %s %s", a, b)
	}
	if len(a) != 36 || a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) || strings.Count(a, "-") != 4 {
		t.Errorf("%s is not in the UUID v4 layout", a)
	}
}

// TestNoCallbackURLWithoutACertificate: callbacks that cannot be verified
// are not asked for; the task is polled.
func TestNoCallbackURLWithoutACertificate(t *testing.T) {
	conn, p, cfg, _ := setup(t)
	cfg.Certificate = ""
	o := order(cfg, dsar.ActionErase, dsar.TypeErasure)
	if out := conn.Do(context.Background(), o); out.Kind != dsar.OutcomeAccepted {
		t.Fatalf("outcome %+v", out)
	}
	rec, _ := p.Request(dsar.OpenDSRRequestID(o.IdempotencyKey()))
	if len(rec.Callbacks) != 0 {
		t.Errorf("callbacks %v sent without a certificate to verify them", rec.Callbacks)
	}
}

// sink is a controller's callback endpoint on loopback that takes the
// callbacks whose signature verifies against the certificate (204), and
// refuses others (403).
func sink(t *testing.T, certPath string) string {
	t.Helper()
	cert, err := dsar.LoadOpenDSRCertificate(certPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if dsar.VerifyOpenDSR(cert, r.Header.Get(dsar.HeaderOpenDSRDomain), r.Header.Get(dsar.HeaderOpenDSRSignature), body) != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/callback"
}

// TestPollFollowsTheRequest polls a request through its statuses; the
// processor's callbacks verify against its certificate.
func TestPollFollowsTheRequest(t *testing.T) {
	ctx := context.Background()
	conn, p, cfg, clock := setup(t)
	o := order(cfg, dsar.ActionExport, dsar.TypeAccess)
	o.OpenDSRCallbackURL = sink(t, cfg.Certificate)
	id := dsar.OpenDSRRequestID(o.IdempotencyKey())
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeAccepted {
		t.Fatalf("send: %+v", out)
	}
	o.Step = dsar.StepPoll
	out := conn.Do(ctx, o)
	if out.Kind != dsar.OutcomeAccepted || out.ExpectedBy == nil || out.PollAfter != opendsr.MaxPoll ||
		out.Answer != "status: OpenDSR pending, expected by 2025-03-08T09:00:00Z" {
		t.Fatalf("pending: %+v", out)
	}
	clock.Advance(71*time.Hour + 55*time.Minute)
	if codes, err := p.Move(id, dsar.OpenDSRInProgress, 0, ""); err != nil || len(codes) != 1 || codes[0] != http.StatusNoContent {
		t.Fatalf("callback: %v %v", codes, err)
	}
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeAccepted || out.PollAfter != opendsr.MinPoll {
		t.Fatalf("in progress near its expected time: %+v", out)
	}
	if _, err := p.Move(id, dsar.OpenDSRCompleted, 103, p.ResultsURL(id)); err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o.Blobs, o.Task.RequestID, o.Task.Categories = blobs, "case-1", []string{"usage"}
	out = conn.Do(ctx, o)
	if out.Kind != dsar.OutcomeDone || out.Count != 103 || out.External != p.ResultsURL(id) ||
		out.Answer != "status: OpenDSR completed (103 results), 103 records stored" {
		t.Fatalf("completed: %+v", out)
	}
	got, err := connectortest.ReadExport(ctx, blobs, "case-1", "task-1")
	if err != nil || len(got) != 103 || got[102].Category != "usage" || string(got[102].Record) != fmt.Sprintf(`{"n":103,"request":%q}`, id) {
		t.Fatalf("the results stored: %d records, %v", len(got), err)
	}
	if _, err := p.Move(id, dsar.OpenDSRCancelled, 0, ""); err != nil {
		t.Fatal(err)
	}
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeFailed || out.Answer != "status: OpenDSR cancelled by the processor" {
		t.Fatalf("cancelled: %+v", out)
	}
}

// TestPollTrustsOnlyTheProcessorsSignature: a status signed with another
// key keeps the task waiting; a request the processor does not know fails.
func TestPollTrustsOnlyTheProcessorsSignature(t *testing.T) {
	ctx := context.Background()
	conn, p, cfg, clock := setup(t)
	o := order(cfg, dsar.ActionErase, dsar.TypeErasure)
	o.OpenDSRCallbackURL = ""
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeAccepted {
		t.Fatalf("send: %+v", out)
	}
	if _, err := p.Move(dsar.OpenDSRRequestID(o.IdempotencyKey()), dsar.OpenDSRCompleted, 1, ""); err != nil {
		t.Fatal(err)
	}
	other, err := opendsrtest.New(clock)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Certificate, err = other.WriteCertificate(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	o.Step = dsar.StepPoll
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeAccepted || out.PollAfter != opendsr.PollInterval ||
		!strings.Contains(out.Answer, "does not verify") {
		t.Fatalf("a status signed by another key: %+v", out)
	}
	o.Task.ID = "task-unknown"
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeFailed || out.Answer != "status: HTTP 404: no such request" {
		t.Fatalf("an unknown request: %+v", out)
	}
}

// TestCancelWhilePending cancels a pending request with DELETE; the
// processor refuses to cancel a request that is no longer pending.
func TestCancelWhilePending(t *testing.T) {
	ctx := context.Background()
	conn, p, cfg, _ := setup(t)
	o := order(cfg, dsar.ActionErase, dsar.TypeErasure)
	id := dsar.OpenDSRRequestID(o.IdempotencyKey())
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeAccepted {
		t.Fatalf("send: %+v", out)
	}
	o.Step = dsar.StepCancel
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeDone || out.Answer != "cancel: HTTP 202" {
		t.Fatalf("cancel: %+v", out)
	}
	if rec, _ := p.Request(id); rec.Status != dsar.OpenDSRCancelled || rec.Deletes != 1 {
		t.Fatalf("the processor's request: %+v", rec)
	}
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeFailed || !strings.HasPrefix(out.Answer, "cancel: HTTP 400") {
		t.Fatalf("cancel again: %+v", out)
	}
}

// TestOtherActionsFailAtOnce: OpenDSR has no request for other actions,
// and nothing is sent.
func TestOtherActionsFailAtOnce(t *testing.T) {
	conn, p, cfg, _ := setup(t)
	for _, a := range []dsar.TaskAction{dsar.ActionRectify, dsar.ActionRestrict, dsar.ActionStopProcessing, dsar.ActionSuppressMarketing,
		dsar.ActionWithdrawConsent, dsar.ActionNotifyRecipient} {
		out := conn.Do(context.Background(), order(cfg, a, dsar.TypeRectification))
		if out.Kind != dsar.OutcomeFailed || !strings.Contains(out.Answer, "OpenDSR has no request for the action "+string(a)) {
			t.Errorf("%s: %+v", a, out)
		}
	}
	if p.Len() != 0 {
		t.Errorf("the processor got %d requests", p.Len())
	}
}

// TestProcessorAnswers maps the processor's other answers to a send.
func TestProcessorAnswers(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		refuse int
		want   dsar.OutcomeKind
		answer string
	}{
		{http.StatusBadRequest, dsar.OutcomeFailed, "HTTP 400: refused by the test"},
		{http.StatusServiceUnavailable, dsar.OutcomeRetry, "HTTP 503: refused by the test"},
		{http.StatusTooManyRequests, dsar.OutcomeRetry, "HTTP 429: refused by the test"},
		{http.StatusConflict, dsar.OutcomeAccepted, "HTTP 409: the processor has request"},
	} {
		conn, p, cfg, _ := setup(t)
		p.Refuse = tc.refuse
		if out := conn.Do(ctx, order(cfg, dsar.ActionErase, dsar.TypeErasure)); out.Kind != tc.want || !strings.HasPrefix(out.Answer, tc.answer) {
			t.Errorf("HTTP %d: %+v", tc.refuse, out)
		}
	}
	conn, _, cfg, _ := setup(t)
	os.Unsetenv(tokenEnv)
	if out := conn.Do(ctx, order(cfg, dsar.ActionErase, dsar.TypeErasure)); out.Kind != dsar.OutcomeRetry ||
		!strings.Contains(out.Answer, "env:"+tokenEnv) {
		t.Errorf("no token: %+v", out)
	}
	t.Setenv(tokenEnv, "wrong")
	if out := conn.Do(ctx, order(cfg, dsar.ActionErase, dsar.TypeErasure)); out.Kind != dsar.OutcomeFailed ||
		out.Answer != "HTTP 401: a bearer token is required" {
		t.Errorf("a wrong token: %+v", out)
	}
	cfg.URL = "http://127.0.0.1:1"
	if out := conn.Do(ctx, order(cfg, dsar.ActionErase, dsar.TypeErasure)); out.Kind != dsar.OutcomeRetry ||
		out.Answer != "no answer: connection refused" {
		t.Errorf("no processor: %+v", out)
	}
}

// TestSignaturesAgreeWithOpenSSL checks our signature verification against
// an independent implementation, both ways: openssl signs and we verify;
// the fake processor signs and openssl verifies.
func TestSignaturesAgreeWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	p, err := opendsrtest.New(dsar.NewManualClock(start))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, err := p.WriteCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, bodyPath, sigPath, pubPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "body.json"),
		filepath.Join(dir, "body.sig"), filepath.Join(dir, "pub.pem")
	body := []byte(`{"controller_id":"c","request_status":"completed","subject_request_id":"a7551968-d5d6-44b2-9831-815ac9017798"}`)
	for path, data := range map[string][]byte{keyPath: p.KeyPEM(), bodyPath: body} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	cert, err := dsar.LoadOpenDSRCertificate(certPath)
	if err != nil {
		t.Fatal(err)
	}
	// openssl signs, we verify.
	run("dgst", "-sha256", "-sign", keyPath, "-out", sigPath, bodyPath)
	raw, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	b64 := strings.TrimSpace(string(run("base64", "-in", sigPath))) // wrapped at 64 columns, as the spec's examples are
	if err := dsar.VerifyOpenDSR(cert, opendsrtest.Domain, b64, body); err != nil {
		t.Fatalf("openssl's signature does not verify: %v", err)
	}
	if err := dsar.VerifyOpenDSR(cert, opendsrtest.Domain, b64, append(body, ' ')); err == nil {
		t.Fatal("openssl's signature verifies another body")
	}
	if err := dsar.VerifyOpenDSR(cert, "other.example", b64, body); err != dsar.ErrOpenDSRDomain {
		t.Fatalf("another domain: %v", err)
	}
	// We sign, openssl verifies.
	sig := p.Sign(body)
	if sig == "" || len(raw) == 0 {
		t.Fatal("no signature")
	}
	if err := os.WriteFile(sigPath+".b64", []byte(sig+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run("base64", "-d", "-A", "-in", sigPath+".b64", "-out", sigPath)
	run("x509", "-in", certPath, "-pubkey", "-noout", "-out", pubPath)
	if out := run("dgst", "-sha256", "-verify", pubPath, "-signature", sigPath, bodyPath); !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl: %s", out)
	}
}

// TestDiscoveryGivesTheCertificate: the fake processor describes itself as
// the specification says, and its processor_certificate is the one that
// verifies its signatures (what an operator downloads for certificate).
func TestDiscoveryGivesTheCertificate(t *testing.T) {
	_, p, cfg, _ := setup(t)
	resp, err := http.Get(strings.TrimSuffix(cfg.URL, "/") + "/discovery")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		APIVersion           string   `json:"api_version"`
		Types                []string `json:"supported_subject_request_types"`
		ProcessorCertificate string   `json:"processor_certificate"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d.APIVersion != "2.0" || len(d.Types) != 3 {
		t.Fatalf("discovery %+v, %v", d, err)
	}
	cr, err := http.Get(d.ProcessorCertificate)
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Body.Close()
	pemData, _ := io.ReadAll(cr.Body)
	cert, err := dsar.ParseOpenDSRCertificate(pemData)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"request_status":"pending"}`)
	if err := dsar.VerifyOpenDSR(cert, opendsrtest.Domain, p.Sign(body), body); err != nil {
		t.Errorf("the discovered certificate does not verify the processor's signature: %v", err)
	}
	if _, err := dsar.ParseOpenDSRCertificate([]byte("not PEM")); err == nil {
		t.Error("not PEM parsed")
	}
}

// TestResultsThatCannotBeUsedStoreNothing: results on another host over
// plain http, in a format that is none of JSON, JSON Lines or CSV, or gone,
// are a failed attempt that stores nothing; a worker without storage too.
func TestResultsThatCannotBeUsedStoreNothing(t *testing.T) {
	ctx := context.Background()
	conn, p, cfg, _ := setup(t)
	o := order(cfg, dsar.ActionExport, dsar.TypeAccess)
	o.OpenDSRCallbackURL = sink(t, cfg.Certificate)
	id := dsar.OpenDSRRequestID(o.IdempotencyKey())
	if out := conn.Do(ctx, o); out.Kind != dsar.OutcomeAccepted {
		t.Fatalf("send: %+v", out)
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("the processor's token went to another host")
		}
		_, _ = io.WriteString(w, "[]")
	}))
	defer other.Close()
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o.Step, o.Task.RequestID = dsar.StepPoll, "case-1"
	base := strings.TrimSuffix(cfg.URL, "/")
	for _, tc := range []struct {
		url, answer string
		noBlobs     bool
	}{
		{other.URL + "/results.json", "results_url must be https or on the processor's own host", false},
		{base + "/cert.pem", `HTTP 200: "application/x-pem-file" is not JSON, JSON Lines or CSV`, false},
		{base + "/results/unknown", "HTTP 404", false},
		{p.ResultsURL(id), "this worker has no storage for collected exports", true},
	} {
		if _, err := p.Move(id, dsar.OpenDSRCompleted, 3, tc.url); err != nil {
			t.Fatal(err)
		}
		o.Blobs = blobs
		if tc.noBlobs {
			o.Blobs = nil
		}
		out := conn.Do(ctx, o)
		if out.Kind != dsar.OutcomeRetry || !strings.Contains(out.Answer, "the results cannot be used: "+tc.answer) {
			t.Errorf("%s: %+v", tc.url, out)
		}
		if _, err := blobs.Open(ctx, dsar.ExportBlobKey("case-1", "task-1")); dsar.ErrorCode(err) != dsar.ENOTFOUND {
			t.Errorf("%s: something was stored: %v", tc.url, err)
		}
	}
}
