package store

import (
	"encoding/json"
	"time"

	"github.com/dsar-project/dsar"
)

// requestRow is a row of the requests table.
type requestRow struct {
	ID                 string `gorm:"primaryKey"`
	Reference          string
	Type               string
	Status             string
	Controller         string
	Regulation         string
	Language           string
	Channel            string
	SubjectEmail       string
	SubjectName        string
	SubjectPhone       string
	SubjectCustomerID  string `gorm:"column:subject_customer_id"`
	Details            string
	ReceivedAt         time.Time
	DueDate            string
	Deadline           time.Time
	ExtensionNoticeBy  string
	AcknowledgeBy      string
	Extended           bool
	ExtensionReason    string
	PausedDays         int
	PausedAt           *time.Time
	StatusTokenHash    *string
	ClosedAt           *time.Time
	TimersFrom         *time.Time
	WakeAt             *time.Time
	VerifiedAt         *time.Time
	VerifiedBy         string
	VerificationMethod string
	DecisionGround     string
	DecisionText       string
	DecisionPartial    bool
	Kept               string
	Summary            string
	RefusedPart        string
	GrantedPart        string
	Objection          string
	Assignee           string
	DuplicateOf        string
	ApprovedAt         *time.Time
	ApprovedBy         string
	TasksEnded         bool
	SubjectRepliedAt   *time.Time
	// PersonalDataRemovedAt is when the records retention removed the
	// case's personal data.
	PersonalDataRemovedAt *time.Time
	AuditSeq              int64
	AuditHash             string
	CreatedBy             string
	CreatedAt             time.Time
	UpdatedAt             time.Time
	ResultsAt             *time.Time
	Results               string
	DownloadUntil         *time.Time
	Downloads             int
	// TransmitTo and TransmitOrganisation are where the subject asked the
	// portable package to go; Transmission how that stands (JSON of
	// transmissionJSON, "" before anything was tried).
	TransmitTo           string
	TransmitOrganisation string
	Transmission         string
	// Agent is the authorised agent as JSON, "" for none.
	Agent string
}

// transmissionJSON is how a transmission stands, as the store keeps it.
type transmissionJSON struct {
	State    dsar.TransmitState `json:"state"`
	Attempts int                `json:"attempts,omitempty"`
	Status   int                `json:"status,omitempty"`
	At       *time.Time         `json:"at,omitempty"`
	Receipt  string             `json:"receipt,omitempty"`
	SHA256   string             `json:"sha256,omitempty"`
	Bytes    int64              `json:"bytes,omitempty"`
	Reason   string             `json:"reason,omitempty"`
}

func (requestRow) TableName() string { return "requests" }

