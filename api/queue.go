package api

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// queueFilter reads the queue's filter form into the form's values and the
// store's filter.
func (s *Server) queueFilter(c echo.Context, u *dsar.User) (templates.QueueFilter, dsar.RequestFilter) {
	q := c.QueryParams()
	v := templates.QueueFilter{Controller: q.Get("controller"), Type: q.Get("type"), Status: q.Get("status"),
		Search: strings.TrimSpace(q.Get("q")), Overdue: q.Get("overdue") != "", Mine: q.Get("mine") != "", Notice: q.Get("notice") != "",
		Assignee: q.Get("assignee"), Approval: q.Get("approval"), Tasks: q.Get("tasks")}
	// A tasks value other than dsar.TasksFailing is a bad filter (400).
	f := dsar.RequestFilter{Status: dsar.OpenStatuses, Search: v.Search, Cursor: q.Get("cursor"), Limit: 50, Sort: q.Get("sort"), Tasks: v.Tasks}
	if v.Controller != "" {
		f.Controller = []string{v.Controller}
	}
	if dsar.RequestType(v.Type).Valid() {
		f.Type = []dsar.RequestType{dsar.RequestType(v.Type)}
	}
	if st := dsar.Status(v.Status); st.Valid() {
		f.Status = []dsar.Status{st}
	}
	if v.Overdue {
		yes := true
		f.Overdue = &yes
	}
	f.Assignee = v.Assignee
	if v.Mine {
		f.Assignee = u.ID
	}
	switch v.Approval {
	case "pending":
		no := false
		f.Approved, f.Status = &no, []dsar.Status{dsar.StatusInProgress}
	case "approved":
		yes := true
		f.Approved = &yes
	}
	if v.Notice {
		// The extension, if one is needed, must be announced within a week.
		d := dsar.DateOf(s.cfg.Clock.Now()).AddDays(8)
		f.NoticeBefore = &d
	}
	return v, f
}

// queuePage lists the open cases the officer may see, most urgent first,
// filtered as the form says. A bad filter comes back as the form with its
// message (400).
func (s *Server) queuePage(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	v, f := s.queueFilter(c, u)
	f.Count = true
	page, err := s.cfg.Requests.List(c.Request().Context(), actorOf(c), f)
	badMsg, bad := badFilter(err, languageOf(c))
	if err != nil && !bad {
		return s.pageError(c, err)
	}
	now := s.cfg.Clock.Now()
	workers, err := s.workers(c, u.Controllers)
	if err != nil {
		return s.pageError(c, err)
	}
	data := templates.QueuePage{Page: s.page(c, nil, "page.queue.title"), Filter: v,
		Types: dsar.RequestTypes, Statuses: dsar.OpenStatuses, Controllers: u.Controllers, Workers: workers}
	if len(data.Controllers) == 0 {
		for _, ct := range s.cfg.Controllers.All() {
			data.Controllers = append(data.Controllers, ct.Key)
		}
	}
	query := c.QueryParams()
	query.Del("cursor")
	data.CSV = "/queue.csv?" + query.Encode()
	if u.Role == dsar.RoleAdmin || u.Role == dsar.RoleOfficer {
		data.Bulk = "/queue/bulk?" + query.Encode()
	}
	if n := c.QueryParam("done"); n != "" {
		data.Notice = templates.T(data.Lang, "page.queue.bulk_done", map[string]any{"count": n})
	}
	if bad {
		data.Error = badMsg
		return s.render(c, http.StatusBadRequest, "queue", data)
	}
	email := map[string]string{}
	for _, w := range workers {
		email[w.ID] = w.Email
	}
	for _, r := range page.Requests {
		loc := r.Deadline.Location()
		today := dsar.DateOf(now.In(loc))
		data.Rows = append(data.Rows, templates.QueueRow{ID: r.ID, Reference: r.Reference, Controller: r.Controller, Type: r.Type, Status: r.Status,
			Received: dsar.DateOf(r.ReceivedAt.In(loc)).String(), DueDate: r.DueDate.String(), DaysLeft: r.DueDate.Sub(today), Overdue: r.Overdue(now),
			Assignee: email[r.Assignee], Assigned: r.Assignee != "", Duplicate: r.DuplicateOf != "", Approved: r.ApprovedAt != nil,
			Replied: r.SubjectRepliedAt != nil, Tasks: r.Progress})
	}
	sorted := c.QueryParams()
	sorted.Del("cursor")
	data.Sort = sorted.Get("sort")
	for _, o := range []struct {
		to   *string
		sort string
	}{{&data.SortDue, "deadline"}, {&data.SortReceived, "received_at"}} {
		sorted.Set("sort", o.sort)
		if data.Sort == o.sort {
			sorted.Set("sort", "-"+o.sort)
		}
		*o.to = "/queue?" + sorted.Encode()
	}
	data.Total = page.Total
	if page.NextCursor != "" {
		query.Set("cursor", page.NextCursor)
		data.NextPage = "/queue?" + query.Encode()
	}
	return s.render(c, http.StatusOK, "queue", data)
}

// MaxBulk bounds how many cases one bulk action changes.
const MaxBulk = 500

