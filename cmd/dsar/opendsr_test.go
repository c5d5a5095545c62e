package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/opendsr"
	"github.com/dsar-project/dsar/workflows/connector/opendsr/opendsrtest"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// openDSRDomain is the processor domain of the service under test.
const openDSRDomain = "dsar.opendsr.test"

// openDSRClient is a test OpenDSR client: it calls the service as a
// controller calls a processor and checks every signature itself, with
// crypto/x509 and rsa.VerifyPKCS1v15, against the certificate the
// discovery document names (not with the service's own VerifyOpenDSR).
type openDSRClient struct {
	base string
	cert *x509.Certificate
}

// answer is an answer to the client.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (c *openDSRClient) do(t *testing.T, method, path, key string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// verify checks a signed message: the domain header and the RSA-SHA256
// signature of the exact body with the certificate's key.
func (c *openDSRClient) verify(t *testing.T, what string, h http.Header, body []byte) {
	t.Helper()
	if d := h.Get("X-OpenDSR-Processor-Domain"); d != openDSRDomain || c.cert.VerifyHostname(d) != nil {
		t.Errorf("%s: X-OpenDSR-Processor-Domain %q", what, d)
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get("X-OpenDSR-Signature"))
	if err != nil {
		t.Errorf("%s: X-OpenDSR-Signature is not base64: %v", what, err)
		return
	}
	sum := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(c.cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("%s: the signature does not verify against the served certificate: %v", what, err)
	}
}

// openDSRError checks an OpenDSR error answer (section 7.5) and returns
// its message.
func openDSRError(t *testing.T, a answer, status int) string {
	t.Helper()
	var e dsar.OpenDSRErrorResponse
	if a.status != status || json.Unmarshal(a.body, &e) != nil || e.Error.Code != status || e.Error.Message == "" {
		t.Errorf("want an OpenDSR error %d, got %d %s", status, a.status, a.body)
	}
	return e.Error.Message
}

// callback is a status callback the receiver got.
type callback struct {
	header http.Header
	body   []byte
}