// toDomain converts the row, presenting instants in the controller's zone.
func (r *requestRow) toDomain(loc *time.Location) *dsar.Request {
	if loc == nil {
		loc = time.UTC
	}
	parse := func(s string) dsar.Date {
		if s == "" {
			return dsar.Date{}
		}
		d, _ := dsar.ParseDate(s) // written by us as YYYY-MM-DD
		return d
	}
	out := &dsar.Request{
		ID: r.ID, Reference: r.Reference, Type: dsar.RequestType(r.Type), Status: dsar.Status(r.Status),
		Controller: r.Controller, Regulation: dsar.Regulation(r.Regulation), Language: dsar.Language(r.Language),
		Channel: dsar.Channel(r.Channel),
		Subject: dsar.Subject{Email: r.SubjectEmail, Name: r.SubjectName, Phone: r.SubjectPhone, CustomerID: r.SubjectCustomerID},
		Details: r.Details, ReceivedAt: r.ReceivedAt.In(loc), DueDate: parse(r.DueDate), Deadline: r.Deadline.In(loc),
		ExtensionNoticeBy: parse(r.ExtensionNoticeBy), AcknowledgeBy: parse(r.AcknowledgeBy),
		Extended: r.Extended, ExtensionReason: r.ExtensionReason, PausedDays: r.PausedDays,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.In(loc), UpdatedAt: r.UpdatedAt.In(loc),
	}
	in := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		l := t.In(loc)
		return &l
	}
	out.PausedAt, out.ClosedAt, out.VerifiedAt, out.WakeAt = in(r.PausedAt), in(r.ClosedAt), in(r.VerifiedAt), in(r.WakeAt)
	if r.TimersFrom != nil {
		out.TimersFrom = r.TimersFrom.In(loc)
	}
	out.VerifiedBy, out.VerificationMethod, out.Assignee, out.DuplicateOf = r.VerifiedBy, r.VerificationMethod, r.Assignee, r.DuplicateOf
	out.ApprovedAt, out.ApprovedBy, out.SubjectRepliedAt = in(r.ApprovedAt), r.ApprovedBy, in(r.SubjectRepliedAt)
	out.TasksEnded, out.PersonalDataRemovedAt = r.TasksEnded, in(r.PersonalDataRemovedAt)
	out.ResultsAt, out.DownloadUntil, out.Downloads = in(r.ResultsAt), in(r.DownloadUntil), r.Downloads
	if r.Results != "" {
		_ = json.Unmarshal([]byte(r.Results), &out.Results) // written by the store
	}
	if r.Agent != "" {
		out.Agent = new(dsar.Agent)
		_ = json.Unmarshal([]byte(r.Agent), out.Agent) // written by the store
	}
	out.Objection = dsar.ObjectionKind(r.Objection)
	out.Transmit = dsar.Transmission{To: r.TransmitTo, Organisation: r.TransmitOrganisation}
	if r.Transmission != "" {
		var t transmissionJSON
		_ = json.Unmarshal([]byte(r.Transmission), &t) // written by the store
		out.Transmit.State, out.Transmit.Attempts, out.Transmit.Status, out.Transmit.At = t.State, t.Attempts, t.Status, in(t.At)
		out.Transmit.Receipt, out.Transmit.SHA256, out.Transmit.Bytes, out.Transmit.Reason = t.Receipt, t.SHA256, t.Bytes, t.Reason
	}
	out.Decision = dsar.Decision{Ground: dsar.Ground(r.DecisionGround), Text: r.DecisionText, Partial: r.DecisionPartial,
		Summary: r.Summary, Part: r.RefusedPart, Granted: r.GrantedPart}
	if r.Kept != "" && r.Kept != "[]" {
		_ = json.Unmarshal([]byte(r.Kept), &out.Decision.Kept) // written by the store
	}
	return out
}

