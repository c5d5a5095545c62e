package dsar_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
)

// shopController is a controller with one system of each kind of legal
// basis, a legal hold, and a recipient that can be told and one that cannot.
func shopController() *dsar.Controller {
	manual := dsar.Connector{Kind: dsar.ConnectorManual, Manual: &dsar.ManualConnector{Instructions: "Do it.", DueDays: 7, RemindEveryDays: 3, AfterDays: 10, OnOverdue: dsar.OverdueBlock}}
	hook := dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{URL: "https://hooks.shop.example/crm", MaxAttempts: 3}}
	vendor := dsar.Connector{Kind: dsar.ConnectorVendorMail, VendorMail: &dsar.VendorMailConnector{Email: "privacy@ads.example", RemindEveryDays: 5, AfterDays: 14, OnOverdue: dsar.OverdueSkip}}
	bookkeeping := &dsar.LegalHold{Law: "Bokføringsloven § 13", Period: dsar.RetentionPeriod{Years: 5}, FromYearEnd: true}
	return &dsar.Controller{
		Key: "shop", LegalName: "Shop AS", Location: time.UTC, Languages: []dsar.Language{dsar.LanguageNB},
		DataCategories: []dsar.DataCategory{
			{Key: "contact", Name: "Kontaktdata", LegalBases: []dsar.LegalBasis{dsar.LegalBasisContract}},
			{Key: "orders", Name: "Ordre", LegalBases: []dsar.LegalBasis{dsar.LegalBasisLegalObligation}, Hold: bookkeeping},
			{Key: "clicks", Name: "Klikk", LegalBases: []dsar.LegalBasis{dsar.LegalBasisConsent}},
			{Key: "profile", Name: "Profil", LegalBases: []dsar.LegalBasis{dsar.LegalBasisLegitimateInterest}},
		},
		Systems: []dsar.System{
			{Key: "crm", Name: "CRM", Role: dsar.RoleInternal, LegalBases: []dsar.LegalBasis{dsar.LegalBasisContract, dsar.LegalBasisLegalObligation},
				Purposes: []string{"Kundeforhold"}, DataCategories: []string{"contact", "orders"}, Connector: hook, Recipients: []string{"courier"}},
			{Key: "books", Name: "Regnskap", Role: dsar.RoleInternal, LegalBases: []dsar.LegalBasis{dsar.LegalBasisLegalObligation},
				Purposes: []string{"Bokføring"}, DataCategories: []string{"orders"}, Connector: manual},
			{Key: "ads", Name: "Annonser", Role: dsar.RoleProcessor, LegalBases: []dsar.LegalBasis{dsar.LegalBasisConsent}, Marketing: true,
				Purposes: []string{"Målrettet reklame"}, DataCategories: []string{"clicks"}, Connector: vendor},
			{Key: "scoring", Name: "Scoring", Role: dsar.RoleInternal, LegalBases: []dsar.LegalBasis{dsar.LegalBasisLegitimateInterest},
				Purposes: []string{"Profilering"}, DataCategories: []string{"profile"}, Connector: manual,
				AutomatedDecisions: []dsar.AutomatedDecision{{Name: "Kredittgrense", Logic: "Poeng fra kjøpshistorikk"}}},
		},
		Recipients: []dsar.Recipient{
			{Key: "courier", Name: "Budfirma", Role: "Levering", Notify: &manual},
			{Key: "public", Name: "Allmennheten", Role: "Anmeldelser", Unreachable: "Anonyme lesere kan ikke nås"},
		},
	}
}

// shopCase returns a verified case of the type at shopController, in work.
func shopCase(typ dsar.RequestType, objection dsar.ObjectionKind) *dsar.Case {
	verified := caseNow.Add(-time.Hour)
	r := &dsar.Request{ID: "case-1", Reference: "DSAR-1", Type: typ, Objection: objection, Status: dsar.StatusInProgress,
		Controller: "shop", Regulation: dsar.RegulationGDPR, Language: dsar.LanguageNB, Subject: dsar.Subject{Email: "ola@example.no"},
		ReceivedAt: caseNow.Add(-24 * time.Hour), DueDate: dsar.NewDate(2025, time.April, 4), Deadline: caseNow.AddDate(0, 1, 0),
		VerifiedAt: &verified, VerifiedBy: "user:kari", VerificationMethod: "portal"}
	return &dsar.Case{Request: r, Controller: shopController()}
}

