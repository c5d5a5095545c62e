package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// statusOf maps domain error codes to HTTP statuses: the one place that
// does.
var statusOf = map[string]int{
	dsar.EINVALID:       http.StatusUnprocessableEntity,
	dsar.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	dsar.ENOTFOUND:      http.StatusNotFound,
	dsar.EGONE:          http.StatusGone,
	dsar.ECONFLICT:      http.StatusConflict,
	dsar.EUNAUTHORIZED:  http.StatusUnauthorized,
	dsar.EFORBIDDEN:     http.StatusForbidden,
	dsar.ERATELIMIT:     http.StatusTooManyRequests,
	dsar.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	dsar.EUNAVAILABLE:   http.StatusServiceUnavailable,
	dsar.ESTALE:         http.StatusServiceUnavailable,
	dsar.EINTERNAL:      http.StatusInternalServerError,
}

// malformed marks an input error found while decoding (bad JSON, unknown
// field, wrong type): 400 rather than the 422 of a well-formed but invalid
// input.
type malformed struct{ err *dsar.Error }

func (m malformed) Error() string { return m.err.Error() }
func (m malformed) Unwrap() error { return m.err }

// problem is an RFC 9457 problem document.
type problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Code     string         `json:"code"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []problemField `json:"errors,omitempty"`
}

// problemField names one bad field.
type problemField struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorHandler writes every error as a problem document in the caller's
// language. Internal errors are logged and answered without details.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		lang := languageOf(c)
		status, de := http.StatusInternalServerError, (*dsar.Error)(nil)
		var (
			he *echo.HTTPError
			mf malformed
		)
		switch {
		case errors.As(err, &mf):
			status, de = http.StatusBadRequest, mf.err
		case errors.As(err, &de):
			if s, ok := statusOf[de.Code]; ok {
				status = s
			}
		case errors.As(err, &he):
			status = he.Code
			switch status {
			case http.StatusNotFound:
				de = &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
			case http.StatusMethodNotAllowed:
				de = &dsar.Error{Code: "method_not_allowed", Message: "error.method_not_allowed"}
			case http.StatusForbidden:
				de = &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
			case http.StatusRequestEntityTooLarge:
				de = &dsar.Error{Code: dsar.ETOOLARGE, Message: "error.body_too_large"}
			default:
				de = &dsar.Error{Code: dsar.EINTERNAL, Message: "error.internal"}
			}
		}
		if de == nil || status >= 500 && de.Code == dsar.EINTERNAL {
			log.Error("request failed", "route", c.Path(), "err", err)
			de = &dsar.Error{Code: dsar.EINTERNAL, Message: "error.internal"}
		}
		if unavailable(c, de.Code) {
			log.Warn("request failed: a dependency is unavailable", "route", c.Path(), "err", err)
		}
		p := problem{
			Type:     "urn:dsar:problem:" + de.Code,
			Title:    templates.T(lang, de.Message, de.Params),
			Status:   status,
			Code:     de.Code,
			Instance: c.Request().URL.Path,
		}
		if de.Code == dsar.ESTALE || de.Code == dsar.EUNAVAILABLE {
			p.Title = templates.T(lang, "error.unavailable", nil)
		}
		for _, f := range de.Fields {
			p.Errors = append(p.Errors, problemField{Field: f.Field, Code: f.Message, Message: templates.T(lang, f.Message, f.Params)})
		}
		if status == http.StatusTooManyRequests {
			if secs, ok := de.Params["seconds"]; ok {
				c.Response().Header().Set("Retry-After", fmt.Sprint(secs))
			}
		}
		if status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="dsar"`)
		}
		c.Response().Header().Set("Content-Language", string(lang))
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(status)
		if c.Request().Method == http.MethodHead {
			return
		}
		if werr := encodeJSON(c.Response(), p); werr != nil {
			log.Warn("write problem", "err", werr)
		}
	}
}

// languageOf returns the language to answer in: the one chosen for this
// request when the handler set it, else the Accept-Language header's.
func languageOf(c echo.Context) dsar.Language {
	if l, ok := c.Get(langKey).(dsar.Language); ok && l.Valid() {
		return l
	}
	return templates.MatchLanguage(c.Request().Header.Get("Accept-Language"), dsar.LanguageEN)
}

const langKey = "dsar.lang"

// RetryAfterUnavailable is how long, in seconds, the answer to a call that
// found the database or Redis unavailable (503) asks the caller to wait
// before trying again, in its Retry-After header.
const RetryAfterUnavailable = 30

// unavailable reports whether the code says that a dependency (the
// database, Redis) is down or not ready, and if so sets Retry-After on the
// answer: the caller should try again, the same call, a little later.
func unavailable(c echo.Context, code string) bool {
	if code != dsar.EUNAVAILABLE && code != dsar.ESTALE {
		return false
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(RetryAfterUnavailable))
	return true
}

func tooLarge(limit int64) error {
	return &dsar.Error{Code: dsar.ETOOLARGE, Message: "error.body_too_large", Params: map[string]any{"limit": strconv.FormatInt(limit, 10)}}
}
