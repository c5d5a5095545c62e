package dsar_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
)

var (
	caseNow = time.Date(2025, time.March, 5, 9, 0, 0, 0, time.UTC)
	officer = dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer, Controllers: []string{"nte", "intility"}}
)

// testEnv is an environment with numbered IDs at caseNow.
func testEnv() dsar.Env {
	n := 0
	return dsar.Env{Now: caseNow, NewID: func() string { n++; return fmt.Sprintf("id-%d", n) }}
}

// newCase returns a case of the type at the controller as its intake made
// it, verified when asked.
func newCase(t *testing.T, typ dsar.RequestType, controller string, verified bool) *dsar.Case {
	t.Helper()
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	admin := dsar.Actor{ID: "apikey:1", Role: dsar.RoleAdmin}
	in := dsar.NewRequest{Type: typ, Controller: controller, Subject: dsar.Subject{Email: "ola@example.no"}}
	if verified {
		in.Verified, in.VerificationMethod = true, "portal login"
	}
	eff, err := dsar.NewCase(testEnv(), in, admin, ctrls)
	if err != nil {
		t.Fatal(err)
	}
	ctrl, _ := ctrls.Get(controller)
	return &dsar.Case{Request: eff.Request, Controller: ctrl}
}

// after returns the case as an effect left it.
func after(c *dsar.Case, eff *dsar.Effect) *dsar.Case {
	next := *c
	next.Request = eff.Request
	if eff.OpenPause != nil {
		next.Pause = eff.OpenPause
	}
	return &next
}

// code returns the message key of a domain error ("" for nil), the first
// field's when it names fields.
func code(err error) string {
	if err == nil {
		return ""
	}
	e := err.(*dsar.Error)
	if len(e.Fields) > 0 {
		return e.Code + ":" + e.Fields[0].Message
	}
	return e.Code + ":" + e.Message
}

func mails(eff *dsar.Effect) []dsar.MailTemplate {
	var out []dsar.MailTemplate
	for _, it := range eff.Outbox {
		if it.Kind == dsar.OutboxMail {
			var p dsar.MailPayload
			if err := json.Unmarshal(it.Payload, &p); err == nil {
				out = append(out, p.Template)
			}
		}
	}
	return out
}

// Art 12(4): every refusal names a ground the law gives for that right.
func TestGroundsByRequestType(t *testing.T) {
	for _, tc := range []struct {
		ground dsar.Ground
		typ    dsar.RequestType
		kind   dsar.ObjectionKind
		want   string
	}{
		{dsar.GroundFreeExpression, dsar.TypeAccess, "", "invalid:error.ground.not_for_type"},
		{dsar.GroundFreeExpression, dsar.TypeErasure, "", ""},
		{dsar.GroundLegalObligation, dsar.TypeErasure, "", ""},
		{dsar.GroundLegalClaims, dsar.TypeRectification, "", "invalid:error.ground.not_for_type"},
		{dsar.GroundOthersRights, dsar.TypeAccess, "", ""},
		{dsar.GroundOthersRights, dsar.TypePortability, "", ""},
		{dsar.GroundOthersRights, dsar.TypeErasure, "", "invalid:error.ground.not_for_type"},
		{dsar.GroundNotInaccurate, dsar.TypeRectification, "", ""},
		{dsar.GroundNotInaccurate, dsar.TypeAccess, "", "invalid:error.ground.not_for_type"},
		{dsar.GroundRestrictionNotMet, dsar.TypeRestriction, "", ""},
		{dsar.GroundNotPortable, dsar.TypePortability, "", ""},
		{dsar.GroundNotPortable, dsar.TypeAccess, "", "invalid:error.ground.not_for_type"},
		{dsar.GroundAutomatedAllowed, dsar.TypeAutomatedDecision, "", ""},
		{dsar.GroundCompellingGrounds, dsar.TypeObjection, dsar.ObjectionLegitimate, ""},
		{dsar.GroundCompellingGrounds, dsar.TypeObjection, dsar.ObjectionDirectMarketing, "invalid:error.ground.direct_marketing"},
		{dsar.GroundCompellingGrounds, dsar.TypeObjection, "", "invalid:error.ground.objection_kind"},
		{dsar.GroundCompellingGrounds, dsar.TypeErasure, "", "invalid:error.ground.not_for_type"},
		{dsar.GroundManifestlyUnfounded, dsar.TypeAccess, "", ""},
		{dsar.GroundManifestlyUnfounded, dsar.TypeObjection, dsar.ObjectionDirectMarketing, ""},
		{dsar.GroundManifestlyUnfounded, dsar.TypeWithdrawConsent, "", "invalid:error.ground.not_for_type"},
		{dsar.GroundIdentity, dsar.TypeWithdrawConsent, "", ""},
		{dsar.GroundIdentity, dsar.TypeAutomatedDecision, "", ""},
		{"art99", dsar.TypeAccess, "", "invalid:field.enum"},
	} {
		if got := code(dsar.CheckGround(tc.ground, tc.typ, tc.kind)); got != tc.want {
			t.Errorf("%s on %s (%q): %q, want %q", tc.ground, tc.typ, tc.kind, got, tc.want)
		}
	}
	if got := dsar.GroundsFor(dsar.TypeWithdrawConsent, ""); !slices.Equal(got, []dsar.Ground{dsar.GroundIdentity}) {
		t.Errorf("a consent withdrawal may be refused on %v, want only art11_2", got)
	}
}