var shopOfficer = dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer, Controllers: []string{"shop"}}

func TestPlanReachesTheRightSystems(t *testing.T) {
	today := dsar.NewDate(2026, time.December, 3)
	type row struct{ target, action string }
	for _, tc := range []struct {
		typ       dsar.RequestType
		objection dsar.ObjectionKind
		want      []row
		held      int
		notify    bool
	}{
		{typ: dsar.TypeAccess, want: []row{{"crm", "export"}, {"books", "export"}, {"ads", "export"}, {"scoring", "export"}}},
		// Portability: only what rests on consent or contract (Art 20(1)(a)).
		{typ: dsar.TypePortability, want: []row{{"crm", "export"}, {"ads", "export"}}},
		// Erasure: the bookkeeping hold keeps the orders; the books hold nothing else.
		{typ: dsar.TypeErasure, want: []row{{"crm", "erase"}, {"ads", "erase"}, {"scoring", "erase"}}, held: 2, notify: true},
		{typ: dsar.TypeRectification, want: []row{{"crm", "rectify"}, {"books", "rectify"}, {"ads", "rectify"}, {"scoring", "rectify"}}, notify: true},
		{typ: dsar.TypeRestriction, want: []row{{"crm", "restrict"}, {"books", "restrict"}, {"ads", "restrict"}, {"scoring", "restrict"}}, notify: true},
		{typ: dsar.TypeWithdrawConsent, want: []row{{"ads", "withdraw_consent"}}},
		{typ: dsar.TypeObjection, objection: dsar.ObjectionDirectMarketing, want: []row{{"ads", "suppress_marketing"}}},
		{typ: dsar.TypeObjection, objection: dsar.ObjectionLegitimate, want: []row{{"scoring", "stop_processing"}}},
		{typ: dsar.TypeAutomatedDecision, want: []row{{"scoring", "stop_processing"}}},
	} {
		c := shopCase(tc.typ, tc.objection)
		p := dsar.PlanFor(c.Controller, c.Request, today)
		var got []row
		for _, task := range p.Tasks {
			got = append(got, row{task.Target(), string(task.Action)})
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(row{})); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tc.typ, tc.objection, diff)
		}
		if len(p.Held) != tc.held {
			t.Errorf("%s: %d held, want %d", tc.typ, len(p.Held), tc.held)
		}
		if got := len(p.Notify) == 1 && len(p.Unreachable) == 1; got != tc.notify {
			t.Errorf("%s: notify %d, unreachable %d", tc.typ, len(p.Notify), len(p.Unreachable))
		}
	}
	c := shopCase(dsar.TypeErasure, "")
	p := dsar.PlanFor(c.Controller, c.Request, today)
	if h := p.Held[0]; h.System != "crm" || h.Category != "orders" || h.Until != dsar.NewDate(2031, time.December, 31) {
		t.Errorf("held %+v: want crm's orders until 2031-12-31 (five years from the end of 2026)", h)
	}
	if crm := p.Tasks[0]; !slices.Equal(crm.Categories, []string{"contact"}) {
		t.Errorf("crm erases %v, want only contact", crm.Categories)
	}
	if k := p.Held[0].Kept(c.Controller); k != (dsar.Kept{What: "Ordre (CRM)", Why: "Bokføringsloven § 13", Until: "2031-12-31"}) {
		t.Errorf("kept %+v", k)
	}
	if p := dsar.PlanFor(c.Controller, shopCase(dsar.TypeWithdrawConsent, "").Request, today); !slices.Equal(p.Tasks[0].Purposes, []string{"Målrettet reklame"}) {
		t.Errorf("consent withdrawal purposes %v", p.Tasks[0].Purposes)
	}
}

// apply returns the case after an effect, its tasks included.
func apply(c *dsar.Case, eff *dsar.Effect) *dsar.Case {
	next, ok := c.Follow(eff)
	if !ok {
		panic("the effect changes the case's pause")
	}
	return next
}

func taskOf(t *testing.T, c *dsar.Case, target string) *dsar.Task {
	t.Helper()
	i := slices.IndexFunc(c.Tasks, func(x *dsar.Task) bool { return x.Target() == target })
	if i < 0 {
		t.Fatalf("no task for %s", target)
	}
	return c.Tasks[i]
}

func steps(eff *dsar.Effect) []string {
	var out []string
	for _, it := range eff.Outbox {
		if it.Kind != dsar.OutboxTask {
			continue
		}
		var p dsar.TaskPayload
		_ = json.Unmarshal(it.Payload, &p)
		for range p.Refs() {
			out = append(out, string(p.Step))
		}
	}
	return out
}

