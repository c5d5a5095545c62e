package dsar

import (
	"encoding/json"
	"fmt"
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

// decideOne decides the attempt of an item of one event.
func decideOne(t *testing.T, env Env, s *WebhookSubscription, e *WebhookEvent, p WebhookPayload, res WebhookResponse) (*WebhookDecision, *WebhookAttempt, *OutboxItem) {
	t.Helper()
	d := DecideWebhookAttempts(env, s, []*WebhookEvent{e}, p, []WebhookResponse{res})
	if len(d.Attempts) != 1 || len(d.Next) > 1 {
		t.Fatalf("one event: %d attempts, %d next items", len(d.Attempts), len(d.Next))
	}
	var next *OutboxItem
	if len(d.Next) == 1 {
		next = d.Next[0]
	}
	return d, d.Attempts[0], next
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
		d, a, next := decideOne(t, counterEnv(now), sub, ev, p, WebhookResponse{StatusCode: 503})
		if d.Disable != "" {
			t.Fatalf("attempt %d disabled the subscription", p.Attempt)
		}
		if d.FailingChanged != (sub.FailingSince == nil) {
			t.Errorf("attempt %d: failing changed %v, from %v", p.Attempt, d.FailingChanged, sub.FailingSince)
		}
		sub.FailingSince = d.FailingSince
		if next == nil {
			if a.Outcome != WebhookFailed || p.Attempt != len(WebhookRetrySchedule)+1 {
				t.Errorf("attempt %d: %s", p.Attempt, a.Outcome)
			}
			break
		}
		if a.Outcome != WebhookRetrying || !a.NextAt.Equal(next.RunAt) {
			t.Errorf("attempt %d: %+v", p.Attempt, a)
		}
		waits = append(waits, next.RunAt.Sub(now))
		now = next.RunAt
		if err := json.Unmarshal(next.Payload, &p); err != nil {
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
		_, _, next := decideOne(t, counterEnv(start), fresh, ev, WebhookPayload{Attempt: 2}, WebhookResponse{StatusCode: 429, RetryAfter: c.after})
		if got := next.RunAt.Sub(start); got != c.want {
			t.Errorf("Retry-After %v: next in %v, want %v", c.after, got, c.want)
		}
	}
}

func TestWebhookSuccessGoneAndPersistentFailure(t *testing.T) {
	now := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	ev := &WebhookEvent{ID: "evt_1", Type: WebhookRequestReceived}
	long := now.Add(-WebhookDisableAfter)
	recent := now.Add(-time.Hour)

	d, a, next := decideOne(t, counterEnv(now), &WebhookSubscription{Enabled: true, FailingSince: &recent}, ev, WebhookPayload{Attempt: 3}, WebhookResponse{StatusCode: 204})
	if a.Outcome != WebhookDelivered || next != nil || d.FailingSince != nil || !d.FailingChanged || d.Disable != "" || d.Notify != nil {
		t.Errorf("2xx: %+v", d)
	}
	d, _, _ = decideOne(t, counterEnv(now), &WebhookSubscription{Enabled: true}, ev, WebhookPayload{Attempt: 1}, WebhookResponse{StatusCode: 200})
	if d.FailingChanged {
		t.Errorf("a success of a subscription without failures changes its failures: %+v", d)
	}
	d, a, next = decideOne(t, counterEnv(now), &WebhookSubscription{Enabled: true}, ev, WebhookPayload{Attempt: 1}, WebhookResponse{StatusCode: 410})
	if a.Outcome != WebhookGone || next != nil || d.Disable != WebhookDisabledGone || d.Notify == nil || d.Notify.Kind != OutboxWebhookDisabled {
		t.Errorf("410: %+v", d)
	}
	d, a, next = decideOne(t, counterEnv(now), &WebhookSubscription{Enabled: true, FailingSince: &long}, ev, WebhookPayload{Attempt: 1}, WebhookResponse{Err: "timeout"})
	if a.Outcome != WebhookFailed || next != nil || d.Disable != WebhookDisabledFailing || d.Notify == nil {
		t.Errorf("failing for %v: %+v", WebhookDisableAfter, d)
	}
	d, a, _ = decideOne(t, counterEnv(now), &WebhookSubscription{Enabled: true, FailingSince: &recent}, ev, WebhookPayload{Attempt: 1}, WebhookResponse{StatusCode: 301})
	if a.Outcome != WebhookRetrying || d.Disable != "" || !d.FailingSince.Equal(recent) || d.FailingChanged {
		t.Errorf("a redirect is a failure: %+v", d)
	}
}

// TestWebhookBatches: the events of one write go to each subscription in
// items of at most MaxWebhookBatch; an item's attempt logs each event,
// tries again the failed ones in one item per instant, restarts the
// failures at a mixed answer, and stops trying once an answer disabled
// the subscription.
func TestWebhookBatches(t *testing.T) {
	now := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	env := counterEnv(now)
	var evs []*WebhookEvent
	for i := range MaxWebhookBatch + 3 {
		evs = append(evs, &WebhookEvent{ID: fmt.Sprintf("evt_%03d", i), Type: WebhookRequestReceived, RequestID: "r1"})
	}
	evs[len(evs)-1].RequestID = "r2"
	subs := []*WebhookSubscription{{ID: "a", Enabled: true, Events: WebhookEventTypes}, {ID: "b", Enabled: true, Events: WebhookEventTypes}}
	items := WebhookDeliveries(env, evs, subs)
	var sizes []string
	for _, it := range items {
		var p WebhookPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fmt.Sprintf("%s:%d:%s..%s:%s", p.SubscriptionID, len(p.EventIDs()), p.EventID, p.EventIDs()[len(p.EventIDs())-1], it.RequestID))
	}
	want := []string{"a:100:evt_000..evt_099:r1", "a:3:evt_100..evt_102:", "b:100:evt_000..evt_099:r1", "b:3:evt_100..evt_102:"}
	if diff := cmp.Diff(want, sizes); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}

	sub := &WebhookSubscription{ID: "a", Enabled: true}
	four := evs[:4]
	p := WebhookPayload{EventID: four[0].ID, More: []string{four[1].ID, four[2].ID, four[3].ID}, SubscriptionID: "a", Attempt: 2}
	d := DecideWebhookAttempts(env, sub, four, p, []WebhookResponse{
		{StatusCode: 204}, {StatusCode: 500}, {StatusCode: 503, RetryAfter: time.Hour}, {Err: "timeout"}})
	var outcomes []string
	for _, a := range d.Attempts {
		outcomes = append(outcomes, a.EventID+":"+a.Outcome)
	}
	if diff := cmp.Diff([]string{"evt_000:delivered", "evt_001:retrying", "evt_002:retrying", "evt_003:retrying"}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	var next []string
	for _, it := range d.Next {
		var np WebhookPayload
		if err := json.Unmarshal(it.Payload, &np); err != nil {
			t.Fatal(err)
		}
		next = append(next, fmt.Sprintf("%v:%d:%v", it.RunAt.Sub(now), np.Attempt, np.EventIDs()))
	}
	if diff := cmp.Diff([]string{"5m0s:3:[evt_001 evt_003]", "1h0m0s:3:[evt_002]"}, next); diff != "" {
		t.Errorf("next items (-want +got):\n%s", diff)
	}
	if d.FailingSince == nil || !d.FailingSince.Equal(now) || !d.FailingChanged || d.Disable != "" {
		t.Errorf("a mixed answer: failing since %v changed %v disable %q", d.FailingSince, d.FailingChanged, d.Disable)
	}

	d = DecideWebhookAttempts(env, sub, four, p, []WebhookResponse{{StatusCode: 500}, {StatusCode: 410}, {StatusCode: 410}, {StatusCode: 502}})
	outcomes = nil
	for _, a := range d.Attempts {
		outcomes = append(outcomes, a.Outcome)
		if a.NextAt != nil {
			t.Errorf("%s: a next attempt to a disabled subscription", a.EventID)
		}
	}
	if diff := cmp.Diff([]string{"failed", "gone", "gone", "failed"}, outcomes); diff != "" || len(d.Next) != 0 || d.Disable != WebhookDisabledGone || d.Notify == nil {
		t.Errorf("410 in a batch: %v next %d disable %q (-want +got):\n%s", outcomes, len(d.Next), d.Disable, diff)
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

func TestCheckRedelivery(t *testing.T) {
	from := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	for _, c := range []struct {
		name     string
		eventID  string
		from, to *time.Time
		ok       bool
	}{
		{"one event", "evt_1", nil, nil, true},
		{"a range", "", &from, &to, true},
		{"nothing", "", nil, nil, false},
		{"both", "evt_1", &from, &to, false},
		{"a range backwards", "", &to, &from, false},
		{"an empty range", "", &from, &from, false},
		{"half a range", "", &from, nil, false},
	} {
		err := CheckRedelivery(c.eventID, c.from, c.to)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && (ErrorCode(err) != EINVALID || err.(*Error).Fields[0].Message != "field.webhook_range") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
