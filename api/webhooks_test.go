package api_test

import (
	"maps"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
)

// TestOpenAPIWebhooksSection: the document's x-webhooks describes every
// event type a subscription may ask for, and the test event, each with
// the payload schema.
func TestOpenAPIWebhooksSection(t *testing.T) {
	var doc struct {
		Webhooks map[string]struct {
			Post struct {
				RequestBody struct {
					Content map[string]struct {
						Schema struct {
							Ref string `yaml:"$ref"`
						}
					}
				} `yaml:"requestBody"`
			}
		} `yaml:"x-webhooks"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	want := append(enumStrings(dsar.WebhookEventTypes), string(dsar.WebhookTest))
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(doc.Webhooks)); !slices.Equal(got, want) {
		t.Errorf("x-webhooks has %v, the code %v", got, want)
	}
	for name, w := range doc.Webhooks {
		if ref := w.Post.RequestBody.Content["application/json"].Schema.Ref; ref != "#/components/schemas/WebhookEvent" {
			t.Errorf("x-webhooks %s: payload %q", name, ref)
		}
	}
	schemas := loadOpenAPI(t).Components.Schemas
	if p := schemas["WebhookCreate"].Value.Properties["url"]; p == nil || p.Value.MaxLength == nil || int(*p.Value.MaxLength) != dsar.MaxWebhookURLLength {
		t.Errorf("WebhookCreate.url: maxLength should be %d", dsar.MaxWebhookURLLength)
	}
}

// contractWebhooks: the administrators' webhook API, every documented
// answer of it.
func contractWebhooks(t *testing.T, e *contractEnv) {
	const base = "/api/v1/webhooks"
	in := map[string]any{"url": "https://crm.example.com/hooks/dsar", "events": []string{"request.received", "request.completed"}, "controllers": []string{"nte"}}

	// Only admins.
	e.do(t, contractCall{method: "GET", path: base, want: 401, docRejects: true})
	e.do(t, contractCall{method: "GET", path: base, key: "officer", want: 403})
	e.do(t, contractCall{method: "POST", path: base, body: in, want: 401, docRejects: true})
	e.do(t, contractCall{method: "POST", path: base, key: "officer", body: in, want: 403})

	// Create: the secret shows once.
	a := e.do(t, contractCall{method: "POST", path: base, key: "admin", body: in, want: 201})
	created := a.object(t)
	id := contractID(t, created)
	if secret, _ := created["secret"].(string); len(secret) < 30 || secret[:6] != "whsec_" {
		t.Errorf("secret %v", created["secret"])
	}
	a = e.do(t, contractCall{method: "POST", path: base, key: "admin", body: map[string]any{"url": "ftp://x", "events": []string{"nope"}}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"url": "field.webhook_url", "events": "field.enum"})
	e.do(t, contractCall{method: "POST", path: base, key: "admin", body: map[string]any{"url": "https://x.example", "events": []string{"request.received"}, "enabled": true}, want: 400, docRejects: true})

	// Read: never the secret.
	list := e.do(t, contractCall{method: "GET", path: base, key: "admin", want: 200}).object(t)
	hooks, _ := list["webhooks"].([]any)
	listed := false
	for _, h := range hooks { // other scenarios of the run may have subscribed too
		listed = listed || h.(map[string]any)["id"] == id
		if h.(map[string]any)["secret"] != nil {
			t.Errorf("a listed subscription shows its secret: %v", h)
		}
	}
	if !listed {
		t.Errorf("the new subscription is not listed: %v", list)
	}
	one := base + "/" + id
	got := e.do(t, contractCall{method: "GET", path: one, key: "admin", want: 200}).object(t)
	if got["secret"] != nil || got["url"] != in["url"] {
		t.Errorf("get %v", got)
	}
	e.do(t, contractCall{method: "GET", path: one, want: 401, docRejects: true})
	e.do(t, contractCall{method: "GET", path: one, key: "officer", want: 403})
	e.do(t, contractCall{method: "GET", path: base + "/0196a1c4-2b7e-7d3a-8f10-3c9b5e2d7a41", key: "admin", want: 404})

	// Disable: no test and no redelivery then.
	off := map[string]any{"url": in["url"], "events": in["events"], "enabled": false}
	checkFields(t, e.do(t, contractCall{method: "PUT", path: one, key: "admin", body: off, want: 200}).object(t),
		map[string]any{"enabled": false, "disabled_reason": "admin"})
	e.do(t, contractCall{method: "PUT", path: one, body: off, want: 401, docRejects: true})
	e.do(t, contractCall{method: "PUT", path: one, key: "officer", body: off, want: 403})
	e.do(t, contractCall{method: "PUT", path: base + "/0196a1c4-2b7e-7d3a-8f10-3c9b5e2d7a41", key: "admin", body: off, want: 404})
	e.do(t, contractCall{method: "PUT", path: one, key: "admin", body: "{", want: 400, docRejects: true})
	e.do(t, contractCall{method: "PUT", path: one, key: "admin", body: map[string]any{"url": "https://crm.example.com", "events": []string{"request.received"}, "controllers": []string{"nobody"}}, want: 422})
	e.do(t, contractCall{method: "POST", path: one + "/test", key: "admin", want: 409})
	e.do(t, contractCall{method: "POST", path: one + "/redeliver", key: "admin", body: map[string]any{"from": "2025-04-01T00:00:00Z", "to": "2025-05-01T00:00:00Z"}, want: 409})
	on := map[string]any{"url": in["url"], "events": in["events"], "enabled": true}
	checkFields(t, e.do(t, contractCall{method: "PUT", path: one, key: "admin", body: on, want: 200}).object(t), map[string]any{"enabled": true})

	// A test event, its redelivery, the log.
	ev := e.do(t, contractCall{method: "POST", path: one + "/test", key: "admin", want: 202}).object(t)
	e.do(t, contractCall{method: "POST", path: one + "/test", want: 401, docRejects: true})
	e.do(t, contractCall{method: "POST", path: one + "/test", key: "officer", want: 403})
	e.do(t, contractCall{method: "POST", path: base + "/0196a1c4-2b7e-7d3a-8f10-3c9b5e2d7a41/test", key: "admin", want: 404})
	redeliver := one + "/redeliver"
	checkFields(t, e.do(t, contractCall{method: "POST", path: redeliver, key: "admin", body: map[string]any{"event_id": ev["event_id"]}, want: 202}).object(t),
		map[string]any{"queued": float64(1)})
	e.do(t, contractCall{method: "POST", path: redeliver, key: "admin", body: map[string]any{"event_id": "evt_none"}, want: 404})
	a = e.do(t, contractCall{method: "POST", path: redeliver, key: "admin", body: map[string]any{}, want: 422})
	problemFields(t, a, map[string]string{"from": "field.webhook_range"})
	e.do(t, contractCall{method: "POST", path: redeliver, key: "admin", body: map[string]any{"event": "x"}, want: 400, docRejects: true})
	e.do(t, contractCall{method: "POST", path: redeliver, body: map[string]any{}, want: 401, docRejects: true})
	e.do(t, contractCall{method: "POST", path: redeliver, key: "officer", body: map[string]any{}, want: 403})
	deliveries := one + "/deliveries"
	e.do(t, contractCall{method: "GET", path: deliveries, key: "admin", want: 200})
	e.do(t, contractCall{method: "GET", path: deliveries + "?limit=0", key: "admin", want: 422, docRejects: true})
	e.do(t, contractCall{method: "GET", path: deliveries, want: 401, docRejects: true})
	e.do(t, contractCall{method: "GET", path: deliveries, key: "officer", want: 403})
	e.do(t, contractCall{method: "GET", path: base + "/0196a1c4-2b7e-7d3a-8f10-3c9b5e2d7a41/deliveries", key: "admin", want: 404})

	// Rotate: the new secret shows once, the old one signs for a day.
	rotated := e.do(t, contractCall{method: "POST", path: one + "/rotate", key: "admin", want: 200}).object(t)
	if rotated["secret"] == created["secret"] || rotated["previous_secret_until"] == nil {
		t.Errorf("rotated %v", rotated)
	}
	e.do(t, contractCall{method: "POST", path: one + "/rotate", want: 401, docRejects: true})
	e.do(t, contractCall{method: "POST", path: one + "/rotate", key: "officer", want: 403})
	e.do(t, contractCall{method: "POST", path: base + "/0196a1c4-2b7e-7d3a-8f10-3c9b5e2d7a41/rotate", key: "admin", want: 404})

	// Delete.
	e.do(t, contractCall{method: "DELETE", path: one, want: 401, docRejects: true})
	e.do(t, contractCall{method: "DELETE", path: one, key: "officer", want: 403})
	e.do(t, contractCall{method: "DELETE", path: one, key: "admin", want: 204})
	e.do(t, contractCall{method: "DELETE", path: one, key: "admin", want: 404})
}
