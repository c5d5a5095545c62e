package workflows_test

import (
	"bytes"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/manual"
	"github.com/dsar-project/dsar/workflows/connector/vendormail"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// TestVendorMailInstructsRemindsAndSkips approves an erasure at Digiref
// whose Google Analytics is reached by vendor mail: the worker mails the
// instruction, in Digiref's language, to the vendor's privacy address over
// real SMTP, with only the identities the vendor needs and the
// confirmation link; reminds it every 3 days; and after 10 days skips the
// task as the data map says.
func TestVendorMailInstructsRemindsAndSkips(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	ctrl, _ := e.db.Controllers.Get("digiref")
	ga, _ := ctrl.System("google-analytics")
	ga.Connector = dsar.Connector{Kind: dsar.ConnectorVendorMail, VendorMail: &dsar.VendorMailConnector{
		Email: "privacy@google.example", RemindEveryDays: 3, AfterDays: 10, OnOverdue: dsar.OverdueSkip}}
	var logs bytes.Buffer
	e.handlers.Tasks = store.NewTasks(e.db)
	e.handlers.Connectors = connector.Set{dsar.ConnectorManual: manual.Connector{},
		dsar.ConnectorVendorMail: &vendormail.Connector{Sender: e.handlers.Sender, From: "dsar@example.test",
			MessageIDDomain: "dsar.example.test", Clock: e.clock, Log: slogTo(&logs)}}
	officer := dsar.Actor{ID: "user:kari", Role: dsar.RoleOfficer, Controllers: []string{"digiref"}}
	r, err := e.reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "digiref", Language: dsar.LanguageEN,
		Subject:  dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann", Phone: "+4791234567", CustomerID: "K-77"},
		Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	e.runDirect(t) // the acknowledgement
	if _, err := e.reqs.Approve(ctx, officer, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	before := len(e.smtp.Messages())
	e.runDirect(t)
	tasks, _ := e.reqs.Tasks(ctx, officer, r.ID)
	for _, task := range tasks {
		if task.System == "kundetelling" {
			if _, err := e.reqs.CompleteTask(ctx, officer, r.ID, task.ID, "Deleted the account by hand.", 1, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	task := vendorTask(t, e, officer, r.ID)
	if task.Status != dsar.TaskWaitingPerson || task.ExpectedBy == nil || !task.ExpectedBy.Equal(e.clock.Now().AddDate(0, 0, 10)) {
		t.Fatalf("after the instruction: %s, expected by %v", task.Status, task.ExpectedBy)
	}
	vendor := vendorMails(e.smtp.Messages()[before:])
	if len(vendor) != 1 {
		t.Fatalf("%d mails to the vendor, want the instruction", len(vendor))
	}
	m := vendor[0]
	token := e.db.Keyring.Token(dsar.TokenVendorConfirm, task.ID)
	text := mailPart(t, m, "text/plain")
	for _, want := range []string{"Digiref AS", r.Reference, "Slett alle personopplysninger", "kari@example.no", "K-77",
		"https://dsar.example.test" + dsar.VendorConfirmPath(task.ID, token), "artikkel 28 nr. 3", "15. mars 2025"} {
		if !strings.Contains(text, want) {
			t.Errorf("the instruction lacks %q:\n%s", want, text)
		}
	}
	for _, never := range []string{"Nordmann", "91234567"} {
		if strings.Contains(text+mailPart(t, m, "text/html"), never) {
			t.Errorf("the instruction carries %q, which the vendor does not need", never)
		}
	}
	if got, want := m.Header.Get("Message-Id"), "<task-"+task.ID+"-r0@dsar.example.test>"; got != want {
		t.Errorf("Message-ID %s, want %s (task and round)", got, want)
	}
	if rt := m.Header.Get("Reply-To"); !strings.Contains(rt, "personvern@digiref.example") {
		t.Errorf("Reply-To %q: the vendor's answer goes to the privacy contact", rt)
	}
	if subject(m) != "Instruks fra Digiref AS om en henvendelse fra en registrert (ref. "+r.Reference+")" {
		t.Errorf("subject %q", subject(m))
	}

	// Reminders on days 3, 6 and 9; on day 10 the task is skipped.
	for day := 1; day <= 10; day++ {
		e.clock.Advance(24 * time.Hour)
		e.runDirect(t)
		e.runDirect(t) // the completion mail, once the case moves on
	}
	vendor = vendorMails(e.smtp.Messages()[before:])
	if len(vendor) != 4 {
		t.Fatalf("%d mails to the vendor, want the instruction and 3 reminders", len(vendor))
	}
	seen := map[string]bool{}
	for _, m := range vendor[1:] {
		id := m.Header.Get("Message-Id")
		if !strings.HasPrefix(subject(m), "Påminnelse: ") || !strings.Contains(id, "-remind-") || seen[id] {
			t.Errorf("reminder %s: %q", id, subject(m))
		}
		seen[id] = true
		if !strings.Contains(mailPart(t, m, "text/plain"), "Dette er en påminnelse") {
			t.Errorf("reminder %s does not say it is one", id)
		}
	}
	task = vendorTask(t, e, officer, r.ID)
	if task.Status != dsar.TaskSkipped || task.Reason != "task.overdue_skipped" {
		t.Errorf("after 10 days: %s (%s), want skipped", task.Status, task.Reason)
	}
	if strings.Contains(logs.String(), "kari@example.no") || strings.Contains(logs.String(), "K-77") {
		t.Errorf("the logs carry the subject's identities:\n%s", logs.String())
	}
}

// vendorTask returns the case's Google Analytics task.
func vendorTask(t *testing.T, e *env, a dsar.Actor, id string) *dsar.Task {
	t.Helper()
	tasks, err := e.reqs.Tasks(ctx, a, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.System == "google-analytics" {
			return task
		}
	}
	t.Fatal("no google-analytics task")
	return nil
}

// vendorMails returns the mails that went to the vendor.
func vendorMails(msgs []mailtest.Message) []mailtest.Message {
	var out []mailtest.Message
	for _, m := range msgs {
		if len(m.To) == 1 && m.To[0] == "privacy@google.example" {
			out = append(out, m)
		}
	}
	return out
}

// mailPart returns the decoded part of the content type of a received mail.
func mailPart(t *testing.T, m mailtest.Message, contentType string) string {
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
			t.Fatalf("no %s part: %v", contentType, err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), contentType) {
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

// slogTo returns a logger that writes to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
