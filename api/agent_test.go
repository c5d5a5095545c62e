package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// An authorised agent may make a CCPA request for the subject, with an API
// key: the case records the agent and the proof, the audit trail that an
// agent made it; the subject still verifies their own identity unless the
// agent holds a power of attorney. Elsewhere the agent is refused and
// nothing is made.
func TestAuthorisedAgent(t *testing.T) {
	e := newIdemEnv(t)
	keys := store.NewAPIKeys(e.db)
	for name, scopes := range map[string][]dsar.Scope{
		"keto":         nil,
		"keto-trusted": {dsar.ScopeRequestsCreate, dsar.ScopeRequestsVerified, dsar.ScopeRequestsRead},
	} {
		k, secret, err := keys.Create(context.Background(), name, dsar.RoleOfficer, []string{"keto-diets", "nte"}, scopes...)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[name], e.ids[name] = secret, k.ID
	}
	agent := `"agent":{"name":"Privacy Helpers LLC","email":"requests@privacyhelpers.example","relationship":"registered business","proof":"signed permission 4471"`
	ccpa := `{"type":"erasure","controller":"keto-diets","regulation":"ccpa","subject":{"email":"jane.doe@example.com"},`
	for _, c := range []struct {
		name, key, body, field, code string
	}{
		{"GDPR", "keto", `{"type":"access","controller":"nte","subject":{"email":"kari@example.no"},` + agent + `}}`, "agent", "field.agent_ccpa_only"},
		{"public", "", ccpa + agent + `}}`, "agent", "field.api_key_only"},
		{"bad address", "keto", strings.Replace(ccpa+agent+`}}`, "requests@privacyhelpers.example", "requests", 1), "agent.email", "field.email"},
		{"no proof", "keto", strings.Replace(ccpa+agent+`}}`, "signed permission 4471", " ", 1), "agent.proof", "field.required"},
		{"verified without a power of attorney", "keto-trusted", ccpa + `"verified":true,"verification_method":"portal login",` + agent + `}}`,
			"verified", "field.agent_subject_verifies"},
	} {
		a := e.call(t, "POST", "/api/v1/requests", c.key, "", c.body)
		if _, _, fields := a.problem(t); a.status != http.StatusUnprocessableEntity || fields[c.field] != c.code {
			t.Errorf("%s: %d %s, want 422 with %s %s", c.name, a.status, a.body, c.field, c.code)
		}
	}
	if n := e.cases(t); n != 0 {
		t.Fatalf("%d cases after refusals", n)
	}

	type answerJSON struct {
		ID, Status string
		Agent      *struct {
			Name, Email, Relationship, Proof string
			PowerOfAttorney                  bool `json:"power_of_attorney"`
		}
	}
	a := e.call(t, "POST", "/api/v1/requests", "keto", "", ccpa+agent+`}}`)
	var r answerJSON
	if err := json.Unmarshal(a.body, &r); err != nil || a.status != http.StatusCreated {
		t.Fatalf("with an agent: %d %s", a.status, a.body)
	}
	if r.Status != string(dsar.StatusAwaitingVerification) || r.Agent == nil || r.Agent.Name != "Privacy Helpers LLC" ||
		r.Agent.Proof != "signed permission 4471" || r.Agent.PowerOfAttorney {
		t.Errorf("with an agent: %s", a.body)
	}
	got, err := store.NewRequests(e.db).Get(context.Background(), dsar.ActorService, r.ID)
	if err != nil || got.Agent == nil || got.Agent.Email != "requests@privacyhelpers.example" || got.Agent.Relationship != "registered business" {
		t.Errorf("stored agent: %+v %v", got, err)
	}
	evs, err := store.NewRequests(e.db).Events(context.Background(), dsar.ActorService, r.ID)
	if err != nil || len(evs) == 0 || evs[0].Kind != dsar.EventCreated || evs[0].Data["agent"] != "authorised" || evs[0].Data["power_of_attorney"] != "false" {
		t.Errorf("audit trail: %+v %v", evs, err)
	}
	// The public never sees the agent.
	if a := e.call(t, "POST", "/api/v1/requests", "", "", ccpa+`"details":"x"}`); strings.Contains(string(a.body), `"agent"`) {
		t.Errorf("public answer: %s", a.body)
	}

	// With a power of attorney, a key that checked it may say the case is
	// verified.
	a = e.call(t, "POST", "/api/v1/requests", "keto-trusted", "", ccpa+`"verified":true,"verification_method":"power of attorney checked",`+agent+`,"power_of_attorney":true}}`)
	r = answerJSON{}
	if err := json.Unmarshal(a.body, &r); err != nil || a.status != http.StatusCreated || r.Status != string(dsar.StatusInProgress) ||
		r.Agent == nil || !r.Agent.PowerOfAttorney {
		t.Errorf("with a power of attorney: %d %s", a.status, a.body)
	}
}