// items counts the effect's outbox items of the kind.
func items(eff *dsar.Effect, kind dsar.OutboxKind) int {
	n := 0
	for _, it := range eff.Outbox {
		if it.Kind == kind {
			n++
		}
	}
	return n
}

func TestErasureFansOutAndCompletesItself(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeErasure, "")
	if _, err := dsar.Approve(env, c, shopOfficer, "", map[string]string{"nowhere": "x"}); code(err) != "invalid:error.plan.unknown_target" {
		t.Errorf("leaving out an unknown system: %v", err)
	}
	if _, err := dsar.Approve(env, c, shopOfficer, "", map[string]string{"ads": " "}); code(err) != "invalid:field.required" {
		t.Errorf("leaving out without a reason: %v", err)
	}
	eff, err := dsar.Approve(env, c, shopOfficer, "ok", map[string]string{"scoring": "The scoring system was shut down in 2024."})
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if got := steps(eff); !slices.Equal(got, []string{"send", "send"}) {
		t.Errorf("approval sends %v, want crm and ads", got)
	}
	if n := items(eff, dsar.OutboxTask); n != 1 {
		t.Errorf("approval sends its tasks in %d outbox items, want 1 (one claim and one transaction for them all)", n)
	}
	for target, want := range map[string]dsar.TaskStatus{"crm": dsar.TaskSent, "ads": dsar.TaskSent, "scoring": dsar.TaskSkipped,
		"recipient:courier": dsar.TaskPlanned, "recipient:public": dsar.TaskSkipped} {
		if got := taskOf(t, c, target).Status; got != want {
			t.Errorf("%s: %s, want %s", target, got, want)
		}
	}
	if r := taskOf(t, c, "recipient:public").Reason; r != "Anonyme lesere kan ikke nås" {
		t.Errorf("unreachable recipient's reason %q", r)
	}
	if _, err := dsar.Complete(env, c, shopOfficer, dsar.Decision{Summary: "done"}); code(err) != "conflict:error.complete.tasks_open" {
		t.Errorf("completing with open tasks: %v", err)
	}

	// The CRM answers at once; the vendor must confirm by hand.
	crm, ads := taskOf(t, c, "crm"), taskOf(t, c, "ads")
	eff, err = dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if taskOf(t, c, "crm").Status != dsar.TaskDone || taskOf(t, c, "crm").Count != 3 {
		t.Errorf("crm: %+v", taskOf(t, c, "crm"))
	}
	// A repeated answer changes nothing.
	if eff, _ := dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeFailed}); len(eff.Tasks)+len(eff.Events) != 0 {
		t.Errorf("a second answer changed the task: %+v", eff)
	}
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, ads.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson})
	c = apply(c, eff)
	// Reminders every 5 days until day 14, then the grace period ends.
	if got := steps(eff); !slices.Equal(got, []string{"remind", "remind", "overdue"}) {
		t.Errorf("waiting for the vendor plans %v", got)
	}
	if got := taskOf(t, c, "ads").ExpectedBy; got == nil || !got.Equal(caseNow.AddDate(0, 0, 14)) {
		t.Errorf("expected by %v", got)
	}
	// The vendor confirms: the systems are done, so the recipient is told now.
	eff, err = dsar.CompleteTask(env, c, dsar.ActorService, ads.ID, "Deleted from the ad account.", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if taskOf(t, c, "recipient:courier").Status != dsar.TaskSent || !slices.Equal(steps(eff), []string{"send"}) {
		t.Errorf("the recipient's notice: %s, steps %v", taskOf(t, c, "recipient:courier").Status, steps(eff))
	}
	if c.Request.Status != dsar.StatusInProgress {
		t.Fatalf("completed before the recipient was told")
	}
	courier := taskOf(t, c, "recipient:courier")
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, courier.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson})
	c = apply(c, eff)
	eff, err = dsar.CompleteTask(env, c, shopOfficer, courier.ID, "Called the courier.", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if c.Request.Status != dsar.StatusCompleted || !c.Request.TasksEnded || !eff.Suppress {
		t.Fatalf("after every task: %s, ended %v, suppress %v", c.Request.Status, c.Request.TasksEnded, eff.Suppress)
	}
	if !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailCompletion}) {
		t.Errorf("mails %v", mails(eff))
	}
	if k := c.Request.Decision.Kept; len(k) != 2 || k[0].Why != "Bokføringsloven § 13" || k[0].Until != "2030-12-31" {
		t.Errorf("kept %+v (the hold counts from the end of 2025)", k)
	}
}

