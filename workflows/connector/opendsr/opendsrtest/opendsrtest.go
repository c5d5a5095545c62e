// Package opendsrtest is a fake OpenDSR 2.0 processor for tests
// (docs/connectors.md, "OpenDSR connector"): a real HTTP server handler
// with its own RSA key and a self-signed certificate made at start, that
// answers GET /discovery (and its certificate at GET /cert.pem), POST /requests (each subject_request_id applied
// once), GET /requests/{id} signed like a callback, and DELETE
// /requests/{id} while the request is pending; a test moves a request on
// (Move), and the processor calls every status_callback_url with a signed
// callback. It is safe for concurrent use.
package opendsrtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/dsar-project/dsar"
)

// Domain is the processor's domain: the name of its certificate and its
// X-OpenDSR-Processor-Domain.
const Domain = "processor.opendsr.test"

// ControllerID is the controller's ID at the processor.
const ControllerID = "dsar-test-controller"

// ExpectedAfter is how long after a request the processor expects to
// complete it.
const ExpectedAfter = 72 * time.Hour

// maxBody bounds a call's body.
const maxBody = 1 << 20

// Received is a request the processor holds, and where it stands.
type Received struct {
	Body       []byte // the first body posted with its ID
	Type       string // subject_request_type
	Identities []map[string]string
	Callbacks  []string
	Status     string
	Expected   time.Time
	ResultsURL string
	Count      int
	// Posts counts the POSTs with the ID; Deletes the accepted DELETEs.
	Posts, Deletes int
}

// Processor is the fake processor.
type Processor struct {
	// Token is the bearer token the processor wants; "" takes any call.
	Token string
	// Refuse, when not 0, is the status every POST /requests answers with.
	Refuse int

	clock  dsar.Clock
	signer *dsar.OpenDSRSigner
	keyPEM []byte
	base   string // the processor's URL, for the certificate's address in discovery

	client *http.Client
	mux    *http.ServeMux
	mu     sync.Mutex
	reqs   map[string]*Received
}

// NewCertificate returns a new RSA key (PEM, PKCS #8) and a self-signed
// certificate for the domain (PEM), valid from an hour before now for a
// year: a processor's, for tests.
func NewCertificate(now time.Time, domain string) (certPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: domain, Organization: []string{"Test processor"}},
		DNSNames: []string{domain}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
}

// New returns a processor with a new RSA key and a self-signed certificate
// for Domain; clock dates its answers.
func New(clock dsar.Clock) (*Processor, error) {
	certPEM, keyPEM, err := NewCertificate(clock.Now(), Domain)
	if err != nil {
		return nil, err
	}
	signer, err := dsar.ParseOpenDSRSigner(certPEM, keyPEM, Domain)
	if err != nil {
		return nil, err
	}
	p := &Processor{clock: clock, signer: signer, keyPEM: keyPEM, client: &http.Client{Timeout: 10 * time.Second}, mux: http.NewServeMux(),
		reqs: map[string]*Received{}}
	p.mux.HandleFunc("GET /discovery", p.discovery)
	p.mux.HandleFunc("GET /cert.pem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(p.CertificatePEM())
	})
	p.mux.HandleFunc("POST /requests", p.create)
	p.mux.HandleFunc("GET /requests/{id}", p.status)
	p.mux.HandleFunc("DELETE /requests/{id}", p.cancel)
	p.mux.HandleFunc("GET /results/{id}", p.results)
	return p, nil
}

// ResultsURL returns where the processor serves the results of the
// request with the ID (after SetURL): JSON Lines of its count of records,
// {"n":1,"request":"<id>"} and so on.
func (p *Processor) ResultsURL(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.base + "/results/" + id
}

