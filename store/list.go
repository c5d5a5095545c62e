package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

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
	if err != nil || c.Sort != sort || c.ID == "" {
		return c, dsar.Invalid(dsar.FieldError{Field: "cursor", Message: "field.cursor"})
	}
	return c, nil
}

var openStatuses = []string{
	string(dsar.StatusReceived), string(dsar.StatusAwaitingVerification),
	string(dsar.StatusInProgress), string(dsar.StatusAwaitingSubject),
}

// List returns one page of the requests the actor may see that match the
// filter, ordered by the sort key and then by ID, with keyset pagination.
func (s *Requests) List(ctx context.Context, actor dsar.Actor, f dsar.RequestFilter) (*dsar.RequestPage, error) {
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
			q = q.Where("status IN ? AND deadline < ?", openStatuses, now)
		} else {
			q = q.Where("NOT (status IN ? AND deadline < ?)", openStatuses, now)
		}
	}
	if f.NoticeBefore != nil {
		q = q.Where("extended = ? AND extension_notice_by < ?", false, f.NoticeBefore.String())
	}
	if f.Assignee != "" {
		q = q.Where("assignee = ?", f.Assignee)
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
	var rows []requestRow
	if err := q.Order(sk.column + dir).Order("id" + dir).Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	page := &dsar.RequestPage{}
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
	return page, nil
}
