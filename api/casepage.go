package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// casePage shows one case to an officer or auditor of its controller.
func (s *Server) casePage(c echo.Context) error { return s.showCase(c, http.StatusOK, "") }

func (s *Server) showCase(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	r, err := s.cfg.Requests.Get(ctx, a, c.Param("id"))
	if err != nil {
		return s.pageError(c, err)
	}
	evs, err := s.cfg.Requests.Events(ctx, a, r.ID)
	if err != nil {
		return s.pageError(c, err)
	}
	msgs, err := s.cfg.Cases.Messages(ctx, a, r.ID)
	if err != nil {
		return s.pageError(c, err)
	}
	now := s.cfg.Clock.Now()
	loc := r.Deadline.Location()
	p := s.page(c, nil, "page.queue.title")
	data := templates.CasePage{Page: p, ID: r.ID, Reference: r.Reference, Controller: r.Controller, Type: r.Type, Status: r.Status,
		Regulation: r.Regulation, SubjectEmail: r.Subject.Email, SubjectName: r.Subject.Name, Language: r.Language,
		SubjectIDs: strings.Join(slices.DeleteFunc([]string{r.Subject.CustomerID, r.Subject.Phone}, func(s string) bool { return s == "" }), " · "), Details: r.Details, ReceivedAt: r.ReceivedAt,
		DueDate: r.DueDate.String(), ExtensionNoticeBy: r.ExtensionNoticeBy.String(), DaysLeft: r.DueDate.Sub(dsar.DateOf(now.In(loc))),
		Overdue: r.Overdue(now), Extended: r.Extended, Paused: r.PausedAt != nil, Objection: r.Objection,
		Grounds: dsar.GroundsFor(r.Type, r.Objection), Error: errMsg, DuplicateOf: r.DuplicateOf, CopiesGiven: r.CopiesGiven, Agent: r.Agent}
	ctrl, _ := s.cfg.Controllers.Get(r.Controller)
	data.Transmission = transmissionView(r, ctrl)
	if data.Actions, err = s.cfg.Cases.Actions(ctx, a, r.ID); err != nil {
		return s.pageError(c, err)
	}
	if r.VerifiedAt != nil {
		data.Verification = r.VerifiedBy + ", " + r.VerificationMethod
	}
	workers, err := s.workers(c, []string{r.Controller})
	if err != nil {
		return s.pageError(c, err)
	}
	// who names a user by e-mail where the case's people are known.
	who := func(actor string) string {
		for _, w := range workers {
			if actor == "user:"+w.ID {
				return w.Email
			}
		}
		return actor
	}
	if data.Can(string(dsar.ActionAssign)) {
		data.Workers = workers
	}
	if a.CanChange(r.Controller) {
		docs, err := s.cfg.Cases.Documents(ctx, a, r.ID)
		if err != nil {
			return s.pageError(c, err)
		}
		for _, d := range docs {
			data.Documents = append(data.Documents, templates.DocumentItem{ID: d.ID, FileName: d.FileName, Size: len(d.Data), At: d.CreatedAt.In(loc)})
		}
	}
	if r.Assignee != "" {
		data.AssigneeID, data.Assignee = r.Assignee, who("user:"+r.Assignee)
		data.AssignedToMe = r.Assignee == c.Get(userKey).(*dsar.User).ID
	}
	if r.ApprovedAt != nil {
		data.ApprovedBy, data.ApprovedAt = who(r.ApprovedBy), r.ApprovedAt.In(loc)
	}
	if err := s.caseSystems(c, &data, r, now); err != nil {
		return s.pageError(c, err)
	}
	if c.QueryParam("notice") == "done" && errMsg == "" {
		data.Notice = templates.T(p.Lang, "page.case.done", nil)
	}
	for _, ev := range evs {
		item := templates.CaseEvent{At: ev.At.In(loc), Actor: who(ev.Actor), Kind: string(ev.Kind), From: ev.From, To: ev.To,
			Reason: ev.Reason, Mail: ev.Data["template"]}
		if ev.Kind == dsar.EventTask {
			item.Task = taskEventText(p.Lang, ev.Data)
		}
		data.Timeline = append(data.Timeline, item)
	}
	for _, m := range msgs {
		data.Messages = append(data.Messages, templates.MessageItem{At: m.CreatedAt.In(loc), FromSubject: m.FromSubject, Kind: string(m.Kind), Body: m.Body,
			Author: who(m.Author)})
	}
	return s.render(c, status, "case", data)
}

