package api_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// JSON null is not "left out": a field that is not nullable in the document
// is refused as malformed input, naming the field, and nothing changes.
func TestNullIsMalformed(t *testing.T) {
	e := newContractEnv(t, nil)
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	for _, c := range []struct{ body, field string }{
		{`{"type":null,"controller":"nte","subject":{"email":"a@example.no"}}`, "type"},
		{`{"type":"access","controller":"nte","subject":null}`, "subject"},
		{`{"type":"access","controller":"nte","subject":{"email":"a@example.no","name":null}}`, "subject.name"},
		{`{"type":"access","controller":"nte","subject":{"email":"a@example.no"},"details":null}`, "details"},
		{`{"type":"access","controller":"nte","subject":{"email":"a@example.no"},"verified":null}`, "verified"},
	} {
		a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", body: c.body, want: 400, docRejects: true})
		problemFields(t, a, map[string]string{c.field: "field.null"})
	}
	if n := e.requestCount(t); n != 0 {
		t.Fatalf("refused requests left %d requests", n)
	}

	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}, "verified": true, "verification_method": "Signed in"}))
	before := len(e.events(t, id))
	for _, c := range []struct {
		op, body, field string
		docRejects      bool
	}{
		// (kin-openapi reads null for a field with a default, as partial
		// has, as the default.)
		{"refuse", `{"ground":"art12_5","text":"The fifth request this month.","partial":null}`, "partial", false},
		{"complete", `{"summary":"Deleted.","kept":[{"what":"Invoices","why":"Law"},{"what":"Logs","why":null}]}`, "kept.1.why", true},
		{"complete", `{"summary":"Deleted.","kept":null}`, "kept", true},
		{"assign", `{"assignee":null}`, "assignee", true},
	} {
		a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/" + c.op, key: "officer", body: c.body, want: 400, docRejects: c.docRejects})
		problemFields(t, a, map[string]string{c.field: "field.null"})
	}
	// A body that is null altogether is not an object.
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/extend", key: "officer", body: `null`, want: 400, docRejects: true})
	if p := a.problem(t); p.Title != "The request body is not valid JSON." {
		t.Errorf("problem %+v", p)
	}
	if n := len(e.events(t, id)); n != before {
		t.Errorf("refused changes left %d events, want %d", n, before)
	}
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "officer", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress", "assignee": nil, "extended": false})
}

// What the decoder refuses as null is all the document allows: no field of
// a request body is nullable. Should one become nullable, decodeJSON must
// learn to tell it apart.
func TestNoRequestFieldIsNullable(t *testing.T) {
	doc := loadOpenAPI(t)
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, s *openapi3.SchemaRef)
	walk = func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		seen[s.Value] = true
		if s.Value.Nullable {
			t.Errorf("%s is nullable", where)
		}
		for name, p := range s.Value.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Value.Items)
		for _, all := range [][]*openapi3.SchemaRef{s.Value.AllOf, s.Value.AnyOf, s.Value.OneOf} {
			for _, sub := range all {
				walk(where, sub)
			}
		}
	}
	bodies := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			if c := op.RequestBody.Value.Content.Get("application/json"); c != nil {
				bodies++
				walk(method+" "+path, c.Schema)
			}
		}
	}
	if bodies < 10 {
		t.Fatalf("only %d JSON request bodies: is the walk broken?", bodies)
	}
}