func TestFailingSystemRetriesThenFailsOnce(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeAccess, "")
	eff, err := dsar.Approve(env, c, shopOfficer, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	crm := taskOf(t, c, "crm")
	// Three attempts (the connector's max): two retries, then failed.
	for i := 1; i <= 2; i++ {
		eff, err = dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "503", RetryAfter: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		c = apply(c, eff)
		if len(eff.Outbox) != 1 || eff.Outbox[0].RunAt.Before(env.Now.Add(2*time.Hour)) {
			t.Fatalf("retry %d: %+v (Retry-After of 2h not honoured)", i, eff.Outbox)
		}
	}
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "HTTP 500: boom"})
	c = apply(c, eff)
	got := taskOf(t, c, "crm")
	if got.Status != dsar.TaskFailed || got.Answer != "HTTP 500: boom" || got.Reason != "error.task.attempts" || !got.FailureMailed {
		t.Fatalf("after the last attempt: %+v", got)
	}
	if !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailTaskFailed}) {
		t.Errorf("failure mails %v", mails(eff))
	}
	if acts := dsar.Actions(c, shopOfficer, env.Now); !slices.Contains(acts, dsar.ActionRetry) || slices.Contains(acts, dsar.ActionComplete) {
		t.Errorf("actions with a failed task: %v", acts)
	}
	// Retry starts a new round from the failure; done tasks are not re-run.
	eff, err = dsar.RetryTasks(env, c, shopOfficer, "")
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if got := taskOf(t, c, "crm"); got.Status != dsar.TaskSent || got.Round != 1 || got.Attempts != 0 || len(eff.Tasks) != 1 {
		t.Errorf("after retry: %+v (%d tasks changed)", got, len(eff.Tasks))
	}
	// An item of the earlier round does nothing.
	if eff, _ := dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeDone}); len(eff.Tasks) != 0 {
		t.Errorf("a stale round's outcome changed the task")
	}
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 1, dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "HTTP 400"})
	if len(mails(eff)) != 0 {
		t.Errorf("a second failure mailed again: %v", mails(eff))
	}
	c = apply(c, eff)
	// Skipping the failed task, and every other one ending: an access case
	// waits for its results instead of completing.
	if _, err := dsar.SkipTask(env, c, shopOfficer, crm.ID, ""); code(err) != "invalid:field.required" {
		t.Errorf("skip without a reason: %v", err)
	}
	eff, err = dsar.SkipTask(env, c, shopOfficer, crm.ID, "The CRM is replaced; checked by hand.")
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	for _, target := range []string{"books", "ads", "scoring"} {
		eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, taskOf(t, c, target).ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeNoData})
		c = apply(c, eff)
	}
	if c.Request.Status != dsar.StatusInProgress || !c.Request.TasksEnded {
		t.Errorf("access after its tasks: %s, ended %v", c.Request.Status, c.Request.TasksEnded)
	}
	// The files are assembled next; the case is completed once they are.
	if !slices.ContainsFunc(eff.Outbox, func(it *dsar.OutboxItem) bool { return it.Kind == dsar.OutboxAssemble }) {
		t.Errorf("the last task's effect does not ask for the files: %+v", eff.Outbox)
	}
	if acts := dsar.Actions(c, shopOfficer, env.Now); slices.Contains(acts, dsar.ActionComplete) || slices.Contains(acts, dsar.ActionRedact) {
		t.Errorf("complete or redact offered before the files are assembled, and with no data: %v", acts)
	}
	eff, err = dsar.ResultsAssembled(env, c, []dsar.ResultFile{{Name: dsar.ResultReportHTML, Bytes: 10, SHA256: "ab"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if acts := dsar.Actions(apply(c, eff), shopOfficer, env.Now); !slices.Contains(acts, dsar.ActionComplete) {
		t.Errorf("an officer cannot complete the access case after its files: %v", acts)
	}
}

func TestPersonsTaskOverdue(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeWithdrawConsent, "")
	eff, _ := dsar.Approve(env, c, shopOfficer, "", nil)
	c = apply(c, eff)
	ads := taskOf(t, c, "ads")
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, ads.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson})
	c = apply(c, eff)
	// The vendor's connector skips after its grace period; the case goes on.
	eff, err := dsar.TaskOverdue(env, c, ads.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if got := taskOf(t, c, "ads"); got.Status != dsar.TaskSkipped || got.Reason != "task.overdue_skipped" {
		t.Errorf("overdue vendor task: %+v", got)
	}
	if c.Request.Status != dsar.StatusCompleted {
		t.Errorf("the case did not go on: %s", c.Request.Status)
	}

	// A manual task blocks: it fails and the officers are told.
	c = shopCase(dsar.TypeObjection, dsar.ObjectionLegitimate)
	eff, _ = dsar.Approve(env, c, shopOfficer, "", nil)
	c = apply(c, eff)
	scoring := taskOf(t, c, "scoring")
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, scoring.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson})
	c = apply(c, eff)
	if got := steps(eff); !slices.Equal(got, []string{"remind", "remind", "remind", "overdue"}) {
		t.Errorf("manual task plans %v (reminders on days 3, 6, 9; overdue on day 10)", got)
	}
	eff, _ = dsar.TaskReminder(env, c, scoring.ID, 0)
	if !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailTaskReminder}) {
		t.Errorf("reminder mails %v", mails(eff))
	}
	eff, _ = dsar.TaskOverdue(env, c, scoring.ID, 0)
	c = apply(c, eff)
	if got := taskOf(t, c, "scoring"); got.Status != dsar.TaskFailed || !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailTaskFailed}) {
		t.Errorf("overdue manual task: %+v, mails %v", got, mails(eff))
	}
	if c.Request.Status != dsar.StatusInProgress {
		t.Errorf("a blocking task let the case go on")
	}
}

