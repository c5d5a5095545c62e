package dsar

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The OpenDSR 2.0 intake (docs/opendsr.md): the service answers OpenDSR
// clients as a processor does, and each request they post becomes a case
// of a controller. The rules of it are here; api/ serves the endpoints and
// workflows/ posts the status callbacks.

// OpenDSRAPIVersion is the version of OpenDSR the service speaks, as a
// client and as a processor.
const OpenDSRAPIVersion = "2.0"

// The subject request types of OpenDSR 2.0 (section 6.2).
const (
	OpenDSRAccess      = "access"
	OpenDSRPortability = "portability"
	OpenDSRErasure     = "erasure"
)

// OpenDSRRequestTypes lists the subject request types the intake takes:
// every type of OpenDSR 2.0.
var OpenDSRRequestTypes = []string{OpenDSRAccess, OpenDSRPortability, OpenDSRErasure}

// Limits of an OpenDSR request.
const (
	MaxOpenDSRIdentities   = 20
	MaxOpenDSRCallbackURLs = 5
)

// OpenDSRIdentity is an identity of the data subject (section 5.3).
type OpenDSRIdentity struct {
	Type   string `json:"identity_type"`
	Value  string `json:"identity_value"`
	Format string `json:"identity_format"`
}

// OpenDSRIdentityKind is a kind of identity a processor takes, as
// discovery lists them: an identity type and format.
type OpenDSRIdentityKind struct {
	Type   string `json:"identity_type"`
	Format string `json:"identity_format"`
}

// OpenDSRSupportedIdentities are the identities the intake takes: the
// e-mail address (the case's subject) and the controller's customer ID,
// both raw.
var OpenDSRSupportedIdentities = []OpenDSRIdentityKind{{Type: "email", Format: "raw"}, {Type: "controller_customer_id", Format: "raw"}}

// OpenDSRRequest is the body of POST /requests (section 7.1).
type OpenDSRRequest struct {
	Regulation         string            `json:"regulation"`
	SubjectRequestID   string            `json:"subject_request_id"`
	SubjectRequestType string            `json:"subject_request_type"`
	SubmittedTime      string            `json:"submitted_time"`
	SubjectIdentities  []OpenDSRIdentity `json:"subject_identities"`
	APIVersion         string            `json:"api_version"`
	StatusCallbackURLs []string          `json:"status_callback_urls,omitempty"`
	// PropertyID names the controller (its key), as some clients send it
	// beside the fields of the specification; the extension of the
	// processor's domain may name it too (section 7.1.2).
	PropertyID string                     `json:"property_id,omitempty"`
	Extensions map[string]json.RawMessage `json:"extensions,omitempty"`
}

// OpenDSRResponse is the body of a processor's 201 to POST /requests
// (section 7.3). A controller must not keep its encoded_request.
type OpenDSRResponse struct {
	ControllerID           string `json:"controller_id"`
	ExpectedCompletionTime string `json:"expected_completion_time"`
	ReceivedTime           string `json:"received_time"`
	EncodedRequest         string `json:"encoded_request,omitempty"`
	SubjectRequestID       string `json:"subject_request_id"`
}

// OpenDSRCancellation is the body of a processor's 202 to DELETE
// /requests/{id} (section 9.2).
type OpenDSRCancellation struct {
	ControllerID     string `json:"controller_id"`
	SubjectRequestID string `json:"subject_request_id"`
	ReceivedTime     string `json:"received_time"`
	APIVersion       string `json:"api_version"`
}

