package api

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// resultsJSON is what a request's answer says of the subject's files.
type resultsJSON struct {
	AssembledAt   string           `json:"assembled_at,omitempty"`
	Files         []resultFileJSON `json:"files"`
	DownloadUntil string           `json:"download_until,omitempty"`
	Downloads     int              `json:"downloads"`
}

// resultFileJSON is one of the subject's files.
type resultFileJSON struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// resultsOf presents the subject's files of a request, nil for a request
// that gives none or has none yet.
func resultsOf(r *dsar.Request) *resultsJSON {
	if !dsar.GivesResults(r.Type) || (!r.TasksEnded && len(r.Results) == 0) {
		return nil
	}
	out := &resultsJSON{Files: []resultFileJSON{}, Downloads: r.Downloads}
	if r.ResultsAt != nil {
		out.AssembledAt = stamp(*r.ResultsAt)
	}
	if r.DownloadUntil != nil {
		out.DownloadUntil = stamp(*r.DownloadUntil)
	}
	for _, f := range r.Results {
		out.Files = append(out.Files, resultFileJSON{Name: f.Name, Bytes: f.Bytes, SHA256: f.SHA256})
	}
	return out
}

// redactionJSON is a record left out of the subject's files.
type redactionJSON struct {
	ID     string `json:"id"`
	TaskID string `json:"task_id"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	By     string `json:"by"`
	At     string `json:"at"`
}

// redactBody is the body of POST /api/v1/requests/{id}/redactions.
type redactBody struct {
	TaskID string `json:"task_id"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// redact leaves a record out of the subject's files (Art 15(4)).
func (s *Server) redact(c echo.Context) error {
	var body redactBody
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	r, err := s.cfg.Cases.Redact(c.Request().Context(), actorOf(c), c.Param("id"), body.TaskID, body.Line, body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(r, actorOf(c), s.cfg.Clock.Now()))
}

// redactions lists the records left out of the subject's files.
func (s *Server) redactions(c echo.Context) error {
	reds, err := s.cfg.Cases.Redactions(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]redactionJSON, len(reds))
	for i, r := range reds {
		out[i] = redactionJSON{ID: r.ID, TaskID: r.TaskID, Line: r.Line, Reason: r.Reason, By: r.By, At: stamp(r.At)}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// resultFile sends one of the subject's files to an officer of the case,
// to review before the case is completed, the reading audited: as an
// attachment, so that a report holding what the systems returned is never
// rendered on the service's origin.
func (s *Server) resultFile(c echo.Context) error {
	ctx, a := c.Request().Context(), actorOf(c)
	if s.cfg.Blobs == nil {
		return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	r, err := s.cfg.Requests.Get(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	f, err := s.cfg.Cases.ViewResult(ctx, a, r.ID, c.Param("name"))
	if err != nil {
		return err
	}
	return s.sendResult(c, r.Reference, *f)
}

// resultTypes are the media types of the subject's files.
var resultTypes = map[string]string{
	dsar.ResultReportHTML: "text/html; charset=utf-8",
	dsar.ResultReportJSON: "application/json",
	dsar.ResultPackage:    "application/zip",
}

// sendResult streams one of a case's files from the case files as an
// attachment named after the case's reference, to the subject or to an
// officer: never cached, and should a browser open the report anyway, it
// runs nothing and reaches nothing of the service's origin.
func (s *Server) sendResult(c echo.Context, reference string, f dsar.ResultFile) error {
	body, err := s.cfg.Blobs.Open(c.Request().Context(), f.Key)
	if err != nil {
		return err
	}
	defer body.Close()
	ctype, ok := resultTypes[f.Name]
	if !ok {
		ctype = "application/octet-stream"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, ctype)
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": reference + "-" + f.Name}))
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	// A large package over a slow line takes longer than the server's
	// write timeout allows a page.
	wait := time.Minute + time.Duration(f.Bytes/minDownloadRate)*time.Second
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(wait)) // not every writer can; then the server's timeout holds
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), body); err != nil {
		// The headers are out: the broken body is all the browser can be told.
		s.cfg.Log.Warn("download broke off", "err", err)
	}
	return nil
}

// caseResults adds to the case page the subject's files of an access or
// portability case whose tasks have ended, its redactions, and the done
// exports a record can still be left out of.
func (s *Server) caseResults(c echo.Context, data *templates.CasePage, r *dsar.Request, ctrl *dsar.Controller, tasks []*dsar.Task) error {
	if !dsar.GivesResults(r.Type) || !r.TasksEnded {
		return nil
	}
	loc := ctrl.Location
	view := &templates.ResultsView{Downloads: r.Downloads, MaxDownloads: s.policy().MaxDownloads}
	if r.ResultsAt != nil {
		at := r.ResultsAt.In(loc)
		view.AssembledAt = &at
	}
	if r.DownloadUntil != nil {
		until := r.DownloadUntil.In(loc)
		view.DownloadUntil = &until
	}
	for _, f := range r.Results {
		view.Files = append(view.Files, templates.ResultFileView{Name: f.Name, Bytes: f.Bytes, SHA256: f.SHA256,
			URL: "/results/" + r.ID + "/" + f.Name})
	}
	reds, err := s.cfg.Cases.Redactions(c.Request().Context(), actorOf(c), r.ID)
	if err != nil {
		return err
	}
	for _, red := range reds {
		name := red.TaskID
		for _, t := range tasks {
			if t.ID == red.TaskID {
				name = ctrl.TargetName(t)
			}
		}
		view.Redactions = append(view.Redactions, templates.RedactionRow{System: name, Line: red.Line, Reason: red.Reason,
			By: strings.TrimPrefix(red.By, "user:"), At: red.At.In(loc)})
	}
	if data.Can(string(dsar.ActionRedact)) {
		for _, t := range tasks {
			if t.Redactable() {
				view.Exports = append(view.Exports, templates.ExportOption{ID: t.ID, Name: ctrl.TargetName(t), Count: t.Count})
			}
		}
	}
	data.Results = view
	return nil
}

// caseResultFile sends one of the subject's files to an officer on the
// case page.
func (s *Server) caseResultFile(c echo.Context) error {
	if err := s.resultFile(c); err != nil {
		return s.pageError(c, err)
	}
	return nil
}
