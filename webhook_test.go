package dsar

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func counterEnv(now time.Time) Env {
	n := 0
	return Env{Now: now, NewID: func() string { n++; return "id" + strconv.Itoa(n) }}
}

func TestAuditEventsMakeWebhookEvents(t *testing.T) {
	now := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	closed := now
	req := &Request{ID: "r1", Reference: "DSAR-1", Type: TypeErasure, Status: StatusCompleted, Controller: "digiref",
		Subject: Subject{Email: "kari@example.no", Name: "Kari"}, ReceivedAt: now.Add(-48 * time.Hour), DueDate: NewDate(2025, time.April, 3), ClosedAt: &closed}
	evs := []*Event{
		{Kind: EventCreated, At: now},
		{Kind: EventNote, At: now},
		{Kind: EventTransition, From: StatusInProgress, To: StatusCompleted, At: now},
		{Kind: EventReminder, Data: map[string]string{"reminder": Reminder2Days}, At: now},
		{Kind: EventReminder, Data: map[string]string{"reminder": ReminderOverdue}, At: now},
		{Kind: EventTask, Data: map[string]string{"task": "t1", "target": "crm", "action": "erase", "from": "sent", "to": "failed"}, At: now},
		{Kind: EventTask, Data: map[string]string{"task": "t1", "target": "crm", "action": "erase", "from": "failed", "to": "sent"}, At: now},
		{Kind: EventTask, Data: map[string]string{"task": "t1", "target": "crm", "action": "erase", "from": "sent", "to": "done"}, At: now},
		{Kind: EventResultsAssembled, At: now},
	}
	got := WebhookEvents(counterEnv(now), req, evs)
	var types []WebhookEventType
	for _, e := range got {
		types = append(types, e.Type)
		if e.RequestID != "r1" || e.Controller != "digiref" || e.Data.Reference != "DSAR-1" {
			t.Errorf("%s: %+v", e.Type, e)
		}
	}
	want := []WebhookEventType{WebhookRequestReceived, WebhookRequestStatusChanged, WebhookRequestCompleted, WebhookRequestDueSoon,
		WebhookRequestOverdue, WebhookTaskFailed, WebhookTaskCompleted, WebhookExportReady}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
	if !HasWebhookEvents(evs) || HasWebhookEvents([]*Event{{Kind: EventNote}, {Kind: EventMailSent}}) {
		t.Error("HasWebhookEvents disagrees with WebhookEvents")
	}
	// The payload holds no personal data unless asked for.
	var body map[string]any
	if err := json.Unmarshal(got[1].Body(""), &body); err != nil {
		t.Fatal(err)
	}
	data := body["data"].(map[string]any)
	if body["type"] != "request.status_changed" || body["id"] != got[1].ID || data["status"] != "completed" || data["previous_status"] != "in_progress" {
		t.Errorf("body %v", body)
	}
	for _, b := range [][]byte{got[0].Body(""), got[5].Body("")} {
		if s := string(b); strings.Contains(strings.ToLower(s), "kari") {
			t.Errorf("personal data in %s", s)
		}
	}
	if s := string(got[0].Body("kari@example.no")); !strings.Contains(s, `"email":"kari@example.no"`) {
		t.Errorf("no address in %s", s)
	}
	if got[5].Data.TaskID != "t1" || got[5].Data.TaskStatus != "failed" || got[3].Data.Reminder != "2d" {
		t.Errorf("task or reminder fields: %+v %+v", got[5].Data, got[3].Data)
	}
}

