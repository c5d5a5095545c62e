package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// messageJSON is one message between the controller and the subject.
type messageJSON struct {
	ID          string    `json:"id"`
	FromSubject bool      `json:"from_subject"`
	Kind        string    `json:"kind"`
	Author      string    `json:"author"`
	Body        string    `json:"body"`
	CreatedAt   time.Time `json:"created_at"`
}

func (s *Server) askSubject(c echo.Context) error {
	var body struct {
		Kind string `json:"kind"`
		Body string `json:"body"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Ask(c.Request().Context(), actor, c.Param("id"), dsar.MessageKind(body.Kind), body.Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) listMessages(c echo.Context) error {
	msgs, err := s.cfg.Cases.Messages(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := struct {
		Data []messageJSON `json:"data"`
	}{Data: make([]messageJSON, len(msgs))}
	for i, m := range msgs {
		out.Data[i] = messageJSON{ID: m.ID, FromSubject: m.FromSubject, Kind: string(m.Kind), Author: m.Author, Body: m.Body, CreatedAt: m.CreatedAt}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) markVerified(c echo.Context) error {
	var body struct {
		Method string `json:"method"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.MarkVerified(c.Request().Context(), actor, c.Param("id"), body.Method)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

// documentJSON describes an identity document awaiting a check.
type documentJSON struct {
	ID          string    `json:"id"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

func (s *Server) listDocuments(c echo.Context) error {
	docs, err := s.cfg.Cases.Documents(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := struct {
		Data []documentJSON `json:"data"`
	}{Data: make([]documentJSON, len(docs))}
	for i, d := range docs {
		out.Data[i] = documentJSON{ID: d.ID, FileName: d.FileName, ContentType: d.ContentType, Size: len(d.Data), CreatedAt: d.CreatedAt}
	}
	return c.JSON(http.StatusOK, out)
}

// getDocument sends one identity document as an attachment, never inline,
// so that a crafted upload cannot run in the officer's browser.
func (s *Server) getDocument(c echo.Context) error {
	docs, err := s.cfg.Cases.Documents(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	for _, d := range docs {
		if d.ID == c.Param("doc") {
			h := c.Response().Header()
			h.Set("Content-Disposition", "attachment; filename="+strconv.Quote(d.FileName))
			h.Set("Cache-Control", "no-store")
			return c.Blob(http.StatusOK, "application/octet-stream", d.Data)
		}
	}
	return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
}

// keptJSON is one kind of data kept after an erasure.
type keptJSON struct {
	What  string `json:"what"`
	Why   string `json:"why"`
	Until string `json:"until"`
}

func (s *Server) completeRequest(c echo.Context) error {
	var body struct {
		Summary string     `json:"summary"`
		Kept    []keptJSON `json:"kept"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	d := dsar.Decision{Summary: body.Summary}
	for _, k := range body.Kept {
		d.Kept = append(d.Kept, dsar.Kept{What: k.What, Why: k.Why, Until: k.Until})
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Complete(c.Request().Context(), actor, c.Param("id"), d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) refuseRequest(c echo.Context) error {
	var body struct {
		Ground  string `json:"ground"`
		Text    string `json:"text"`
		Partial bool   `json:"partial"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Refuse(c.Request().Context(), actor, c.Param("id"), dsar.Decision{Ground: dsar.Ground(body.Ground), Text: body.Text, Partial: body.Partial})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) assignRequest(c echo.Context) error {
	var body struct {
		Assignee string `json:"assignee"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Assign(c.Request().Context(), actor, c.Param("id"), body.Assignee)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) noteRequest(c echo.Context) error {
	var body struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Note(c.Request().Context(), actor, c.Param("id"), body.Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) reopenRequest(c echo.Context) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Reopen(c.Request().Context(), actor, c.Param("id"), body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) approveRequest(c echo.Context) error {
	var body struct {
		Note string `json:"note"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Approve(c.Request().Context(), actor, c.Param("id"), body.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) forwardRequest(c echo.Context) error {
	var body struct {
		To string `json:"to"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.Forward(c.Request().Context(), actor, c.Param("id"), body.To)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

func (s *Server) announceFee(c echo.Context) error {
	var body struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := s.cfg.Cases.AnnounceFee(c.Request().Context(), actor, c.Param("id"), body.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}
