package dsar

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"net/mail"
	"slices"
	"strconv"
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
// caller's rights, normalises its text (white space around single-line
// fields trimmed, CRLF line ends of the details made LF) and fills in the
// defaults (regulation, language, channel, receipt time). It returns an
// EINVALID error naming every bad field, or EUNPROCESSABLE for an unknown
// controller. It is the one validation of a new request: adapters only
// decode the submission into in.
func ValidateNewRequest(in *NewRequest, actor Actor, controllers *Controllers, now time.Time) (*Controller, error) {
	var fields []FieldError
	bad := func(field, msg string, params map[string]any) {
		fields = append(fields, FieldError{Field: field, Message: msg, Params: params})
	}
	text := func(field, v string, multiLine bool, max int) {
		if fe := checkText(field, v, multiLine, max); fe != nil {
			fields = append(fields, *fe)
		}
	}

	if in.Type == "" {
		bad("type", "field.required", nil)
	} else if !in.Type.Valid() {
		bad("type", "field.enum", map[string]any{"allowed": enumStrings(RequestTypes)})
	}
	sub := &in.Subject
	sub.Email, sub.Name, sub.Phone, sub.CustomerID = strings.TrimSpace(sub.Email), strings.TrimSpace(sub.Name), strings.TrimSpace(sub.Phone), strings.TrimSpace(sub.CustomerID)
	in.VerificationMethod = strings.TrimSpace(in.VerificationMethod)
	in.Details = strings.ReplaceAll(in.Details, "\r\n", "\n")
	switch fe := checkText("subject.email", sub.Email, false, MaxEmailLength); {
	case sub.Email == "":
		bad("subject.email", "field.required", nil)
	case fe != nil:
		fields = append(fields, *fe)
	case !validEmail(sub.Email):
		bad("subject.email", "field.email", nil)
	}
	text("subject.name", sub.Name, false, MaxNameLength)
	text("subject.phone", sub.Phone, false, MaxPhoneLength)
	text("subject.customer_id", sub.CustomerID, false, MaxIDLength)
	text("details", in.Details, true, MaxDetailsLength)
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
		case !actor.Allows(ScopeRequestsVerified):
			bad("verified", "field.scope_missing", map[string]any{"scope": string(ScopeRequestsVerified)})
		case in.Verified && in.VerificationMethod == "":
			bad("verification_method", "field.required", nil)
		case !in.Verified:
			bad("verified", "field.required", nil)
		}
		text("verification_method", in.VerificationMethod, false, MaxNameLength)
	}
	if in.Agent != nil {
		if !actor.Authenticated() {
			bad("agent", "field.api_key_only", nil)
		} else {
			fields = append(fields, checkAgent(in.Agent, in.Verified)...)
		}
	}
	if in.ReceivedAt != nil {
		switch {
		case !actor.Authenticated():
			bad("received_at", "field.api_key_only", nil)
		case in.ReceivedAt.After(now):
			bad("received_at", "field.future", nil)
		case in.ReceivedAt.Before(OldestReceipt(now)):
			bad("received_at", "field.received_too_old", nil)
		}
	}

	var ctrl *Controller
	if in.Controller == "" {
		bad("controller", "field.required", nil)
	} else if c, ok := controllers.Get(in.Controller); ok {
		ctrl = c
		fields = append(fields, validateTransmit(in, c)...)
		if in.Regulation.Valid() && !c.Allows(in.Regulation) {
			bad("regulation", "field.regulation_not_allowed", map[string]any{"allowed": enumStrings(c.Regulations)})
		}
		// Only the CCPA provides for authorised agents (11 CCR §7063).
		if reg := cmp.Or(in.Regulation, c.DefaultRegulation); in.Agent != nil && reg != RegulationCCPA {
			bad("agent", "field.agent_ccpa_only", nil)
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

// OldestReceipt is the earliest receipt instant of a request that may be
// logged at now: one year before. A request received earlier is a typing
// error (its deadline passed long ago, and every officer would be told it
// is overdue by years), not a case to open.
func OldestReceipt(now time.Time) time.Time { return now.AddDate(-1, 0, 0) }

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

// ValidateReason checks a free-text reason an officer gives for an action:
// required, multi-line text of at most MaxReasonLength characters once
// trimmed.
func ValidateReason(field, reason string) error {
	if fe := checkReason(field, reason); fe != nil {
		return Invalid(*fe)
	}
	return nil
}

// checkReason is ValidateReason's field error, or nil.
func checkReason(field, reason string) *FieldError {
	r := strings.TrimSpace(reason)
	if r == "" {
		return &FieldError{Field: field, Message: "field.required"}
	}
	return checkText(field, r, true, MaxReasonLength)
}

// ValidateMethod checks how an officer says they verified the subject's
// identity: required, one line of at most MaxNameLength characters once
// trimmed.
func ValidateMethod(method string) error {
	m := strings.TrimSpace(method)
	if m == "" {
		return Invalid(FieldError{Field: "method", Message: "field.required"})
	}
	return ValidateText("method", m, false, MaxNameLength)
}

// ValidateUserName checks a user's name: optional, one line of at most
// MaxNameLength characters once trimmed.
func ValidateUserName(name string) error {
	return ValidateText("name", strings.TrimSpace(name), false, MaxNameLength)
}

// ValidateCompletion checks the decision that completes a request: its
// summary is a reason, and every entry of Kept (kept.<n>) says what and
// why, each on one line, and until when as a date if at all. Every bad
// field is listed.
func ValidateCompletion(d Decision) error {
	var fields []FieldError
	if fe := checkReason("summary", d.Summary); fe != nil {
		fields = append(fields, *fe)
	}
	for i, k := range d.Kept {
		field := "kept." + strconv.Itoa(i)
		what, why := strings.TrimSpace(k.What), strings.TrimSpace(k.Why)
		if what == "" || why == "" {
			fields = append(fields, FieldError{Field: field, Message: "field.required"})
		} else if fe := checkText(field, what, false, MaxReasonLength); fe != nil {
			fields = append(fields, *fe)
		} else if fe := checkText(field, why, false, MaxReasonLength); fe != nil {
			fields = append(fields, *fe)
		}
		if k.Until != "" {
			if _, err := ParseDate(k.Until); err != nil {
				fields = append(fields, FieldError{Field: field + ".until", Message: "field.date"})
			}
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// ValidateReply checks the subject's answer on the status page: text (at
// most MaxDetailsLength characters once trimmed), a document, or both; the
// document within MaxDocumentSize and, by its content, one of the types
// DocumentType knows (what the subject calls it does not count).
func ValidateReply(body string, doc *Document) error {
	body = strings.TrimSpace(body)
	switch {
	case body == "" && doc == nil:
		return Invalid(FieldError{Field: "body", Message: "field.required"})
	case doc == nil:
	case len(doc.Data) > MaxDocumentSize:
		return Invalid(FieldError{Field: "document", Message: "field.file_too_large", Params: map[string]any{"max": MaxDocumentSize >> 20}})
	default:
		if _, _, ok := DocumentType(doc.Data); !ok {
			return Invalid(FieldError{Field: "document", Message: "field.file_type"})
		}
	}
	return ValidateText("body", body, true, MaxDetailsLength)
}

// heifBrands are the ftyp brands of HEIC images (ISO/IEC 23008-12): still
// images and image sequences, 8- and 10-bit, multi-layer and scalable.
var heifBrands = []string{"heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"}

// DocumentType tells by its content whether data is an identity document
// the service accepts, a PDF, JPEG, PNG or HEIC file, and returns its media
// type and file name extension.
func DocumentType(data []byte) (contentType, ext string, ok bool) {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "application/pdf", ".pdf", true
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", ".jpg", true
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", ".png", true
	case isHEIC(data):
		return "image/heic", ".heic", true
	}
	return "", "", false
}

// isHEIC reads the ftyp box that opens an ISO base media file: a HEIC file
// has a HEIC brand as its major brand or, under the general image brands
// (mif1, msf1), among its compatible brands.
func isHEIC(data []byte) bool {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return false
	}
	size := int(binary.BigEndian.Uint32(data[:4]))
	if size < 16 || size > len(data) || size%4 != 0 {
		return false
	}
	major := string(data[8:12])
	if slices.Contains(heifBrands, major) {
		return true
	}
	if major != "mif1" && major != "msf1" {
		return false
	}
	for i := 16; i+4 <= size; i += 4 {
		if slices.Contains(heifBrands, string(data[i:i+4])) {
			return true
		}
	}
	return false
}

// ValidateRequestFilter checks the free text of a listing's filter: the
// search term, the assignee and the controllers are each one line, and the
// search term no longer than an e-mail address.
func ValidateRequestFilter(f RequestFilter) error {
	var fields []FieldError
	add := func(fe *FieldError) {
		if fe != nil {
			fields = append(fields, *fe)
		}
	}
	add(checkText("search", strings.TrimSpace(f.Search), false, MaxEmailLength))
	add(checkText("assignee", f.Assignee, false, MaxIDLength))
	if f.Tasks != "" && f.Tasks != TasksFailing {
		add(&FieldError{Field: "tasks", Message: "field.enum", Params: map[string]any{"allowed": []string{TasksFailing}}})
	}
	for _, c := range f.Controller {
		if fe := checkText("controller", c, false, MaxIDLength); fe != nil {
			add(fe)
			break
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// ValidateText checks the characters and the length of a text field (an
// empty one is fine: whether it is required is the caller's rule). Text is
// valid UTF-8 without control characters (C0, DEL and C1) and without the
// bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) that
// make text display other than it reads; multi-line text may hold tabs and
// line ends (LF, or CRLF as browsers send a textarea), single-line text
// neither. max counts characters.
func ValidateText(field, s string, multiLine bool, max int) error {
	if fe := checkText(field, s, multiLine, max); fe != nil {
		return Invalid(*fe)
	}
	return nil
}

// PlainText reports whether s holds only the characters ValidateText
// allows.
func PlainText(s string, multiLine bool) bool { return textProblem(s, multiLine) == "" }

// checkText is ValidateText's field error, or nil.
func checkText(field, s string, multiLine bool, max int) *FieldError {
	if msg := textProblem(s, multiLine); msg != "" {
		return &FieldError{Field: field, Message: msg}
	}
	if utf8.RuneCountInString(s) > max {
		return &FieldError{Field: field, Message: "field.too_long", Params: map[string]any{"max": max}}
	}
	return nil
}

// textProblem returns the message key of the first character of s that
// text may not hold, or "".
func textProblem(s string, multiLine bool) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "field.control_characters" // not UTF-8
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			if !multiLine {
				return "field.line_break"
			}
			if r == '\r' && !strings.HasPrefix(s[i+1:], "\n") {
				return "field.control_characters" // a CR on its own
			}
		case r == '\t':
			if !multiLine {
				return "field.control_characters"
			}
		case r < 0x20, r >= 0x7f && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return "field.control_characters"
		}
	}
	return ""
}
