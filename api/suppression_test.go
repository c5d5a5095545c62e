package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// contractSuppression drives POST /api/v1/suppression/check: an erasure
// case completed (every system left out) puts its address on NTE's list;
// case and spaces do not matter; another controller's list is its own;
// only admin, officer and system keys of the controller may ask.
func contractSuppression(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-24T07:40:00Z"))
	const path = "/api/v1/suppression/check"
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "Suppressed@Example.no"}, "verified": true, "verification_method": "Signed in"}))
	check := func(key, ctrl string, emails ...string) []bool {
		t.Helper()
		a := e.do(t, contractCall{method: "POST", path: path, key: key, body: map[string]any{"controller": ctrl, "emails": emails}, want: 200})
		var out struct {
			Results []struct {
				Email      string `json:"email"`
				Suppressed bool   `json:"suppressed"`
			} `json:"results"`
		}
		a.decode(t, &out)
		got := make([]bool, len(out.Results))
		for i, r := range out.Results {
			if r.Email != emails[i] {
				t.Errorf("result %d is of %q, want %q (the order asked)", i, r.Email, emails[i])
			}
			got[i] = r.Suppressed
		}
		return got
	}
	emails := []string{"suppressed@example.no", "  SUPPRESSED@EXAMPLE.NO ", "other@example.no"}
	if got := check("officer", "nte", emails...); fmt.Sprint(got) != "[false false false]" {
		t.Fatalf("before the erasure: %v", got)
	}
	plan, err := store.NewRequests(e.db).Plan(context.Background(), dsar.ActorService, id)
	if err != nil {
		t.Fatal(err)
	}
	leaveOut := map[string]string{}
	for _, task := range append(plan.Tasks, plan.Notify...) {
		leaveOut[task.Target()] = "Erased at the counter."
	}
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/approve", key: "officer", body: map[string]any{"leave_out": leaveOut}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "completed"})
	for _, key := range []string{"officer", "admin", "system"} {
		if got := check(key, "nte", emails...); fmt.Sprint(got) != "[true true false]" {
			t.Errorf("%s key, after the erasure: %v", key, got)
		}
	}
	if got := check("digiref", "digiref", emails[0]); got[0] {
		t.Error("NTE's erasure is on Digiref's list")
	}

	// Who may ask.
	body := map[string]any{"controller": "nte", "emails": []string{"a@example.no"}}
	e.do(t, contractCall{method: "POST", path: path, body: body, want: 401, docRejects: true})
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: body, want: 403})

	// What may be asked.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"controller": "nte", "emails": []string{"a@example.no", "not an address", " "}}, want: 422})
	problemFields(t, a, map[string]string{"emails.1": "field.email", "emails.2": "field.required"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"controller": "nte", "emails": []string{}}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"emails": "field.list_size"})
	many := make([]string, dsar.MaxSuppressionCheck+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d@example.no", i)
	}
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"controller": "nte", "emails": many}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"emails": "field.list_size"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "admin", body: map[string]any{"controller": "acme", "emails": []string{"a@example.no"}}, want: 422})
	if p := a.problem(t); p.Code != "unprocessable" || p.fields()["controller"] != "error.unknown_controller" {
		t.Errorf("problem %+v", p)
	}
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"controller":"nte","emails":["a@example.no"],"list":"x"}`, want: 400, docRejects: true})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"controller": "nte", "emails": []string{strings.Repeat("a", contractBodyLimit) + "@example.no"}}, want: 413, docRejects: true})
}
