package dsar

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The headers of OpenDSR 2.0 (https://github.com/opengdpr/OpenDSR,
// docs/connectors.md "OpenDSR connector"): a processor signs its callbacks
// and status answers with the key of its certificate, and names the domain
// the certificate is issued for.
const (
	HeaderOpenDSRSignature = "X-OpenDSR-Signature"
	HeaderOpenDSRDomain    = "X-OpenDSR-Processor-Domain"
)

// The request statuses of OpenDSR 2.0 (section 8).
const (
	OpenDSRPending    = "pending"
	OpenDSRInProgress = "in_progress"
	OpenDSRCompleted  = "completed"
	OpenDSRCancelled  = "cancelled"
)

// OpenDSRStatuses lists the request statuses of OpenDSR 2.0.
var OpenDSRStatuses = []string{OpenDSRPending, OpenDSRInProgress, OpenDSRCompleted, OpenDSRCancelled}

// The reasons a processor's signed message is refused.
var (
	ErrOpenDSRSignature = errors.New("opendsr: the X-OpenDSR-Signature is missing, not base64, or does not verify against the processor's certificate")
	ErrOpenDSRDomain    = errors.New("opendsr: the X-OpenDSR-Processor-Domain is missing or not a name of the processor's certificate")
)

// OpenDSRRequestID returns the subject_request_id a task is sent under: a
// UUID in the version 4 layout whose other bits are the start of the
// SHA-256 of the task's idempotency key. Every try of every round of the
// task sends the same ID, so that a processor applies the request once,
// and the ID of a task needs not be stored to be known.
func OpenDSRRequestID(idempotencyKey string) string {
	sum := sha256.Sum256([]byte("opendsr subject_request_id\x00" + idempotencyKey))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// OpenDSRStatus is a processor's word on a request: the body of a status
// answer (GET /requests/{id}, section 8.3) and of a callback (section 8.6).
type OpenDSRStatus struct {
	ControllerID           string `json:"controller_id"`
	ExpectedCompletionTime string `json:"expected_completion_time"`
	// StatusCallbackURL is the callback URL the message was sent to
	// (callbacks only).
	StatusCallbackURL string `json:"status_callback_url,omitempty"`
	SubjectRequestID  string `json:"subject_request_id"`
	RequestStatus     string `json:"request_status"`
	APIVersion        string `json:"api_version,omitempty"`
	// ResultsURL is where the results of an access or portability request
	// are; the task keeps it (Task.External) once completed.
	ResultsURL   string `json:"results_url,omitempty"`
	ResultsCount *int   `json:"results_count,omitempty"`
}

// Outcome validates the status of the request with the ID and returns the
// outcome it reports: pending or in progress, the task waits for the
// processor (until the expected completion time); completed, it is done
// with the results count, and its results_url is kept as the task's
// External; cancelled by the processor, it failed. A body that is not a
// status of that request is an EINVALID with the fields at fault.
func (s *OpenDSRStatus) Outcome(requestID string) (TaskOutcome, error) {
	var fields []FieldError
	switch {
	case s.SubjectRequestID == "":
		fields = append(fields, FieldError{Field: "subject_request_id", Message: "field.required"})
	case !strings.EqualFold(s.SubjectRequestID, requestID):
		fields = append(fields, FieldError{Field: "subject_request_id", Message: "field.opendsr_mismatch"})
	}
	switch {
	case s.RequestStatus == "":
		fields = append(fields, FieldError{Field: "request_status", Message: "field.required"})
	case !slices.Contains(OpenDSRStatuses, s.RequestStatus):
		fields = append(fields, FieldError{Field: "request_status", Message: "field.enum", Params: map[string]any{"allowed": OpenDSRStatuses}})
	}
	var expected *time.Time
	if s.ExpectedCompletionTime != "" {
		t, err := time.Parse(time.RFC3339, s.ExpectedCompletionTime)
		if err != nil {
			fields = append(fields, FieldError{Field: "expected_completion_time", Message: "field.timestamp"})
		} else {
			expected = &t
		}
	}
	if s.ResultsURL != "" {
		if u, err := url.Parse(s.ResultsURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fields = append(fields, FieldError{Field: "results_url", Message: "field.url"})
		}
	}
	if s.ResultsCount != nil && *s.ResultsCount < 0 {
		fields = append(fields, FieldError{Field: "results_count", Message: "field.not_negative"})
	}
	if len(fields) > 0 {
		return TaskOutcome{}, Invalid(fields...)
	}
	answer := "OpenDSR " + s.RequestStatus
	switch s.RequestStatus {
	case OpenDSRCompleted:
		o := TaskOutcome{Kind: OutcomeDone, External: s.ResultsURL}
		if s.ResultsCount != nil {
			o.Count = *s.ResultsCount
			answer += " (" + strconv.Itoa(o.Count) + " results)"
		}
		o.Answer = answer
		return o, nil
	case OpenDSRCancelled:
		return TaskOutcome{Kind: OutcomeFailed, Answer: answer + " by the processor"}, nil
	}
	if expected != nil {
		answer += ", expected by " + expected.UTC().Format(time.RFC3339)
	}
	return TaskOutcome{Kind: OutcomeAccepted, Answer: answer, ExpectedBy: expected}, nil
}

// CallbackOutcome is the outcome of a processor's callback with the status
// (Outcome), for a task with the action: a completed export with a
// results_url is not done until a worker has fetched its results, so the
// task waits on, with the results_url to follow, and a poll of the request
// (which fetches them) is due at once (FetchAfter).
func (s *OpenDSRStatus) CallbackOutcome(requestID string, action TaskAction) (TaskOutcome, error) {
	o, err := s.Outcome(requestID)
	if err != nil || o.Kind != OutcomeDone || action != ActionExport || s.ResultsURL == "" {
		return o, err
	}
	return TaskOutcome{Kind: OutcomeAccepted, Answer: o.Answer + ", results to fetch", External: s.ResultsURL, PollAfter: FetchAfter}, nil
}

// ParseOpenDSRCertificate reads the first certificate of a PEM file's
// content.
func ParseOpenDSRCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("opendsr certificate: no PEM CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("opendsr certificate: %w", err)
			}
			return c, nil
		}
	}
}

// LoadOpenDSRCertificate reads the certificate of the PEM file at path,
// now: a renewed certificate takes effect without a restart.
func LoadOpenDSRCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("opendsr certificate: %w", err)
	}
	return ParseOpenDSRCertificate(data)
}

// VerifyOpenDSR verifies a processor's signed message: the domain header
// must be a name of the certificate (when the certificate names any), and
// the signature header the base64 of a signature of the exact body with
// the certificate's key (RSA PKCS #1 v1.5 or ECDSA, over SHA-256; what
// `openssl dgst -sha256 -sign` makes).
func VerifyOpenDSR(cert *x509.Certificate, domain, signature string, body []byte) error {
	domain = strings.TrimSpace(domain)
	if domain == "" || (len(cert.DNSNames) > 0 && cert.VerifyHostname(domain) != nil) {
		return ErrOpenDSRDomain
	}
	sig, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(signature), ""))
	if err != nil || len(sig) == 0 {
		return ErrOpenDSRSignature
	}
	var alg x509.SignatureAlgorithm
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		alg = x509.SHA256WithRSA
	case *ecdsa.PublicKey:
		alg = x509.ECDSAWithSHA256
	default:
		return ErrOpenDSRSignature
	}
	if cert.CheckSignature(alg, body, sig) != nil {
		return ErrOpenDSRSignature
	}
	return nil
}