func TestRefuseChecksTheGroundAgainstTheType(t *testing.T) {
	c := newCase(t, dsar.TypeAccess, "nte", true)
	eff, err := dsar.Refuse(testEnv(), c, officer, dsar.Decision{Ground: dsar.GroundFreeExpression, Text: "Journalism."})
	if code(err) != "invalid:error.ground.not_for_type" || eff != nil {
		t.Fatalf("refusing an access request on art17_3_a: %v, %v", eff, err)
	}
	e := err.(*dsar.Error)
	if e.Fields[0].Params["ground"] != "art17_3_a" || e.Fields[0].Params["type"] != "access" {
		t.Errorf("the error names %v, want the ground and the type", e.Fields[0].Params)
	}
	eff, err = dsar.Refuse(testEnv(), c, officer, dsar.Decision{Ground: dsar.GroundManifestlyUnfounded, Text: "Ninth identical request."})
	if err != nil {
		t.Fatal(err)
	}
	if eff.Request.Status != dsar.StatusRefused || !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailRefusal}) {
		t.Errorf("whole refusal: %s, mails %v", eff.Request.Status, mails(eff))
	}
}

// A partial refusal keeps the case in work for the granted part; the
// completion carries both parts.
func TestPartialRefusalThenCompletion(t *testing.T) {
	c := newCase(t, dsar.TypeErasure, "nte", true)
	d := dsar.Decision{Ground: dsar.GroundLegalObligation, Text: "Bookkeeping Act.", Partial: true, Part: "Invoices 2021-2024", Granted: "Profile and history"}
	if _, err := dsar.Refuse(testEnv(), c, officer, dsar.Decision{Ground: d.Ground, Text: d.Text, Partial: true}); code(err) != "invalid:field.required" {
		t.Fatalf("partial refusal without the parts: %v", err)
	}
	eff, err := dsar.Refuse(testEnv(), c, officer, d)
	if err != nil {
		t.Fatal(err)
	}
	if eff.Request.Status != dsar.StatusInProgress || len(mails(eff)) != 0 || eff.Events[0].Kind != dsar.EventPartiallyRefused {
		t.Fatalf("partial refusal: status %s, mails %v, event %s", eff.Request.Status, mails(eff), eff.Events[0].Kind)
	}
	c = after(c, eff)
	if _, err := dsar.Refuse(testEnv(), c, officer, d); code(err) != "conflict:error.refuse.already_partial" {
		t.Errorf("second partial refusal: %v", err)
	}
	eff, err = dsar.Complete(testEnv(), c, officer, dsar.Decision{Summary: "Erased the profile."})
	if err != nil {
		t.Fatal(err)
	}
	got := eff.Request.Decision
	if eff.Request.Status != dsar.StatusCompleted || !got.Partial || got.Ground != d.Ground || got.Part != d.Part || got.Granted != d.Granted || got.Summary != "Erased the profile." {
		t.Errorf("completion after a partial refusal: %s %+v", eff.Request.Status, got)
	}
	if !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailCompletion}) {
		t.Errorf("mails %v", mails(eff))
	}
}