// utc returns t in UTC, nil for nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// set copies the state a case operation decided into the row; the row's
// own bookkeeping (status token hash, audit chain head, reference,
// duplicate link) stays.
func (r *requestRow) set(q *dsar.Request) {
	r.Type, r.Status, r.Controller, r.Regulation = string(q.Type), string(q.Status), q.Controller, string(q.Regulation)
	r.Language, r.Channel, r.Details, r.Objection = string(q.Language), string(q.Channel), q.Details, string(q.Objection)
	r.SubjectEmail, r.SubjectName, r.SubjectPhone, r.SubjectCustomerID = q.Subject.Email, q.Subject.Name, q.Subject.Phone, q.Subject.CustomerID
	r.ReceivedAt, r.DueDate, r.Deadline = q.ReceivedAt.UTC().Truncate(time.Microsecond), q.DueDate.String(), q.Deadline.UTC()
	r.ExtensionNoticeBy, r.AcknowledgeBy = q.ExtensionNoticeBy.String(), q.AcknowledgeBy.String()
	r.Extended, r.ExtensionReason, r.PausedDays, r.PausedAt = q.Extended, q.ExtensionReason, q.PausedDays, utc(q.PausedAt)
	r.ClosedAt, r.VerifiedAt, r.VerifiedBy, r.VerificationMethod = utc(q.ClosedAt), utc(q.VerifiedAt), q.VerifiedBy, q.VerificationMethod
	d := q.Decision
	r.DecisionGround, r.DecisionText, r.DecisionPartial, r.Summary = string(d.Ground), d.Text, d.Partial, d.Summary
	r.RefusedPart, r.GrantedPart, r.Kept = d.Part, d.Granted, "[]"
	if len(d.Kept) > 0 {
		b, _ := json.Marshal(d.Kept) // strings only
		r.Kept = string(b)
	}
	r.Assignee, r.ApprovedAt, r.ApprovedBy, r.SubjectRepliedAt = q.Assignee, utc(q.ApprovedAt), q.ApprovedBy, utc(q.SubjectRepliedAt)
	r.TasksEnded, r.PersonalDataRemovedAt = q.TasksEnded, utc(q.PersonalDataRemovedAt)
	r.ResultsAt, r.DownloadUntil, r.Downloads, r.Results = utc(q.ResultsAt), utc(q.DownloadUntil), q.Downloads, ""
	if len(q.Results) > 0 {
		b, _ := json.Marshal(q.Results) // strings and numbers only
		r.Results = string(b)
	}
	t := q.Transmit
	r.TransmitTo, r.TransmitOrganisation, r.Transmission = t.To, t.Organisation, ""
	if t.State != "" {
		b, _ := json.Marshal(transmissionJSON{State: t.State, Attempts: t.Attempts, Status: t.Status, At: utc(t.At),
			Receipt: t.Receipt, SHA256: t.SHA256, Bytes: t.Bytes, Reason: t.Reason}) // strings and numbers only
		r.Transmission = string(b)
	}
	r.Agent = ""
	if q.Agent != nil {
		b, _ := json.Marshal(q.Agent) // strings and a bool
		r.Agent = string(b)
	}
	r.WakeAt, r.TimersFrom = utc(q.WakeAt), nil
	if !q.TimersFrom.IsZero() {
		r.TimersFrom = utc(&q.TimersFrom)
	}
	r.CreatedBy, r.CreatedAt, r.UpdatedAt = q.CreatedBy, q.CreatedAt.UTC(), q.UpdatedAt.UTC()
}

// eventRow is a row of the append-only request_events table.
type eventRow struct {
	ID         int64 `gorm:"primaryKey"`
	RequestID  string
	At         time.Time
	Actor      string
	Kind       string
	FromStatus string
	ToStatus   string
	Reason     string
	Data       string
	ClientIP   string `gorm:"column:client_ip"`
	// Seq, PrevHash and Hash link the event into the audit chain; nil for
	// events written before the chain began (migration 00005).
	Seq      *int64
	PrevHash *string
	Hash     *string
	// Redacted marks an event whose personal data the records retention
	// removed (dsar.RedactEvent): its hash is checked against the seal of
	// the removal's event instead.
	Redacted bool
}

func (eventRow) TableName() string { return "request_events" }

func newEventRow(ev *dsar.Event) (*eventRow, error) {
	data := "{}"
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return nil, err
		}
		data = string(b)
	}
	return &eventRow{
		RequestID: ev.RequestID, At: ev.At.UTC().Truncate(time.Microsecond), Actor: ev.Actor, Kind: string(ev.Kind),
		FromStatus: string(ev.From), ToStatus: string(ev.To), Reason: ev.Reason, Data: data, ClientIP: ev.ClientIP,
	}, nil
}

func (r *eventRow) toDomain() *dsar.Event {
	ev := &dsar.Event{
		ID: r.ID, RequestID: r.RequestID, At: r.At.UTC(), Actor: r.Actor, Kind: dsar.EventKind(r.Kind),
		From: dsar.Status(r.FromStatus), To: dsar.Status(r.ToStatus), Reason: r.Reason, ClientIP: r.ClientIP,
	}
	if r.Data != "" && r.Data != "{}" {
		_ = json.Unmarshal([]byte(r.Data), &ev.Data) // written by newEventRow
	}
	if r.Seq != nil {
		ev.Seq = *r.Seq
	}
	if r.PrevHash != nil {
		ev.PrevHash = *r.PrevHash
	}
	if r.Hash != nil {
		ev.Hash = *r.Hash
	}
	return ev
}

