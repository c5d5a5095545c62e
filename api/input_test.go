package api_test

import (
	"bytes"
	"context"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// The tests of this file send what no form would (control characters, a
// receipt from years ago) and check that it is refused with the field named
// and that nothing is written, on the database DSAR_TEST_DATABASE_URL names
// (Postgres refuses a NUL in text outright) or the embedded one.

// requestCount is how many requests the database holds.
func (e *contractEnv) requestCount(t *testing.T) int {
	t.Helper()
	page, err := store.NewRequests(e.db).List(context.Background(), dsar.Actor{ID: "test", Role: dsar.RoleAdmin}, dsar.RequestFilter{Limit: store.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Requests)
}

// problemMessages returns the field → message of a problem answer.
func problemMessages(t *testing.T, a contractAnswer) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range a.problem(t).Errors {
		out[f.Field] = f.Message
	}
	return out
}

// An officer logging a request received more than a year ago has mistyped
// the date: its deadline passed long ago, and every officer would be told
// it is overdue by years.
func TestReceiptMoreThanAYearAgoIsRefused(t *testing.T) {
	e := newContractEnv(t, nil)
	e.clock.Set(mustTime("2025-04-20T10:00:00Z"))
	body := func(receivedAt string) map[string]any {
		return map[string]any{"type": "access", "controller": "nte", "channel": "letter", "received_at": receivedAt,
			"subject": map[string]any{"email": "kari@example.no"}}
	}
	for lang, want := range map[string]string{
		"en": "A request received more than a year ago cannot be logged.",
		"nb": "En forespørsel som ble mottatt for mer enn ett år siden, kan ikke registreres.",
	} {
		for _, at := range []string{"1999-01-01T00:00:00Z", "2024-04-20T09:59:59Z"} {
			a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", lang: lang, body: body(at), want: 422})
			problemFields(t, a, map[string]string{"received_at": "field.received_too_old"})
			if got := problemMessages(t, a)["received_at"]; got != want {
				t.Errorf("%s, %s: message %q, want %q", lang, at, got, want)
			}
		}
	}
	if n := e.requestCount(t); n != 0 {
		t.Fatalf("refused requests left %d requests", n)
	}
	// A year ago to the second is still a case to log.
	got := e.create(t, "officer", body("2024-04-20T10:00:00Z"))
	checkFields(t, got, map[string]any{"received_at": "2024-04-20T12:00:00+02:00", "due_date": "2024-05-21", "overdue": true})
}

// A received_at that is not a timestamp is reported on its own: the
// submission is validated once, by the domain, from what could be read.
func TestUnreadableReceiptIsReportedOnItsOwn(t *testing.T) {
	e := newContractEnv(t, nil)
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", want: 422, docRejects: true, body: map[string]any{
		"type": "bogus", "controller": "nte", "received_at": "yesterday", "subject": map[string]any{"email": "not-an-email"}}})
	problemFields(t, a, map[string]string{"received_at": "field.timestamp"})
}

