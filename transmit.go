package dsar

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Direct transmission of the portable package to another organisation
// (GDPR Art 20(2)): "where technically feasible", which here means the
// controller has set the organisation up as a portability recipient in its
// data map (an HTTPS endpoint and a shared signing secret). The subject
// names a recipient, or another organisation by name; the latter is not
// feasible and the completion mail says so.

// TransmitOther is the transmit_to of a request that names an organisation
// the controller has not set up for direct transmission.
const TransmitOther = "other"

// MaxOrganisationLength bounds the organisation a subject names.
const MaxOrganisationLength = 200

// The defaults and limits of a portability recipient.
const (
	// DefaultTransmitTimeout bounds one upload of the package when the
	// recipient sets no timeout: the whole request, body included.
	DefaultTransmitTimeout = 2 * time.Minute
	// maxTransmitTimeout is the most a recipient's timeout may be.
	maxTransmitTimeout = 30 * time.Minute
)

// PortabilityRecipient is an organisation the controller can send a
// subject's portable package to directly: its endpoint takes the package
// as a signed POST (docs/portability.md).
type PortabilityRecipient struct {
	Key  string
	Name string
	// URL is the endpoint: https, or http to a loopback address (a
	// receiver on the same machine, for tests and development).
	URL string
	// Secret holds the whsec_ key the uploads are signed with.
	Secret Secret
	// Timeout bounds one upload; MaxAttempts the tries before it fails.
	Timeout     time.Duration
	MaxAttempts int
}

// PortabilityRecipient returns the controller's portability recipient
// with the key.
func (c *Controller) PortabilityRecipient(key string) (*PortabilityRecipient, bool) {
	i := slices.IndexFunc(c.PortabilityRecipients, func(p PortabilityRecipient) bool { return p.Key == key })
	if i < 0 {
		return nil, false
	}
	return &c.PortabilityRecipients[i], true
}

// TransmitState is how a direct transmission stands.
type TransmitState string

// The states of a transmission. The zero state is that of a case not yet
// completed: nothing was tried.
const (
	TransmitPending     TransmitState = "pending"      // the package is being sent (or waits for its next try)
	TransmitSent        TransmitState = "sent"         // the recipient confirmed it received the package (2xx)
	TransmitFailed      TransmitState = "failed"       // it could not be sent; the subject can download it
	TransmitNotFeasible TransmitState = "not_feasible" // the organisation is not set up; the subject passes it on
)

// Transmission is the subject's wish that the portable package go
// straight to another organisation, and how it stands.
type Transmission struct {
	// To is a portability recipient's key, or TransmitOther; "" when the
	// subject asked for none.
	To string
	// Organisation is the organisation the subject named (TransmitOther).
	Organisation string
	State        TransmitState
	// Attempts counts the uploads tried; Status is the HTTP status of the
	// last answer (0: none came).
	Attempts int
	Status   int
	// At is when the package was received, or when sending it failed for
	// good.
	At *time.Time
	// Receipt is what the recipient gave as its receipt, if anything;
	// SHA256 and Bytes what was sent.
	Receipt string
	SHA256  string
	Bytes   int64
	// Reason says why the last try failed, in short and without personal
	// data.
	Reason string
}

// TransmitName names the organisation the subject's package is for: the
// recipient's name in the data map, or the organisation the subject wrote.
func (r *Request) TransmitName(c *Controller) string {
	t := r.Transmit
	if t.To == TransmitOther {
		return t.Organisation
	}
	if p, ok := c.PortabilityRecipient(t.To); ok {
		return p.Name
	}
	return t.To
}

// validateTransmit checks the transmit_to of a submission against the
// controller's portability recipients.
func validateTransmit(in *NewRequest, ctrl *Controller) []FieldError {
	in.TransmitTo, in.TransmitOrganisation = strings.TrimSpace(in.TransmitTo), strings.TrimSpace(in.TransmitOrganisation)
	var fields []FieldError
	switch {
	case in.TransmitTo == "" && in.TransmitOrganisation == "":
		return nil
	case in.Type != TypePortability:
		return []FieldError{{Field: "transmit_to", Message: "field.transmit.portability_only"}}
	case in.TransmitTo == "":
		return []FieldError{{Field: "transmit_to", Message: "field.required"}}
	case in.TransmitTo == TransmitOther:
		if in.TransmitOrganisation == "" {
			fields = append(fields, FieldError{Field: "transmit_organisation", Message: "field.transmit.organisation"})
		} else if fe := checkText("transmit_organisation", in.TransmitOrganisation, false, MaxOrganisationLength); fe != nil {
			fields = append(fields, *fe)
		}
	case in.TransmitOrganisation != "":
		fields = append(fields, FieldError{Field: "transmit_organisation", Message: "field.transmit.organisation_other"})
	default:
		if _, ok := ctrl.PortabilityRecipient(in.TransmitTo); !ok {
			allowed := []string{}
			for _, p := range ctrl.PortabilityRecipients {
				allowed = append(allowed, p.Key)
			}
			fields = append(fields, FieldError{Field: "transmit_to", Message: "field.transmit.unknown",
				Params: map[string]any{"allowed": append(allowed, TransmitOther)}})
		}
	}
	return fields
}

