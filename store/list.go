package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// Listing limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// sortKeys maps the accepted sort orders to their column and direction.
var sortKeys = map[string]struct {
	column string
	desc   bool
}{
	"deadline":     {"deadline", false},
	"-deadline":    {"deadline", true},
	"received_at":  {"received_at", false},
	"-received_at": {"received_at", true},
}

// SortOrders lists the accepted values of RequestFilter.Sort.
func SortOrders() []string { return []string{"deadline", "-deadline", "received_at", "-received_at"} }

// cursor is the position after the last row of a page: the sort key's value
// and the row's ID, which breaks ties.
type cursor struct {
	Sort string    `json:"s"`
	At   time.Time `json:"t"`
	ID   string    `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Sort != sort || c.ID == "" || !dsar.PlainText(c.ID, false) {
		return c, dsar.Invalid(dsar.FieldError{Field: "cursor", Message: "field.cursor"})
	}
	return c, nil
}

// List returns one page of the requests the actor may see that match the
// filter, ordered by the sort key and then by ID, with keyset pagination.
func (s *Requests) List(ctx context.Context, actor dsar.Actor, f dsar.RequestFilter) (*dsar.RequestPage, error) {
	if err := dsar.ValidateRequestFilter(f); err != nil {
		return nil, err
	}
	if f.Sort == "" {
		f.Sort = "deadline"
	}
	sk, ok := sortKeys[f.Sort]
	if !ok {
		return nil, dsar.Invalid(dsar.FieldError{Field: "sort", Message: "field.enum", Params: map[string]any{"allowed": SortOrders()}})
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	f.Limit = min(f.Limit, MaxListLimit)

	q := s.db.gorm.WithContext(ctx).Model(&requestRow{})
	controllers := f.Controller
	if len(actor.Controllers) > 0 {
		if len(controllers) == 0 {
			controllers = actor.Controllers
		} else {
			controllers = slices.DeleteFunc(slices.Clone(controllers), func(c string) bool { return !slices.Contains(actor.Controllers, c) })
			if len(controllers) == 0 {
				return &dsar.RequestPage{}, nil
			}
		}
	} else if actor.Role != dsar.RoleAdmin {
		return &dsar.RequestPage{}, nil
	}
	if len(controllers) > 0 {
		q = q.Where("controller IN ?", controllers)
	}
	if len(f.Status) > 0 {
		q = q.Where("status IN ?", f.Status)
	}
	if len(f.Type) > 0 {
		q = q.Where("type IN ?", f.Type)
	}
	now := s.db.now()
	if f.Overdue != nil {
		if *f.Overdue {
			q = q.Where("status IN ? AND deadline < ?", dsar.OpenStatuses, now)
		} else {
			q = q.Where("NOT (status IN ? AND deadline < ?)", dsar.OpenStatuses, now)
		}
	}
	if f.NoticeBefore != nil {
		q = q.Where("extended = ? AND extension_notice_by < ?", false, f.NoticeBefore.String())
	}
	switch f.Assignee {
	case "":
	case dsar.Unassigned:
		q = q.Where("assignee = ?", "")
	default:
		q = q.Where("assignee = ?", f.Assignee)
	}
	if f.Approved != nil {
		if *f.Approved {
			q = q.Where("approved_at IS NOT NULL")
		} else {
			q = q.Where("approved_at IS NULL")
		}
	}
	if f.Tasks == dsar.TasksFailing {
		q = failingTasks(q, now)
	}
	if search := strings.TrimSpace(f.Search); search != "" {
		q = q.Where("reference = ? OR subject_email = ?", strings.ToUpper(search), strings.ToLower(search))
	}
	if f.DueBefore != nil {
		q = q.Where("due_date < ?", f.DueBefore.String())
	}
	if f.DueAfter != nil {
		q = q.Where("due_date > ?", f.DueAfter.String())
	}
	total := -1
	if f.Count {
		var n int64
		if err := q.Session(&gorm.Session{}).Count(&n).Error; err != nil {
			return nil, mapErr(err)
		}
		total = int(n)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, f.Sort)
		if err != nil {
			return nil, err
		}
		op := ">"
		if sk.desc {
			op = "<"
		}
		q = q.Where("("+sk.column+", id) "+op+" (?, ?)", c.At.UTC(), c.ID)
	}
	dir := " ASC"
	if sk.desc {
		dir = " DESC"
	}
	rows, err := s.scanList(ctx, q.Select(listColumns).Order(sk.column+dir).Order("id"+dir).Limit(f.Limit+1), f.Limit+1)
	if err != nil {
		return nil, mapErr(err)
	}
	page := &dsar.RequestPage{Total: total}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		at := last.Deadline
		if sk.column == "received_at" {
			at = last.ReceivedAt
		}
		page.NextCursor = cursor{Sort: f.Sort, At: at, ID: last.ID}.encode()
	}
	page.Requests = make([]*dsar.Request, len(rows))
	for i := range rows {
		page.Requests[i] = rows[i].toDomain(s.location(rows[i].Controller))
	}
	if err := s.db.withProgress(s.db.gorm.WithContext(ctx), page.Requests...); err != nil {
		return nil, mapErr(err)
	}
	return page, nil
}

// listColumns are the columns a listing reads, in the order of
// requestRow.listFields. The status token's hash and the audit chain's head
// stay in the database.
var listColumns = []string{
	"id", "reference", "type", "status", "controller", "regulation", "language", "channel",
	"subject_email", "subject_name", "subject_phone", "subject_customer_id", "details",
	"received_at", "due_date", "deadline", "extension_notice_by", "acknowledge_by", "extended", "extension_reason",
	"paused_days", "paused_at", "closed_at", "timers_from", "wake_at", "verified_at", "verified_by", "verification_method",
	"decision_ground", "decision_text", "decision_partial", "kept", "summary", "refused_part", "granted_part", "objection", "assignee", "duplicate_of", "approved_at", "approved_by", "tasks_ended",
	"subject_replied_at", "created_by", "created_at", "updated_at",
}

// listFields are the scan destinations of listColumns.
func (r *requestRow) listFields() []any {
	return []any{
		&r.ID, &r.Reference, &r.Type, &r.Status, &r.Controller, &r.Regulation, &r.Language, &r.Channel,
		&r.SubjectEmail, &r.SubjectName, &r.SubjectPhone, &r.SubjectCustomerID, &r.Details,
		&r.ReceivedAt, &r.DueDate, &r.Deadline, &r.ExtensionNoticeBy, &r.AcknowledgeBy, &r.Extended, &r.ExtensionReason,
		&r.PausedDays, &r.PausedAt, &r.ClosedAt, &r.TimersFrom, &r.WakeAt, &r.VerifiedAt, &r.VerifiedBy, &r.VerificationMethod,
		&r.DecisionGround, &r.DecisionText, &r.DecisionPartial, &r.Kept, &r.Summary, &r.RefusedPart, &r.GrantedPart, &r.Objection, &r.Assignee, &r.DuplicateOf, &r.ApprovedAt, &r.ApprovedBy, &r.TasksEnded,
		&r.SubjectRepliedAt, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt,
	}
}

// rowScanner is what pgx.Rows and *sql.Rows have in common.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanList runs the listing query q (which selects listColumns) and scans
// its rows by position. The queue is the officers' busiest read: on
// Postgres it runs on the pgx connection itself, without database/sql's and
// gorm's per-value reflection, which took most of the handler's time
// (cmd/loadgen/queue_bench.sh).
func (s *Requests) scanList(ctx context.Context, q *gorm.DB, capacity int) ([]requestRow, error) {
	rows := make([]requestRow, 0, capacity)
	scan := func(rs rowScanner) error {
		var row requestRow
		dest := row.listFields()
		for rs.Next() {
			row = requestRow{} // no NULL may leave a value of the row before
			if err := rs.Scan(dest...); err != nil {
				return err
			}
			rows = append(rows, row)
		}
		return rs.Err()
	}
	if s.db.Dialect != Postgres {
		rs, err := q.Rows()
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		return rows, scan(rs)
	}
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(&[]requestRow{}).Statement
	conn, err := s.db.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("list: the postgres connection is a %T, not pgx", dc)
		}
		rs, err := sc.Conn().Query(ctx, stmt.SQL.String(), stmt.Vars...)
		if err != nil {
			return err
		}
		defer rs.Close()
		return scan(rs)
	})
	return rows, err
}
