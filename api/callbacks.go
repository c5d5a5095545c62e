package api

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// maxCallbackBody bounds the body of a system's callback, which holds a
// status, a count, a short message and, for an export, the URL of its
// data: the data itself never comes in a callback.
const maxCallbackBody = 16 << 10

// taskCallbackRoute is the route of the systems' callbacks
// (dsar.TaskCallbackPath).
const taskCallbackRoute = "/api/v1/tasks/:id/callback"

// callbackJSON is the body of a system's callback.
type callbackJSON struct {
	Status  string `json:"status"`
	Count   int    `json:"count"`
	Message string `json:"message"`
	// DataURL is where an export's records are (done exports only): the
	// worker fetches it.
	DataURL string `json:"data_url"`
}

// The statuses a callback may report.
var callbackStatuses = []string{"done", "no_data", "failed"}

// taskCallback takes a system's later answer to a task it accepted (HTTP
// connector; docs/connectors.md): the URL's token must be the task's, the
// body must be signed with the system's secret in the Standard Webhooks
// format within the tolerance, and each webhook-id is taken once.
func (s *Server) taskCallback(c echo.Context) error {
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
	if order.Connector.Kind != dsar.ConnectorHTTP || order.Connector.HTTP == nil {
		return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	raw, err := order.Connector.HTTP.Secret.Value()
	var secret dsar.WebhookSecret
	if err == nil {
		secret, err = dsar.ParseWebhookSecret(raw)
	}
	if err != nil {
		s.cfg.Log.Warn("a system's callback cannot be verified: its secret is not usable", "task", id,
			"secret", order.Connector.HTTP.Secret.String(), "err", err)
		return &dsar.Error{Code: dsar.EUNAVAILABLE, Message: "error.unavailable"}
	}
	webhookID, err := secret.Verify(c.Request().Header, body, s.cfg.Clock.Now())
	if err != nil {
		return &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.callback.signature"}
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	var in callbackJSON
	if err := decodeJSON(c, min(s.cfg.BodyLimit, maxCallbackBody), &in); err != nil {
		return err
	}
	o, err := callbackOutcome(in, order)
	if err != nil {
		return err
	}
	if err := s.cfg.Tasks.CallbackOnce(ctx, id, webhookID, o); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// callbackOutcome validates a callback's body and returns its outcome. A
// done export gives the URL of its records, on the system's own host: the
// task waits on while a worker fetches it (the HTTP connector's poll of
// the task), and its count is the records fetched.
func callbackOutcome(in callbackJSON, order *dsar.TaskOrder) (dsar.TaskOutcome, error) {
	var fields []dsar.FieldError
	switch {
	case in.Status == "":
		fields = append(fields, dsar.FieldError{Field: "status", Message: "field.required"})
	case !slices.Contains(callbackStatuses, in.Status):
		fields = append(fields, dsar.FieldError{Field: "status", Message: "field.enum", Params: map[string]any{"allowed": callbackStatuses}})
	}
	if in.Count < 0 {
		fields = append(fields, dsar.FieldError{Field: "count", Message: "field.not_negative"})
	}
	export := order.Task.Action == dsar.ActionExport
	var dataURL string
	switch {
	case in.DataURL != "" && (!export || in.Status != "done"):
		fields = append(fields, dsar.FieldError{Field: "data_url", Message: "field.callback.data_url_unexpected"})
	case in.DataURL == "" && export && in.Status == "done":
		fields = append(fields, dsar.FieldError{Field: "data_url", Message: "field.callback.data_url_required"})
	case in.DataURL != "":
		u, err := order.Connector.HTTP.Resolve(in.DataURL)
		if err != nil {
			fields = append(fields, dsar.FieldError{Field: "data_url", Message: "field.callback.data_url_host"})
		}
		dataURL = u
	}
	in.Message = strings.TrimSpace(in.Message)
	if err := dsar.ValidateText("message", in.Message, false, 200); err != nil {
		var de *dsar.Error
		if errors.As(err, &de) {
			fields = append(fields, de.Fields...)
		}
	}
	if len(fields) > 0 {
		return dsar.TaskOutcome{}, dsar.Invalid(fields...)
	}
	answer := "callback: " + in.Status
	if in.Status == "done" {
		answer += " (" + strconv.Itoa(in.Count) + ")"
	}
	if in.Message != "" {
		answer += ": " + in.Message
	}
	o := dsar.TaskOutcome{Answer: answer, Count: in.Count}
	switch {
	case dataURL != "":
		o = dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, Answer: answer + " (the data is fetched from data_url)",
			External: dataURL, PollAfter: dsar.FetchAfter}
	case in.Status == "done":
		o.Kind = dsar.OutcomeDone
	case in.Status == "no_data":
		o.Kind, o.Count = dsar.OutcomeNoData, 0
	default:
		o.Kind, o.Count = dsar.OutcomeFailed, 0
	}
	return o, nil
}

// callbackOrder reads the body of a system's callback about a task (413
// when too large) and the task's order; a task that is gone is not found,
// as an unknown one is.
func (s *Server) callbackOrder(c echo.Context, id string) ([]byte, *dsar.TaskOrder, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, tooLarge(min(s.cfg.BodyLimit, maxCallbackBody))
		}
		return nil, nil, err
	}
	order, err := s.cfg.Tasks.Order(c.Request().Context(), id)
	if err != nil {
		if code := dsar.ErrorCode(err); code == dsar.ENOTFOUND || code == dsar.ECONFLICT {
			return nil, nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
		}
		return nil, nil, err
	}
	return body, order, nil
}
