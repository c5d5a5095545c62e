package api_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/templates"
	"github.com/dsar-project/dsar/workflows/connector/opendsr/opendsrtest"
)

// The certificate the intake serves is PEM, which the document's
// validation reads as text.
func init() {
	openapi3filter.RegisterBodyDecoder("application/x-pem-file", openapi3filter.PlainBodyDecoder)
}

// contractOpenDSRDomain is the OpenDSR processor domain of every
// contractEnv.
const contractOpenDSRDomain = "dsar.example.com"

var (
	contractSignerOnce sync.Once
	contractSigner     *dsar.OpenDSRSigner
	contractSignerErr  error
)

// contractOpenDSRSigner returns the signer of the OpenDSR intake of every
// contractEnv: one RSA key and self-signed certificate for the test run.
func contractOpenDSRSigner(t *testing.T) *dsar.OpenDSRSigner {
	t.Helper()
	contractSignerOnce.Do(func() {
		certPEM, keyPEM, err := opendsrtest.NewCertificate(time.Now(), contractOpenDSRDomain)
		if err != nil {
			contractSignerErr = err
			return
		}
		contractSigner, contractSignerErr = dsar.ParseOpenDSRSigner(certPEM, keyPEM, contractOpenDSRDomain)
	})
	if contractSignerErr != nil {
		t.Fatal(contractSignerErr)
	}
	return contractSigner
}