// Control characters, text-direction overrides and line breaks in one-line
// fields are refused in a new request, through the API and the form.
func TestNewRequestRefusesControlCharacters(t *testing.T) {
	e := newContractEnv(t, nil)
	e.clock.Set(mustTime("2025-04-20T10:00:00Z"))
	const control, lineBreak = "field.control_characters", "field.line_break"
	for _, c := range []struct {
		name    string
		subject map[string]any
		extra   map[string]any
		want    map[string]string
	}{
		{"NUL in the name", map[string]any{"name": "Kari\x00Nordmann"}, nil, map[string]string{"subject.name": control}},
		{"BEL in the details", nil, map[string]any{"details": "Innsyn\a"}, map[string]string{"details": control}},
		{"ESC in the phone", map[string]any{"phone": "\x1b[2J+47 912 34 567"}, nil, map[string]string{"subject.phone": control}},
		{"a right-to-left override in the name", map[string]any{"name": "Kari \u202Ennamdron"}, nil, map[string]string{"subject.name": control}},
		{"a C1 control in the details", nil, map[string]any{"details": "a\u009bb"}, map[string]string{"details": control}},
		{"a CR on its own in the details", nil, map[string]any{"details": "a\rb"}, map[string]string{"details": control}},
		{"NUL in the e-mail address", map[string]any{"email": "kari\x00@example.no"}, nil, map[string]string{"subject.email": control}},
		{"two lines of a name", map[string]any{"name": "Kari\nNordmann"}, nil, map[string]string{"subject.name": lineBreak}},
		{"two lines of a customer number", map[string]any{"customer_id": "700\n1234"}, nil, map[string]string{"subject.customer_id": lineBreak}},
		{"a tab in a customer number", map[string]any{"customer_id": "700\t1234"}, nil, map[string]string{"subject.customer_id": control}},
		{"two lines of a verification method", nil, map[string]any{"verified": true, "verification_method": "BankID\nand more"}, map[string]string{"verification_method": lineBreak}},
		{"all at once", map[string]any{"name": "\x00", "phone": "\a"}, map[string]any{"details": "\x1b"},
			map[string]string{"subject.name": control, "subject.phone": control, "details": control}},
	} {
		t.Run(c.name, func(t *testing.T) {
			subject := map[string]any{"email": "kari@example.no"}
			maps.Copy(subject, c.subject)
			body := map[string]any{"type": "access", "controller": "nte", "subject": subject}
			maps.Copy(body, c.extra)
			a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", body: body, want: 422})
			problemFields(t, a, c.want)
		})
	}
	// A header smuggled into the address (which the document's e-mail
	// format refuses too).
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", want: 422, docRejects: true, body: map[string]any{
		"type": "access", "controller": "nte", "subject": map[string]any{"email": "kari@example.no\r\nBcc: all@example.com"}}})
	problemFields(t, a, map[string]string{"subject.email": lineBreak})
	// In bokmål, too.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", lang: "nb", want: 422, body: map[string]any{
		"type": "access", "controller": "nte", "subject": map[string]any{"email": "kari@example.no", "name": "Kari\nNordmann"}}})
	if got := problemMessages(t, a)["subject.name"]; got != "Dette må stå på én linje." {
		t.Errorf("message %q", got)
	}

	// The form: a NUL, and bytes that are not UTF-8 (which the JSON decoder
	// would have replaced), come back as the form with the message.
	const csrf = "input-csrf-token"
	post := func(form url.Values, want int) contractAnswer {
		t.Helper()
		form.Set("_csrf", csrf)
		return e.do(t, contractCall{method: "POST", path: "/c/nte", body: form.Encode(), contentType: "application/x-www-form-urlencoded",
			csrf: csrf, lang: "nb", want: want})
	}
	for _, form := range []url.Values{
		{"type": {"access"}, "email": {"kari@example.no"}, "name": {"Kari\x00"}},
		{"type": {"access"}, "email": {"kari@example.no"}, "name": {"Kari \xff"}},
		{"type": {"access"}, "email": {"kari@example.no"}, "details": {"Innsyn\x1b[31m"}},
		{"type": {"access"}, "email": {"kari@example.no"}, "correct": {"Ny adresse\u202E"}},
	} {
		a := post(form, http.StatusUnprocessableEntity)
		if !strings.Contains(string(a.body), "Dette inneholder tegn som ikke kan brukes her") {
			t.Errorf("%q: the form does not say what is wrong", form)
		}
	}
	if n := e.requestCount(t); n != 0 {
		t.Fatalf("refused requests left %d requests", n)
	}

	// What a browser sends for a text area (CRLF) and tabs are fine; the
	// details keep LF.
	post(url.Values{"type": {"access"}, "email": {"kari@example.no"}, "details": {"Hei,\r\n\r\n\tjeg vil ha innsyn."}}, http.StatusSeeOther)
	got := e.create(t, "officer", map[string]any{"type": "access", "controller": "nte", "details": "Line one\r\nLine two\n",
		"subject": map[string]any{"email": "kari@example.no", "name": " Kari Nordmann\r\n"}})
	checkFields(t, got, map[string]any{"details": "Line one\nLine two\n"})
	if s, _ := got["subject"].(map[string]any); s["name"] != "Kari Nordmann" {
		t.Errorf("subject %v", got["subject"])
	}
}