func TestClosingTheCaseCancelsItsTasks(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeAccess, "")
	eff, _ := dsar.Approve(env, c, shopOfficer, "", nil)
	c = apply(c, eff)
	crm := taskOf(t, c, "crm")
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, External: "https://crm/status/1"})
	c = apply(c, eff)
	books := taskOf(t, c, "books")
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, books.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeDone})
	c = apply(c, eff)
	eff, err := dsar.Withdraw(env, c, dsar.ActorSubject("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	for target, want := range map[string]dsar.TaskStatus{"crm": dsar.TaskCancelled, "books": dsar.TaskDone, "ads": dsar.TaskCancelled} {
		if got := taskOf(t, c, target).Status; got != want {
			t.Errorf("%s: %s, want %s", target, got, want)
		}
	}
	// The system still working on it is told.
	if got := steps(eff); !slices.Equal(got, []string{"cancel"}) {
		t.Errorf("withdrawal steps %v", got)
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 8; n++ {
		d := dsar.Backoff("task-1", n, 0)
		base := dsar.RetryBase << (n - 1)
		if base > dsar.RetryCap {
			base = dsar.RetryCap
		}
		if d < base*8/10 || d > base*12/10 {
			t.Errorf("try %d: %v, want %v ± 20%%", n, d, base)
		}
		if n <= 6 && d <= prev {
			t.Errorf("try %d: %v not longer than %v", n, d, prev)
		}
		prev = d
	}
	if a, b := dsar.Backoff("task-1", 3, 0), dsar.Backoff("task-2", 3, 0); a == b {
		t.Errorf("two tasks retry at the same moment (%v): no jitter", a)
	}
	if d := dsar.Backoff("task-1", 1, 48*time.Hour); d != dsar.RetryAfterCap {
		t.Errorf("a Retry-After of two days gives %v, want the cap %v", d, dsar.RetryAfterCap)
	}
}

func TestTaskTransitionsCoverEveryStatus(t *testing.T) {
	for _, s := range dsar.TaskStatuses {
		_, moves := dsar.TaskTransitions[s]
		if moves == s.Ended() {
			t.Errorf("%s: ended %v but has moves %v", s, s.Ended(), moves)
		}
	}
}

// TestTaskProgressAndOfficersMails: the queue's progress of a case (ended,
// failed, overdue), the officers' mails of a failure and of a manual task,
// and a retry of one task by its ID.
func TestTaskProgressAndOfficersMails(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeAccess, "")
	if dsar.ProgressOf(c.Tasks, env.Now) != nil {
		t.Error("a case without tasks has progress")
	}
	eff, _ := dsar.Approve(env, c, shopOfficer, "", nil)
	c = apply(c, eff)
	if got := dsar.ProgressOf(c.Tasks, env.Now); *got != (dsar.TaskProgress{Total: 4}) || got.Failing() {
		t.Errorf("after approval: %+v", got)
	}
	crm, books := taskOf(t, c, "crm"), taskOf(t, c, "books")
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "HTTP 422: unknown field"})
	c = apply(c, eff)
	var mailed []dsar.MailPayload
	for _, it := range eff.Outbox {
		if it.Kind == dsar.OutboxMail {
			var p dsar.MailPayload
			_ = json.Unmarshal(it.Payload, &p)
			mailed = append(mailed, p)
		}
	}
	if want := []dsar.MailPayload{{Template: dsar.MailTaskFailed, To: dsar.RecipientController, TaskID: crm.ID}}; !cmp.Equal(mailed, want) {
		t.Errorf("failure mails %+v, want %+v", mailed, want)
	}
	// The same failure answered again (a redelivered item) mails nothing.
	if eff, _ := dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeFailed}); len(eff.Outbox) != 0 || len(eff.Tasks) != 0 {
		t.Errorf("a repeated failure changed %d tasks, wrote %d items", len(eff.Tasks), len(eff.Outbox))
	}
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, books.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson})
	c = apply(c, eff)
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, taskOf(t, c, "ads").ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeNoData})
	c = apply(c, eff)
	if got := dsar.ProgressOf(c.Tasks, env.Now); *got != (dsar.TaskProgress{Total: 4, Ended: 1, Failed: 1}) || !got.Failing() {
		t.Errorf("with a failed task: %+v", got)
	}
	// The manual task is due after 7 days: on day 8 it is overdue.
	later := env.Now.AddDate(0, 0, 8)
	if got := dsar.ProgressOf(c.Tasks, later); got.Overdue != 1 || !taskOf(t, c, "books").Overdue(later) {
		t.Errorf("on day 8: %+v", got)
	}
	eff, _ = dsar.TaskReminder(env, c, books.ID, 0)
	if len(eff.Outbox) != 1 || !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailTaskReminder}) {
		t.Errorf("reminder: %v", mails(eff))
	}

	// Retry by ID: an unknown task is not found; one that has not failed
	// is no failed task; the failed one starts a new round without the
	// times of the last.
	if _, err := dsar.RetryTasks(env, c, shopOfficer, "no-such-task"); code(err) != "not_found:error.task.not_found" {
		t.Errorf("retry of an unknown task: %v", err)
	}
	if _, err := dsar.RetryTasks(env, c, shopOfficer, books.ID); code(err) != "conflict:error.task.none_failed" {
		t.Errorf("retry of a waiting task: %v", err)
	}
	eff, err := dsar.RetryTasks(env, c, shopOfficer, crm.ID)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if got := taskOf(t, c, "crm"); got.Status != dsar.TaskSent || got.Round != 1 || got.ExpectedBy != nil || got.Overdue(later) {
		t.Errorf("after retry: %+v", got)
	}
	if got := dsar.ProgressOf(c.Tasks, env.Now); got.Failing() {
		t.Errorf("after retry: %+v", got)
	}
}

