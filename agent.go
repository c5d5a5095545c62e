package dsar

import "strings"

// Agent is the authorised agent who makes a CCPA request for the subject
// (11 CCR §7063): a person or business the subject gave signed permission
// to, or who holds the subject's power of attorney (Probate Code
// §§4121-4130). The case records who the agent is and the proof they gave;
// the subject still verifies their own identity (the e-mailed link), unless
// the agent holds a power of attorney, when the business may not require
// it (§7063(b)) and an officer records the verification once the power of
// attorney is checked.
type Agent struct {
	Name  string
	Email string
	// Relationship says who the agent is to the subject (a parent, a
	// lawyer, a registered business).
	Relationship string
	// Proof refers to the subject's signed permission or the power of
	// attorney (its number or place in the calling system), never a copy.
	Proof string
	// PowerOfAttorney is true when the agent holds the subject's power of
	// attorney.
	PowerOfAttorney bool
}

// checkAgent validates the agent of a request (verified says the calling
// system vouches for the identity) and returns the bad fields; it trims the
// agent's text.
func checkAgent(ag *Agent, verified bool) []FieldError {
	var fields []FieldError
	ag.Name, ag.Email = strings.TrimSpace(ag.Name), strings.TrimSpace(ag.Email)
	ag.Relationship, ag.Proof = strings.TrimSpace(ag.Relationship), strings.TrimSpace(ag.Proof)
	for _, f := range []struct {
		field, v string
		max      int
	}{
		{"agent.name", ag.Name, MaxNameLength}, {"agent.email", ag.Email, MaxEmailLength},
		{"agent.relationship", ag.Relationship, MaxNameLength}, {"agent.proof", ag.Proof, MaxReasonLength},
	} {
		if f.v == "" {
			fields = append(fields, FieldError{Field: f.field, Message: "field.required"})
		} else if fe := checkText(f.field, f.v, false, f.max); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if ag.Email != "" && checkText("agent.email", ag.Email, false, MaxEmailLength) == nil && !validEmail(ag.Email) {
		fields = append(fields, FieldError{Field: "agent.email", Message: "field.email"})
	}
	// Without a power of attorney the subject verifies their own identity:
	// a system that authenticated the agent has not authenticated the
	// subject.
	if verified && !ag.PowerOfAttorney {
		fields = append(fields, FieldError{Field: "verified", Message: "field.agent_subject_verifies"})
	}
	return fields
}

// recordAgent adds to the data of a request's first audit event that an
// authorised agent made it and whether they hold a power of attorney; who
// the agent is stays on the case, removed with its personal data.
func recordAgent(data map[string]string, ag *Agent) {
	data["agent"] = "authorised"
	data["power_of_attorney"] = "false"
	if ag.PowerOfAttorney {
		data["power_of_attorney"] = "true"
	}
}