func TestForwardOnlyForProcessors(t *testing.T) {
	if _, err := dsar.Forward(testEnv(), newCase(t, dsar.TypeAccess, "nte", false), officer, "Kunde AS"); code(err) != "conflict:error.forward.not_processor" {
		t.Errorf("NTE forwards: %v", err)
	}
	eff, err := dsar.Forward(testEnv(), newCase(t, dsar.TypeAccess, "intility", false), officer, "Kunde AS")
	if err != nil {
		t.Fatal(err)
	}
	if eff.Request.Status != dsar.StatusForwarded || !eff.EndVerifications {
		t.Errorf("forwarded: %s, verifications ended %v", eff.Request.Status, eff.EndVerifications)
	}
}

func TestFeeOnlyForAFurtherCopyOrAnExcessiveRequest(t *testing.T) {
	first := newCase(t, dsar.TypeAccess, "nte", true)
	again := *first
	again.CopiesGiven = 1
	for _, tc := range []struct {
		name  string
		c     *dsar.Case
		basis dsar.FeeBasis
		want  string
	}{
		{"first copy", first, dsar.FeeFurtherCopy, "conflict:error.fee.first_copy"},
		{"further copy", &again, dsar.FeeFurtherCopy, ""},
		{"excessive", first, dsar.FeeExcessive, ""},
		{"erasure", newCase(t, dsar.TypeErasure, "nte", true), dsar.FeeExcessive, "conflict:error.fee.only_access"},
		{"no basis", first, "", "invalid:field.enum"},
	} {
		eff, err := dsar.AnnounceFee(testEnv(), tc.c, officer, tc.basis, "NOK 150.")
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		if err == nil && (!slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailFeeNotice}) || eff.Messages[0].Kind != dsar.MessageFee) {
			t.Errorf("%s: mails %v", tc.name, mails(eff))
		}
	}
}

// Reopening tells the subject why and cancels the closing mail not yet
// sent; a closing mail of a reopened case is no longer true.
func TestReopenTellsTheSubject(t *testing.T) {
	c := newCase(t, dsar.TypeErasure, "nte", true)
	eff, err := dsar.Complete(testEnv(), c, officer, dsar.Decision{Summary: "Done."})
	if err != nil {
		t.Fatal(err)
	}
	c = after(c, eff)
	if _, err := dsar.Reopen(testEnv(), c, officer, " "); code(err) != "invalid:field.required" {
		t.Errorf("reopen without a reason: %v", err)
	}
	eff, err = dsar.Reopen(testEnv(), c, officer, "The newsletter account was not erased.")
	if err != nil {
		t.Fatal(err)
	}
	if eff.Request.Status != dsar.StatusInProgress || !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailReopened}) {
		t.Errorf("reopened: %s, mails %v", eff.Request.Status, mails(eff))
	}
	if len(eff.Messages) != 1 || eff.Messages[0].Kind != dsar.MessageReopened || eff.Messages[0].Body != "The newsletter account was not erased." {
		t.Errorf("status-page message %+v", eff.Messages)
	}
	if !slices.Contains(eff.CancelMails, dsar.MailCompletion) || !slices.Contains(eff.CancelMails, dsar.MailRefusal) {
		t.Errorf("closing mails not cancelled: %v", eff.CancelMails)
	}
	if dsar.MailStillTrue(dsar.MailPayload{Template: dsar.MailCompletion}, eff.Request) || !dsar.MailStillTrue(dsar.MailPayload{Template: dsar.MailReopened}, eff.Request) {
		t.Error("a completion mail of a reopened case is still taken as true")
	}
}

