package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// The officers hear of what needs them, through the SMTP server: the
// subject's answer goes to the assignee, or to every officer of the
// controller when nobody is assigned; a case given to an officer by someone
// else goes to that officer; taking a case oneself sends nothing. The mails
// link the case page and carry nothing of the subject but the reference
// and the request type.
func TestOfficerAlertsGoOutThroughSMTP(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	users := store.NewUsers(e.db)
	e.handlers.Officers = users
	mk := func(email string, role dsar.Role, ctrls ...string) *dsar.User {
		u, err := users.Create(ctx, email, "a long enough password", role, ctrls)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	kari := mk("kari@nte.no", dsar.RoleOfficer, "nte")
	mk("ola@nte.no", dsar.RoleOfficer, "nte")
	mk("per@proviso.no", dsar.RoleOfficer, "proviso")
	unassigned, assigned, taken := e.create(t, "nte"), e.create(t, "nte"), e.create(t, "nte")
	if _, err := e.reqs.Assign(ctx, admin, assigned.ID, kari.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Assign(ctx, kari.Actor(), taken.ID, kari.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*dsar.Request{unassigned, assigned} {
		if _, err := e.reqs.Ask(ctx, admin, r.ID, dsar.MessageIdentity, "Please send a receipt."); err != nil {
			t.Fatal(err)
		}
	}
	e.runDirect(t)
	if _, err := e.subjects.Reply(ctx, e.db.Keyring.Token(dsar.TokenStatus, unassigned.ID), "Here it is.", nil, subjectIP); err != nil {
		t.Fatal(err)
	}
	if _, err := e.subjects.Reply(ctx, e.db.Keyring.Token(dsar.TokenStatus, assigned.ID), "My receipt.",
		&dsar.Document{FileName: "receipt.pdf", Data: []byte("%PDF-1.4 receipt")}, subjectIP); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t)

	got := map[string][]string{} // "template reference" -> recipients
	for _, m := range e.smtp.Messages() {
		tpl := e.templateOf(t, m)
		if tpl != string(dsar.MailSubjectReplied) && tpl != string(dsar.MailCaseAssigned) {
			continue
		}
		it, _ := e.itemOf(m)
		r, err := e.reqs.Get(ctx, admin, it.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		got[tpl+" "+r.Reference] = append(got[tpl+" "+r.Reference], strings.Join(m.To, ","))
		checkOfficerMail(t, m, r)
	}
	want := map[string][]string{
		"case_assigned " + assigned.Reference:     {"kari@nte.no"},
		"subject_replied " + unassigned.Reference: {"kari@nte.no,ola@nte.no"},
		"subject_replied " + assigned.Reference:   {"kari@nte.no"},
	}
	if len(got) != len(want) {
		t.Errorf("officer mails %v, want %v", got, want)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s went to %v, want %v", k, got[k], w)
		}
	}
}

// checkOfficerMail checks that an officer's alert links the case page and
// names neither the subject nor their address.
func checkOfficerMail(t *testing.T, m mailtest.Message, r *dsar.Request) {
	t.Helper()
	raw := string(m.Raw)
	if !strings.Contains(raw, "https://dsar.example.test"+dsar.CasePath(r.ID)) {
		t.Errorf("%s: the case page is not linked", subject(m))
	}
	for _, personal := range []string{r.Subject.Email, r.Subject.Name} {
		if strings.Contains(raw, personal) {
			t.Errorf("%s: the officer's mail shows %q", subject(m), personal)
		}
	}
}