// OpenDSRErrorDetail is one detail of an OpenDSR error (section 7.6).
type OpenDSRErrorDetail struct {
	Domain  string `json:"domain,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

// OpenDSRErrorResponse is the body of an OpenDSR error (sections 7.5 and
// 7.6): the HTTP status as its code, a message, and one detail a field at
// fault (its domain "Validation", its reason the field).
type OpenDSRErrorResponse struct {
	Error struct {
		Code    int                  `json:"code"`
		Message string               `json:"message,omitempty"`
		Errors  []OpenDSRErrorDetail `json:"errors,omitempty"`
	} `json:"error"`
}

// OpenDSRDiscovery is the processor's discovery document (section 6.3).
type OpenDSRDiscovery struct {
	APIVersion                   string                `json:"api_version"`
	SupportedIdentities          []OpenDSRIdentityKind `json:"supported_identities"`
	SupportedSubjectRequestTypes []string              `json:"supported_subject_request_types"`
	ProcessorCertificate         string                `json:"processor_certificate"`
}

// NewOpenDSRDiscovery returns the intake's discovery document, naming the
// URL its certificate is served at.
func NewOpenDSRDiscovery(certificateURL string) OpenDSRDiscovery {
	return OpenDSRDiscovery{APIVersion: OpenDSRAPIVersion, SupportedIdentities: slices.Clone(OpenDSRSupportedIdentities),
		SupportedSubjectRequestTypes: slices.Clone(OpenDSRRequestTypes), ProcessorCertificate: certificateURL}
}

// uuidV4 is a UUID of version 4 and the RFC 4122 variant, in lower case.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// The field errors of an OpenDSR request are named by the fields of the
// specification; openDSRFields maps the fields of a new request onto them.
var openDSRFields = map[string]string{
	"type": "subject_request_type", "subject.email": "subject_identities", "subject.customer_id": "subject_identities",
	"received_at": "submitted_time", "controller": "property_id", "regulation": "regulation",
}

// OpenDSRIntake is a request an OpenDSR client posted: its
// subject_request_id, the case it became, the callback URLs the client
// gave and the OpenDSR status last reported to them.
type OpenDSRIntake struct {
	ID           string
	RequestID    string
	Controller   string
	CallbackURLs []string
	Status       string
	APIVersion   string
	CreatedBy    string
	CreatedAt    time.Time
}

// Intake checks an OpenDSR request posted by the actor to the processor
// of the domain, and returns it as the submission of a new case (to
// validate as every new case is, ValidateNewRequest; OpenDSRInvalid names
// its field errors by the request's fields) with what the intake keeps of
// it. The controller is the one the request names (property_id, or that
// of the extension of the domain), else the key's only controller. The
// subject is the raw e-mail address of the identities; a key that may say
// it has authenticated the subject (requests:verified) submits a case
// that needs no confirmation by the subject: a controller's client asserts
// the identities it sends. It returns an EINVALID error naming every bad
// field.
func (r *OpenDSRRequest) Intake(actor Actor, domain string, now time.Time) (NewRequest, *OpenDSRIntake, error) {
	var fields []FieldError
	bad := func(field, msg string, params map[string]any) {
		fields = append(fields, FieldError{Field: field, Message: msg, Params: params})
	}
	id := strings.ToLower(strings.TrimSpace(r.SubjectRequestID))
	switch {
	case id == "":
		bad("subject_request_id", "field.required", nil)
	case !uuidV4.MatchString(id):
		bad("subject_request_id", "field.opendsr_uuid", nil)
	}
	in := NewRequest{Regulation: Regulation(r.Regulation), Channel: ChannelAPI}
	switch r.Regulation {
	case "":
		bad("regulation", "field.required", nil)
	case string(RegulationGDPR), string(RegulationCCPA):
	default:
		bad("regulation", "field.enum", map[string]any{"allowed": enumStrings(Regulations)})
	}
	switch {
	case r.SubjectRequestType == "":
		bad("subject_request_type", "field.required", nil)
	case !slices.Contains(OpenDSRRequestTypes, r.SubjectRequestType):
		bad("subject_request_type", "field.enum", map[string]any{"allowed": OpenDSRRequestTypes})
	default:
		in.Type = RequestType(r.SubjectRequestType) // the three types are the cases' types of the same names
	}
	if r.SubmittedTime == "" {
		bad("submitted_time", "field.required", nil)
	} else if t, err := time.Parse(time.RFC3339, r.SubmittedTime); err != nil {
		bad("submitted_time", "field.timestamp", nil)
	} else {
		in.ReceivedAt = &t
	}
	if v := r.APIVersion; v != "" && v != "2" && !strings.HasPrefix(v, "2.") {
		bad("api_version", "field.enum", map[string]any{"allowed": []string{OpenDSRAPIVersion}})
	}
	if len(r.SubjectIdentities) == 0 {
		bad("subject_identities", "field.required", nil)
	} else if len(r.SubjectIdentities) > MaxOpenDSRIdentities {
		bad("subject_identities", "field.too_many", map[string]any{"max": MaxOpenDSRIdentities})
	}
	for i, idn := range r.SubjectIdentities {
		field := fmt.Sprintf("subject_identities[%d]", i)
		if !slices.Contains(OpenDSRSupportedIdentities, OpenDSRIdentityKind{Type: idn.Type, Format: idn.Format}) {
			bad(field, "field.opendsr_identity", map[string]any{"allowed": "email/raw, controller_customer_id/raw"})
			continue
		}
		v := strings.TrimSpace(idn.Value)
		dst := &in.Subject.Email
		if idn.Type == "controller_customer_id" {
			dst = &in.Subject.CustomerID
		}
		switch {
		case v == "":
			bad(field+".identity_value", "field.required", nil)
		case *dst != "" && *dst != v:
			bad(field, "field.opendsr_identity_twice", nil)
		default:
			*dst = v
		}
	}
	intake := &OpenDSRIntake{ID: id, APIVersion: r.APIVersion, CreatedBy: actor.ID, CreatedAt: now}
	if len(r.StatusCallbackURLs) > MaxOpenDSRCallbackURLs {
		bad("status_callback_urls", "field.too_many", map[string]any{"max": MaxOpenDSRCallbackURLs})
	}
	for i, u := range r.StatusCallbackURLs {
		u = strings.TrimSpace(u)
		if len(u) > MaxWebhookURLLength || !validWebhookURL(u) || strings.ContainsAny(u, " \t\r\n") {
			bad(fmt.Sprintf("status_callback_urls[%d]", i), "field.url", nil)
			continue
		}
		if !slices.Contains(intake.CallbackURLs, u) {
			intake.CallbackURLs = append(intake.CallbackURLs, u)
		}
	}
	in.Controller = strings.TrimSpace(r.PropertyID)
	if ext, ok := r.Extensions[domain]; ok && in.Controller == "" {
		var own struct {
			PropertyID json.RawMessage `json:"property_id"`
		}
		if json.Unmarshal(ext, &own) == nil && len(own.PropertyID) > 0 {
			// A property_id may be a number or a string.
			var s string
			if json.Unmarshal(own.PropertyID, &s) != nil {
				s = string(own.PropertyID)
			}
			in.Controller = strings.TrimSpace(s)
		}
	}
	if in.Controller == "" && len(actor.Controllers) == 1 {
		in.Controller = actor.Controllers[0]
	}
	if in.Controller == "" {
		bad("property_id", "field.opendsr_property", nil)
	}
	if len(fields) > 0 {
		return NewRequest{}, nil, Invalid(fields...)
	}
	if actor.Authenticated() && actor.Allows(ScopeRequestsVerified) {
		in.Verified, in.VerificationMethod = true, "asserted by the controller's OpenDSR client"
	}
	in.Details = "OpenDSR " + OpenDSRAPIVersion + " request " + id
	return in, intake, nil
}

// OpenDSRInvalid returns the error of a new case made of an OpenDSR request
// with its fields named as the request names them; other errors as they
// are.
func OpenDSRInvalid(err error) error {
	var de *Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	out := *de
	out.Fields = make([]FieldError, len(de.Fields))
	for i, f := range de.Fields {
		if name, ok := openDSRFields[f.Field]; ok {
			f.Field = name
		}
		out.Fields[i] = f
	}
	return &out
}

// OpenDSRStatusOf returns the OpenDSR status of a case (section 8): pending
// until its identity is settled, in progress while it is worked (or waits
// for the subject), completed once completed, and cancelled once closed
// otherwise (withdrawn, refused, forwarded to the controller responsible,
// never confirmed): a request the processor will not fulfil.
func OpenDSRStatusOf(r *Request) string {
	switch r.Status {
	case StatusReceived, StatusAwaitingVerification:
		return OpenDSRPending
	case StatusInProgress, StatusAwaitingSubject:
		return OpenDSRInProgress
	case StatusCompleted:
		return OpenDSRCompleted
	}
	return OpenDSRCancelled
}

// StatusOf returns the OpenDSR status of the intake's case (section 8.3):
// the expected completion time is the case's deadline.
func (in *OpenDSRIntake) StatusOf(r *Request) OpenDSRStatus {
	return OpenDSRStatus{ControllerID: r.Controller, ExpectedCompletionTime: r.Deadline.UTC().Format(time.RFC3339),
		SubjectRequestID: in.ID, RequestStatus: OpenDSRStatusOf(r), APIVersion: OpenDSRAPIVersion}
}

// ResponseOf returns the 201 answer to the request that made the intake
// (or repeated its ID): body is the request's body, encoded as section 7.3
// asks.
func (in *OpenDSRIntake) ResponseOf(r *Request, body []byte) OpenDSRResponse {
	return OpenDSRResponse{ControllerID: r.Controller, ExpectedCompletionTime: r.Deadline.UTC().Format(time.RFC3339),
		ReceivedTime: in.CreatedAt.UTC().Format(time.RFC3339), EncodedRequest: base64.StdEncoding.EncodeToString(body),
		SubjectRequestID: in.ID}
}

// OpenDSRCallbackPayload is the payload of an OutboxOpenDSRCallback item:
// one attempt to post one status to one of a client's callback URLs.
type OpenDSRCallbackPayload struct {
	Status  OpenDSRStatus `json:"status"`
	Attempt int           `json:"attempt"`
}

// Body returns the callback's body (section 8.6): the status with the URL
// it goes to.
func (p *OpenDSRCallbackPayload) Body() []byte {
	b, _ := json.Marshal(p.Status) // strings always marshal
	return b
}

// MayChangeOpenDSRStatus reports whether the audit events may change a
// case's OpenDSR status (one of them changes its status), so that the
// store looks up nothing for the others.
func MayChangeOpenDSRStatus(evs []*Event) bool {
	return slices.ContainsFunc(evs, func(ev *Event) bool { return ev.From != ev.To })
}

// OpenDSRCallbacks decides the status callbacks a change of an OpenDSR
// case makes (section 8.5): when the case's OpenDSR status is not the one
// last reported, one callback to each of the client's URLs, now, and the
// status to record as reported; none otherwise ("" and nil).
func OpenDSRCallbacks(env Env, in *OpenDSRIntake, r *Request) (string, []*OutboxItem) {
	st := in.StatusOf(r)
	if st.RequestStatus == in.Status {
		return "", nil
	}
	var out []*OutboxItem
	for _, u := range in.CallbackURLs {
		st.StatusCallbackURL = u
		out = append(out, openDSRCallbackItem(env, r.ID, OpenDSRCallbackPayload{Status: st, Attempt: 1}, env.Now))
	}
	return st.RequestStatus, out
}

func openDSRCallbackItem(env Env, requestID string, p OpenDSRCallbackPayload, at time.Time) *OutboxItem {
	b, _ := json.Marshal(p) // strings and a number always marshal
	return &OutboxItem{ID: env.NewID(), Kind: OutboxOpenDSRCallback, RequestID: requestID, Payload: b, RunAt: at}
}

// NextOpenDSRCallback decides what follows an attempt to post a callback:
// nothing once the URL answered 2xx; else the next attempt after the
// webhooks' retry schedule's wait, or the answer's Retry-After when longer
// (up to WebhookMaxRetryAfter); and once the schedule's attempts are used
// up, an audit event on the case (EventOpenDSRCallbackFailed: the status
// the client was not told, its last answer, never the URL, which may hold
// a token), so that the officers see that the client must ask GET
// /requests/{id} or be told otherwise.
func NextOpenDSRCallback(env Env, requestID string, p OpenDSRCallbackPayload, res WebhookResponse) (*OutboxItem, *Event) {
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil, nil
	}
	if p.Attempt > len(WebhookRetrySchedule) {
		answer := res.Err
		if res.StatusCode != 0 {
			answer = "HTTP " + strconv.Itoa(res.StatusCode)
		}
		return nil, &Event{RequestID: requestID, At: env.Now, Actor: ActorService.ID, Kind: EventOpenDSRCallbackFailed,
			Reason: truncate(answer, maxAnswer), Data: map[string]string{"status": p.Status.RequestStatus, "attempts": strconv.Itoa(p.Attempt)}}
	}
	wait := webhookRetryWait(p.Attempt, res.RetryAfter)
	p.Attempt++
	return openDSRCallbackItem(env, requestID, p, env.Now.Add(wait)), nil
}

// CancelOpenDSR withdraws the case of an OpenDSR request at the client's
// DELETE (section 9): the controller's client relays the subject's
// withdrawal, which the subject is told of by mail, as when withdrawing on
// the status page. A closed case cannot be cancelled (ECONFLICT).
func CancelOpenDSR(env Env, c *Case, a Actor) (*Effect, error) {
	if !c.Request.Status.Open() {
		return nil, &Error{Code: ECONFLICT, Message: "error.opendsr.not_cancellable",
			Params: map[string]any{"status": OpenDSRStatusOf(c.Request)}}
	}
	return withdraw(env, c, a, "cancelled by the controller's OpenDSR client")
}

// OpenDSRService is the OpenDSR intake on the cases.
type OpenDSRService interface {
	// Submit makes a case of an OpenDSR request posted by the actor to the
	// processor of the domain (OpenDSRRequest.Intake), in one transaction
	// with its intake record; a request whose subject_request_id the
	// service has already is answered with that intake and its case (the
	// same ID twice makes one case), created false. An ID another
	// controller's client took is an EINVALID error.
	Submit(ctx context.Context, actor Actor, r *OpenDSRRequest, domain string) (in *OpenDSRIntake, req *Request, created bool, err error)
	// Get returns the intake of the ID and its case, when the actor may
	// see it; ENOTFOUND otherwise.
	Get(ctx context.Context, actor Actor, id string) (*OpenDSRIntake, *Request, error)
	// Cancel withdraws the case of the ID (CancelOpenDSR).
	Cancel(ctx context.Context, actor Actor, id string) (*OpenDSRIntake, *Request, error)
}

// OpenDSRSigner signs the service's OpenDSR answers and callbacks with the
// key of its certificate, for its domain (X-OpenDSR-Processor-Domain).
type OpenDSRSigner struct {
	Domain      string
	Certificate *x509.Certificate
	certPEM     []byte
	key         crypto.Signer
}

// ParseOpenDSRSigner reads a certificate and its private key (PEM: PKCS
// #8, PKCS #1 or SEC 1) for the domain, which must be a name of the
// certificate when it names any.
func ParseOpenDSRSigner(certPEM, keyPEM []byte, domain string) (*OpenDSRSigner, error) {
	cert, err := ParseOpenDSRCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("opendsr key: not the key of the certificate")
	}
	domain = strings.TrimSpace(domain)
	if domain == "" || (len(cert.DNSNames) > 0 && cert.VerifyHostname(domain) != nil) {
		return nil, fmt.Errorf("opendsr certificate: the domain %q is not a name of the certificate (%s)", domain, strings.Join(cert.DNSNames, ", "))
	}
	return &OpenDSRSigner{Domain: domain, Certificate: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}, nil
}

// LoadOpenDSRSigner reads the certificate and key PEM files of
// ParseOpenDSRSigner.
func LoadOpenDSRSigner(certPath, keyPath, domain string) (*OpenDSRSigner, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("opendsr certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("opendsr key: %w", err)
	}
	return ParseOpenDSRSigner(certPEM, keyPEM, domain)
}

func parsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("opendsr key: no PEM PRIVATE KEY block")
		}
		var (
			k   any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("opendsr key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("opendsr key: not a signing key")
		}
		return s, nil
	}
}

// CertificatePEM returns the certificate in PEM, as discovery serves it.
func (s *OpenDSRSigner) CertificatePEM() []byte { return slices.Clone(s.certPEM) }

// Sign returns the X-OpenDSR-Signature of a body: the base64 of the
// signature of its SHA-256 with the certificate's key (RSA PKCS #1 v1.5,
// or ECDSA), as VerifyOpenDSR checks it.
func (s *OpenDSRSigner) Sign(body []byte) (string, error) {
	sum := sha256.Sum256(body)
	sig, err := s.key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("opendsr: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