func TestObjectionKindDecidesTheRefusal(t *testing.T) {
	c := newCase(t, dsar.TypeObjection, "nte", true)
	refuse := func(c *dsar.Case) error {
		_, err := dsar.Refuse(testEnv(), c, officer, dsar.Decision{Ground: dsar.GroundCompellingGrounds, Text: "Fraud prevention."})
		return err
	}
	if err := refuse(c); code(err) != "invalid:error.ground.objection_kind" {
		t.Errorf("unclassified objection: %v", err)
	}
	eff, err := dsar.ClassifyObjection(testEnv(), c, officer, dsar.ObjectionDirectMarketing)
	if err != nil {
		t.Fatal(err)
	}
	if err := refuse(after(c, eff)); code(err) != "invalid:error.ground.direct_marketing" {
		t.Errorf("marketing objection refused on art21_1: %v", err)
	}
	eff, _ = dsar.ClassifyObjection(testEnv(), c, officer, dsar.ObjectionLegitimate)
	if err := refuse(after(c, eff)); err != nil {
		t.Errorf("Art 21(1) objection: %v", err)
	}
	if _, err := dsar.ClassifyObjection(testEnv(), newCase(t, dsar.TypeAccess, "nte", true), officer, dsar.ObjectionLegitimate); code(err) != "conflict:error.objection.not_objection" {
		t.Errorf("classify an access request: %v", err)
	}
}

