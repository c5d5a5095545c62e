package api_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// An admin adds a webhook subscription on its page (the secret shown
// once), changes it, sends a test, rotates the secret (shown once), disables
// and enables it, redelivers an event and deletes it; each change is in
// the admin trail as the API's are. Bad input is refused in the page's
// language and changes nothing; an officer gets none of the pages.
func TestAdminManagesWebhooks(t *testing.T) {
	e := newAdminEnv(t)
	p, ctx := e.p, context.Background()
	hooks := store.NewWebhooks(e.db)
	admin := dsar.Actor{ID: "user:" + e.boss.ID, Role: dsar.RoleAdmin}

	if code, page := p.get("/admin/webhooks"); code != http.StatusOK || !strings.Contains(page, `action="/admin/webhooks"`) {
		t.Fatalf("/admin/webhooks: %d", code)
	}
	// Bad input: the reasons, in Norwegian, the form as typed, nothing added.
	code, page, _ := p.post("/admin/webhooks", url.Values{"url": {"ftp://crm.example.com"}, "controller": {"nte"}, "description": {"CRM"}}, "/admin/webhooks")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Mottakeradresse (URL): Skriv inn en fullstendig") ||
		!strings.Contains(page, "Hendelsestyper: ") || !strings.Contains(page, `value="ftp://crm.example.com"`) || !strings.Contains(page, `value="nte" checked`) {
		t.Errorf("bad input: %d\n%s", code, page)
	}
	if subs, _ := hooks.Subscriptions(ctx, admin); len(subs) != 0 {
		t.Fatalf("bad input added %d subscriptions", len(subs))
	}

	code, page, _ = p.post("/admin/webhooks", url.Values{"url": {"https://crm.example.com/hooks"}, "event": {"request.received", "request.completed"},
		"controller": {"nte"}, "include_email": {"true"}}, "/admin/webhooks")
	if code != http.StatusCreated || !strings.Contains(page, "Abonnementet ble lagt til.") {
		t.Fatalf("create: %d\n%s", code, page)
	}
	secret := secretOn(t, page)
	subs, _ := hooks.Subscriptions(ctx, admin)
	if len(subs) != 1 || subs[0].Secret != secret || !strings.HasPrefix(secret, "whsec_") || !subs[0].IncludeEmail ||
		!slices.Equal(subs[0].Events, []dsar.WebhookEventType{dsar.WebhookRequestCompleted, dsar.WebhookRequestReceived}) || !slices.Equal(subs[0].Controllers, []string{"nte"}) {
		t.Fatalf("created: %+v", subs)
	}
	id, base := subs[0].ID, "/admin/webhooks/"+subs[0].ID
	if _, page := p.get(base); shownOnce.MatchString(page) || strings.Contains(page, secret) {
		t.Error("the secret is shown again")
	}
	if _, page := p.get("/admin/webhooks"); !strings.Contains(page, `href="`+base+`"`) || !strings.Contains(page, "Ingen leveringer ennå.") {
		t.Error("the list does not link the subscription")
	}

	post := func(action string, form url.Values) (int, string, http.Header) {
		t.Helper()
		return p.post(base+"/"+action, form, base)
	}
	// A change: bad input refused as typed, then saved.
	code, page, _ = post("update", url.Values{"url": {"https://crm.example.com/v2"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Hendelsestyper: ") || !strings.Contains(page, `value="https://crm.example.com/v2"`) {
		t.Errorf("bad update: %d", code)
	}
	code, _, h := post("update", url.Values{"url": {"https://crm.example.com/v2"}, "event": {"export.ready"}})
	if code != http.StatusSeeOther || h.Get("Location") != base+"?notice=updated" {
		t.Fatalf("update: %d %s", code, h.Get("Location"))
	}
	sub, _ := hooks.Subscription(ctx, admin, id)
	if sub.URL != "https://crm.example.com/v2" || !slices.Equal(sub.Events, []dsar.WebhookEventType{dsar.WebhookExportReady}) || len(sub.Controllers) != 0 || sub.IncludeEmail || !sub.Enabled {
		t.Errorf("updated: %+v", sub)
	}

	if code, _, h := post("test", url.Values{}); code != http.StatusSeeOther || h.Get("Location") != base+"?notice=test" {
		t.Fatalf("test: %d %s", code, h.Get("Location"))
	}
	if _, page := p.get(base + "?notice=test"); !strings.Contains(page, "Testhendelsen er lagt i kø for levering.") {
		t.Error("no notice of the test")
	}

	code, page, _ = post("rotate", url.Values{})
	if code != http.StatusOK || !strings.Contains(page, "Nøkkelen ble byttet") {
		t.Fatalf("rotate: %d", code)
	}
	rotated := secretOn(t, page)
	if !strings.Contains(page, `href="`+base+`?lang=en"`) {
		t.Error("the rotation's answer does not switch language on the subscription's page")
	}
	if sub, _ := hooks.Subscription(ctx, admin, id); rotated == secret || sub.Secret != rotated || sub.PreviousSecret != secret {
		t.Error("the secret shown is not the new one, beside the old")
	}

	// Redelivery: a bad range is refused; an unknown event is not found;
	// a range in UTC sends the test event again.
	code, page, _ = post("redeliver", url.Values{"from": {"2025-03-05T10:00"}, "to": {"2025-03-05T09:00"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Oppgi en hendelses-ID, eller både Fra og Til") || !strings.Contains(page, `value="2025-03-05T10:00"`) {
		t.Errorf("a backward range: %d", code)
	}
	if code, page, _ = post("redeliver", url.Values{"event_id": {"evt_nope"}}); code != http.StatusNotFound || !strings.Contains(page, "Det finnes ingen hendelse med den ID-en") {
		t.Errorf("an unknown event: %d", code)
	}
	code, page, _ = post("redeliver", url.Values{"from": {"2025-03-05T08:59"}, "to": {"2025-03-05T09:01"}})
	if code != http.StatusOK || !strings.Contains(page, "0 hendelser er lagt i kø") {
		t.Errorf("a range of the subscription's types (not webhook.test): %d\n%s", code, page)
	}
	var events []string
	storetest.Select(t, e.url, &events, "SELECT id FROM webhook_events")
	if len(events) != 1 {
		t.Fatalf("events: %v, want the test event", events)
	}
	code, page, _ = post("redeliver", url.Values{"event_id": {events[0]}})
	if code != http.StatusOK || !strings.Contains(page, "Én hendelse er lagt i kø") {
		t.Errorf("the test event again: %d", code)
	}

	if code, _, h := post("disable", url.Values{}); code != http.StatusSeeOther || h.Get("Location") != base+"?notice=disabled" {
		t.Fatalf("disable: %d", code)
	}
	if sub, _ := hooks.Subscription(ctx, admin, id); sub.Enabled || sub.DisabledReason != dsar.WebhookDisabledByAdmin {
		t.Errorf("disabled: %+v", sub)
	}
	if _, page := p.get(base); !strings.Contains(page, "av en administrator") || strings.Contains(page, base+"/test") {
		t.Error("the page of a disabled subscription")
	}
	if code, page, _ := post("redeliver", url.Values{"from": {"2025-03-05T08:59"}, "to": {"2025-03-05T09:01"}}); code != http.StatusConflict || !strings.Contains(page, "Aktiver det først.") {
		t.Errorf("redelivering to a disabled subscription: %d", code)
	}
	if code, _, _ := post("enable", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("enable: %d", code)
	}
	if sub, _ := hooks.Subscription(ctx, admin, id); !sub.Enabled {
		t.Error("not enabled again")
	}

	officer := newPageClientOn(t, e.db, nil)
	if _, err := store.NewUsers(e.db).Create(ctx, "kari@nte.no", "officer password 1", dsar.RoleOfficer, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	officer.signIn("kari@nte.no", "officer password 1")
	for _, path := range []string{"/admin/webhooks", base} {
		if code, _ := officer.get(path); code != http.StatusForbidden {
			t.Errorf("an officer gets %s: %d, want 403", path, code)
		}
	}
	for _, path := range []string{"/admin/webhooks", base + "/delete", base + "/rotate"} {
		if code, _, _ := officer.post(path, url.Values{"url": {"https://x.example.com"}, "event": {"export.ready"}}, "/queue"); code != http.StatusForbidden {
			t.Errorf("an officer posts to %s: %d, want 403", path, code)
		}
	}
	if code, _, _ := post("nonsense", url.Values{}); code != http.StatusNotFound {
		t.Errorf("an unknown action: %d, want 404", code)
	}

	code, _, h = post("delete", url.Values{})
	if code != http.StatusSeeOther || h.Get("Location") != "/admin/webhooks?notice=webhook_deleted" {
		t.Fatalf("delete: %d %s", code, h.Get("Location"))
	}
	if _, page := p.get("/admin/webhooks?notice=webhook_deleted"); !strings.Contains(page, "Abonnementet ble slettet.") || strings.Contains(page, `href="`+base+`"`) {
		t.Error("the list after the deletion")
	}
	if code, _ := p.get(base); code != http.StatusNotFound {
		t.Errorf("the deleted subscription's page: %d, want 404", code)
	}
	by := "user:" + e.boss.ID
	want := []string{by + " webhook_created " + id, by + " webhook_updated " + id, by + " webhook_secret_rotated " + id,
		by + " webhook_updated " + id, by + " webhook_updated " + id, by + " webhook_deleted " + id}
	var got []string
	for _, l := range e.trail(t) {
		if strings.Contains(l, " webhook_") {
			got = append(got, l)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("admin trail: %v, want %v", got, want)
	}
}