// caseDocument sends an identity document to an officer or admin of the
// case's controller, and records the view.
func (s *Server) caseDocument(c echo.Context) error {
	if err := sendDocument(c, s.cfg.Cases, c.Param("doc")); err != nil {
		return s.pageError(c, err)
	}
	return nil
}

// caseAction runs one officer action from the case page and comes back to
// it: with a notice when it worked, with the reason in the page's language
// when the case or the input did not allow it.
func (s *Server) caseAction(c echo.Context) error {
	ctx, a, id := c.Request().Context(), actorOf(c), c.Param("id")
	var err error
	switch c.Param("action") {
	case "assign":
		to := c.FormValue("to") // a user's ID, or "" for nobody
		if to == "me" {
			to = c.Get(userKey).(*dsar.User).ID
		}
		_, err = s.cfg.Cases.Assign(ctx, a, id, to)
	case "approve":
		_, err = s.cfg.Cases.Approve(ctx, a, id, c.FormValue("note"), leaveOutForm(c))
	case "note":
		_, err = s.cfg.Cases.Note(ctx, a, id, c.FormValue("body"))
	case "reopen":
		_, err = s.cfg.Cases.Reopen(ctx, a, id, c.FormValue("reason"))
	case "fee":
		_, err = s.cfg.Cases.AnnounceFee(ctx, a, id, dsar.FeeBasis(c.FormValue("basis")), c.FormValue("text"))
	case "objection":
		_, err = s.cfg.Cases.ClassifyObjection(ctx, a, id, dsar.ObjectionKind(c.FormValue("objection")))
	case "pause":
		_, err = s.cfg.Requests.Pause(ctx, a, id, dsar.PauseReason(c.FormValue("reason")), c.FormValue("note"))
	case "resume":
		_, err = s.cfg.Requests.Resume(ctx, a, id)
	case "extend":
		_, err = s.cfg.Requests.Extend(ctx, a, id, c.FormValue("reason"))
	case "ask":
		_, err = s.cfg.Cases.Ask(ctx, a, id, dsar.MessageKind(c.FormValue("kind")), c.FormValue("body"))
	case "verify":
		_, err = s.cfg.Cases.MarkVerified(ctx, a, id, c.FormValue("method"))
	case "complete":
		_, err = s.cfg.Cases.Complete(ctx, a, id, dsar.Decision{Summary: c.FormValue("summary")})
	case "task_done":
		count, cerr := formCount(c.FormValue("count"))
		if cerr != nil {
			err = cerr
			break
		}
		_, err = s.completeWithFile(c, a, id, c.FormValue("task"), c.FormValue("evidence"), count, c.FormValue("no_data") == "yes")
	case "skip_task":
		_, err = s.cfg.Cases.SkipTask(ctx, a, id, c.FormValue("task"), c.FormValue("reason"))
	case "redact":
		line, lerr := strconv.Atoi(strings.TrimSpace(c.FormValue("line")))
		if lerr != nil {
			err = dsar.Invalid(dsar.FieldError{Field: "line", Message: "error.redact.line"})
			break
		}
		_, err = s.cfg.Cases.Redact(ctx, a, id, c.FormValue("task"), line, c.FormValue("reason"))
	case "retry":
		_, err = s.cfg.Cases.RetryTasks(ctx, a, id, c.FormValue("task"))
	case "refuse", "forward":
		if c.FormValue("confirm") != "yes" {
			err = dsar.Invalid(dsar.FieldError{Field: "confirm", Message: "field.required"})
			break
		}
		if c.Param("action") == "forward" {
			_, err = s.cfg.Cases.Forward(ctx, a, id, c.FormValue("to"))
			break
		}
		_, err = s.cfg.Cases.Refuse(ctx, a, id, dsar.Decision{Ground: dsar.Ground(c.FormValue("ground")), Text: c.FormValue("text"),
			Partial: c.FormValue("partial") != "", Part: c.FormValue("part"), Granted: c.FormValue("granted")})
	default:
		return s.errorPage(c, http.StatusNotFound, "error.not_found")
	}
	var de *dsar.Error
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, dsar.CasePath(id)+"?notice=done")
	case errors.As(err, &de) && (de.Code == dsar.EINVALID || de.Code == dsar.ECONFLICT):
		lang := languageOf(c)
		msg := templates.T(lang, de.Message, de.Params)
		if len(de.Fields) > 0 {
			msg = de.Fields[0].Field + ": " + templates.T(lang, de.Fields[0].Message, de.Fields[0].Params)
		}
		return s.showCase(c, statusOf[de.Code], msg)
	}
	return s.pageError(c, err)
}