// results serves a completed request's results.
func (p *Processor) results(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p.mu.Lock()
	rec, ok := p.reqs[id]
	n := 0
	if ok {
		n = rec.Count
	}
	p.mu.Unlock()
	if !ok || rec.Status != dsar.OpenDSRCompleted {
		writeError(w, http.StatusNotFound, "no results")
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for i := range n {
		_ = enc.Encode(map[string]any{"n": i + 1, "request": id})
	}
}

// SetURL tells the processor its own URL (for discovery's certificate address).
func (p *Processor) SetURL(u string) { p.mu.Lock(); p.base = u; p.mu.Unlock() }

// CertificatePEM returns the processor's certificate in PEM.
func (p *Processor) CertificatePEM() []byte { return p.signer.CertificatePEM() }

// KeyPEM returns the processor's private key in PEM (PKCS #8), for a test
// that signs with another implementation.
func (p *Processor) KeyPEM() []byte { return p.keyPEM }

// WriteCertificate writes the certificate's PEM to a file in dir and
// returns its path: the connector's certificate setting.
func (p *Processor) WriteCertificate(dir string) (string, error) {
	path := filepath.Join(dir, "processor.pem")
	return path, os.WriteFile(path, p.CertificatePEM(), 0o600)
}

// Sign returns the X-OpenDSR-Signature of a body: the base64 of its
// RSA PKCS #1 v1.5 signature over SHA-256 (dsar.OpenDSRSigner).
func (p *Processor) Sign(body []byte) string {
	sig, err := p.signer.Sign(body)
	if err != nil {
		panic(err) // a 2048-bit RSA key signs a SHA-256 digest
	}
	return sig
}

// Request returns a copy of the request with the ID, and whether it is held.
func (p *Processor) Request(id string) (Received, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.reqs[id]
	if !ok {
		return Received{}, false
	}
	return *r, true
}

// Len returns how many requests the processor holds.
func (p *Processor) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.reqs)
}

// ServeHTTP answers the OpenDSR endpoints at the root (http.StripPrefix
// serves them below a version path).
func (p *Processor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.Token != "" && r.Header.Get("Authorization") != "Bearer "+p.Token && r.URL.Path != "/discovery" && r.URL.Path != "/cert.pem" {
		writeError(w, http.StatusUnauthorized, "a bearer token is required")
		return
	}
	p.mux.ServeHTTP(w, r)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

// writeSigned answers with a body signed like a callback.
func (p *Processor) writeSigned(w http.ResponseWriter, code int, v any) {
	body, _ := json.Marshal(v) // maps of strings and numbers always marshal
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(dsar.HeaderOpenDSRDomain, Domain)
	w.Header().Set(dsar.HeaderOpenDSRSignature, p.Sign(body))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (p *Processor) discovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	base := p.base
	p.mu.Unlock()
	p.writeSigned(w, http.StatusOK, map[string]any{"api_version": "2.0",
		"supported_identities":            []map[string]string{{"identity_type": "email", "identity_format": "raw"}, {"identity_type": "controller_customer_id", "identity_format": "raw"}},
		"supported_subject_request_types": []string{"access", "portability", "erasure"},
		"processor_certificate":           base + "/cert.pem"})
}

// create takes a request; a repeated ID answers as the first time did.
func (p *Processor) create(w http.ResponseWriter, r *http.Request) {
	if p.Refuse != 0 {
		writeError(w, p.Refuse, "refused by the test")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "unreadable body")
		return
	}
	var in struct {
		Regulation         string              `json:"regulation"`
		SubjectRequestID   string              `json:"subject_request_id"`
		SubjectRequestType string              `json:"subject_request_type"`
		SubmittedTime      string              `json:"submitted_time"`
		SubjectIdentities  []map[string]string `json:"subject_identities"`
		StatusCallbackURLs []string            `json:"status_callback_urls"`
	}
	switch {
	case json.Unmarshal(body, &in) != nil:
		writeError(w, http.StatusBadRequest, "the body is not JSON")
		return
	case in.SubjectRequestID == "" || !slices.Contains([]string{"access", "portability", "erasure"}, in.SubjectRequestType) ||
		len(in.SubjectIdentities) == 0 || (in.Regulation != "gdpr" && in.Regulation != "ccpa"):
		writeError(w, http.StatusBadRequest, "subject_request_id, subject_request_type, subject_identities and regulation are required")
		return
	}
	if _, err := time.Parse(time.RFC3339, in.SubmittedTime); err != nil {
		writeError(w, http.StatusBadRequest, "submitted_time must be RFC 3339")
		return
	}
	now := p.clock.Now().UTC()
	p.mu.Lock()
	rec, ok := p.reqs[in.SubjectRequestID]
	if !ok {
		rec = &Received{Body: body, Type: in.SubjectRequestType, Identities: in.SubjectIdentities, Callbacks: in.StatusCallbackURLs,
			Status: dsar.OpenDSRPending, Expected: now.Add(ExpectedAfter)}
		p.reqs[in.SubjectRequestID] = rec
	}
	rec.Posts++
	expected := rec.Expected
	p.mu.Unlock()
	p.writeSigned(w, http.StatusCreated, map[string]any{"controller_id": ControllerID,
		"expected_completion_time": expected.Format(time.RFC3339), "received_time": now.Format(time.RFC3339),
		"encoded_request": base64.StdEncoding.EncodeToString(body), "subject_request_id": in.SubjectRequestID})
}

