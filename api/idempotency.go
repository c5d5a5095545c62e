package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// Idempotency-Key on the calls that change something (RFC draft
// "The Idempotency-Key HTTP Header Field"): the first call with a key runs
// and its answer is kept for dsar.IdempotencyTTL; the same call again gets
// that answer, marked Idempotent-Replayed: true, and changes nothing; the
// same key with another body is 422, and while the first call runs 409. A
// 5xx answer is not kept: the key is free for the client to try again.

// The headers of the Idempotency-Key protocol.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
)

// idempotent runs a call with an Idempotency-Key once per key. It comes
// after the checks of the caller (key, scope, the case's controller), so
// that their refusals are never kept, and before the handler.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		keys, ok := c.Request().Header[headerIdempotencyKey]
		if !ok || s.cfg.Idempotency == nil {
			return next(c)
		}
		if len(keys) != 1 {
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.idempotency.key", Params: map[string]any{"max": dsar.MaxIdempotencyKeyLength}}}
		}
		if err := dsar.CheckIdempotencyKey(keys[0]); err != nil {
			return malformed{err.(*dsar.Error)}
		}
		actor := actorOf(c)
		if !actor.Authenticated() {
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.idempotency.api_key_only"}}
		}
		r := c.Request()
		body, err := io.ReadAll(io.LimitReader(r.Body, dsar.MaxIdempotentBody+1))
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return tooLarge(mbe.Limit)
		case err != nil:
			return err
		case len(body) > dsar.MaxIdempotentBody:
			return &dsar.Error{Code: dsar.ETOOLARGE, Message: "error.idempotency.too_large", Params: map[string]any{"limit": dsar.MaxIdempotentBody}}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ctx := r.Context()
		id := dsar.IdempotencyID(actor.ID, r.Method, r.URL.Path, keys[0])
		claim, replay, err := s.cfg.Idempotency.Claim(ctx, id, dsar.IdempotencyHash(r.Header.Get(echo.HeaderContentType), body))
		if err != nil {
			return err
		}
		if replay != nil {
			return writeReplay(c, replay)
		}
		rec := &answerRecorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		if err := next(c); err != nil {
			c.Error(err) // answered now, so that the answer is recorded
		}
		h := c.Response().Header()
		answer := &dsar.IdempotentAnswer{Status: c.Response().Status, ContentType: h.Get(echo.HeaderContentType),
			ContentLanguage: h.Get("Content-Language"), Location: h.Get(echo.HeaderLocation), Body: rec.body.Bytes()}
		if rec.over {
			answer.Body = nil
			answer.Status = 0 // not kept: the key is given up
		}
		// The answer is recorded even when the client has gone: its retry
		// must find it.
		if err := s.cfg.Idempotency.Finish(context.WithoutCancel(ctx), id, claim, answer); err != nil {
			s.cfg.Log.Warn("idempotency: the answer could not be recorded; the key stays claimed until it lapses",
				"route", c.Path(), "err", err)
		}
		return nil
	}
}

// writeReplay answers with a recorded answer.
func writeReplay(c echo.Context, a *dsar.IdempotentAnswer) error {
	h := c.Response().Header()
	if a.ContentType != "" {
		h.Set(echo.HeaderContentType, a.ContentType)
	}
	if a.ContentLanguage != "" {
		h.Set("Content-Language", a.ContentLanguage)
	}
	if a.Location != "" {
		h.Set(echo.HeaderLocation, a.Location)
	}
	h.Set(headerReplayed, "true")
	c.Response().WriteHeader(a.Status)
	_, err := c.Response().Write(a.Body)
	return err
}

// answerRecorder passes an answer on to the client and keeps a copy of its
// body, up to dsar.MaxIdempotentBody.
type answerRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
	over bool
}

func (w *answerRecorder) Write(p []byte) (int, error) {
	if !w.over {
		if w.body.Len()+len(p) > dsar.MaxIdempotentBody {
			w.over = true
			w.body = bytes.Buffer{}
		} else {
			w.body.Write(p)
		}
	}
	return w.ResponseWriter.Write(p)
}
