package dsar

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Field length limits of a request. Longer input is refused, not truncated.
const (
	MaxEmailLength   = 254
	MaxNameLength    = 200
	MaxPhoneLength   = 40
	MaxIDLength      = 100
	MaxDetailsLength = 10000
	MaxReasonLength  = 2000
)

// ValidateNewRequest checks a submission against the controllers and the
// caller's rights and fills in the defaults (regulation, language, channel,
// receipt time). It returns an EINVALID error naming every bad field, or
// EUNPROCESSABLE for an unknown controller.
func ValidateNewRequest(in *NewRequest, actor Actor, controllers *Controllers, now time.Time) (*Controller, error) {
	var fields []FieldError
	bad := func(field, msg string, params map[string]any) {
		fields = append(fields, FieldError{Field: field, Message: msg, Params: params})
	}

	if in.Type == "" {
		bad("type", "field.required", nil)
	} else if !in.Type.Valid() {
		bad("type", "field.enum", map[string]any{"allowed": enumStrings(RequestTypes)})
	}
	in.Subject.Email = strings.TrimSpace(in.Subject.Email)
	switch {
	case in.Subject.Email == "":
		bad("subject.email", "field.required", nil)
	case utf8.RuneCountInString(in.Subject.Email) > MaxEmailLength:
		bad("subject.email", "field.too_long", map[string]any{"max": MaxEmailLength})
	case !validEmail(in.Subject.Email):
		bad("subject.email", "field.email", nil)
	}
	checkLen := func(field, v string, max int) {
		if utf8.RuneCountInString(v) > max {
			bad(field, "field.too_long", map[string]any{"max": max})
		}
	}
	checkLen("subject.name", in.Subject.Name, MaxNameLength)
	checkLen("subject.phone", in.Subject.Phone, MaxPhoneLength)
	checkLen("subject.customer_id", in.Subject.CustomerID, MaxIDLength)
	checkLen("details", in.Details, MaxDetailsLength)
	if in.Language != "" && !in.Language.Valid() {
		bad("language", "field.enum", map[string]any{"allowed": enumStrings(Languages)})
	}
	if in.Objection != "" {
		switch {
		case in.Type != TypeObjection:
			bad("objection", "field.objection_only", nil)
		case !in.Objection.Valid():
			bad("objection", "field.enum", map[string]any{"allowed": enumStrings(ObjectionKinds)})
		}
	}
	if in.Regulation != "" && !in.Regulation.Valid() {
		bad("regulation", "field.enum", map[string]any{"allowed": enumStrings(Regulations)})
	}
	if in.Channel != "" {
		if !actor.Authenticated() {
			bad("channel", "field.api_key_only", nil)
		} else if !in.Channel.Valid() {
			bad("channel", "field.enum", map[string]any{"allowed": enumStrings(Channels)})
		}
	}
	if in.Verified || in.VerificationMethod != "" {
		switch {
		case !actor.Authenticated():
			bad("verified", "field.api_key_only", nil)
		case in.Verified && strings.TrimSpace(in.VerificationMethod) == "":
			bad("verification_method", "field.required", nil)
		case !in.Verified:
			bad("verified", "field.required", nil)
		}
		checkLen("verification_method", in.VerificationMethod, MaxNameLength)
	}
	if in.ReceivedAt != nil {
		if !actor.Authenticated() {
			bad("received_at", "field.api_key_only", nil)
		} else if in.ReceivedAt.After(now) {
			bad("received_at", "field.future", nil)
		}
	}

	var ctrl *Controller
	if in.Controller == "" {
		bad("controller", "field.required", nil)
	} else if c, ok := controllers.Get(in.Controller); ok {
		ctrl = c
		if in.Regulation.Valid() && !c.Allows(in.Regulation) {
			bad("regulation", "field.regulation_not_allowed", map[string]any{"allowed": enumStrings(c.Regulations)})
		}
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	if ctrl == nil {
		return nil, &Error{Code: EUNPROCESSABLE, Message: "error.unknown_controller", Params: map[string]any{"controller": in.Controller},
			Fields: []FieldError{{Field: "controller", Message: "error.unknown_controller", Params: map[string]any{"controller": in.Controller}}}}
	}
	if actor.Authenticated() && (!actor.CanSee(ctrl.Key) || actor.Role == RoleAuditor) {
		return nil, &Error{Code: EFORBIDDEN, Message: "error.forbidden"}
	}

	if in.Regulation == "" {
		in.Regulation = ctrl.DefaultRegulation
	}
	if in.Language == "" {
		in.Language = ctrl.Languages[0]
	}
	if in.Channel == "" {
		in.Channel = ChannelWeb
		if actor.Authenticated() {
			in.Channel = ChannelAPI
		}
	}
	if in.ReceivedAt == nil {
		in.ReceivedAt = &now
	}
	return ctrl, nil
}

// validEmail accepts a bare address (no display name) that net/mail parses
// and whose domain has a dot.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// ValidateReason checks a free-text reason an officer gives for an action.
func ValidateReason(field, reason string) error {
	r := strings.TrimSpace(reason)
	if r == "" {
		return Invalid(FieldError{Field: field, Message: "field.required"})
	}
	if utf8.RuneCountInString(r) > MaxReasonLength {
		return Invalid(FieldError{Field: field, Message: "field.too_long", Params: map[string]any{"max": MaxReasonLength}})
	}
	return nil
}