// A vendor is asked to act by the end of the task's grace period, never
// after the case's due date.
func TestAskBy(t *testing.T) {
	c := shopController()
	today := dsar.DateOf(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name       string
		due        string
		expectedBy *time.Time
		want       string
	}{
		{"the grace period as it would be set today", "2025-04-05", nil, "2025-03-19"},
		{"the grace period already set", "2025-04-05", func() *time.Time { v := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC); return &v }(), "2025-03-10"},
		{"the case is due first", "2025-03-12", nil, "2025-03-12"},
	} {
		due, err := dsar.ParseDate(tc.due)
		if err != nil {
			t.Fatal(err)
		}
		r := &dsar.Request{ID: "r", DueDate: due}
		o, err := dsar.NewTaskOrder(c, r, &dsar.Task{ID: "t", System: "ads", Action: dsar.ActionErase, ExpectedBy: tc.expectedBy})
		if err != nil {
			t.Fatal(err)
		}
		if got := o.AskBy(today).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// An action a system's connector cannot carry out goes to an officer as a
// manual task for that system, never silently to the connector: an OpenDSR
// processor takes access, portability and erasure only; the SQL connector
// changes rows but cannot stop a purpose.
func TestPlanGivesWhatAConnectorCannotDoToAnOfficer(t *testing.T) {
	c := shopCase(dsar.TypeRectification, "")
	c.Controller.Systems[0].Connector = dsar.Connector{Kind: dsar.ConnectorOpenDSR, OpenDSR: &dsar.OpenDSRConnector{URL: "https://dsr.example/opendsr"}}
	c.Controller.Systems[3].Connector = dsar.Connector{Kind: dsar.ConnectorSQL, SQL: &dsar.SQLConnector{Driver: "postgres"}}
	for _, tc := range []struct {
		typ       dsar.RequestType
		objection dsar.ObjectionKind
		system    string
		want      dsar.ConnectorKind
	}{
		{dsar.TypeRectification, "", "crm", dsar.ConnectorManual},
		{dsar.TypeErasure, "", "crm", dsar.ConnectorOpenDSR},
		{dsar.TypeAccess, "", "crm", dsar.ConnectorOpenDSR},
		{dsar.TypeObjection, dsar.ObjectionLegitimate, "scoring", dsar.ConnectorManual},
		{dsar.TypeRestriction, "", "scoring", dsar.ConnectorSQL},
	} {
		c.Request.Type, c.Request.Objection = tc.typ, tc.objection
		plan := dsar.PlanFor(c.Controller, c.Request, dsar.NewDate(2025, time.March, 5))
		i := slices.IndexFunc(plan.Tasks, func(task *dsar.Task) bool { return task.System == tc.system })
		if i < 0 {
			t.Errorf("%s: no task for %s", tc.typ, tc.system)
			continue
		}
		task := plan.Tasks[i]
		if task.Connector != tc.want {
			t.Errorf("%s at %s: connector %s, want %s", tc.typ, tc.system, task.Connector, tc.want)
		}
		conn := c.Controller.ConnectorOf(task)
		if conn.Kind != tc.want || (tc.want == dsar.ConnectorManual && (conn.Manual == nil || !strings.Contains(conn.Manual.Instructions, "by hand"))) {
			t.Errorf("%s at %s: the worker would use %+v", tc.typ, tc.system, conn)
		}
		if tc.want == dsar.ConnectorManual {
			task.ID = "t1"
			if o, err := dsar.NewTaskOrder(c.Controller, c.Request, task); err != nil || o.Connector.Kind != dsar.ConnectorManual {
				t.Errorf("%s at %s: order %+v %v", tc.typ, tc.system, o, err)
			}
		}
	}
}

// TestOutcomesWrittenTogether: the effects of a case's task outcomes,
// joined with Then, hold what writing them one after the other would:
// every task once in its last state, every audit event in order, every
// outbox item, the last case row and the suppression.
func TestOutcomesWrittenTogether(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeErasure, "")
	eff, err := dsar.Approve(env, c, shopOfficer, "", map[string]string{"scoring": "Shut down."})
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	var p dsar.TaskPayload
	for _, it := range eff.Outbox {
		if it.Kind == dsar.OutboxTask {
			_ = json.Unmarshal(it.Payload, &p)
		}
	}
	// The systems' outcomes, then the recipient's notice they release.
	var joined *dsar.Effect
	var events, outbox int
	last := c
	for _, ref := range p.Refs() {
		for _, o := range []dsar.TaskOutcome{{Kind: dsar.OutcomeRetry, Answer: "HTTP 503"}, {Kind: dsar.OutcomeDone, Count: 1}} {
			eff, err := dsar.RecordOutcome(env, last, dsar.ActorService, ref.TaskID, ref.Round, o)
			if err != nil {
				t.Fatal(err)
			}
			events, outbox = events+len(eff.Events), outbox+len(eff.Outbox)
			last = apply(last, eff)
			if joined == nil {
				joined = eff
			} else if !joined.Then(eff) {
				t.Fatalf("the outcome %s of %s was not joined", o.Kind, ref.TaskID)
			}
		}
	}
	if len(joined.Events) != events || len(joined.Outbox) != outbox {
		t.Errorf("joined %d events and %d outbox items, want %d and %d", len(joined.Events), len(joined.Outbox), events, outbox)
	}
	for i, ev := range joined.Events[1:] {
		if ev.At.Before(joined.Events[i].At) {
			t.Errorf("event %d out of order", i+1)
		}
	}
	got := apply(c, joined)
	if diff := cmp.Diff(last.Tasks, got.Tasks); diff != "" {
		t.Errorf("tasks after the joined effect differ from one after the other (-want +got):\n%s", diff)
	}
	if got.Request != last.Request {
		t.Error("the joined effect does not end with the last case row")
	}
	ids := map[string]bool{}
	for _, task := range joined.Tasks {
		if ids[task.ID] {
			t.Errorf("task %s twice in the joined effect", task.ID)
		}
		ids[task.ID] = true
	}
}

