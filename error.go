package dsar

import (
	"errors"
	"fmt"
)

// Error codes. Each adapter maps them to its own vocabulary in one place (the
// API to HTTP statuses, the store from SQLSTATEs).
const (
	EINVALID       = "invalid"       // the input is malformed or fails validation
	ENOTFOUND      = "not_found"     // the thing does not exist or is not visible to the caller
	ECONFLICT      = "conflict"      // the request conflicts with the current state
	EUNAUTHORIZED  = "unauthorized"  // no or bad credentials
	EFORBIDDEN     = "forbidden"     // credentials are fine but not allowed to do this
	ERATELIMIT     = "rate_limited"  // too many requests
	EUNAVAILABLE   = "unavailable"   // a dependency is down
	EINTERNAL      = "internal"      // a bug or an unexpected failure
	ETOOLARGE      = "too_large"     // the input is larger than allowed
	ESTALE         = "stale_schema"  // the database schema is older than this binary
	EUNPROCESSABLE = "unprocessable" // well-formed, but refers to something unknown (a controller)
	EGONE          = "gone"          // it existed but is no longer available (an expired status link)
)

// FieldError names one bad field of an input and says what is wrong with it.
// Message is a message key of the templates catalog; Params fill it in.
type FieldError struct {
	Field   string
	Message string
	Params  map[string]any
}

// Error is the one error type of the application. Code is machine readable;
// Message is a message key or plain text meant for the caller; Fields lists
// per-field problems of an invalid input.
type Error struct {
	Code    string
	Message string
	Params  map[string]any
	Fields  []FieldError
}

// Error implements the error interface. It is meant for logs, not for users.
func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("dsar error: code=%s message=%s fields=%d", e.Code, e.Message, len(e.Fields))
	}
	return fmt.Sprintf("dsar error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the application error in err's chain, or
// EINTERNAL for any other non-nil error, or "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the application error in err's chain,
// or a generic message for any other error, so that internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "error.internal"
}

// Invalid returns an EINVALID error listing the given field errors.
func Invalid(fields ...FieldError) *Error {
	return &Error{Code: EINVALID, Message: "error.invalid", Fields: fields}
}