// The actions offered are exactly those the operations accept.
func TestActionsMatchTheOperations(t *testing.T) {
	system := dsar.Actor{ID: "apikey:crm", Role: dsar.RoleSystem, Controllers: []string{"nte"}}
	unverified := newCase(t, dsar.TypeAccess, "nte", false)
	verified := newCase(t, dsar.TypeAccess, "nte", true)
	extended := *verified
	r := *verified.Request
	r.Extended = true
	extended.Request = &r
	for _, tc := range []struct {
		name string
		c    *dsar.Case
		a    dsar.Actor
		want []dsar.Action
	}{
		{"unverified", unverified, officer, []dsar.Action{dsar.ActionVerify, dsar.ActionPause, dsar.ActionExtend, dsar.ActionAssign, dsar.ActionNote, dsar.ActionFee, dsar.ActionRefuse}},
		{"in progress", verified, officer, []dsar.Action{dsar.ActionVerify, dsar.ActionAsk, dsar.ActionPause, dsar.ActionExtend, dsar.ActionAssign, dsar.ActionNote, dsar.ActionApprove, dsar.ActionFee, dsar.ActionRefuse}},
		{"extended", &extended, officer, []dsar.Action{dsar.ActionVerify, dsar.ActionAsk, dsar.ActionPause, dsar.ActionAssign, dsar.ActionNote, dsar.ActionApprove, dsar.ActionFee, dsar.ActionRefuse}},
		{"system key", verified, system, nil},
	} {
		if got := dsar.Actions(tc.c, tc.a, caseNow); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := dsar.Approve(testEnv(), unverified, officer, "", nil); code(err) != "conflict:error.approve_status" {
		t.Errorf("approve unverified: %v", err)
	}
	if _, err := dsar.Extend(testEnv(), &extended, officer, "Again."); code(err) != "conflict:error.extend.already_extended" {
		t.Errorf("extend twice: %v", err)
	}
	if _, err := dsar.Complete(testEnv(), unverified, officer, dsar.Decision{Summary: "Done."}); code(err) != "conflict:error.transition" {
		t.Errorf("complete unverified: %v", err)
	}
	// An access request is answered with the subject's data: no completion
	// before the files are assembled.
	if _, err := dsar.Complete(testEnv(), verified, officer, dsar.Decision{Summary: "Done."}); code(err) != "conflict:error.complete.results" {
		t.Errorf("complete access without its files: %v", err)
	}
	if _, err := dsar.Note(testEnv(), verified, system, "Hi."); code(err) != "forbidden:error.forbidden" {
		t.Errorf("system key notes: %v", err)
	}
}

func TestInternalNotesAreForStaff(t *testing.T) {
	for _, tc := range []struct {
		a    dsar.Actor
		want bool
	}{
		{officer, true},
		{dsar.Actor{ID: "user:a", Role: dsar.RoleAuditor, Controllers: []string{"nte"}}, true},
		{dsar.Actor{ID: "user:b", Role: dsar.RoleAdmin}, true},
		{dsar.Actor{ID: "apikey:crm", Role: dsar.RoleSystem, Controllers: []string{"nte"}}, false},
		{dsar.ActorSubject("192.0.2.7"), false},
		{officer, false}, // of another controller, below
	} {
		ctrl := "nte"
		if tc.a.ID == officer.ID && !tc.want {
			ctrl = "proviso"
		}
		if got := tc.a.CanReadNotes(ctrl); got != tc.want {
			t.Errorf("%s reads notes of %s: %v", tc.a.ID, ctrl, got)
		}
	}
	if !dsar.MessageNote.Internal() || dsar.MessageReopened.Internal() {
		t.Error("message kinds: notes must be internal, reopening notices not")
	}
}

// A case's timers follow from the case: the subject's reminders and the
// expiry while unconfirmed, the deadline reminders while open, and an
// overdue reminder at once for a case logged after its deadline.
func TestTimersFollowTheCase(t *testing.T) {
	names := func(c *dsar.Case) []string {
		var out []string
		for _, tm := range dsar.Timers(c.Request, dsar.DefaultPolicy) {
			out = append(out, string(tm.Kind)+":"+tm.Name+"@"+tm.At.UTC().Format("01-02T15:04"))
		}
		return out
	}
	unverified := newCase(t, dsar.TypeAccess, "nte", false)
	want := []string{"verify_reminder:24h@03-06T09:00", "verify_reminder:72h@03-08T09:00", "verify_expiry:@03-19T09:00",
		"reminder:7d@03-31T07:00", "reminder:2d@04-05T07:00", "reminder:overdue@04-07T22:00"}
	if got := names(unverified); !slices.Equal(got, want) {
		t.Errorf("unverified: %v\nwant %v", got, want)
	}
	if w := unverified.Request.WakeAt; w == nil || !w.Equal(caseNow.Add(24*time.Hour)) {
		t.Errorf("first wake-up %v", w)
	}
	verified := newCase(t, dsar.TypeAccess, "nte", true)
	if got := names(verified); !slices.Equal(got, want[3:]) {
		t.Errorf("verified: %v", got)
	}
	// Due by 1 April: the 7-day reminder; next the 2-day one.
	items, next := dsar.DueTimers(verified.Request, dsar.DefaultPolicy, time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC))
	if len(items) != 1 || items[0].Kind != dsar.OutboxReminder || next == nil || next.UTC().Format("01-02T15:04") != "04-05T07:00" {
		t.Errorf("due by 1 April: %d items, next %v", len(items), next)
	}
	if again, _ := dsar.DueTimers(verified.Request, dsar.DefaultPolicy, time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC)); again[0].ID != items[0].ID {
		t.Error("the same timer gets another ID when planned again")
	}
	eff, err := dsar.Refuse(testEnv(), verified, officer, dsar.Decision{Ground: dsar.GroundIdentity, Text: "Unknown."})
	if err != nil {
		t.Fatal(err)
	}
	if got := dsar.Timers(eff.Request, dsar.DefaultPolicy); len(got) != 0 || eff.Request.WakeAt != nil {
		t.Errorf("a closed case keeps timers: %v", got)
	}
	if !slices.Contains(eff.CancelKinds, dsar.OutboxReminder) {
		t.Error("closing does not cancel the reminders already planned")
	}
}

