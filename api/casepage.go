package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

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
		Grounds: dsar.GroundsFor(r.Type, r.Objection), Error: errMsg, DuplicateOf: r.DuplicateOf}
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
	if c.QueryParam("notice") == "done" && errMsg == "" {
		data.Notice = templates.T(p.Lang, "page.case.done", nil)
	}
	for _, ev := range evs {
		data.Timeline = append(data.Timeline, templates.CaseEvent{At: ev.At.In(loc), Actor: who(ev.Actor), Kind: string(ev.Kind), From: ev.From, To: ev.To,
			Reason: ev.Reason, Mail: ev.Data["template"]})
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
		_, err = s.cfg.Cases.Approve(ctx, a, id, c.FormValue("note"))
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