func TestSubscriptionsTakeTheirTypesAndControllers(t *testing.T) {
	now := time.Now()
	env := counterEnv(now)
	evs := []*WebhookEvent{
		{ID: "e1", Type: WebhookRequestReceived, Controller: "a"},
		{ID: "e2", Type: WebhookRequestCompleted, Controller: "b"},
	}
	subs := []*WebhookSubscription{
		{ID: "all-received", Enabled: true, Events: []WebhookEventType{WebhookRequestReceived}},
		{ID: "b-only", Enabled: true, Events: []WebhookEventType{WebhookRequestReceived, WebhookRequestCompleted}, Controllers: []string{"b"}},
		{ID: "disabled", Enabled: false, Events: WebhookEventTypes},
	}
	var got []string
	for _, it := range WebhookDeliveries(env, evs, subs) {
		var p WebhookPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if it.Kind != OutboxWebhook || p.Attempt != 1 || !it.RunAt.Equal(now) {
			t.Errorf("item %+v %+v", it, p)
		}
		got = append(got, p.EventID+">"+p.SubscriptionID)
	}
	if diff := cmp.Diff([]string{"e1>all-received", "e2>b-only"}, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

// TestWebhookRetrySchedule follows a delivery that never succeeds: each
// attempt waits the schedule's next step, a longer Retry-After is honoured
// up to its bound, and after the last attempt the delivery has failed.
func TestWebhookRetrySchedule(t *testing.T) {
	start := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	sub := &WebhookSubscription{ID: "s", Enabled: true}
	ev := &WebhookEvent{ID: "evt_1", Type: WebhookRequestReceived}
	now := start
	p := WebhookPayload{EventID: ev.ID, SubscriptionID: sub.ID, Attempt: 1}
	var waits []time.Duration
	for {
		d := DecideWebhookAttempt(counterEnv(now), sub, ev, p, WebhookResponse{StatusCode: 503})
		if d.Disable != "" {
			t.Fatalf("attempt %d disabled the subscription", p.Attempt)
		}
		sub.FailingSince = d.FailingSince
		if d.Next == nil {
			if d.Attempt.Outcome != WebhookFailed || p.Attempt != len(WebhookRetrySchedule)+1 {
				t.Errorf("attempt %d: %s", p.Attempt, d.Attempt.Outcome)
			}
			break
		}
		if d.Attempt.Outcome != WebhookRetrying || !d.Attempt.NextAt.Equal(d.Next.RunAt) {
			t.Errorf("attempt %d: %+v", p.Attempt, d.Attempt)
		}
		waits = append(waits, d.Next.RunAt.Sub(now))
		now = d.Next.RunAt
		if err := json.Unmarshal(d.Next.Payload, &p); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(WebhookRetrySchedule, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if !sub.FailingSince.Equal(start) {
		t.Errorf("failing since %v, want the first failure %v", sub.FailingSince, start)
	}

	// Retry-After: longer than the step is honoured, bounded; shorter is not.
	fresh := &WebhookSubscription{ID: "s", Enabled: true}
	for _, c := range []struct{ after, want time.Duration }{
		{time.Hour, time.Hour}, {time.Second, 5 * time.Minute}, {72 * time.Hour, WebhookMaxRetryAfter},
	} {
		d := DecideWebhookAttempt(counterEnv(start), fresh, ev, WebhookPayload{Attempt: 2}, WebhookResponse{StatusCode: 429, RetryAfter: c.after})
		if got := d.Next.RunAt.Sub(start); got != c.want {
			t.Errorf("Retry-After %v: next in %v, want %v", c.after, got, c.want)
		}
	}
}

func TestWebhookSuccessGoneAndPersistentFailure(t *testing.T) {
	now := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	ev := &WebhookEvent{ID: "evt_1", Type: WebhookRequestReceived}
	long := now.Add(-WebhookDisableAfter)
	recent := now.Add(-time.Hour)

	d := DecideWebhookAttempt(counterEnv(now), &WebhookSubscription{Enabled: true, FailingSince: &recent}, ev, WebhookPayload{Attempt: 3}, WebhookResponse{StatusCode: 204})
	if d.Attempt.Outcome != WebhookDelivered || d.Next != nil || d.FailingSince != nil || d.Disable != "" || d.Notify != nil {
		t.Errorf("2xx: %+v", d)
	}
	d = DecideWebhookAttempt(counterEnv(now), &WebhookSubscription{Enabled: true}, ev, WebhookPayload{Attempt: 1}, WebhookResponse{StatusCode: 410})
	if d.Attempt.Outcome != WebhookGone || d.Next != nil || d.Disable != WebhookDisabledGone || d.Notify == nil || d.Notify.Kind != OutboxWebhookDisabled {
		t.Errorf("410: %+v", d)
	}
	d = DecideWebhookAttempt(counterEnv(now), &WebhookSubscription{Enabled: true, FailingSince: &long}, ev, WebhookPayload{Attempt: 1}, WebhookResponse{Err: "timeout"})
	if d.Attempt.Outcome != WebhookFailed || d.Next != nil || d.Disable != WebhookDisabledFailing || d.Notify == nil {
		t.Errorf("failing for %v: %+v", WebhookDisableAfter, d)
	}
	d = DecideWebhookAttempt(counterEnv(now), &WebhookSubscription{Enabled: true, FailingSince: &recent}, ev, WebhookPayload{Attempt: 1}, WebhookResponse{StatusCode: 301})
	if d.Attempt.Outcome != WebhookRetrying || d.Disable != "" || !d.FailingSince.Equal(recent) {
		t.Errorf("a redirect is a failure: %+v", d)
	}
}

func TestRotationSignsWithBothSecretsForAWhile(t *testing.T) {
	now := time.Now()
	until := now.Add(time.Hour)
	s := &WebhookSubscription{Secret: "new", PreviousSecret: "old", PreviousUntil: &until}
	if diff := cmp.Diff([]string{"new", "old"}, s.Secrets(now)); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"new"}, s.Secrets(until)); diff != "" {
		t.Error(diff)
	}
}

func TestValidateWebhookSubscription(t *testing.T) {
	ctrls, err := DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in     WebhookSubscriptionInput
		fields []string
	}{
		{WebhookSubscriptionInput{URL: " https://hooks.example.com/dsar ", Events: []WebhookEventType{WebhookRequestReceived, WebhookRequestReceived}}, nil},
		{WebhookSubscriptionInput{URL: "ftp://hooks.example.com", Events: []WebhookEventType{WebhookRequestReceived}}, []string{"url"}},
		{WebhookSubscriptionInput{URL: "https://user:pw@hooks.example.com", Events: []WebhookEventType{"nope"}}, []string{"url", "events"}},
		{WebhookSubscriptionInput{URL: "", Controllers: []string{"nobody"}}, []string{"url", "events", "controllers"}},
		{WebhookSubscriptionInput{URL: "/relative", Events: []WebhookEventType{WebhookTest}}, []string{"url", "events"}},
	} {
		err := ValidateWebhookSubscription(&c.in, ctrls)
		var got []string
		if e, ok := err.(*Error); ok {
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.fields, got); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", c.in, diff)
		}
		if c.fields == nil && (c.in.URL != "https://hooks.example.com/dsar" || len(c.in.Events) != 1) {
			t.Errorf("not normalised: %+v", c.in)
		}
	}
}