// pauseRow is a row of request_pauses.
type pauseRow struct {
	ID           int64 `gorm:"primaryKey"`
	RequestID    string
	Reason       string
	Note         string
	ClockStopped bool
	StartedAt    time.Time
	EndedAt      *time.Time
	Days         int
}

func (pauseRow) TableName() string { return "request_pauses" }

// outboxRow is a row of the outbox table.
type outboxRow struct {
	ID         string `gorm:"primaryKey"`
	Kind       string
	RequestID  *string
	Payload    string
	RunAt      time.Time
	Status     string
	Attempts   int
	EnqueuedAt *time.Time
	LeaseUntil *time.Time
	DoneAt     *time.Time
	LastError  string
	CreatedAt  time.Time
}

func (outboxRow) TableName() string { return "outbox" }

func (r *outboxRow) toDomain() *dsar.OutboxItem {
	it := &dsar.OutboxItem{
		ID: r.ID, Kind: dsar.OutboxKind(r.Kind), Payload: []byte(r.Payload), RunAt: r.RunAt.UTC(),
		Status: r.Status, Attempts: r.Attempts, EnqueuedAt: r.EnqueuedAt, LeaseUntil: r.LeaseUntil,
		LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.RequestID != nil {
		it.RequestID = *r.RequestID
	}
	return it
}

func newOutboxRow(it *dsar.OutboxItem, now time.Time) *outboxRow {
	row := &outboxRow{
		ID: it.ID, Kind: string(it.Kind), Payload: string(it.Payload), RunAt: it.RunAt.UTC(),
		Status: dsar.OutboxPending, CreatedAt: now,
	}
	if row.Payload == "" {
		row.Payload = "{}"
	}
	if it.RequestID != "" {
		id := it.RequestID
		row.RequestID = &id
	}
	return row
}

// apiKeyRow is a row of api_keys.
type apiKeyRow struct {
	ID          string `gorm:"primaryKey"`
	Name        string
	Role        string
	Controllers string
	// Scopes is comma-separated; "" for a key without scopes.
	Scopes     string
	SecretHash string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

// verificationRow is a row of verifications.
type verificationRow struct {
	ID        string `gorm:"primaryKey"`
	RequestID string
	TokenHash string
	CodeHash  string
	Status    string
	Attempts  int
	ExpiresAt time.Time
	CreatedAt time.Time
	UsedAt    *time.Time
}

func (verificationRow) TableName() string { return "verifications" }

func (v *verificationRow) toDomain() dsar.Verification {
	return dsar.Verification{ID: v.ID, State: dsar.VerificationState(v.Status), Attempts: v.Attempts, ExpiresAt: v.ExpiresAt}
}

// messageRow is a row of request_messages.
type messageRow struct {
	ID          string `gorm:"primaryKey"`
	RequestID   string
	FromSubject bool
	Kind        string
	Author      string
	Body        string
	CreatedAt   time.Time
}

func (messageRow) TableName() string { return "request_messages" }

func (m *messageRow) toDomain() *dsar.Message {
	return &dsar.Message{ID: m.ID, RequestID: m.RequestID, FromSubject: m.FromSubject, Kind: dsar.MessageKind(m.Kind),
		Author: m.Author, Body: m.Body, CreatedAt: m.CreatedAt.UTC()}
}

// documentRow is a row of identity_documents.
type documentRow struct {
	ID          string `gorm:"primaryKey"`
	RequestID   string
	FileName    string
	ContentType string
	Sealed      []byte
	CreatedAt   time.Time
}

func (documentRow) TableName() string { return "identity_documents" }
