package workflows_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// subjectIP is the address the subject acts from in these tests.
const subjectIP = "192.0.2.7"

// templateOf returns which template a received mail came from, by looking
// up its outbox row through the Message-ID.
func (e *env) templateOf(t *testing.T, m mailtest.Message) string {
	t.Helper()
	_, p := e.itemOf(m)
	return string(p.Template)
}

// itemOf returns the outbox row a received mail was sent for, and its
// payload; nil when none matches its Message-ID.
func (e *env) itemOf(m mailtest.Message) (*dsar.OutboxItem, dsar.MailPayload) {
	id := strings.TrimSuffix(strings.TrimPrefix(m.Header.Get("Message-Id"), "<"), "@dsar.example.test>")
	var p dsar.MailPayload
	for _, it := range e.sent {
		if it.ID == id {
			_ = json.Unmarshal(it.Payload, &p)
			return it, p
		}
	}
	return nil, p
}

// checkReplyTo checks that a mail to a subject carries a Reply-To of its
// controller's privacy contact, so that "reply to this e-mail" reaches the
// people who handle the request, not the service's sending address.
func (e *env) checkReplyTo(t *testing.T, m mailtest.Message) {
	t.Helper()
	it, p := e.itemOf(m)
	if it == nil || p.To != dsar.RecipientSubject {
		return
	}
	r, err := e.reqs.Get(ctx, admin, it.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	ctrl, _ := e.db.Controllers.Get(r.Controller)
	got, err := mail.ParseAddress(m.Header.Get("Reply-To"))
	if err != nil || got.Address != ctrl.PrivacyContact.Email {
		t.Errorf("%s mail: Reply-To %q, want %s (%v)", p.Template, m.Header.Get("Reply-To"), ctrl.PrivacyContact.Email, err)
	}
}

// subject decodes a received mail's Subject header.
func subject(m mailtest.Message) string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

// TestEveryMailGoesOutThroughSMTP walks requests through every step a data
// subject gets a mail for and reads each mail from a real SMTP server.
func TestEveryMailGoesOutThroughSMTP(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	public := func(lang dsar.Language) *dsar.Request {
		r, err := e.reqs.Create(ctx, dsar.ActorPublic, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "intility", Language: lang,
			Subject: dsar.Subject{Email: "ola@example.no", Name: "Ola <b>Nordmann</b>"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	code := func(r *dsar.Request) string {
		t.Helper()
		return e.db.Keyring.Code("verify", verificationOf(t, e, r))
	}

	// 1. Verification by code, acknowledgement, extension, clarification,
	//    reply, identity proof, completion with what was kept.
	a := public(dsar.LanguageNB)
	e.runDirect(t) // verification
	_, token, err := e.subjects.VerifyCode(ctx, a.ID, code(a), subjectIP)
	if err != nil {
		t.Fatal(err)
	}
	e.runDirect(t) // acknowledgement
	if _, err := e.reqs.Extend(ctx, admin, a.ID, "Many systems to search."); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.reqs.Ask(ctx, admin, a.ID, dsar.MessageClarification, "Which account do you mean?"); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.subjects.Reply(ctx, token, "The webshop account.", nil, subjectIP); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.reqs.Ask(ctx, admin, a.ID, dsar.MessageIdentity, "Please send your order number."); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.subjects.Reply(ctx, token, "Order 1234", &dsar.Document{Data: []byte("%PDF-1.4 receipt")}, subjectIP); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.reqs.MarkVerified(ctx, admin, a.ID, "order number matched"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Complete(ctx, admin, a.ID, dsar.Decision{Summary: "Erased from the webshop and the newsletter.",
		Kept: []dsar.Kept{{What: "Webshop orders", Why: "Bookkeeping Act (Art 17(3)(b))", Until: "2030-12-31"}}}); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)

	// 2. Verification by link, partial refusal.
	b := public(dsar.LanguageEN)
	e.runDirect(t)
	if _, _, err := e.subjects.VerifyLink(ctx, e.db.Keyring.Token("verify", verificationOf(t, e, b)), subjectIP); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.reqs.Refuse(ctx, admin, b.ID, dsar.Decision{Ground: dsar.GroundLegalObligation, Text: "Orders are kept for five years.", Partial: true,
		Part: "Your order history.", Granted: "Erasure of your account."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Complete(ctx, admin, b.ID, dsar.Decision{Summary: "Your account is erased."}); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	// Reopened after a complaint, then refused as a whole.
	if _, err := e.reqs.Reopen(ctx, admin, b.ID, "You told us the order history should go too."); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.reqs.Refuse(ctx, admin, b.ID, dsar.Decision{Ground: dsar.GroundLegalObligation, Text: "Orders are kept for five years."}); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)

	// 3. Withdrawal.
	c := public(dsar.LanguageEN)
	e.runDirect(t)
	_, ctoken, err := e.subjects.VerifyCode(ctx, c.ID, code(c), subjectIP)
	if err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.subjects.Withdraw(ctx, ctoken, subjectIP); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)

	// 4. A processor's request, forwarded to the controller responsible.
	f := public(dsar.LanguageNB)
	e.runDirect(t)
	if _, err := e.reqs.Forward(ctx, admin, f.ID, "Kunde AS, personvern@kunde.example"); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)

	// 5. A fee for a further copy, announced before charging.
	g, err := e.reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Language: dsar.LanguageEN,
		Subject: dsar.Subject{Email: "ola@example.no", Name: "Ola <b>Nordmann</b>"}, Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	if _, err := e.reqs.AnnounceFee(ctx, admin, g.ID, dsar.FeeExcessive, "This is your ninth identical request this month; answering it costs NOK 150."); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)

	// 6. Never verified: reminders after 24 and 72 hours, closed after 14 days.
	d := public(dsar.LanguageNB)
	e.runDirect(t)
	for _, after := range []time.Duration{24 * time.Hour, 48 * time.Hour, 11 * 24 * time.Hour} {
		e.clock.Advance(after)
		e.runDirect(t) // the reminder or the expiry
		e.runDirect(t) // its mail
	}
	got, _ := e.reqs.Get(ctx, admin, d.ID)
	if got.Status != dsar.StatusExpiredUnverified {
		t.Errorf("unverified after 14 days: %s", got.Status)
	}

	var templatesSent []string
	for _, m := range e.smtp.Messages() {
		tpl := e.templateOf(t, m)
		templatesSent = append(templatesSent, tpl)
		e.checkReplyTo(t, m)
		html := htmlPart(t, m)
		if strings.Contains(html, "<b>Nordmann") || (strings.Contains(html, "Nordmann") && !strings.Contains(html, "&lt;b&gt;Nordmann")) {
			t.Errorf("%s: the subject's name is not escaped in the HTML part", tpl)
		}
		if subject(m) == "" || tpl == "" {
			t.Errorf("a mail without subject or template: %q %q", subject(m), tpl)
		}
	}
	for _, want := range []string{"verification", "acknowledgement", "extension", "clarification_request", "reply_received",
		"identity_request", "completion", "refusal", "reopened", "withdrawal", "expired_unverified", "forwarded", "fee_notice"} {
		if !slices.Contains(templatesSent, want) {
			t.Errorf("no %s mail was sent; sent: %v", want, templatesSent)
		}
	}
	// The first verification mail and both reminders of request d.
	n := 0
	for _, tpl := range templatesSent {
		if tpl == "verification" {
			n++
		}
	}
	if n != 7 { // a, b, c, f once; d three times
		t.Errorf("%d verification mails, want 7", n)
	}
}

// verificationOf returns the ID of the request's newest verification mail.
func verificationOf(t *testing.T, e *env, r *dsar.Request) string {
	t.Helper()
	id := ""
	for _, it := range e.sent {
		var p dsar.MailPayload
		if it.RequestID == r.ID && json.Unmarshal(it.Payload, &p) == nil && p.Template == "verification" {
			id = p.VerificationID
		}
	}
	if id == "" {
		t.Fatal("no verification mail sent")
	}
	return id
}

// htmlPart returns the decoded text/html part of a multipart/alternative mail.
func htmlPart(t *testing.T, m mailtest.Message) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatalf("not a valid message: %v", err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/html part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			var r io.Reader = p
			if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
				r = quotedprintable.NewReader(p)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// A case completed and reopened within the same second: the completion mail
// queued for the closed case is cancelled on purpose, the subject gets the
// reopening mail, and nothing is left failed.
func TestCompleteAndReopenInTheSameSecond(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	r := e.create(t, "nte")
	e.runDirect(t) // the acknowledgement
	storetest.Ready(t, e.db, r.ID)
	if _, err := e.reqs.Complete(ctx, admin, r.ID, dsar.Decision{Summary: "Sent you the export."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Reopen(ctx, admin, r.ID, "The export lacked the consumption history."); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)
	var sent []string
	for _, m := range e.smtp.Messages() {
		sent = append(sent, e.templateOf(t, m))
	}
	if !slices.Equal(sent, []string{"acknowledgement", "reopened"}) {
		t.Errorf("mails %v, want the acknowledgement and the reopening", sent)
	}
	if c := e.counts(t); c[dsar.OutboxFailed] != 0 || c[dsar.OutboxCancelled] != 2 || c[dsar.OutboxPending] != 0 {
		t.Errorf("outbox %v, want the completion mail and the end of the download window cancelled, and nothing failed", c)
	}
	msgs, err := e.subjects.SubjectMessages(ctx, r.ID)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != dsar.MessageReopened || msgs[0].Body != "The export lacked the consumption history." {
		t.Errorf("status page messages %+v %v", msgs, err)
	}
}