// bulkActions maps the queue's bulk actions to the domain's.
var bulkActions = map[string]dsar.Action{"assign_me": dsar.ActionAssign, "approve": dsar.ActionApprove, "note": dsar.ActionNote}

// queueBulk applies one action (assign to me, approve for execution, or a
// note) to the cases of the filter (at most MaxBulk) that the domain lets
// the officer take it on, each as its own audited change. The first post
// shows how many and which cases it will change and asks to confirm; the
// confirmation carries it out and comes back to the queue with the count.
func (s *Server) queueBulk(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	_, f := s.queueFilter(c, u)
	f.Limit, f.Cursor = MaxBulk, ""
	ctx, a := c.Request().Context(), actorOf(c)
	if a.Role != dsar.RoleAdmin && a.Role != dsar.RoleOfficer {
		return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
	}
	action, body := c.FormValue("action"), c.FormValue("body")
	want, ok := bulkActions[action]
	if !ok {
		return s.errorPage(c, http.StatusBadRequest, "error.invalid")
	}
	if action == "note" {
		if err := dsar.ValidateReason("body", body); err != nil {
			return s.pageError(c, err)
		}
	}
	page, err := s.cfg.Requests.List(ctx, a, f)
	if err != nil {
		return s.pageError(c, err)
	}
	var fits []*dsar.Request
	for _, r := range page.Requests {
		acts, err := s.cfg.Cases.Actions(ctx, a, r.ID)
		if err != nil {
			return s.pageError(c, err)
		}
		if slices.Contains(acts, want) && !(action == "assign_me" && r.Assignee == u.ID) {
			fits = append(fits, r)
		}
	}
	q := c.QueryParams()
	if c.FormValue("confirm") != "yes" {
		data := templates.BulkPage{Page: s.page(c, nil, "page.bulk.title"), Action: action, Body: body,
			Skipped: len(page.Requests) - len(fits), Confirm: "/queue/bulk?" + q.Encode(), Back: "/queue?" + q.Encode()}
		for _, r := range fits {
			data.Cases = append(data.Cases, templates.QueueRow{ID: r.ID, Reference: r.Reference, Controller: r.Controller,
				Type: r.Type, Status: r.Status, DueDate: r.DueDate.String()})
		}
		return s.render(c, http.StatusOK, "bulk", data)
	}
	done := 0
	for _, r := range fits {
		switch action {
		case "assign_me":
			_, err = s.cfg.Cases.Assign(ctx, a, r.ID, u.ID)
		case "approve":
			_, err = s.cfg.Cases.Approve(ctx, a, r.ID, body, nil)
		default:
			_, err = s.cfg.Cases.Note(ctx, a, r.ID, body)
		}
		if dsar.ErrorCode(err) == dsar.EFORBIDDEN || dsar.ErrorCode(err) == dsar.ECONFLICT {
			continue // an auditor, a case that closed meanwhile, one not to approve
		}
		if err != nil {
			return s.pageError(c, err)
		}
		done++
	}
	q.Set("done", strconv.Itoa(done))
	return c.Redirect(http.StatusSeeOther, "/queue?"+q.Encode())
}

// MaxCSVRows bounds a CSV export of the queue.
const MaxCSVRows = 100_000

// queueCSV exports the current filter as CSV, page by page. The first page
// is read before anything is written, so that a bad filter or a failing
// database is an error page with its status, not an empty file.
func (s *Server) queueCSV(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	_, f := s.queueFilter(c, u)
	f.Limit, f.Cursor = 500, ""
	ctx, a := c.Request().Context(), actorOf(c)
	page, err := s.cfg.Requests.List(ctx, a, f)
	if msg, bad := badFilter(err, languageOf(c)); bad {
		p := s.page(c, nil, "page.error.title")
		return s.render(c, http.StatusBadRequest, "error", templates.ErrorPage{Page: p, Message: msg, Status: http.StatusBadRequest})
	}
	if err != nil {
		return s.pageError(c, err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="queue.csv"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"reference", "controller", "type", "status", "regulation", "received_at", "due_date", "deadline", "extended", "assignee", "approved_at", "subject_email"})
	rows := 0
	for {
		for _, r := range page.Requests {
			_ = w.Write([]string{r.Reference, r.Controller, string(r.Type), string(r.Status), string(r.Regulation),
				r.ReceivedAt.Format(time.RFC3339), r.DueDate.String(), r.Deadline.Format(time.RFC3339),
				strconv.FormatBool(r.Extended), r.Assignee, approvedAt(r), csvSafe(r.Subject.Email)})
			rows++
		}
		if page.NextCursor == "" || rows >= MaxCSVRows {
			break
		}
		f.Cursor = page.NextCursor
		if page, err = s.cfg.Requests.List(ctx, a, f); err != nil {
			// The status is out: the client sees a cut file, and the
			// error handler, with nothing left to answer, says nothing.
			s.cfg.Log.Error("queue csv cut short", "err", err)
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsAny(v[:1], "=+-@\t\r") {
		return "'" + v
	}
	return v
}

// approvedAt is when the case was approved for execution, or "".
func approvedAt(r *dsar.Request) string {
	if r.ApprovedAt == nil {
		return ""
	}
	return r.ApprovedAt.Format(time.RFC3339)
}