// TestOpenDSRIntakeRoundTrip runs the service with an OpenDSR certificate
// and a callback receiver on loopback: a client reads discovery and the
// certificate it names, posts a request (twice: one case), reads its
// status, the case is verified and completed by an officer, and the
// receiver gets a callback for each change, every one signed; a second
// request is cancelled. Bad requests get OpenDSR errors and make no case;
// an unknown ID is 404. Then the service's own OpenDSR connector, a client
// that knows nothing of the intake, sends, polls and cancels a request.
func TestOpenDSRIntakeRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	certPEM, keyPEM, err := opendsrtest.NewCertificate(time.Now(), openDSRDomain)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	callbacks := make(chan callback, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		callbacks <- callback{header: r.Header.Clone(), body: b}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	e := migratedEnv(t)
	catcher := mailtest.Start(t)
	e["DSAR_SMTP_URL"] = catcher.URL()
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	e["DSAR_OPENDSR_CERTIFICATE"], e["DSAR_OPENDSR_KEY"], e["DSAR_OPENDSR_DOMAIN"] = certFile, keyFile, openDSRDomain
	e["DSAR_WEBHOOK_ALLOW_PRIVATE"] = "true" // the receiver is on loopback
	svc := start(t, e)
	newKey := func(args ...string) string {
		code, out, stderr := run(t, e, append([]string{"apikey", "create"}, args...)...)
		if code != 0 {
			t.Fatalf("apikey create: %s", stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	clientKey := newKey("--name", "opendsr client", "--role", "system", "--controller", "nte", "--scopes", "requests:create,requests:read")
	readOnly := newKey("--name", "reader", "--role", "system", "--controller", "nte", "--scopes", "requests:read")
	officer := newKey("--name", "officer", "--role", "officer", "--controller", "nte")

	// Discovery names the certificate; the client takes it from there.
	c := &openDSRClient{base: svc.url}
	a := c.do(t, "GET", "/opendsr/v2/discovery", "", nil)
	var disc dsar.OpenDSRDiscovery
	if a.status != 200 || json.Unmarshal(a.body, &disc) != nil || disc.APIVersion != "2.0" ||
		strings.Join(disc.SupportedSubjectRequestTypes, " ") != "access portability erasure" || len(disc.SupportedIdentities) != 2 ||
		disc.ProcessorCertificate != svc.url+"/opendsr/v2/cert.pem" {
		t.Fatalf("discovery: %d %s", a.status, a.body)
	}
	resp, err := http.Get(disc.ProcessorCertificate)
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	block, _ := pem.Decode(served)
	if block == nil {
		t.Fatalf("the certificate: %s", served)
	}
	if c.cert, err = x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	c.verify(t, "discovery", a.header, a.body)

	// A request, posted twice: one case.
	id := "a7551968-d5d6-44b2-9831-815ac9017798"
	body := []byte(`{"regulation":"gdpr","subject_request_id":"` + id + `","subject_request_type":"erasure",
		"submitted_time":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `",
		"subject_identities":[{"identity_type":"email","identity_value":"opendsr.kari@example.no","identity_format":"raw"}],
		"api_version":"2.0","status_callback_urls":["` + receiver.URL + `/opendsr/callbacks"],
		"extensions":{"other-processor.example":{"x":1}}}`)
	first := c.do(t, "POST", "/opendsr/v2/requests", clientKey, body)
	if first.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", first.status, first.body)
	}
	c.verify(t, "POST", first.header, first.body)
	var created dsar.OpenDSRResponse
	if err := json.Unmarshal(first.body, &created); err != nil || created.SubjectRequestID != id || created.ControllerID != "nte" ||
		created.ExpectedCompletionTime == "" || created.ReceivedTime == "" {
		t.Errorf("POST answer %s", first.body)
	}
	if enc, _ := base64.StdEncoding.DecodeString(created.EncodedRequest); !bytes.Equal(enc, body) {
		t.Errorf("encoded_request is not the request's body")
	}
	again := c.do(t, "POST", "/opendsr/v2/requests", clientKey, body)
	var second dsar.OpenDSRResponse
	if again.status != http.StatusCreated || json.Unmarshal(again.body, &second) != nil || second.ReceivedTime != created.ReceivedTime {
		t.Errorf("the same ID again: %d %s", again.status, again.body)
	}
	cases := func(email string) []map[string]any {
		req, _ := http.NewRequest("GET", svc.url+"/api/v1/requests?search="+email, nil)
		req.Header.Set("Authorization", "Bearer "+officer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct {
			Data []map[string]any `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		return page.Data
	}
	found := cases("opendsr.kari@example.no")
	if len(found) != 1 || found[0]["type"] != "erasure" || found[0]["status"] != "awaiting_verification" || found[0]["channel"] != "api" {
		t.Fatalf("cases of the subject: %v", found)
	}
	caseID := found[0]["id"].(string)

	status := func(id string) dsar.OpenDSRStatus {
		t.Helper()
		a := c.do(t, "GET", "/opendsr/v2/requests/"+id, clientKey, nil)
		if a.status != 200 {
			t.Fatalf("GET: %d %s", a.status, a.body)
		}
		c.verify(t, "GET", a.header, a.body)
		var s dsar.OpenDSRStatus
		if err := json.Unmarshal(a.body, &s); err != nil || s.SubjectRequestID != id || s.ControllerID != "nte" || s.APIVersion != "2.0" {
			t.Errorf("status %s", a.body)
		}
		return s
	}
	if s := status(id); s.RequestStatus != "pending" || s.ExpectedCompletionTime != created.ExpectedCompletionTime {
		t.Errorf("status after POST: %+v", s)
	}
	// The status of the subject's request asks nothing of it: only the
	// client that may read gets it.
	openDSRError(t, c.do(t, "GET", "/opendsr/v2/requests/"+id, "", nil), http.StatusUnauthorized)

	// The officer works the case; each change calls back.
	wait := func(want string) {
		t.Helper()
		select {
		case cb := <-callbacks:
			c.verify(t, "callback "+want, cb.header, cb.body)
			var s dsar.OpenDSRStatus
			if err := json.Unmarshal(cb.body, &s); err != nil || s.RequestStatus != want || s.SubjectRequestID != id ||
				s.StatusCallbackURL != receiver.URL+"/opendsr/callbacks" || s.ControllerID != "nte" || s.ExpectedCompletionTime == "" {
				t.Errorf("callback %s: %s", want, cb.body)
			}
			if strings.Contains(string(cb.body), "kari") {
				t.Errorf("the callback holds the subject's address: %s", cb.body)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s callback", want)
		}
	}
	officerPost := func(path string, v any) {
		t.Helper()
		if resp, out := post(t, svc.url+path, officer, v); resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
	}
	officerPost("/api/v1/requests/"+caseID+"/verify", map[string]any{"method": "BankID"})
	wait("in_progress")
	officerPost("/api/v1/requests/"+caseID+"/complete", map[string]any{"summary": "Erased in every system."})
	wait("completed")
	if s := status(id); s.RequestStatus != "completed" {
		t.Errorf("status after completion: %+v", s)
	}
	// A completed request cannot be cancelled.
	openDSRError(t, c.do(t, "DELETE", "/opendsr/v2/requests/"+id, clientKey, nil), http.StatusBadRequest)

	// Another request is cancelled: its case is withdrawn.
	id2 := "5b0a3c1e-8f2d-4c6b-9a7e-1d2c3b4a5f60"
	body2 := bytes.Replace(body, []byte(id), []byte(id2), 1)
	body2 = bytes.Replace(body2, []byte("opendsr.kari@"), []byte("opendsr.ola@"), 1)
	if a := c.do(t, "POST", "/opendsr/v2/requests", clientKey, body2); a.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", a.status, a.body)
	}
	// The client that may only read may not cancel.
	openDSRError(t, c.do(t, "DELETE", "/opendsr/v2/requests/"+id2, readOnly, nil), http.StatusForbidden)
	a = c.do(t, "DELETE", "/opendsr/v2/requests/"+id2, clientKey, nil)
	if a.status != http.StatusAccepted {
		t.Fatalf("DELETE: %d %s", a.status, a.body)
	}
	c.verify(t, "DELETE", a.header, a.body)
	var cancelled dsar.OpenDSRCancellation
	if err := json.Unmarshal(a.body, &cancelled); err != nil || cancelled.SubjectRequestID != id2 || cancelled.ControllerID != "nte" || cancelled.ReceivedTime == "" {
		t.Errorf("DELETE answer %s", a.body)
	}
	select {
	case cb := <-callbacks:
		c.verify(t, "callback cancelled", cb.header, cb.body)
		if !strings.Contains(string(cb.body), `"request_status":"cancelled"`) || !strings.Contains(string(cb.body), id2) {
			t.Errorf("callback %s", cb.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no cancelled callback")
	}
	if s := status(id2); s.RequestStatus != "cancelled" {
		t.Errorf("status after DELETE: %+v", s)
	}
	if found := cases("opendsr.ola@example.no"); len(found) != 1 || found[0]["status"] != "withdrawn" {
		t.Errorf("the cancelled case: %v", found)
	}

	// Bad requests are OpenDSR errors, in the caller's language, and make
	// no case; an unknown ID is 404.
	for _, bad := range []string{
		`{`,
		`{"regulation":"gdpr","subject_request_id":"not-a-uuid","subject_request_type":"rectification","submitted_time":"yesterday","subject_identities":[{"identity_type":"email","identity_value":"opendsr.bad@example.no","identity_format":"raw"}]}`,
		`{"regulation":"gdpr","subject_request_id":"0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a","subject_request_type":"access","submitted_time":"2020-01-01T00:00:00Z","subject_identities":[{"identity_type":"email","identity_value":"opendsr.bad@example.no","identity_format":"sha256"}]}`,
		`{"regulation":"gdpr","subject_request_id":"0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a","subject_request_type":"access","submitted_time":"2020-01-01T00:00:00Z","subject_identities":[{"identity_type":"email","identity_value":"opendsr.bad@example.no","identity_format":"raw"}],"status_callback_urls":["ftp://x"]}`,
	} {
		msg := openDSRError(t, c.do(t, "POST", "/opendsr/v2/requests", clientKey, []byte(bad)), http.StatusBadRequest)
		if msg == "" {
			t.Errorf("no message for %s", bad)
		}
	}
	if found := cases("opendsr.bad@example.no"); len(found) != 0 {
		t.Errorf("bad requests made cases: %v", found)
	}
	openDSRError(t, c.do(t, "GET", "/opendsr/v2/requests/0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", clientKey, nil), http.StatusNotFound)

	// The service's own OpenDSR connector works against the intake
	// unchanged: it sends a request, polls it (checking the signature with
	// the certificate) and cancels it.
	token := "DSAR_TEST_OPENDSR_INTAKE_TOKEN"
	t.Setenv(token, clientKey)
	conn := opendsr.New(dsar.SystemClock{}, slog.New(slog.DiscardHandler))
	defer conn.Close()
	now := time.Now()
	order := &connector.Order{Step: dsar.StepSend, TaskOrder: &dsar.TaskOrder{
		Task: &dsar.Task{ID: "task-opendsr-1", System: "processor", Action: dsar.ActionErase, Round: 1},
		Request: &dsar.Request{Reference: "NTE-2026-0001", Type: dsar.TypeErasure, Regulation: dsar.RegulationGDPR, ReceivedAt: now.Add(-time.Hour),
			Deadline: now.AddDate(0, 1, 0), Subject: dsar.Subject{Email: "opendsr.connector@example.no", CustomerID: "C-42"}},
		Controller: &dsar.Controller{Key: "nte"},
		Connector: &dsar.Connector{Kind: dsar.ConnectorOpenDSR, OpenDSR: &dsar.OpenDSRConnector{URL: svc.url + "/opendsr/v2",
			Token: dsar.Secret{Env: token}, Certificate: certFile}},
	}}
	if out := conn.Do(ctx, order); out.Kind != dsar.OutcomeAccepted || out.External != dsar.OpenDSRRequestID(order.IdempotencyKey()) || out.ExpectedBy == nil {
		t.Fatalf("the connector's send: %+v", out)
	}
	if out := conn.Do(ctx, order); out.Kind != dsar.OutcomeAccepted {
		t.Errorf("the connector's send again: %+v", out)
	}
	if found := cases("opendsr.connector@example.no"); len(found) != 1 {
		t.Errorf("the connector's request made %d cases", len(found))
	}
	order.Step = dsar.StepPoll
	if out := conn.Do(ctx, order); out.Kind != dsar.OutcomeAccepted || !strings.HasPrefix(out.Answer, "status: OpenDSR pending") {
		t.Errorf("the connector's poll: %+v", out)
	}
	order.Step = dsar.StepCancel
	if out := conn.Do(ctx, order); out.Kind != dsar.OutcomeDone {
		t.Errorf("the connector's cancel: %+v", out)
	}
	if found := cases("opendsr.connector@example.no"); len(found) != 1 || found[0]["status"] != "withdrawn" {
		t.Errorf("the case the connector cancelled: %v", found)
	}
	select {
	case cb := <-callbacks:
		t.Errorf("a callback nobody asked for: %s", cb.body)
	default:
	}
}

// The OpenDSR settings are checked at start: both files or neither, a key
// that is the certificate's, a domain that is one of its names (the host
// of the base URL unless set).
func TestOpenDSRConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPEM, keyPEM, err := opendsrtest.NewCertificate(time.Now(), "dsar.example.no")
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := opendsrtest.NewCertificate(time.Now(), "dsar.example.no")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, other := write("cert.pem", certPEM), write("key.pem", keyPEM), write("other.pem", otherKey)
	cfg, err := LoadConfig(env{"DSAR_BASE_URL": "https://dsar.example.no", "DSAR_OPENDSR_CERTIFICATE": cert, "DSAR_OPENDSR_KEY": key}.get)
	if err != nil || cfg.OpenDSR == nil || cfg.OpenDSR.Domain != "dsar.example.no" {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	if cfg, err := LoadConfig(env{}.get); err != nil {
		t.Errorf("without the files: %v", err)
	} else if cfg.OpenDSR != nil {
		t.Error("without the files, the intake is on")
	}
	for name, tc := range map[string]struct {
		e    env
		want string
	}{
		"certificate only": {env{"DSAR_OPENDSR_CERTIFICATE": cert}, "set both for the OpenDSR intake, or neither"},
		"domain only":      {env{"DSAR_OPENDSR_DOMAIN": "dsar.example.no"}, "DSAR_OPENDSR_DOMAIN: set DSAR_OPENDSR_CERTIFICATE"},
		"another key":      {env{"DSAR_OPENDSR_CERTIFICATE": cert, "DSAR_OPENDSR_KEY": other, "DSAR_OPENDSR_DOMAIN": "dsar.example.no"}, "not the key of the certificate"},
		"another domain":   {env{"DSAR_OPENDSR_CERTIFICATE": cert, "DSAR_OPENDSR_KEY": key}, `the domain "localhost" is not a name of the certificate`},
		"no file":          {env{"DSAR_OPENDSR_CERTIFICATE": filepath.Join(dir, "missing.pem"), "DSAR_OPENDSR_KEY": key}, "no such file"},
	} {
		if _, err := LoadConfig(tc.e.get); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