// TransmitPayload is the payload of an OutboxTransmit item: which try it
// is (from 1).
type TransmitPayload struct {
	Attempt int `json:"attempt"`
}

// transmit starts the direct transmission the subject asked for as the
// case is completed: to a portability recipient, the package is sent now;
// to an organisation that is not set up, it is not feasible, and the
// completion mail says so.
func (ch *change) transmit() {
	t := &ch.r.Transmit
	*t = Transmission{To: t.To, Organisation: t.Organisation}
	if _, ok := ch.c.Controller.PortabilityRecipient(t.To); !ok {
		t.State = TransmitNotFeasible
		return
	}
	t.State = TransmitPending
	ch.queueTransmit(1, ch.env.Now)
}

// queueTransmit adds the outbox item of the try attempt at the time at.
func (ch *change) queueTransmit(attempt int, at time.Time) {
	payload, _ := json.Marshal(TransmitPayload{Attempt: attempt}) // an int always marshals
	ch.eff.Outbox = append(ch.eff.Outbox, &OutboxItem{ID: ch.env.NewID(), Kind: OutboxTransmit, RequestID: ch.r.ID, Payload: payload, RunAt: at})
}

// stopTransmit cancels a transmission not yet done, when the case is
// reopened: its next completion starts a new one.
func (ch *change) stopTransmit() {
	ch.eff.CancelKinds = append(ch.eff.CancelKinds, OutboxTransmit)
	ch.r.Transmit = Transmission{To: ch.r.Transmit.To, Organisation: ch.r.Transmit.Organisation}
}

// TransmissionID is the webhook-id of the uploads of a case's package: the
// same for every try of one assembly of the package, so that the
// recipient recognises a repeated upload, and new for a new assembly.
func TransmissionID(r *Request, f *ResultFile) string {
	assembly, _, _ := strings.Cut(strings.TrimPrefix(f.Key, ResultsBlobPrefix(r.ID)), "/")
	return "dsar_tx_" + r.ID + "_" + assembly
}

// TransmissionDue returns what a transmission of the case sends where,
// or why nothing is to be sent now (ECONFLICT: the case was reopened, the
// transmission ended, the package is gone). An error for a recipient the
// data map no longer has is EUNPROCESSABLE: the try fails for good.
func TransmissionDue(c *Case, now time.Time) (*PortabilityRecipient, *ResultFile, error) {
	r := c.Request
	if r.Type != TypePortability || r.Status != StatusCompleted || r.Transmit.State != TransmitPending {
		return nil, nil, &Error{Code: ECONFLICT, Message: "error.transmit.not_due"}
	}
	f, ok := r.Result(ResultPackage)
	if !ok || r.DownloadUntil == nil || !now.Before(*r.DownloadUntil) {
		return nil, nil, &Error{Code: ECONFLICT, Message: "error.transmit.not_due"}
	}
	p, ok := c.Controller.PortabilityRecipient(r.Transmit.To)
	if !ok {
		return nil, f, &Error{Code: EUNPROCESSABLE, Message: "error.transmit.not_configured"}
	}
	return p, f, nil
}

// TransmitResult is what became of one upload of the package.
type TransmitResult string

// The results of an upload.
const (
	TransmitDelivered TransmitResult = "delivered" // a 2xx: the recipient has it
	TransmitRetry     TransmitResult = "retry"     // a 5xx, a 429, a timeout or a network error: try again later
	TransmitRefused   TransmitResult = "refused"   // any other answer: trying again changes nothing
)

