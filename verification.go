package dsar

import "time"

// VerificationState is where one e-mailed link and code stands.
type VerificationState string

// The states of a verification.
const (
	VerificationActive     VerificationState = "active"     // may be used until it expires
	VerificationUsed       VerificationState = "used"       // confirmed the request
	VerificationSuperseded VerificationState = "superseded" // a newer link and code replaced it, or the wait ended
	VerificationLocked     VerificationState = "locked"     // too many wrong codes
)

// Verification is one e-mailed link and code of a request, as the subject
// meets it.
type Verification struct {
	ID        string
	State     VerificationState
	Attempts  int
	ExpiresAt time.Time
}

// FollowLink decides what following a verification link does: verify the
// request (nil), show the status page again for a link used before (again),
// or tell the subject why not.
func FollowLink(v Verification, now time.Time) (again bool, err error) {
	switch {
	case v.State == VerificationUsed:
		return true, nil
	case v.State != VerificationActive:
		return false, &Error{Code: ECONFLICT, Message: "error.verify.superseded"}
	case now.After(v.ExpiresAt):
		return false, &Error{Code: ECONFLICT, Message: "error.verify.expired"}
	}
	return false, nil
}

// TryCode decides a code the subject typed against the newest verification:
// nil when it matches a live one (verify the request). Otherwise it returns
// the error the subject reads and, for a wrong code, the attempts to record
// and whether the code is now locked (after Policy.MaxCodeAttempts a new code
// must be asked for).
func TryCode(v Verification, matches bool, p Policy, now time.Time) (attempts int, lock bool, err error) {
	switch {
	case v.State == VerificationLocked:
		return v.Attempts, false, &Error{Code: ECONFLICT, Message: "error.verify.locked"}
	case now.After(v.ExpiresAt):
		return v.Attempts, false, &Error{Code: ECONFLICT, Message: "error.verify.expired"}
	case matches:
		return v.Attempts, false, nil
	}
	attempts = v.Attempts + 1
	left := p.MaxCodeAttempts - attempts
	if left <= 0 {
		return attempts, true, &Error{Code: ECONFLICT, Message: "error.verify.locked"}
	}
	return attempts, false, &Error{Code: EINVALID, Message: "error.verify.wrong_code", Params: map[string]any{"left": left},
		Fields: []FieldError{{Field: "code", Message: "error.verify.wrong_code", Params: map[string]any{"left": left}}}}
}
