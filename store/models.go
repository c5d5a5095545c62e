package store

import (
	"encoding/json"
	"time"

	"github.com/dsar-project/dsar"
)

// requestRow is a row of the requests table.
type requestRow struct {
	ID                string `gorm:"primaryKey"`
	Reference         string
	Type              string
	Status            string
	Controller        string
	Regulation        string
	Language          string
	Channel           string
	SubjectEmail      string
	SubjectName       string
	SubjectPhone      string
	SubjectCustomerID string `gorm:"column:subject_customer_id"`
	Details           string
	ReceivedAt        time.Time
	DueDate           string
	Deadline          time.Time
	ExtensionNoticeBy string
	AcknowledgeBy     string
	Extended          bool
	ExtensionReason   string
	PausedDays        int
	PausedAt          *time.Time
	CreatedBy         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (requestRow) TableName() string { return "requests" }

// toDomain converts the row, presenting instants in the controller's zone.
func (r *requestRow) toDomain(loc *time.Location) *dsar.Request {
	if loc == nil {
		loc = time.UTC
	}
	parse := func(s string) dsar.Date {
		d, _ := dsar.ParseDate(s) // written by us as YYYY-MM-DD or empty
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
	if r.PausedAt != nil {
		t := r.PausedAt.In(loc)
		out.PausedAt = &t
	}
	return out
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
		RequestID: ev.RequestID, At: ev.At.UTC(), Actor: ev.Actor, Kind: string(ev.Kind),
		FromStatus: string(ev.From), ToStatus: string(ev.To), Reason: ev.Reason, Data: data,
	}, nil
}

func (r *eventRow) toDomain() *dsar.Event {
	ev := &dsar.Event{
		ID: r.ID, RequestID: r.RequestID, At: r.At.UTC(), Actor: r.Actor, Kind: dsar.EventKind(r.Kind),
		From: dsar.Status(r.FromStatus), To: dsar.Status(r.ToStatus), Reason: r.Reason,
	}
	if r.Data != "" && r.Data != "{}" {
		_ = json.Unmarshal([]byte(r.Data), &ev.Data) // written by newEventRow
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
	SecretHash  string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }
