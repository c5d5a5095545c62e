package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// changeCase is every case-changing API call: it decodes the JSON body
// (unknown fields and oversized bodies refused before anything changes),
// runs the change as the caller on the case of the path, and answers the
// case as it is now.
func changeCase[B any](s *Server, c echo.Context, change func(ctx context.Context, actor dsar.Actor, id string, body *B) (*dsar.Request, error)) error {
	var body B
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	actor := actorOf(c)
	req, err := change(c.Request().Context(), actor, c.Param("id"), &body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

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
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Kind string `json:"kind"`
		Body string `json:"body"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.Ask(ctx, actor, id, dsar.MessageKind(body.Kind), body.Body)
	})
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
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Method string `json:"method"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.MarkVerified(ctx, actor, id, body.Method)
	})
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

// getDocument sends one identity document (sendDocument).
func (s *Server) getDocument(c echo.Context) error {
	return sendDocument(c, s.cfg.Cases, c.Param("doc"))
}

// sendDocument sends one identity document as an attachment, never inline,
// so that a crafted upload cannot run in the officer's browser; the view is
// recorded in the case's audit trail.
func sendDocument(c echo.Context, cases dsar.CaseService, docID string) error {
	d, err := cases.Document(c.Request().Context(), actorOf(c), c.Param("id"), docID)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", "attachment; filename="+strconv.Quote(d.FileName))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/octet-stream", d.Data)
}

// keptJSON is one kind of data kept after an erasure.
type keptJSON struct {
	What  string `json:"what"`
	Why   string `json:"why"`
	Until string `json:"until"`
}

func (s *Server) completeRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Summary string     `json:"summary"`
		Kept    []keptJSON `json:"kept"`
	}) (*dsar.Request, error) {
		d := dsar.Decision{Summary: body.Summary}
		for _, k := range body.Kept {
			d.Kept = append(d.Kept, dsar.Kept{What: k.What, Why: k.Why, Until: k.Until})
		}
		return s.cfg.Cases.Complete(ctx, actor, id, d)
	})
}

func (s *Server) refuseRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Ground  string `json:"ground"`
		Text    string `json:"text"`
		Partial bool   `json:"partial"`
		Part    string `json:"part"`
		Granted string `json:"granted"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.Refuse(ctx, actor, id, dsar.Decision{Ground: dsar.Ground(body.Ground), Text: body.Text,
			Partial: body.Partial, Part: body.Part, Granted: body.Granted})
	})
}

func (s *Server) assignRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Assignee string `json:"assignee"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.Assign(ctx, actor, id, body.Assignee)
	})
}

func (s *Server) noteRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Body string `json:"body"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.Note(ctx, actor, id, body.Body)
	})
}

func (s *Server) reopenRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Reason string `json:"reason"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.Reopen(ctx, actor, id, body.Reason)
	})
}

func (s *Server) approveRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Note     string            `json:"note"`
		LeaveOut map[string]string `json:"leave_out"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.Approve(ctx, actor, id, body.Note, body.LeaveOut)
	})
}

func (s *Server) forwardRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		To string `json:"to"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.Forward(ctx, actor, id, body.To)
	})
}

func (s *Server) announceFee(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Basis string `json:"basis"`
		Text  string `json:"text"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.AnnounceFee(ctx, actor, id, dsar.FeeBasis(body.Basis), body.Text)
	})
}

func (s *Server) classifyObjection(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Objection string `json:"objection"`
	}) (*dsar.Request, error) {
		return s.cfg.Cases.ClassifyObjection(ctx, actor, id, dsar.ObjectionKind(body.Objection))
	})
}

// listActions answers what the caller may do to the case now: the same
// list the case page offers.
func (s *Server) listActions(c echo.Context) error {
	acts, err := s.cfg.Cases.Actions(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := struct {
		Data []dsar.Action `json:"data"`
	}{Data: acts}
	if out.Data == nil {
		out.Data = []dsar.Action{}
	}
	return c.JSON(http.StatusOK, out)
}