func TestTryCodeAndFollowLink(t *testing.T) {
	live := dsar.Verification{ID: "v", State: dsar.VerificationActive, ExpiresAt: caseNow.Add(time.Hour)}
	p := dsar.DefaultPolicy
	for _, tc := range []struct {
		name     string
		v        dsar.Verification
		matches  bool
		attempts int
		lock     bool
		want     string
	}{
		{"right code", live, true, 0, false, ""},
		{"wrong code", live, false, 1, false, "invalid:error.verify.wrong_code"},
		{"fifth wrong code", dsar.Verification{State: dsar.VerificationActive, Attempts: 4, ExpiresAt: live.ExpiresAt}, false, 5, true, "conflict:error.verify.locked"},
		{"locked, right code", dsar.Verification{State: dsar.VerificationLocked, Attempts: 5, ExpiresAt: live.ExpiresAt}, true, 5, false, "conflict:error.verify.locked"},
		{"expired", dsar.Verification{State: dsar.VerificationActive, ExpiresAt: caseNow.Add(-time.Second)}, true, 0, false, "conflict:error.verify.expired"},
	} {
		attempts, lock, err := dsar.TryCode(tc.v, tc.matches, p, caseNow)
		if attempts != tc.attempts || lock != tc.lock || code(err) != tc.want {
			t.Errorf("%s: %d %v %q, want %d %v %q", tc.name, attempts, lock, code(err), tc.attempts, tc.lock, tc.want)
		}
	}
	if again, err := dsar.FollowLink(live, caseNow); again || err != nil {
		t.Errorf("live link: %v %v", again, err)
	}
	if again, err := dsar.FollowLink(dsar.Verification{State: dsar.VerificationUsed}, caseNow); !again || err != nil {
		t.Errorf("used link: %v %v", again, err)
	}
	if _, err := dsar.FollowLink(dsar.Verification{State: dsar.VerificationSuperseded, ExpiresAt: live.ExpiresAt}, caseNow); code(err) != "conflict:error.verify.superseded" {
		t.Errorf("superseded link: %v", err)
	}
}

// TestEveryVerificationMakesRequestVerified: request.verified is sent
// however the identity was settled: by the subject's link, by an officer,
// or by the calling system at intake (a pre-verified request).
func TestEveryVerificationMakesRequestVerified(t *testing.T) {
	types := func(eff *dsar.Effect) []dsar.WebhookEventType {
		var out []dsar.WebhookEventType
		for _, e := range dsar.WebhookEvents(testEnv(), eff.Request, eff.Events) {
			out = append(out, e.Type)
		}
		return out
	}
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	admin := dsar.Actor{ID: "apikey:1", Role: dsar.RoleAdmin}
	in := dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "ola@example.no"},
		Verified: true, VerificationMethod: "portal login"}
	eff, err := dsar.NewCase(testEnv(), in, admin, ctrls)
	if err != nil {
		t.Fatal(err)
	}
	if got := types(eff); !slices.Contains(got, dsar.WebhookRequestVerified) || !slices.Contains(got, dsar.WebhookRequestReceived) {
		t.Errorf("a pre-verified intake: %v", got)
	}
	in.Verified, in.VerificationMethod = false, ""
	if eff, err = dsar.NewCase(testEnv(), in, admin, ctrls); err != nil {
		t.Fatal(err)
	}
	if got := types(eff); slices.Contains(got, dsar.WebhookRequestVerified) {
		t.Errorf("an unverified intake: %v", got)
	}

	c := newCase(t, dsar.TypeAccess, "nte", false)
	eff, err = dsar.VerifySubject(testEnv(), c, dsar.ActorSubject("192.0.2.1"), "v1", "link")
	if err != nil {
		t.Fatal(err)
	}
	if got := types(eff); !slices.Contains(got, dsar.WebhookRequestVerified) {
		t.Errorf("the subject's link: %v", got)
	}
	eff, err = dsar.MarkVerified(testEnv(), c, officer, "passport seen")
	if err != nil {
		t.Fatal(err)
	}
	if got := types(eff); !slices.Contains(got, dsar.WebhookRequestVerified) {
		t.Errorf("an officer's verification: %v", got)
	}
}