// TestThenJoinsOnlyPlainEffects: an effect with anything beyond the case
// row, events, outbox items, cancellations, tasks and the suppression is never joined,
// either way round; a field added to Effect later is refused until Then
// knows it.
func TestThenJoinsOnlyPlainEffects(t *testing.T) {
	plain := map[string]bool{"Request": true, "Events": true, "Outbox": true, "Tasks": true, "Suppress": true,
		"CancelKinds": true, "CancelMails": true}
	typ := reflect.TypeFor[dsar.Effect]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if plain[f.Name] {
			continue
		}
		other := &dsar.Effect{}
		v := reflect.ValueOf(other).Elem().Field(i)
		switch v.Kind() {
		case reflect.Pointer:
			v.Set(reflect.New(f.Type.Elem()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(f.Type, 1, 1))
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		default:
			t.Fatalf("Effect.%s: a %s field this test cannot set", f.Name, v.Kind())
		}
		if (&dsar.Effect{}).Then(other) {
			t.Errorf("an effect with %s was joined to a plain one", f.Name)
		}
		if other.Then(&dsar.Effect{}) {
			t.Errorf("a plain effect was joined to one with %s", f.Name)
		}
	}
}

// TestThenKeepsCancellationsAfterTheItemsBefore: a later effect's
// cancellations are joined only when they take none of the items the
// earlier one adds (written as one, they would run first and miss them).
func TestThenKeepsCancellationsAfterTheItemsBefore(t *testing.T) {
	mail := func(tpl dsar.MailTemplate) *dsar.OutboxItem {
		p, _ := json.Marshal(dsar.MailPayload{Template: tpl})
		return &dsar.OutboxItem{ID: string(tpl), Kind: dsar.OutboxMail, Payload: p}
	}
	for _, c := range []struct {
		name       string
		first      []*dsar.OutboxItem
		next       dsar.Effect
		wantJoined bool
	}{
		{"a kind the first adds", []*dsar.OutboxItem{{Kind: dsar.OutboxReminder}}, dsar.Effect{CancelKinds: []dsar.OutboxKind{dsar.OutboxReminder}}, false},
		{"a mail the first adds", []*dsar.OutboxItem{mail(dsar.MailCompletion)}, dsar.Effect{CancelMails: []dsar.MailTemplate{dsar.MailCompletion}}, false},
		{"another kind", []*dsar.OutboxItem{{Kind: dsar.OutboxTask}}, dsar.Effect{CancelKinds: []dsar.OutboxKind{dsar.OutboxReminder}}, true},
		{"another mail", []*dsar.OutboxItem{mail(dsar.MailRefusal)}, dsar.Effect{CancelMails: []dsar.MailTemplate{dsar.MailCompletion}}, true},
	} {
		first := &dsar.Effect{Outbox: c.first, CancelKinds: []dsar.OutboxKind{dsar.OutboxVerifyExpiry}}
		next := c.next
		if got := first.Then(&next); got != c.wantJoined {
			t.Errorf("%s: joined %v, want %v", c.name, got, c.wantJoined)
			continue
		}
		if c.wantJoined && len(first.CancelKinds)+len(first.CancelMails) != 1+len(next.CancelKinds)+len(next.CancelMails) {
			t.Errorf("%s: cancellations %v %v", c.name, first.CancelKinds, first.CancelMails)
		}
	}
}

// TestPollWaitIsCapped: a system's Retry-After on an accepted task puts
// the next poll off no longer than RetryAfterCap.
func TestPollWaitIsCapped(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeErasure, "")
	eff, err := dsar.Approve(env, c, shopOfficer, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	crm := taskOf(t, c, "crm")
	eff, err = dsar.RecordOutcome(env, c, dsar.ActorService, crm.ID, crm.Round, dsar.TaskOutcome{Kind: dsar.OutcomeAccepted, PollAfter: 1000 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(eff.Outbox) != 1 || !eff.Outbox[0].RunAt.Equal(env.Now.Add(dsar.RetryAfterCap)) {
		t.Fatalf("poll items %+v, want one at now + %v", eff.Outbox, dsar.RetryAfterCap)
	}
}