// Every text an officer writes on a case refuses control characters, and
// the refused change leaves the case as it was.
func TestCaseTextsRefuseControlCharacters(t *testing.T) {
	e := newContractEnv(t, nil)
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}, "verified": true, "verification_method": "Signed in"}))
	before, msgs := len(e.events(t, id)), len(e.messages(t, "officer", id))
	const control, lineBreak = "field.control_characters", "field.line_break"
	for _, c := range []struct {
		op    string
		body  map[string]any
		field string
		want  string
	}{
		{"extend", map[string]any{"reason": "Large\x00"}, "reason", control},
		{"pause", map[string]any{"reason": "identity", "note": "Passport\a"}, "note", control},
		{"messages", map[string]any{"kind": "identity", "body": "Send\x1b[8m a copy"}, "body", control},
		{"verify", map[string]any{"method": "Passport\u202E"}, "method", control},
		{"verify", map[string]any{"method": "Passport\nchecked"}, "method", lineBreak},
		{"complete", map[string]any{"summary": "Se\u0085nt"}, "summary", control},
		{"complete", map[string]any{"summary": "Deleted.", "kept": []any{map[string]any{"what": "Invoices\nand more", "why": "Law"}}}, "kept.0", lineBreak},
		{"complete", map[string]any{"summary": "Deleted.", "kept": []any{map[string]any{"what": "Invoices", "why": "Law\x00"}}}, "kept.0", control},
		{"refuse", map[string]any{"ground": "art12_5", "text": "Again\x07"}, "text", control},
		{"refuse", map[string]any{"ground": "art12_5", "text": "Again.", "partial": true, "part": "The logs\x00", "granted": "The rest"}, "part", control},
		{"notes", map[string]any{"body": "Called\x00"}, "body", control},
		{"reopen", map[string]any{"reason": "Missing\u2066 data"}, "reason", control},
		{"approve", map[string]any{"note": "Checked\x00"}, "note", control},
		{"forward", map[string]any{"to": "Acme AS\u202Eon.emca@tsop"}, "to", control},
		{"fee", map[string]any{"basis": "art12_5", "text": "NOK 150\x1b"}, "text", control},
	} {
		a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/" + c.op, key: "officer", body: c.body, want: 422})
		problemFields(t, a, map[string]string{c.field: c.want})
	}

	// The same through the case page and the queue's bulk note.
	officer := e.signIn(t, "officer")
	for action, form := range map[string]string{
		"note":    officerForm("body", "Called\x00"),
		"verify":  officerForm("method", "Passport\r\nchecked"),
		"forward": officerForm("to", "Acme\u202E", "confirm", "yes"),
		"extend":  officerForm("reason", "Big \xff"),
	} {
		a := e.postForm(t, "/cases/"+id+"/"+action, officer, form, 422, false)
		if !strings.Contains(string(a.body), "Dette inneholder tegn som ikke kan brukes her") && !strings.Contains(string(a.body), "Dette må stå på én linje.") {
			t.Errorf("%s: the page does not say what is wrong", action)
		}
	}
	e.postForm(t, "/queue/bulk?controller=nte", officer, officerForm("action", "note", "body", "All\x00"), 422, false)

	if n := len(e.events(t, id)); n != before {
		t.Errorf("refused changes left %d events, want %d", n, before)
	}
	if n := len(e.messages(t, "officer", id)); n != msgs {
		t.Errorf("refused changes left %d messages, want %d", n, msgs)
	}
	a := e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "officer", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress", "extended": false, "paused": false})
}