// leaveOutForm returns the tasks an officer left out of a plan on the case
// page: each field leave_out[<target>] holds the reason (empty: not left out).
func leaveOutForm(c echo.Context) map[string]string {
	form, err := c.FormParams()
	if err != nil {
		return nil
	}
	var out map[string]string
	for k, v := range form {
		target, ok := strings.CutPrefix(k, "leave_out[")
		if !ok || !strings.HasSuffix(target, "]") || len(v) == 0 || strings.TrimSpace(v[0]) == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[strings.TrimSuffix(target, "]")] = v[0]
	}
	return out
}

// caseSystems adds the case's systems to its page: the plan while the case
// can be approved, the tasks once it has been.
func (s *Server) caseSystems(c echo.Context, data *templates.CasePage, r *dsar.Request, now time.Time) error {
	ctx, a := c.Request().Context(), actorOf(c)
	ctrl, ok := s.cfg.Controllers.Get(r.Controller)
	if !ok {
		return nil
	}
	if data.Can(string(dsar.ActionApprove)) {
		plan, err := s.cfg.Cases.Plan(ctx, a, r.ID)
		if err != nil {
			if dsar.ErrorCode(err) == dsar.ECONFLICT {
				return nil // an objection must say its kind first
			}
			return err
		}
		view := &templates.PlanView{}
		for _, t := range append(slices.Clone(plan.Tasks), plan.Notify...) {
			view.Tasks = append(view.Tasks, taskRow(data.Lang, ctrl, t, now))
		}
		for _, h := range plan.Held {
			k := h.Kept(ctrl)
			view.Held = append(view.Held, templates.HeldRow{What: k.What, Why: k.Why, Until: k.Until})
		}
		for _, rc := range plan.Unreachable {
			view.Unreachable = append(view.Unreachable, templates.HeldRow{What: rc.Name, Why: rc.Unreachable})
		}
		data.Plan = view
		return nil
	}
	if r.ApprovedAt == nil {
		return nil
	}
	tasks, err := s.cfg.Cases.Tasks(ctx, a, r.ID)
	if err != nil {
		return err
	}
	if err := s.caseResults(c, data, r, ctrl, tasks); err != nil {
		return err
	}
	canDone, canSkip, canRetry := data.Can(string(dsar.ActionTaskDone)), data.Can(string(dsar.ActionSkipTask)), data.Can(string(dsar.ActionRetry))
	for _, t := range tasks {
		row := taskRow(data.Lang, ctrl, t, now)
		row.CanDone = canDone && t.Status.Offers(dsar.ActionTaskDone)
		row.CanSkip = canSkip && t.Status.Offers(dsar.ActionSkipTask)
		row.CanRetry = canRetry && t.Status.Offers(dsar.ActionRetry)
		if t.Status == dsar.TaskFailed {
			data.FailedTasks++
		}
		data.Tasks = append(data.Tasks, row)
	}
	return nil
}

// taskRow is a task as the case page shows it. A reason the service gave
// is a message key, shown in the page's language; an officer's is their
// own words.
func taskRow(lang dsar.Language, ctrl *dsar.Controller, t *dsar.Task, now time.Time) templates.TaskRow {
	loc := ctrl.Location
	at := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := p.In(loc)
		return &v
	}
	row := templates.TaskRow{ID: t.ID, Target: t.Target(), Name: ctrl.TargetName(t), Recipient: t.Recipient != "", Action: t.Action,
		Connector: t.Connector, Status: t.Status, Categories: strings.Join(t.Categories, ", "), Count: t.Count,
		Answer: t.Answer, Reason: templates.T(lang, t.Reason, nil), Evidence: t.Evidence, ExpectedBy: at(t.ExpectedBy), DueAt: at(t.DueAt), Overdue: t.Overdue(now)}
	if m := ctrl.ConnectorOf(t).Manual; m != nil && t.Status.Offers(dsar.ActionTaskDone) {
		row.Instructions, row.Checklist = m.Instructions, m.Checklist
	}
	return row
}

// taskEventText describes a task event of the timeline: which target, what
// action, and the change of status.
func taskEventText(lang dsar.Language, d map[string]string) string {
	return d["target"] + " · " + templates.T(lang, "task_action."+d["action"], nil) + ": " +
		templates.T(lang, "task_status."+d["from"], nil) + " → " + templates.T(lang, "task_status."+d["to"], nil)
}

// formCount reads the number of records of a task form: empty is none.
func formCount(v string) (int, error) {
	if v = strings.TrimSpace(v); v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, dsar.Invalid(dsar.FieldError{Field: "count", Message: "field.integer"})
	}
	return n, nil
}
