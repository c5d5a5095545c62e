package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// openDSRCallbackRoute is the route of the OpenDSR processors' status
// callbacks (dsar.OpenDSRCallbackPath).
const openDSRCallbackRoute = "/api/v1/opendsr/callback/:id"

// openDSRCallback takes an OpenDSR processor's status callback to a task's
// request (docs/connectors.md, "OpenDSR connector"; OpenDSR 2.0 section
// 8.6): the URL's token must be the task's; the exact body must be signed
// with the key of the certificate configured for the task's system
// (X-OpenDSR-Signature), for a domain the certificate names
// (X-OpenDSR-Processor-Domain); only then is the body read, and it must be
// a status of the task's request sent to this URL. Each body is taken
// once.
func (s *Server) openDSRCallback(c echo.Context) error {
	id, token := c.Param("id"), c.QueryParam("token")
	want := s.cfg.Keyring.Token(dsar.TokenTaskCallback, id)
	if subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"} // the same for an unknown task: no oracle
	}
	body, order, err := s.callbackOrder(c, id)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cfg := order.Connector.OpenDSR
	if order.Connector.Kind != dsar.ConnectorOpenDSR || cfg == nil || cfg.Certificate == "" {
		// Without a certificate no callback URL was given: none can be verified.
		return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	cert, err := dsar.LoadOpenDSRCertificate(cfg.Certificate)
	if err != nil {
		s.cfg.Log.Warn("a processor's callback cannot be verified: its certificate is not usable", "task", id,
			"certificate", cfg.Certificate, "err", err)
		return &dsar.Error{Code: dsar.EUNAVAILABLE, Message: "error.unavailable"}
	}
	h := c.Request().Header
	if err := dsar.VerifyOpenDSR(cert, h.Get(dsar.HeaderOpenDSRDomain), h.Get(dsar.HeaderOpenDSRSignature), body); err != nil {
		return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.opendsr.signature"}
	}
	if ct := h.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
		}
	}
	// Processors may add fields of their own (extensions): unknown fields
	// are ignored.
	var in dsar.OpenDSRStatus
	if err := json.Unmarshal(body, &in); err != nil {
		return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
	}
	o, err := in.CallbackOutcome(dsar.OpenDSRRequestID(order.IdempotencyKey()), order.Task.Action)
	var fields []dsar.FieldError
	if de := (*dsar.Error)(nil); errors.As(err, &de) {
		fields = de.Fields
	} else if err != nil {
		return err
	}
	if !isOwnCallbackURL(in.StatusCallbackURL, id, token) {
		field := dsar.FieldError{Field: "status_callback_url", Message: "field.opendsr_mismatch"}
		if in.StatusCallbackURL == "" {
			field.Message = "field.required"
		}
		fields = append(fields, field)
	}
	if len(fields) > 0 {
		return dsar.Invalid(fields...)
	}
	o.Answer = "callback: " + o.Answer
	sum := sha256.Sum256(body)
	if err := s.cfg.Tasks.CallbackOnce(ctx, id, "opendsr:"+hex.EncodeToString(sum[:]), o); err != nil {
		if dsar.ErrorCode(err) == dsar.ECONFLICT {
			return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.opendsr.replayed"}
		}
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// isOwnCallbackURL reports whether a callback's status_callback_url is the
// task's callback URL, by its path and token (section 8.8, step 6).
func isOwnCallbackURL(raw, taskID, token string) bool {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return false
	}
	own, _ := url.Parse(dsar.OpenDSRCallbackPath(taskID, token)) // a path with an escaped ID always parses
	return u.EscapedPath() == own.EscapedPath() && u.Query().Get("token") == token
}