// TransmitResultOf is what the HTTP status of a recipient's answer means
// for an upload (0: no answer came, a timeout or a network error).
func TransmitResultOf(status int) TransmitResult {
	switch {
	case status >= 200 && status < 300:
		return TransmitDelivered
	case status == 0 || status == http.StatusTooManyRequests || status >= 500:
		return TransmitRetry
	}
	return TransmitRefused
}

// TransmitOutcome is what the worker reports of one upload.
type TransmitOutcome struct {
	Result TransmitResult
	// Status is the HTTP status of the answer (0: none came).
	Status int
	// SHA256 and Bytes are what was sent; Receipt is the recipient's
	// receipt, when it gave one.
	SHA256  string
	Bytes   int64
	Receipt string
	// Reason says in short why the upload failed, without personal data.
	Reason string
	// RetryAfter is the wait the recipient asked for (Retry-After).
	RetryAfter time.Duration
}

// The bounds of what is kept of a recipient's answer.
const (
	maxReceipt = 200
	// transmitBackoffKey makes the transmission's backoff jitter its own.
	transmitBackoffKey = "/transmit"
)

// RecordTransmission records the upload attempt of the case's package: a
// delivered package is audited and the subject told what went to whom;
// an upload to try again is planned after a backoff (honouring the
// recipient's Retry-After) while tries are left; a refused one, or the
// last try, fails the transmission: audited, the subject told it could not
// be sent and that the download stays open, and the case's officers
// alerted. A delivery to a case that moved on meanwhile (reopened) is only
// audited: it did happen. Other reports about such a case are ECONFLICT.
func RecordTransmission(env Env, c *Case, attempt int, o TransmitOutcome) (*Effect, error) {
	r := c.Request
	p, _, due := TransmissionDue(c, env.Now)
	if ErrorCode(due) == ECONFLICT {
		if o.Result != TransmitDelivered {
			return nil, due
		}
		ch := begin(env, c, ActorService)
		eff, err := ch.done(&Event{Kind: EventTransmitted, Data: transmittedData(r, c.Controller, attempt, o)})
		if err != nil {
			return nil, err
		}
		eff.Request = nil // the case itself does not change
		return eff, nil
	}
	ch := begin(env, c, ActorService)
	t := &ch.r.Transmit
	t.Attempts, t.Status = attempt, o.Status
	switch {
	case o.Result == TransmitDelivered:
		now := env.Now
		t.State, t.At, t.Receipt, t.SHA256, t.Bytes, t.Reason = TransmitSent, &now, truncate(o.Receipt, maxReceipt), o.SHA256, o.Bytes, ""
		ch.mail(MailPayload{Template: MailTransmitted})
		return ch.done(&Event{Kind: EventTransmitted, Data: transmittedData(r, c.Controller, attempt, o)})
	case o.Result == TransmitRetry && p != nil && attempt < p.MaxAttempts:
		t.Reason = truncate(o.Reason, maxAnswer)
		ch.queueTransmit(attempt+1, env.Now.Add(Backoff(r.ID+transmitBackoffKey, attempt, o.RetryAfter)))
		ch.r.UpdatedAt = env.Now
		ch.eff.Request = ch.r
		return ch.eff, nil
	}
	ch.failTransmit(truncate(o.Reason, maxAnswer))
	return ch.done(&Event{Kind: EventTransmissionFailed, Reason: t.Reason, Data: map[string]string{
		"recipient": t.To, "organisation": r.TransmitName(c.Controller), "status": strconv.Itoa(o.Status), "attempts": strconv.Itoa(attempt)}})
}

// failTransmit ends the transmission as failed: the subject is told the
// package could not be sent and can still be downloaded, and the case's
// officers are alerted.
func (ch *change) failTransmit(reason string) {
	now := ch.env.Now
	t := &ch.r.Transmit
	t.State, t.At, t.Reason = TransmitFailed, &now, reason
	ch.mail(MailPayload{Template: MailTransmissionFailed})
	ch.mail(MailPayload{Template: MailTransmissionAlert, To: RecipientController})
}

// transmittedData is the audit data of a delivered package.
func transmittedData(r *Request, ctrl *Controller, attempt int, o TransmitOutcome) map[string]string {
	d := map[string]string{"recipient": r.Transmit.To, "organisation": r.TransmitName(ctrl), "status": strconv.Itoa(o.Status),
		"sha256": o.SHA256, "bytes": strconv.FormatInt(o.Bytes, 10), "attempt": strconv.Itoa(attempt)}
	if o.Receipt != "" {
		d["receipt"] = truncate(o.Receipt, maxReceipt)
	}
	return d
}
