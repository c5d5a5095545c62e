package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// decodeJSON decodes the body strictly into v: JSON only, no unknown
// fields, no null, no trailing data, within the body limit. Errors name the
// field.
func decodeJSON(c echo.Context, limit int64, v any) error {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
		}
	}
	body, err := io.ReadAll(r.Body)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
		if err == nil && (dec.More() || dec.Decode(&struct{}{}) != io.EOF) {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		// encoding/json takes null for "leave the field as it is", which
		// would pass a null type, subject or flag as if it had been left
		// out. No field of a request body is nullable (api/openapi.yaml;
		// TestNoRequestFieldIsNullable), so null is malformed wherever it is.
		field, ok := nullField(body)
		switch {
		case !ok:
			return nil
		case field == "":
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
		}
		return malformed{dsar.Invalid(dsar.FieldError{Field: field, Message: "field.null"})}
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

// nullField finds the first null in the JSON text data (which must be
// valid) and returns its path in the field names of the problems
// (subject.name; kept.0.why for an entry of a list, counted from 0), ""
// for a null document. ok is false when there is no null.
func nullField(data []byte) (path string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(path string) (string, bool)
	walk = func(path string) (string, bool) {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		join := func(name string) string {
			if path == "" {
				return name
			}
			return path + "." + name
		}
		switch tok {
		case nil:
			return path, true
		case json.Delim('{'):
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return "", false
				}
				if p, ok := walk(join(key.(string))); ok {
					return p, true
				}
			}
			_, _ = dec.Token() // the closing brace
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if p, ok := walk(join(strconv.Itoa(i))); ok {
					return p, true
				}
			}
			_, _ = dec.Token() // the closing bracket
		}
		return "", false
	}
	return walk("")
}
