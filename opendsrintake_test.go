package dsar

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testOpenDSRRequest is a well-formed OpenDSR request of a client of the
// processor dsar.example.com.
func testOpenDSRRequest() *OpenDSRRequest {
	return &OpenDSRRequest{Regulation: "gdpr", SubjectRequestID: "A7551968-D5D6-44B2-9831-815AC9017798", SubjectRequestType: "portability",
		SubmittedTime: "2025-03-04T10:00:00+01:00", APIVersion: "2.0",
		SubjectIdentities:  []OpenDSRIdentity{{Type: "email", Value: " kari@example.no ", Format: "raw"}, {Type: "controller_customer_id", Value: "C-7", Format: "raw"}},
		StatusCallbackURLs: []string{"https://controller.example/cb", "https://controller.example/cb"},
		Extensions:         map[string]json.RawMessage{"dsar.example.com": json.RawMessage(`{"property_id":"nte"}`), "other.example": json.RawMessage(`{"property_id":"x"}`)}}
}

func TestOpenDSRRequestIntake(t *testing.T) {
	now := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	key := Actor{ID: "apikey:k1", Role: RoleSystem, Controllers: []string{"nte", "digiref"}, Scopes: []Scope{ScopeRequestsCreate}}
	in, intake, err := testOpenDSRRequest().Intake(key, "dsar.example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	want := NewRequest{Type: TypePortability, Controller: "nte", Regulation: RegulationGDPR, Channel: ChannelAPI, ReceivedAt: &received,
		Subject: Subject{Email: "kari@example.no", CustomerID: "C-7"}, Details: "OpenDSR 2.0 request a7551968-d5d6-44b2-9831-815ac9017798"}
	if d := cmp.Diff(want, in, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("new request (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&OpenDSRIntake{ID: "a7551968-d5d6-44b2-9831-815ac9017798", CallbackURLs: []string{"https://controller.example/cb"},
		APIVersion: "2.0", CreatedBy: "apikey:k1", CreatedAt: now}, intake); d != "" {
		t.Errorf("intake (-want +got):\n%s", d)
	}

	// A key that may say it authenticated the subject asserts the
	// identities; a key of one controller needs not name it.
	verified := Actor{ID: "apikey:k2", Role: RoleSystem, Controllers: []string{"digiref"}, Scopes: []Scope{ScopeRequestsCreate, ScopeRequestsVerified}}
	r := testOpenDSRRequest()
	r.Extensions = nil
	if in, _, err := r.Intake(verified, "dsar.example.com", now); err != nil || !in.Verified || in.VerificationMethod == "" || in.Controller != "digiref" {
		t.Errorf("verified: %+v %v", in, err)
	}
	// property_id beside the fields, as a number in the extension.
	r.PropertyID = "keto-diets"
	if in, _, _ := r.Intake(key, "dsar.example.com", now); in.Controller != "keto-diets" {
		t.Errorf("property_id: %q", in.Controller)
	}
	r = testOpenDSRRequest()
	r.Extensions = map[string]json.RawMessage{"dsar.example.com": json.RawMessage(`{"property_id":42}`)}
	if in, _, _ := r.Intake(key, "dsar.example.com", now); in.Controller != "42" {
		t.Errorf("numeric property_id: %q", in.Controller)
	}

	for name, tc := range map[string]struct {
		change func(r *OpenDSRRequest)
		fields map[string]string
	}{
		"empty": {func(r *OpenDSRRequest) { *r = OpenDSRRequest{} }, map[string]string{"subject_request_id": "field.required",
			"regulation": "field.required", "subject_request_type": "field.required", "submitted_time": "field.required",
			"subject_identities": "field.required", "property_id": "field.opendsr_property"}},
		"wrong values": {func(r *OpenDSRRequest) {
			r.SubjectRequestID, r.Regulation, r.SubjectRequestType, r.SubmittedTime, r.APIVersion = "a7551968-d5d6-14b2-9831-815ac9017798", "lgpd", "rectification", "2025-03-04", "1.0"
			r.StatusCallbackURLs = []string{"ftp://controller.example/cb"}
		}, map[string]string{"subject_request_id": "field.opendsr_uuid", "regulation": "field.enum", "subject_request_type": "field.enum",
			"submitted_time": "field.timestamp", "api_version": "field.enum", "status_callback_urls[0]": "field.url"}},
		"identities": {func(r *OpenDSRRequest) {
			r.SubjectIdentities = []OpenDSRIdentity{{Type: "email", Value: "a@example.no", Format: "sha256"}, {Type: "email", Value: "", Format: "raw"},
				{Type: "android_id", Value: "x", Format: "raw"}, {Type: "controller_customer_id", Value: "1", Format: "raw"}, {Type: "controller_customer_id", Value: "2", Format: "raw"}}
		}, map[string]string{"subject_identities[0]": "field.opendsr_identity", "subject_identities[1].identity_value": "field.required",
			"subject_identities[2]": "field.opendsr_identity", "subject_identities[4]": "field.opendsr_identity_twice"}},
		"too many": {func(r *OpenDSRRequest) {
			r.SubjectIdentities = make([]OpenDSRIdentity, MaxOpenDSRIdentities+1)
			for i := range r.SubjectIdentities {
				r.SubjectIdentities[i] = OpenDSRIdentity{Type: "email", Value: "a@example.no", Format: "raw"}
			}
			r.StatusCallbackURLs = strings.Fields(strings.Repeat("https://c.example/cb ", MaxOpenDSRCallbackURLs+1))
		}, map[string]string{"subject_identities": "field.too_many", "status_callback_urls": "field.too_many"}},
		"no controller": {func(r *OpenDSRRequest) {
			r.Extensions = map[string]json.RawMessage{"other.example": json.RawMessage(`{"property_id":"nte"}`)}
		},
			map[string]string{"property_id": "field.opendsr_property"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := testOpenDSRRequest()
			tc.change(r)
			_, _, err := r.Intake(key, "dsar.example.com", now)
			got := map[string]string{}
			var de *Error
			if err != nil {
				de = err.(*Error)
				for _, f := range de.Fields {
					got[f.Field] = f.Message
				}
			}
			if de == nil || de.Code != EINVALID {
				t.Fatalf("error %v", err)
			}
			if d := cmp.Diff(tc.fields, got); d != "" {
				t.Errorf("fields (-want +got):\n%s", d)
			}
		})
	}

	// The validation of every new case names its fields as OpenDSR does.
	err = OpenDSRInvalid(Invalid(FieldError{Field: "subject.email", Message: "field.email"}, FieldError{Field: "received_at", Message: "field.future"},
		FieldError{Field: "details", Message: "field.too_long"}))
	var fields []string
	for _, f := range err.(*Error).Fields {
		fields = append(fields, f.Field+" "+f.Message)
	}
	if d := cmp.Diff([]string{"subject_identities field.email", "submitted_time field.future", "details field.too_long"}, fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

func TestOpenDSRStatusAndCallbacks(t *testing.T) {
	for st, want := range map[Status]string{StatusReceived: OpenDSRPending, StatusAwaitingVerification: OpenDSRPending,
		StatusInProgress: OpenDSRInProgress, StatusAwaitingSubject: OpenDSRInProgress, StatusCompleted: OpenDSRCompleted,
		StatusRefused: OpenDSRCancelled, StatusWithdrawn: OpenDSRCancelled, StatusForwarded: OpenDSRCancelled, StatusExpiredUnverified: OpenDSRCancelled} {
		if got := OpenDSRStatusOf(&Request{Status: st}); got != want {
			t.Errorf("%s: %s, want %s", st, got, want)
		}
	}
	now := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	env := counterEnv(now)
	oslo, _ := time.LoadLocation("Europe/Oslo")
	req := &Request{ID: "r1", Controller: "nte", Status: StatusInProgress, Deadline: time.Date(2025, 4, 5, 23, 59, 59, 0, oslo),
		Subject: Subject{Email: "kari@example.no"}}
	in := &OpenDSRIntake{ID: "a7551968-d5d6-44b2-9831-815ac9017798", RequestID: "r1", Status: OpenDSRPending,
		CallbackURLs: []string{"https://a.example/cb", "https://b.example/cb"}}
	status, items := OpenDSRCallbacks(env, in, req)
	if status != OpenDSRInProgress || len(items) != 2 {
		t.Fatalf("callbacks: %q %v", status, items)
	}
	var p OpenDSRCallbackPayload
	if err := json.Unmarshal(items[1].Payload, &p); err != nil || items[1].Kind != OutboxOpenDSRCallback || items[1].RequestID != "r1" ||
		!items[1].RunAt.Equal(now) || p.Attempt != 1 {
		t.Fatalf("item %+v %v", items[1], err)
	}
	body := `{"controller_id":"nte","expected_completion_time":"2025-04-05T21:59:59Z","status_callback_url":"https://b.example/cb",` +
		`"subject_request_id":"a7551968-d5d6-44b2-9831-815ac9017798","request_status":"in_progress","api_version":"2.0"}`
	if got := string(p.Body()); got != body {
		t.Errorf("body\n got %s\nwant %s", got, body)
	}
	// No change of the OpenDSR status, no callback.
	in.Status = OpenDSRInProgress
	req.Status = StatusAwaitingSubject
	if status, items := OpenDSRCallbacks(env, in, req); status != "" || items != nil {
		t.Errorf("no change: %q %v", status, items)
	}

	// Retries follow the webhooks' schedule, or a longer Retry-After, and
	// end with it.
	next, failed := NextOpenDSRCallback(env, "r1", p, WebhookResponse{StatusCode: 503})
	if err := json.Unmarshal(next.Payload, &p); err != nil || p.Attempt != 2 || !next.RunAt.Equal(now.Add(WebhookRetrySchedule[0])) || failed != nil {
		t.Errorf("next %+v, event %+v", next, failed)
	}
	if next, _ := NextOpenDSRCallback(env, "r1", p, WebhookResponse{Err: "timeout", RetryAfter: time.Hour}); !next.RunAt.Equal(now.Add(time.Hour)) {
		t.Errorf("Retry-After: %v", next.RunAt)
	}
	if next, failed := NextOpenDSRCallback(env, "r1", p, WebhookResponse{StatusCode: 204}); next != nil || failed != nil {
		t.Error("a delivered callback is tried again, or recorded as failed")
	}
	// After the last attempt the case's trail says the client was not told.
	p.Attempt = len(WebhookRetrySchedule) + 1
	next, failed = NextOpenDSRCallback(env, "r1", p, WebhookResponse{StatusCode: 500})
	if next != nil {
		t.Error("the last attempt is followed by another")
	}
	if failed == nil || failed.Kind != EventOpenDSRCallbackFailed || failed.RequestID != "r1" || failed.Reason != "HTTP 500" ||
		failed.Data["status"] != p.Status.RequestStatus || failed.Data["attempts"] != "10" {
		t.Errorf("the last failure's event: %+v", failed)
	}
	if _, failed := NextOpenDSRCallback(env, "r1", p, WebhookResponse{Err: "timeout: no answer in time"}); failed == nil || failed.Reason != "timeout: no answer in time" {
		t.Errorf("no answer: %+v", failed)
	}

	// A closed case cannot be cancelled.
	c := &Case{Request: &Request{ID: "r1", Status: StatusCompleted}}
	if _, err := CancelOpenDSR(env, c, Actor{ID: "apikey:k1", Role: RoleSystem}); ErrorCode(err) != ECONFLICT {
		t.Errorf("cancel a completed case: %v", err)
	}
}

// testCertificate returns a self-signed certificate for the domain with
// the key's public key, in PEM.
func testCertificate(t *testing.T, key crypto.Signer, domain string) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: domain}, DNSNames: []string{domain},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestOpenDSRSigner(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	for name, tc := range map[string]struct {
		key    crypto.Signer
		keyPEM []byte
	}{
		"RSA, PKCS #1": {rsaKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})},
		"ECDSA, SEC 1": {ecKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})},
	} {
		certPEM := testCertificate(t, tc.key, "dsar.example.com")
		s, err := ParseOpenDSRSigner(certPEM, tc.keyPEM, "dsar.example.com")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body := []byte(`{"request_status":"completed"}`)
		sig, err := s.Sign(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyOpenDSR(s.Certificate, s.Domain, sig, body); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if VerifyOpenDSR(s.Certificate, s.Domain, sig, append(body, ' ')) == nil {
			t.Errorf("%s: another body verifies", name)
		}
		if string(s.CertificatePEM()) != string(certPEM) {
			t.Errorf("%s: certificate PEM", name)
		}
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	if _, err := ParseOpenDSRSigner(testCertificate(t, ecKey, "dsar.example.com"), rsaPEM, "dsar.example.com"); err == nil ||
		!strings.Contains(err.Error(), "not the key of the certificate") {
		t.Errorf("another key: %v", err)
	}
	if _, err := ParseOpenDSRSigner(testCertificate(t, rsaKey, "dsar.example.com"), rsaPEM, "other.example"); err == nil ||
		!strings.Contains(err.Error(), "not a name of the certificate") {
		t.Errorf("another domain: %v", err)
	}
	if _, err := ParseOpenDSRSigner(testCertificate(t, rsaKey, "dsar.example.com"), []byte("no key"), "dsar.example.com"); err == nil {
		t.Error("no key block")
	}
}

func TestMayChangeOpenDSRStatus(t *testing.T) {
	if MayChangeOpenDSRStatus([]*Event{{Kind: EventNote}, {Kind: EventMailSent}}) {
		t.Error("a note and a mail change a status")
	}
	if !MayChangeOpenDSRStatus([]*Event{{Kind: EventNote}, {Kind: EventTransition, From: StatusInProgress, To: StatusCompleted}}) {
		t.Error("a transition does not")
	}
}