// statusBody is the status of a request, for GET and for callbacks.
func statusBody(id string, rec *Received) map[string]any {
	m := map[string]any{"controller_id": ControllerID, "expected_completion_time": rec.Expected.Format(time.RFC3339),
		"subject_request_id": id, "request_status": rec.Status, "api_version": "2.0"}
	if rec.Status == dsar.OpenDSRCompleted {
		m["results_count"] = rec.Count
		if rec.ResultsURL != "" {
			m["results_url"] = rec.ResultsURL
		}
	}
	return m
}

func (p *Processor) status(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p.mu.Lock()
	rec, ok := p.reqs[id]
	var m map[string]any
	if ok {
		m = statusBody(id, rec)
	}
	p.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "no such request")
		return
	}
	p.writeSigned(w, http.StatusOK, m)
}

// cancel cancels a pending request (202); any other is 400.
func (p *Processor) cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	now := p.clock.Now().UTC()
	p.mu.Lock()
	rec, ok := p.reqs[id]
	pending := ok && rec.Status == dsar.OpenDSRPending
	if pending {
		rec.Status = dsar.OpenDSRCancelled
		rec.Deletes++
	}
	p.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "no such request")
	case !pending:
		writeError(w, http.StatusBadRequest, "only a pending request can be cancelled")
	default:
		p.writeSigned(w, http.StatusAccepted, map[string]any{"controller_id": ControllerID, "subject_request_id": id,
			"received_time": now.Format(time.RFC3339), "api_version": "2.0"})
	}
}

// Update sets the status of the request with the ID (and, completed, its
// results count and URL) without calling back: a processor whose callback
// was lost, found by polling.
func (p *Processor) Update(id, status string, count int, resultsURL string) error {
	_, _, err := p.update(id, status, count, resultsURL)
	return err
}

func (p *Processor) update(id, status string, count int, resultsURL string) ([]string, map[string]any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, ok := p.reqs[id]
	if !ok {
		return nil, nil, fmt.Errorf("opendsrtest: no request %s", id)
	}
	rec.Status, rec.Count, rec.ResultsURL = status, count, resultsURL
	return slices.Clone(rec.Callbacks), statusBody(id, rec), nil
}

// Move sets the status of the request with the ID (and, completed, its
// results count and URL), then calls each of its status_callback_urls with
// a signed callback, and returns their answers' status codes.
func (p *Processor) Move(id, status string, count int, resultsURL string) ([]int, error) {
	callbacks, m, err := p.update(id, status, count, resultsURL)
	if err != nil {
		return nil, err
	}
	var codes []int
	for _, u := range callbacks {
		m["status_callback_url"] = u
		body, _ := json.Marshal(m) // strings and numbers always marshal
		code, err := p.Post(u, body, p.Sign(body))
		if err != nil {
			return codes, err
		}
		codes = append(codes, code)
	}
	return codes, nil
}

// Post posts a callback body with the signature to the URL, and returns
// the answer's status code.
func (p *Processor) Post(u string, body []byte, signature string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(dsar.HeaderOpenDSRDomain, Domain)
	req.Header.Set(dsar.HeaderOpenDSRSignature, signature)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