// The subject's answer on the status page refuses control characters in the
// text.
func TestSubjectReplyRefusesControlCharacters(t *testing.T) {
	e := newContractEnv(t, nil)
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte", "language": "en",
		"subject": map[string]any{"email": "kari@example.no"}, "verified": true, "verification_method": "Signed in"}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/messages", key: "officer",
		body: map[string]any{"kind": "identity", "body": "Please send a copy of an identity document."}, want: 200})
	token, csrf := e.db.StatusToken(id), "contract-csrf-token"
	reply := func(body string, want int) contractAnswer {
		t.Helper()
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		_ = mw.WriteField("_csrf", csrf)
		_ = mw.WriteField("body", body)
		_ = mw.Close()
		return e.do(t, contractCall{method: "POST", path: "/s/" + token + "/reply", body: form.Bytes(), contentType: mw.FormDataContentType(),
			csrf: csrf, lang: "en", want: want})
	}
	for _, body := range []string{"Here it is.\x00", "Here it is.\x1b[2J"} {
		a := reply(body, http.StatusUnprocessableEntity)
		if !strings.Contains(string(a.body), "This contains characters that cannot be used here") {
			t.Errorf("%q: the page does not say what is wrong", body)
		}
	}
	if msgs := e.messages(t, "officer", id); len(msgs) != 1 {
		t.Errorf("refused answers left %d messages, want the question only", len(msgs))
	}
	// CRLF, as a browser sends a text area, is an answer.
	reply("Here it is.\r\nKari", http.StatusSeeOther)
}

// A search term, assignee, controller or cursor with control characters is
// a bad filter: 400 with the field named in the API, the queue's form with
// the message, and an error page, not an empty file, for the CSV.
func TestBadFilterIsRefused(t *testing.T) {
	e := newContractEnv(t, nil)
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	e.create(t, "officer", map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "kari@example.no"}})
	for _, c := range []struct {
		query, field string
		docRejects   bool
	}{
		{"search=%00", "search", false},
		{"search=7KQ2%0AM9XD", "search", false},
		{"search=%FF", "search", false},
		{"assignee=%00", "assignee", false},
		{"controller=nte,%00", "controller", true},
		// {"s":"deadline","t":"2025-01-01T00:00:00Z","i":"\u0000"}
		{"cursor=eyJzIjoiZGVhZGxpbmUiLCJ0IjoiMjAyNS0wMS0wMVQwMDowMDowMFoiLCJpIjoiXHUwMDAwIn0", "cursor", false},
	} {
		a := e.do(t, contractCall{method: "GET", path: "/api/v1/requests?" + c.query, key: "admin", want: 400, docRejects: c.docRejects})
		if f := a.problem(t).fields(); f[c.field] == "" {
			t.Errorf("%s: errors %v do not name %s", c.query, f, c.field)
		}
	}
	officer := e.signIn(t, "officer")
	for _, q := range []string{"q=%00", "q=kari%40example.no%1B", "assignee=%00"} {
		a := e.do(t, contractCall{method: "GET", path: "/queue?" + q, session: officer, lang: "en", want: 400})
		if body := string(a.body); !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "This contains characters that cannot be used here") {
			t.Errorf("/queue?%s: the page does not say what is wrong", q)
		}
		a = e.do(t, contractCall{method: "GET", path: "/queue.csv?" + q, session: officer, lang: "en", want: 400})
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || a.header.Get("Content-Disposition") != "" ||
			!strings.Contains(string(a.body), "This contains characters that cannot be used here") {
			t.Errorf("/queue.csv?%s: Content-Type %q, Content-Disposition %q", q, ct, a.header.Get("Content-Disposition"))
		}
	}
	// The filter still finds what it should.
	a := e.do(t, contractCall{method: "GET", path: "/queue.csv?q=+kari%40example.no+", session: officer, want: 200})
	if !strings.Contains(string(a.body), "kari@example.no") {
		t.Errorf("queue.csv: %q", a.body)
	}
}

// A path with a control character names nothing: 404, a problem document in
// the API and an error page on the pages. (The document's IDs are UUIDs, so
// it refuses such paths too.)
func TestPathWithControlCharactersIsNotFound(t *testing.T) {
	e := newContractEnv(t, nil)
	officer := e.signIn(t, "officer")
	for _, path := range []string{"/api/v1/requests/%00", "/api/v1/requests/%E2%80%AE/events", "/api/v1/requests/%FF/messages"} {
		a := e.do(t, contractCall{method: "GET", path: path, key: "admin", want: 404, docRejects: true})
		if p := a.problem(t); p.Code != "not_found" {
			t.Errorf("%s: problem %+v", path, p)
		}
	}
	for _, path := range []string{"/cases/%00", "/r/%00/verify"} {
		a := e.do(t, contractCall{method: "GET", path: path, session: officer, want: 404, docRejects: true})
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
	}
}
