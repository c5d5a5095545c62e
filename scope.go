package dsar

import (
	"slices"
	"strings"
)

// Scope is one kind of call an API key may make. A key with scopes may make
// only those calls, and only as far as its role and controllers allow too;
// a key without scopes (every key created before scopes existed, and any
// created without them) may make every call its role allows.
type Scope string

// The scopes.
const (
	ScopeRequestsCreate Scope = "requests:create" // submit requests
	// ScopeRequestsVerified lets a key that submits requests say that it
	// has authenticated the subject already (verified, verification_method):
	// the case skips the e-mailed confirmation.
	ScopeRequestsVerified Scope = "requests:verified"
	ScopeRequestsRead     Scope = "requests:read"     // read requests, their events, messages, tasks, plan and files
	ScopeCasesWrite       Scope = "cases:write"       // work cases: every change of a case
	ScopeExportsWrite     Scope = "exports:write"     // attach data: complete an export task with the system's file
	ScopeSuppressionCheck Scope = "suppression:check" // ask whether an address is on a suppression list
	ScopeWebhooksManage   Scope = "webhooks:manage"   // manage the webhook subscriptions and their deliveries
)

// Scopes lists every scope.
var Scopes = []Scope{ScopeRequestsCreate, ScopeRequestsVerified, ScopeRequestsRead, ScopeCasesWrite,
	ScopeExportsWrite, ScopeSuppressionCheck, ScopeWebhooksManage}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// SplitScopes reads a comma-separated list of scopes ("" for none); they
// are checked where a key is created (NormalizeScopes).
func SplitScopes(list string) []Scope {
	var out []Scope
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, Scope(p))
		}
	}
	return out
}

// NormalizeScopes returns the scopes sorted and without repeats (nil for
// none), or an EINVALID error naming the field when one is not known.
func NormalizeScopes(field string, scopes []Scope) ([]Scope, error) {
	for _, s := range scopes {
		if !s.Valid() {
			return nil, Invalid(FieldError{Field: field, Message: "field.enum", Params: map[string]any{"allowed": enumStrings(Scopes)}})
		}
	}
	if len(scopes) == 0 {
		return nil, nil
	}
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Allows reports whether the actor's scopes allow calls of scope s: an
// actor without scopes (officers, the service, keys without scopes) is
// limited by its role alone.
func (a Actor) Allows(s Scope) bool { return a.Scopes == nil || slices.Contains(a.Scopes, s) }

// NeedScope returns nil when the actor's scopes allow s, else an
// EFORBIDDEN error that names the missing scope.
func (a Actor) NeedScope(s Scope) error {
	if a.Allows(s) {
		return nil
	}
	return &Error{Code: EFORBIDDEN, Message: "error.scope_missing", Params: map[string]any{"scope": string(s)}}
}
