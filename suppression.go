package dsar

import (
	"context"
	"strconv"
	"strings"
)

// SuppressionKey is the form of an address the suppression list keys on
// (a keyed hash of it, never the address): trimmed and in lower case, so
// that case and surrounding spaces do not matter.
func SuppressionKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// MaxSuppressionCheck bounds the addresses one suppression check may ask about.
const MaxSuppressionCheck = 100

// CheckSuppression answers, for each address in the order given, whether
// it is on the controller's suppression list (an erasure or an objection
// to direct marketing put it there), so that a system can test addresses
// before it imports them. The caller needs an admin, officer or system key
// of the controller; 1 to MaxSuppressionCheck addresses, each valid. Case
// and surrounding spaces do not matter.
func CheckSuppression(ctx context.Context, list SuppressionList, controllers *Controllers, a Actor, controller string, emails []string) ([]bool, error) {
	if a.Role != RoleAdmin && a.Role != RoleOfficer && a.Role != RoleSystem {
		return nil, &Error{Code: EFORBIDDEN, Message: "error.forbidden"}
	}
	var fields []FieldError
	controller = strings.TrimSpace(controller)
	if controller == "" {
		fields = append(fields, FieldError{Field: "controller", Message: "field.required"})
	}
	if len(emails) == 0 || len(emails) > MaxSuppressionCheck {
		fields = append(fields, FieldError{Field: "emails", Message: "field.list_size", Params: map[string]any{"min": 1, "max": MaxSuppressionCheck}})
	} else {
		for i, e := range emails {
			field := "emails." + strconv.Itoa(i)
			e = strings.TrimSpace(e)
			switch fe := checkText(field, e, false, MaxEmailLength); {
			case e == "":
				fields = append(fields, FieldError{Field: field, Message: "field.required"})
			case fe != nil:
				fields = append(fields, *fe)
			case !validEmail(e):
				fields = append(fields, FieldError{Field: field, Message: "field.email"})
			}
		}
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	if _, ok := controllers.Get(controller); !ok {
		return nil, &Error{Code: EUNPROCESSABLE, Message: "error.unknown_controller", Params: map[string]any{"controller": controller},
			Fields: []FieldError{{Field: "controller", Message: "error.unknown_controller", Params: map[string]any{"controller": controller}}}}
	}
	if !a.CanSee(controller) {
		return nil, &Error{Code: EFORBIDDEN, Message: "error.forbidden"}
	}
	out := make([]bool, len(emails))
	for i, e := range emails {
		on, err := list.Suppressed(ctx, controller, e)
		if err != nil {
			return nil, err
		}
		out[i] = on
	}
	return out, nil
}
