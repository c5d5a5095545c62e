package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// taskJSON is a task of a case in the systems, or one its plan would send
// (without an ID, planned).
type taskJSON struct {
	ID         string   `json:"id,omitempty"`
	Target     string   `json:"target"`
	System     string   `json:"system,omitempty"`
	Recipient  string   `json:"recipient,omitempty"`
	Name       string   `json:"name"`
	Action     string   `json:"action"`
	Connector  string   `json:"connector"`
	Status     string   `json:"status"`
	Categories []string `json:"categories"`
	Purposes   []string `json:"purposes"`
	Attempts   int      `json:"attempts"`
	Round      int      `json:"round"`
	Count      int      `json:"count"`
	Answer     string   `json:"answer,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Evidence   string   `json:"evidence,omitempty"`
	ExpectedBy string   `json:"expected_by,omitempty"`
	DueAt      string   `json:"due_at,omitempty"`
	Overdue    bool     `json:"overdue"`
	CreatedAt  string   `json:"created_at,omitempty"`
	UpdatedAt  string   `json:"updated_at,omitempty"`
	EndedAt    string   `json:"ended_at,omitempty"`
}

// toTaskJSON presents a task. A reason the service gave is a message key,
// written in the caller's language; an officer's is their own words.
func toTaskJSON(lang dsar.Language, ctrl *dsar.Controller, t *dsar.Task, now time.Time) taskJSON {
	at := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return stamp(p.In(ctrl.Location))
	}
	out := taskJSON{ID: t.ID, Target: t.Target(), System: t.System, Recipient: t.Recipient, Name: ctrl.TargetName(t),
		Action: string(t.Action), Connector: string(t.Connector), Status: string(t.Status),
		Categories: t.Categories, Purposes: t.Purposes, Attempts: t.Attempts, Round: t.Round, Count: t.Count,
		Answer: t.Answer, Evidence: t.Evidence, ExpectedBy: at(t.ExpectedBy), DueAt: at(t.DueAt), Overdue: t.Overdue(now),
		EndedAt: at(t.EndedAt)}
	if out.Status == "" {
		out.Status = string(dsar.TaskPlanned) // a task of a plan
	}
	if t.Reason != "" {
		out.Reason = templates.T(lang, t.Reason, nil)
	}
	if !t.CreatedAt.IsZero() {
		out.CreatedAt, out.UpdatedAt = at(&t.CreatedAt), at(&t.UpdatedAt)
	}
	if out.Categories == nil {
		out.Categories = []string{}
	}
	if out.Purposes == nil {
		out.Purposes = []string{}
	}
	return out
}

// heldJSON is data an erasure keeps under a legal hold, and until when.
type heldJSON struct {
	System   string `json:"system"`
	Category string `json:"category"`
	What     string `json:"what"`
	Law      string `json:"law"`
	Until    string `json:"until,omitempty"`
}

// unreachableJSON is a recipient that cannot be told (Art 19), and why.
type unreachableJSON struct {
	Recipient string `json:"recipient"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
}

// planJSON is what approving the case does in the systems.
type planJSON struct {
	Tasks       []taskJSON        `json:"tasks"`
	Held        []heldJSON        `json:"held"`
	Notify      []taskJSON        `json:"notify"`
	Unreachable []unreachableJSON `json:"unreachable"`
}

// caseController returns the request of the path, as the caller may see
// it, and its controller.
func (s *Server) caseController(c echo.Context) (*dsar.Request, *dsar.Controller, error) {
	r, err := s.cfg.Requests.Get(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return nil, nil, err
	}
	ctrl, ok := s.cfg.Controllers.Get(r.Controller)
	if !ok {
		return nil, nil, dsar.Errorf(dsar.ECONFLICT, "the request's controller %q is no longer configured", r.Controller)
	}
	return r, ctrl, nil
}

// getPlan answers what approving the case does (or did, by today's data
// map): the systems' tasks, the data kept under a legal hold, the
// recipients to tell and those that cannot be told.
func (s *Server) getPlan(c echo.Context) error {
	r, ctrl, err := s.caseController(c)
	if err != nil {
		return err
	}
	plan, err := s.cfg.Cases.Plan(c.Request().Context(), actorOf(c), r.ID)
	if err != nil {
		return err
	}
	lang, now := languageOf(c), s.cfg.Clock.Now()
	out := planJSON{Tasks: []taskJSON{}, Held: []heldJSON{}, Notify: []taskJSON{}, Unreachable: []unreachableJSON{}}
	for _, t := range plan.Tasks {
		out.Tasks = append(out.Tasks, toTaskJSON(lang, ctrl, t, now))
	}
	for _, t := range plan.Notify {
		out.Notify = append(out.Notify, toTaskJSON(lang, ctrl, t, now))
	}
	for _, h := range plan.Held {
		k := h.Kept(ctrl)
		out.Held = append(out.Held, heldJSON{System: h.System, Category: h.Category, What: k.What, Law: h.Law, Until: k.Until})
	}
	for _, rc := range plan.Unreachable {
		out.Unreachable = append(out.Unreachable, unreachableJSON{Recipient: rc.Key, Name: rc.Name, Reason: rc.Unreachable})
	}
	return c.JSON(http.StatusOK, out)
}

// listTasks answers the case's tasks, oldest first.
func (s *Server) listTasks(c echo.Context) error {
	r, ctrl, err := s.caseController(c)
	if err != nil {
		return err
	}
	tasks, err := s.cfg.Cases.Tasks(c.Request().Context(), actorOf(c), r.ID)
	if err != nil {
		return err
	}
	lang, now := languageOf(c), s.cfg.Clock.Now()
	out := struct {
		Data []taskJSON `json:"data"`
	}{Data: make([]taskJSON, len(tasks))}
	for i, t := range tasks {
		out.Data[i] = toTaskJSON(lang, ctrl, t, now)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) completeTask(c echo.Context) error {
	if isMultipart(c.Request()) {
		// Files over a MiB wait on disk, not in memory.
		if err := c.Request().ParseMultipartForm(1 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return tooLarge(s.cfg.BodyLimit + dsar.MaxExportUpload)
			}
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_form"}}
		}
		count, err := formCount(c.FormValue("count"))
		if err != nil {
			return err
		}
		actor := actorOf(c)
		req, err := s.completeWithFile(c, actor, c.Param("id"), c.Param("task"), c.FormValue("evidence"), count, c.FormValue("no_data") == "true")
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
	}
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Evidence string `json:"evidence"`
		Count    int    `json:"count"`
		NoData   bool   `json:"no_data"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.CompleteTask(ctx, actor, id, c.Param("task"), body.Evidence, body.Count, body.NoData)
	})
}

func (s *Server) skipTask(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Reason string `json:"reason"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.SkipTask(ctx, actor, id, c.Param("task"), body.Reason)
	})
}

// retryTasks starts the failed task of the path again, or every failed
// task of the case on /tasks/retry, from where it failed. The body may be
// left out, or be an empty object.
func (s *Server) retryTasks(c echo.Context) error {
	if c.Request().ContentLength > 0 {
		var body struct{}
		if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
			return err
		}
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.RetryTasks(c.Request().Context(), actor, c.Param("id"), c.Param("task"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}
