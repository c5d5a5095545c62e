package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// subjectEnv is a database with a request waiting for verification.
type subjectEnv struct {
	clock    *dsar.ManualClock
	db       *store.DB
	reqs     *store.Requests
	subjects *store.Subjects
	req      *dsar.Request
}

func newSubjectEnv(t *testing.T) *subjectEnv {
	t.Helper()
	e := &subjectEnv{clock: dsar.NewManualClock(at(2025, time.March, 5, 9, 0))}
	e.db = storetest.Open(t, e.clock)
	e.reqs, e.subjects = store.NewRequests(e.db), store.NewSubjects(e.db)
	var err error
	if e.req, err = e.reqs.Create(ctx, dsar.ActorPublic, newRequest("nte")); err != nil {
		t.Fatal(err)
	}
	return e
}

// verification returns the ID of the newest verification whose mail is in
// the outbox: what the subject's inbox holds.
func (e *subjectEnv) verification(t *testing.T) string {
	t.Helper()
	items, err := store.NewOutbox(e.db).Due(ctx, e.clock.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, it := range items {
		var p dsar.MailPayload
		if it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == "verification" {
			id = p.VerificationID
		}
	}
	if id == "" {
		t.Fatal("no verification mail in the outbox")
	}
	return id
}

func (e *subjectEnv) code(t *testing.T) string { return e.db.Keyring.Code("verify", e.verification(t)) }

func TestVerifyCodeCountsAttemptsAndLocks(t *testing.T) {
	e := newSubjectEnv(t)
	good := e.code(t)
	wrong := "000000"
	if good == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 4; i++ {
		_, _, err := e.subjects.VerifyCode(ctx, e.req.ID, wrong, subjectIP)
		if dsar.ErrorMessage(err) != "error.verify.wrong_code" || err.(*dsar.Error).Params["left"] != 5-i {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if _, _, err := e.subjects.VerifyCode(ctx, e.req.ID, wrong, subjectIP); dsar.ErrorMessage(err) != "error.verify.locked" {
		t.Fatalf("fifth wrong code: %v", err)
	}
	if _, _, err := e.subjects.VerifyCode(ctx, e.req.ID, good, subjectIP); dsar.ErrorMessage(err) != "error.verify.locked" {
		t.Fatalf("the right code after the lock: %v", err)
	}
	// A new code is needed; it may be asked for once a minute.
	if err := e.subjects.ResendVerification(ctx, e.req.ID); dsar.ErrorCode(err) != dsar.ERATELIMIT {
		t.Fatalf("resend at once: %v", err)
	}
	e.clock.Advance(time.Minute)
	if err := e.subjects.ResendVerification(ctx, e.req.ID); err != nil {
		t.Fatal(err)
	}
	fresh := e.code(t)
	r, token, err := e.subjects.VerifyCode(ctx, e.req.ID, " "+fresh+" ", subjectIP)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != dsar.StatusInProgress || r.VerificationMethod != dsar.VerifiedByEmailCode || r.VerifiedBy != "subject" || token == "" {
		t.Errorf("verified: %s %s %s", r.Status, r.VerificationMethod, r.VerifiedBy)
	}
	byToken, err := e.subjects.ByStatusToken(ctx, token)
	if err != nil || byToken.ID != e.req.ID {
		t.Errorf("status token: %v", err)
	}
	if _, err := e.subjects.ByStatusToken(ctx, token+"x"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("forged token: %v", err)
	}
}

func TestVerifyLinkExpiresAndIsIdempotent(t *testing.T) {
	e := newSubjectEnv(t)
	link := e.db.Keyring.Token("verify", e.verification(t))
	if _, _, err := e.subjects.VerifyLink(ctx, "forged", subjectIP); dsar.ErrorMessage(err) != "error.verify.invalid_link" {
		t.Errorf("forged link: %v", err)
	}
	e.clock.Advance(24*time.Hour + time.Second)
	if _, _, err := e.subjects.VerifyLink(ctx, link, subjectIP); dsar.ErrorMessage(err) != "error.verify.expired" {
		t.Fatalf("expired link: %v", err)
	}
	e.clock.Advance(-time.Hour)
	r, token, err := e.subjects.VerifyLink(ctx, link, subjectIP)
	if err != nil || r.Status != dsar.StatusInProgress || r.VerificationMethod != dsar.VerifiedByEmailLink {
		t.Fatalf("link: %v %v", r, err)
	}
	again, token2, err := e.subjects.VerifyLink(ctx, link, subjectIP)
	if err != nil || again.ID != r.ID || token2 != token {
		t.Errorf("second click: %v", err)
	}
	evs, _ := e.reqs.Events(ctx, admin, r.ID)
	last := evs[len(evs)-1]
	if last.To != dsar.StatusInProgress || last.Data["method"] != dsar.VerifiedByEmailLink || last.Actor != "subject" {
		t.Errorf("verification event: %+v", last)
	}
}

func TestUnverifiedRequestIsRemindedThenExpires(t *testing.T) {
	e := newSubjectEnv(t)
	first := e.verification(t)
	e.clock.Advance(24 * time.Hour)
	if err := e.subjects.RenewVerification(ctx, e.req.ID, "reminder-1", "24h"); err != nil {
		t.Fatal(err)
	}
	if err := e.subjects.RenewVerification(ctx, e.req.ID, "reminder-1", "24h"); err != nil {
		t.Fatal(err)
	}
	if active, _ := e.subjects.VerificationActive(ctx, first); active {
		t.Error("the first code still works after the reminder")
	}
	if active, _ := e.subjects.VerificationActive(ctx, "reminder-1"); !active {
		t.Error("the reminder's code does not work")
	}
	evs, _ := e.reqs.Events(ctx, admin, e.req.ID)
	n := 0
	for _, ev := range evs {
		if ev.Kind == dsar.EventVerifyReminder {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d reminder events for one reminder run twice", n)
	}
	e.clock.Advance(13 * 24 * time.Hour)
	if err := e.subjects.ExpireUnverified(ctx, e.req.ID); err != nil {
		t.Fatal(err)
	}
	r, _ := e.reqs.Get(ctx, admin, e.req.ID)
	if r.Status != dsar.StatusExpiredUnverified || r.ClosedAt == nil {
		t.Errorf("after 14 days: %s", r.Status)
	}
	if _, _, err := e.subjects.VerifyCode(ctx, e.req.ID, e.db.Keyring.Code("verify", "reminder-1"), subjectIP); err == nil {
		t.Error("an expired request was verified")
	}
}

func TestAskReplyAndVerifyIdentity(t *testing.T) {
	e := newSubjectEnv(t)
	_, token, err := e.subjects.VerifyCode(ctx, e.req.ID, e.code(t), subjectIP)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.subjects.Reply(ctx, token, "hello", nil, subjectIP); dsar.ErrorMessage(err) != "error.reply.not_waiting" {
		t.Errorf("reply when nobody asked: %v", err)
	}
	e.clock.Set(at(2025, time.March, 10, 10, 0))
	r, err := e.reqs.Ask(ctx, nteOff, e.req.ID, dsar.MessageIdentity, "Please send a copy of a bill with your customer number.")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != dsar.StatusAwaitingSubject || r.PausedAt == nil {
		t.Fatalf("after asking: %s", r.Status)
	}
	e.clock.Set(at(2025, time.March, 12, 18, 0))
	doc := &dsar.Document{FileName: "bill.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 customer 42")}
	r, err = e.subjects.Reply(ctx, token, "Here it is.", doc, subjectIP)
	if err != nil {
		t.Fatal(err)
	}
	// Paused 10 to 12 March: two days. 5 Apr + 2 = 7 Apr, a Monday.
	if r.Status != dsar.StatusInProgress || r.PausedDays != 2 || r.DueDate.String() != "2025-04-07" {
		t.Errorf("after the reply: %s, %d days, due %s", r.Status, r.PausedDays, r.DueDate)
	}
	msgs, err := e.reqs.Messages(ctx, nteOff, e.req.ID)
	if err != nil || len(msgs) != 2 || !msgs[1].FromSubject || msgs[1].Body != "Here it is." {
		t.Fatalf("messages: %+v %v", msgs, err)
	}
	docs, err := e.reqs.Documents(ctx, nteOff, e.req.ID)
	if err != nil || len(docs) != 1 || string(docs[0].Data) != "%PDF-1.4 customer 42" {
		t.Fatalf("documents: %v", err)
	}
	if _, err := e.reqs.Documents(ctx, dsar.Actor{ID: "a", Role: dsar.RoleAuditor, Controllers: []string{"nte"}}, e.req.ID); dsar.ErrorCode(err) != dsar.EFORBIDDEN {
		t.Errorf("an auditor opens identity documents: %v", err)
	}
	r, err = e.reqs.MarkVerified(ctx, nteOff, e.req.ID, "bill matched customer 42")
	if err != nil {
		t.Fatal(err)
	}
	if r.VerifiedBy != nteOff.ID || r.VerificationMethod != "bill matched customer 42" {
		t.Errorf("verified by %q how %q", r.VerifiedBy, r.VerificationMethod)
	}
	if docs, _ := e.reqs.Documents(ctx, nteOff, e.req.ID); len(docs) != 0 {
		t.Error("the identity document was kept after the check")
	}
}

// subjectIP is the address the subject acts from in these tests.
const subjectIP = "192.0.2.7"

func TestWithdrawCompleteRefuse(t *testing.T) {
	e := newSubjectEnv(t)
	_, token, err := e.subjects.VerifyCode(ctx, e.req.ID, e.code(t), subjectIP)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.subjects.Withdraw(ctx, token, subjectIP)
	if err != nil || r.Status != dsar.StatusWithdrawn || r.ClosedAt == nil {
		t.Fatalf("withdraw: %v %v", r, err)
	}
	if _, err := e.subjects.Withdraw(ctx, token, subjectIP); dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("second withdraw: %v", err)
	}
	// The subject's steps are in the audit trail with the address they came from.
	evs, _ := e.reqs.Events(ctx, nteOff, e.req.ID)
	var bySubject []string
	for _, ev := range evs {
		if ev.Actor == "subject" {
			bySubject = append(bySubject, string(ev.To)+"@"+ev.ClientIP)
		}
	}
	if want := "in_progress@" + subjectIP + ",withdrawn@" + subjectIP; strings.Join(bySubject, ",") != want {
		t.Errorf("the subject's events: %v, want %s", bySubject, want)
	}
	// The status page works for 90 days after closing.
	e.clock.Advance(89 * 24 * time.Hour)
	if _, err := e.subjects.ByStatusToken(ctx, token); err != nil {
		t.Errorf("after 89 days: %v", err)
	}
	e.clock.Advance(2 * 24 * time.Hour)
	if _, err := e.subjects.ByStatusToken(ctx, token); dsar.ErrorMessage(err) != "error.status.expired_link" {
		t.Errorf("after 91 days: %v", err)
	}

	erasure := verifiedRequest("intility")
	erasure.Type = dsar.TypeErasure
	done, err := e.reqs.Create(ctx, admin, erasure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Complete(ctx, admin, done.ID, dsar.Decision{Kept: []dsar.Kept{{What: "orders"}}}); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("completion without summary: %v", err)
	}
	c, err := e.reqs.Complete(ctx, admin, done.ID, dsar.Decision{Summary: "Erased from the webshop and CRM.",
		Kept: []dsar.Kept{{What: "Webshop orders", Why: "Bookkeeping Act §13 (Art 17(3)(b))", Until: "2030-12-31"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != dsar.StatusCompleted || c.Decision.Summary != "Erased from the webshop and CRM." || len(c.Decision.Kept) != 1 {
		t.Errorf("completed: %+v", c.Decision)
	}

	ref, err := e.reqs.Create(ctx, admin, verifiedRequest("intility"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Refuse(ctx, admin, ref.ID, dsar.Decision{Ground: "because", Text: ""}); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("refusal without ground and text: %v", err)
	}
	if _, err := e.reqs.Refuse(ctx, admin, ref.ID, dsar.Decision{Ground: dsar.GroundLegalObligation, Text: "Orders are kept for 5 years."}); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("an access request refused on an erasure exception: %v", err)
	}
	f, err := e.reqs.Refuse(ctx, admin, ref.ID, dsar.Decision{Ground: dsar.GroundOthersRights, Text: "Orders are kept for 5 years.", Partial: true,
		Part: "The order history.", Granted: "The customer account."})
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != dsar.StatusInProgress || f.Decision.Ground != dsar.GroundOthersRights || !f.Decision.Partial || f.Decision.Part != "The order history." {
		t.Errorf("partly refused, the rest in work: %s %+v", f.Status, f.Decision)
	}
	storetest.Ready(t, e.db, ref.ID)
	if _, err = e.reqs.Complete(ctx, admin, ref.ID, dsar.Decision{Summary: "The account is erased."}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.reqs.Get(ctx, admin, ref.ID); got.Status != dsar.StatusCompleted || !got.Decision.Partial || got.Decision.Granted != "The customer account." ||
		got.Decision.Summary != "The account is erased." || got.Decision.Text != "Orders are kept for 5 years." {
		t.Errorf("completed after a partial refusal, as read back: %s %+v", got.Status, got.Decision)
	}
}
