package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/templates"
)

// contractScopes checks every operation of the document that names a scope
// (x-dsar-scope) against the server: a key that holds every scope but that
// one is refused with 403 naming it, a key that holds only that one is not
// refused for its scope; and every operation that takes a key names one.
// Then the Idempotency-Key of every POST that takes a key: while a call
// with the key runs (held here, as another process would), the same call
// is 409 and another body 422; a call made and made again is replayed.
func contractScopes(t *testing.T, e *contractEnv) {
	ctx := context.Background()
	keys := store.NewAPIKeys(e.db)
	for _, sc := range dsar.Scopes {
		others := slices.DeleteFunc(slices.Clone(dsar.Scopes), func(s dsar.Scope) bool { return s == sc })
		for name, scopes := range map[string][]dsar.Scope{"without " + string(sc): others, "only " + string(sc): {sc}} {
			k, secret, err := keys.Create(ctx, name, dsar.RoleAdmin, nil, scopes...)
			if err != nil {
				t.Fatal(err)
			}
			e.keys[name], e.keyIDs[name] = secret, k.ID
		}
	}
	id := contractID(t, e.create(t, "admin", map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "scopes@example.no"}}))
	fill := strings.NewReplacer("{id}", id, "{key}", "nte", "{task}", "01966c01-2a4b-7c3d-8e5f-0a1b2c3d4e5f",
		"{doc}", "0196604a-9e08-7b10-a4c2-6e1f3d5b7c90", "{name}", "report.json")
	held := store.NewIdempotency(e.db)
	scoped := 0
	for _, path := range slices.Sorted(maps.Keys(e.doc.Paths.Map())) {
		item := e.doc.Paths.Value(path)
		for method, op := range item.Operations() {
			sc, _ := op.Extensions["x-dsar-scope"].(string)
			bearer := op.Security == nil || slices.ContainsFunc(*op.Security, func(r openapi3.SecurityRequirement) bool { return r["bearer"] != nil })
			if sc == "" {
				if bearer && strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/controllers" {
					t.Errorf("%s %s takes a key but names no scope", method, path)
				}
				continue
			}
			if !dsar.Scope(sc).Valid() {
				t.Errorf("%s %s: unknown scope %q", method, path, sc)
				continue
			}
			scoped++
			body, bodyB := exampleBody(op)
			p := fill.Replace(path)
			call := contractCall{method: method, path: p, body: body, key: "without " + sc, lang: "en", want: http.StatusForbidden}
			call.docRejects = docRejects(t, e, call)
			a := e.do(t, call)
			want := templates.T(dsar.LanguageEN, "error.scope_missing", map[string]any{"scope": sc})
			if got := a.errorMessage(t, path); got != want {
				t.Errorf("%s %s without %s: %q", method, p, sc, got)
			}
			only := contractCall{method: method, path: p, body: body, key: "only " + sc, anyStatus: true}
			only.docRejects = docRejects(t, e, only)
			if a := e.do(t, only); a.status == http.StatusForbidden && strings.Contains(string(a.body), sc) {
				t.Errorf("%s %s with only %s: refused for its scope: %s", method, p, sc, a.body)
			}
			if method != http.MethodPost || !strings.HasPrefix(path, "/api/v1/") {
				continue // the OpenDSR intake takes no Idempotency-Key: its subject_request_id makes a request once
			}
			// The Idempotency-Key: a call with it runs elsewhere.
			var raw []byte
			ct := ""
			if body != nil {
				raw, ct = []byte(body.(string)), "application/json"
			}
			rid := dsar.IdempotencyID("apikey:"+e.keyIDs["admin"], method, p, "held-1")
			if _, _, err := held.Claim(ctx, rid, dsar.IdempotencyHash(ct, raw)); err != nil {
				t.Fatal(err)
			}
			hdr := http.Header{"Idempotency-Key": {"held-1"}}
			running := contractCall{method: method, path: p, body: body, key: "admin", header: hdr, want: http.StatusConflict}
			running.docRejects = docRejects(t, e, running)
			if a := e.do(t, running); a.problem(t).Title != templates.T(dsar.LanguageEN, "error.idempotency.running", nil) {
				t.Errorf("%s %s while the call runs: %s", method, p, a.body)
			}
			other := contractCall{method: method, path: p, body: bodyB, key: "admin", header: hdr, want: http.StatusUnprocessableEntity}
			other.docRejects = docRejects(t, e, other)
			if a := e.do(t, other); a.problem(t).Title != templates.T(dsar.LanguageEN, "error.idempotency.mismatch", nil) {
				t.Errorf("%s %s with another body: %s", method, p, a.body)
			}
		}
	}
	if scoped < 30 {
		t.Errorf("only %d operations name a scope", scoped)
	}
	// A call made again is replayed, as the document says.
	hdr := http.Header{"Idempotency-Key": {"contract-replay"}}
	body := map[string]any{"type": "erasure", "controller": "nte", "subject": map[string]any{"email": "replay@example.no"}}
	first := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, key: "officer", header: hdr, want: http.StatusCreated})
	again := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, key: "officer", header: hdr, want: http.StatusCreated})
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the call made again: %v %s", again.header, again.body)
	}
	// A refusal made again is replayed, as the document says, in its
	// language.
	bad := map[string]any{"type": "erasure", "controller": "acme", "subject": map[string]any{"email": "replay@example.no"}}
	hdr = http.Header{"Idempotency-Key": {"contract-refusal"}}
	first = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: bad, key: "officer", header: hdr, lang: "nb", want: http.StatusUnprocessableEntity})
	again = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: bad, key: "officer", header: hdr, want: http.StatusUnprocessableEntity})
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Content-Language") != "nb" {
		t.Errorf("the refusal made again: %v %s", again.header, again.body)
	}
	// A bad key is refused as the document says.
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, key: "officer",
		header: http.Header{"Idempotency-Key": {strings.Repeat("x", 256)}}, want: http.StatusBadRequest, docRejects: true})
}

// errorMessage returns the message of an error answer: a problem's title,
// or the message of an OpenDSR error below /opendsr/.
func (a contractAnswer) errorMessage(t *testing.T, path string) string {
	t.Helper()
	if !strings.HasPrefix(path, "/opendsr/") {
		return a.problem(t).Title
	}
	var e dsar.OpenDSRErrorResponse
	a.decode(t, &e)
	return e.Error.Message
}

// exampleBody returns the JSON body of an operation's example (nil for an
// operation whose body is optional and has none) and another body.
func exampleBody(op *openapi3.Operation) (body, other any) {
	if op.RequestBody == nil {
		return nil, "{}"
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	var v any
	switch {
	case mt == nil:
	case mt.Example != nil:
		v = mt.Example
	case len(mt.Examples) > 0:
		v = mt.Examples[slices.Sorted(maps.Keys(mt.Examples))[0]].Value.Value
	}
	if v == nil {
		return nil, "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint("example: ", err))
	}
	return string(b), string(b) + " "
}

// docRejects reports whether the document refuses the call.
func docRejects(t *testing.T, e *contractEnv, c contractCall) bool {
	t.Helper()
	var body []byte
	if c.body != nil {
		body = []byte(c.body.(string))
	}
	req, err := http.NewRequest(c.method, "https://dsar.example.com"+c.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.keys[c.key])
	for k, v := range c.header {
		req.Header[k] = v
	}
	route, params, err := e.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in the document: %v", c.method, c.path, err)
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: contractBearerAuth},
	}) != nil
}