// TestWebhookPruning: an event may go once it is older than the
// redelivery window and nothing is still delivering it; the window
// outlasts the retry schedule and the disabling after persistent failure.
func TestWebhookPruning(t *testing.T) {
	now := time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC)
	var schedule time.Duration
	for _, d := range WebhookRetrySchedule {
		schedule += d
	}
	if WebhookRetention <= schedule+WebhookDisableAfter {
		t.Fatalf("the redelivery window %v ends before a failing endpoint is disabled (%v)", WebhookRetention, schedule+WebhookDisableAfter)
	}
	if got, want := WebhookPruneBefore(now), time.Date(2025, 5, 2, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("WebhookPruneBefore = %v, want %v", got, want)
	}
	for _, c := range []struct {
		name    string
		at      time.Time
		pending bool
		want    bool
	}{
		{"older than the window, delivered", now.Add(-WebhookRetention - time.Second), false, true},
		{"older than the window, still being delivered", now.Add(-WebhookRetention - time.Second), true, false},
		{"exactly the window's age", now.Add(-WebhookRetention), false, false},
		{"within the window", now.Add(-24 * time.Hour), false, false},
	} {
		if got := WebhookPrunable(c.at, now, c.pending); got != c.want {
			t.Errorf("%s: WebhookPrunable = %v, want %v", c.name, got, c.want)
		}
	}
}
