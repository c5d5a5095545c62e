package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// decodeJSON decodes the body strictly into v: JSON only, no unknown
// fields, no trailing data, within the body limit. Errors name the field.
func decodeJSON(c echo.Context, limit int64, v any) error {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() || dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return nil
	}
	var (
		mbe *http.MaxBytesError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.As(err, &ute):
		return malformed{dsar.Invalid(dsar.FieldError{Field: ute.Field, Message: "field.type", Params: map[string]any{"type": ute.Type.String()}})}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.unknown_field", Params: map[string]any{"field": name},
			Fields: []dsar.FieldError{{Field: name, Message: "field.unknown"}}}}
	}
	return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
}