// contractOpenDSRIntake drives the OpenDSR intake through every answer:
// discovery and the certificate, a request submitted (twice: one case),
// its status, its cancellation, and the refusals, each an OpenDSR error in
// the caller's language.
func contractOpenDSRIntake(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	ctx := context.Background()
	keys := store.NewAPIKeys(e.db)
	for name, sc := range map[string]dsar.Scope{"opendsr create": dsar.ScopeRequestsCreate, "opendsr read": dsar.ScopeRequestsRead} {
		k, secret, err := keys.Create(ctx, name, dsar.RoleSystem, []string{"nte"}, sc)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[name], e.keyIDs[name] = secret, k.ID
	}
	signed := func(a contractAnswer) {
		t.Helper()
		if a.header.Get(dsar.HeaderOpenDSRDomain) != contractOpenDSRDomain ||
			dsar.VerifyOpenDSR(contractOpenDSRSigner(t).Certificate, a.header.Get(dsar.HeaderOpenDSRDomain), a.header.Get(dsar.HeaderOpenDSRSignature), a.body) != nil {
			t.Errorf("not signed: %v %s", a.header, a.body)
		}
	}
	message := func(a contractAnswer) string {
		t.Helper()
		var r dsar.OpenDSRErrorResponse
		a.decode(t, &r)
		return r.Error.Message
	}

	signed(e.do(t, contractCall{method: "GET", path: "/opendsr/v2/discovery", want: 200}))
	e.do(t, contractCall{method: "GET", path: "/opendsr/v2/cert.pem", want: 200})

	id := "3f9c2a4e-7b1d-4e8a-9c6f-2d5b8a1e7c30"
	body := map[string]any{"regulation": "gdpr", "subject_request_id": id, "subject_request_type": "access",
		"submitted_time": "2025-04-17T06:00:00Z", "api_version": "2.0",
		"subject_identities": []map[string]any{{"identity_type": "email", "identity_value": "opendsr.intake@example.no", "identity_format": "raw"},
			{"identity_type": "controller_customer_id", "identity_value": "C-1001", "identity_format": "raw"}},
		"extensions": map[string]any{contractOpenDSRDomain: map[string]any{"property_id": "nte"}}}
	a := e.do(t, contractCall{method: "POST", path: "/opendsr/v2/requests", key: "admin", body: body, want: 201})
	signed(a)
	var first dsar.OpenDSRResponse
	a.decode(t, &first)
	e.clock.Set(mustTime("2025-04-17T08:20:00Z"))
	a = e.do(t, contractCall{method: "POST", path: "/opendsr/v2/requests", key: "system", body: body, want: 201})
	var again dsar.OpenDSRResponse
	a.decode(t, &again)
	if again.ReceivedTime != first.ReceivedTime || first.ReceivedTime != "2025-04-17T08:15:00Z" || first.ControllerID != "nte" {
		t.Errorf("the same ID again: %+v, first %+v", again, first)
	}
	page, err := store.NewRequests(e.db).List(ctx, dsar.ActorService, dsar.RequestFilter{Search: "opendsr.intake@example.no"})
	if err != nil || len(page.Requests) != 1 || page.Requests[0].Subject.CustomerID != "C-1001" || page.Requests[0].ReceivedAt.UTC() != mustTime("2025-04-17T06:00:00Z") {
		t.Fatalf("cases of the ID: %v %v", page, err)
	}

	// Refusals: no key, a key without the scope, a key of several
	// controllers with none named, a malformed body, in Norwegian.
	e.do(t, contractCall{method: "POST", path: "/opendsr/v2/requests", body: body, want: 401, docRejects: true})
	e.do(t, contractCall{method: "POST", path: "/opendsr/v2/requests", key: "opendsr read", body: body, want: 403})
	noProperty := map[string]any{}
	for k, v := range body {
		noProperty[k] = v
	}
	delete(noProperty, "extensions")
	noProperty["subject_request_id"] = "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
	a = e.do(t, contractCall{method: "POST", path: "/opendsr/v2/requests", key: "officer", body: noProperty, lang: "nb", want: 400})
	if got, want := message(a), "property_id: "+templates.T(dsar.LanguageNB, "field.opendsr_property", nil); got != want || a.header.Get("Content-Language") != "nb" {
		t.Errorf("no property_id: %q, want %q", got, want)
	}
	e.do(t, contractCall{method: "POST", path: "/opendsr/v2/requests", key: "system", body: `{"regulation":`, want: 400, docRejects: true})
	// The ID is another controller's client's.
	a = e.do(t, contractCall{method: "POST", path: "/opendsr/v2/requests", key: "intility", body: body, want: 400})
	if got, want := message(a), "subject_request_id: "+templates.T(dsar.LanguageEN, "field.opendsr_id_taken", nil); got != want {
		t.Errorf("another client's ID: %q, want %q", got, want)
	}

	// The status, to the keys that may see it.
	a = e.do(t, contractCall{method: "GET", path: "/opendsr/v2/requests/" + id, key: "system", want: 200})
	signed(a)
	var st dsar.OpenDSRStatus
	if err := json.Unmarshal(a.body, &st); err != nil || st.RequestStatus != dsar.OpenDSRInProgress || st.SubjectRequestID != id {
		t.Errorf("status %s", a.body)
	}
	e.do(t, contractCall{method: "GET", path: "/opendsr/v2/requests/" + id, want: 401, docRejects: true})
	e.do(t, contractCall{method: "GET", path: "/opendsr/v2/requests/" + id, key: "opendsr create", want: 403})
	e.do(t, contractCall{method: "GET", path: "/opendsr/v2/requests/" + id, key: "intility", want: 404})
	e.do(t, contractCall{method: "GET", path: "/opendsr/v2/requests/00000000-0000-4000-8000-000000000000", key: "system", want: 404})

	// The cancellation, once.
	e.do(t, contractCall{method: "DELETE", path: "/opendsr/v2/requests/" + id, want: 401, docRejects: true})
	e.do(t, contractCall{method: "DELETE", path: "/opendsr/v2/requests/" + id, key: "opendsr read", want: 403})
	e.do(t, contractCall{method: "DELETE", path: "/opendsr/v2/requests/" + id, key: "intility", want: 404})
	signed(e.do(t, contractCall{method: "DELETE", path: "/opendsr/v2/requests/" + id, key: "opendsr create", want: 202}))
	a = e.do(t, contractCall{method: "DELETE", path: "/opendsr/v2/requests/" + id, key: "opendsr create", want: 400})
	if got := message(a); got != templates.T(dsar.LanguageEN, "error.opendsr.not_cancellable", map[string]any{"status": "cancelled"}) {
		t.Errorf("cancelled again: %q", got)
	}
	if a := e.do(t, contractCall{method: "GET", path: "/opendsr/v2/requests/" + id, key: "system", want: 200}); !json.Valid(a.body) ||
		json.Unmarshal(a.body, &st) != nil || st.RequestStatus != dsar.OpenDSRCancelled {
		t.Errorf("status after cancelling: %s", a.body)
	}
	if r, err := store.NewRequests(e.db).Get(ctx, dsar.ActorService, page.Requests[0].ID); err != nil || r.Status != dsar.StatusWithdrawn {
		t.Errorf("the cancelled case: %v %v", r, err)
	}
}
