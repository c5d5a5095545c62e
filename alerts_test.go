package dsar_test

import (
	"encoding/json"
	"testing"

	"github.com/dsar-project/dsar"
)

// officerMails returns the payloads of the effect's mails that do not go to
// the subject.
func officerMails(t *testing.T, eff *dsar.Effect) []dsar.MailPayload {
	t.Helper()
	var out []dsar.MailPayload
	for _, it := range eff.Outbox {
		var p dsar.MailPayload
		if it.Kind != dsar.OutboxMail {
			continue
		}
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.To != dsar.RecipientSubject {
			out = append(out, p)
		}
	}
	return out
}

// The officers learn of what needs them: the subject's reply (with or
// without a document) goes to the case's officers, and a case given to an
// officer by someone else goes to that officer. Taking a case oneself,
// giving it to nobody or to whom has it already tells no one.
func TestOfficerAlerts(t *testing.T) {
	kari := &dsar.User{ID: "kari", Role: dsar.RoleOfficer, Controllers: []string{"nte"}}
	ola := &dsar.User{ID: "ola", Role: dsar.RoleOfficer, Controllers: []string{"nte"}}
	lead := dsar.Actor{ID: "apikey:1", Role: dsar.RoleAdmin}
	asked := func(t *testing.T) *dsar.Case {
		c := newCase(t, dsar.TypeAccess, "nte", true)
		eff, err := dsar.Ask(testEnv(), c, officer, dsar.MessageClarification, "Which account?")
		if err != nil {
			t.Fatal(err)
		}
		return after(c, eff)
	}
	assignedTo := func(t *testing.T, u *dsar.User) *dsar.Case {
		c := newCase(t, dsar.TypeAccess, "nte", true)
		eff, err := dsar.Assign(testEnv(), c, lead, u.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		return after(c, eff)
	}
	for _, tc := range []struct {
		name string
		op   func(t *testing.T) (*dsar.Effect, error)
		want []dsar.MailPayload
	}{
		{"reply", func(t *testing.T) (*dsar.Effect, error) {
			return dsar.Reply(testEnv(), asked(t), dsar.ActorSubject("192.0.2.7"), "The webshop account.", nil)
		}, []dsar.MailPayload{{Template: dsar.MailSubjectReplied, To: dsar.RecipientController}}},
		{"reply with a document", func(t *testing.T) (*dsar.Effect, error) {
			return dsar.Reply(testEnv(), asked(t), dsar.ActorSubject("192.0.2.7"), "My receipt.", &dsar.Document{FileName: "r.pdf", Data: []byte("%PDF-1.4 receipt")})
		}, []dsar.MailPayload{{Template: dsar.MailSubjectReplied, To: dsar.RecipientController, Document: true}}},
		{"assigned by another", func(t *testing.T) (*dsar.Effect, error) {
			return dsar.Assign(testEnv(), newCase(t, dsar.TypeAccess, "nte", true), lead, kari.ID, kari)
		}, []dsar.MailPayload{{Template: dsar.MailCaseAssigned, To: dsar.RecipientAssignee, UserID: "kari"}}},
		{"passed on to a colleague", func(t *testing.T) (*dsar.Effect, error) {
			return dsar.Assign(testEnv(), assignedTo(t, kari), kari.Actor(), ola.ID, ola)
		}, []dsar.MailPayload{{Template: dsar.MailCaseAssigned, To: dsar.RecipientAssignee, UserID: "ola"}}},
		{"taken oneself", func(t *testing.T) (*dsar.Effect, error) {
			return dsar.Assign(testEnv(), newCase(t, dsar.TypeAccess, "nte", true), kari.Actor(), kari.ID, kari)
		}, nil},
		{"given to whom has it", func(t *testing.T) (*dsar.Effect, error) {
			return dsar.Assign(testEnv(), assignedTo(t, kari), lead, kari.ID, kari)
		}, nil},
		{"given to nobody", func(t *testing.T) (*dsar.Effect, error) {
			return dsar.Assign(testEnv(), assignedTo(t, kari), lead, "", nil)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eff, err := tc.op(t)
			if err != nil {
				t.Fatal(err)
			}
			got := officerMails(t, eff)
			if len(got) != len(tc.want) {
				t.Fatalf("officer mails %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("officer mail %+v, want %+v", got[i], tc.want[i])
				}
			}
		})
	}
}

// A mail telling an officer of an assignment is not sent once the case has
// gone to someone else.
func TestAssignmentMailStaleAfterReassignment(t *testing.T) {
	c := newCase(t, dsar.TypeAccess, "nte", true)
	p := dsar.MailPayload{Template: dsar.MailCaseAssigned, To: dsar.RecipientAssignee, UserID: "kari"}
	r := *c.Request
	r.Assignee = "kari"
	if !dsar.MailStillTrue(p, &r) {
		t.Error("the assignment mail of the assignee is not sent")
	}
	r.Assignee = "ola"
	if dsar.MailStillTrue(p, &r) {
		t.Error("the assignment mail is sent after the case went to another officer")
	}
}

// A reply marks the case as having something new for the officers until
// one of them works it; assigning the case leaves the mark.
func TestSubjectReplyMarksTheCase(t *testing.T) {
	c := newCase(t, dsar.TypeAccess, "nte", true)
	eff, err := dsar.Ask(testEnv(), c, officer, dsar.MessageClarification, "Which account?")
	if err != nil {
		t.Fatal(err)
	}
	c = after(c, eff)
	eff, err = dsar.Reply(testEnv(), c, dsar.ActorSubject("192.0.2.7"), "The webshop account.", nil)
	if err != nil {
		t.Fatal(err)
	}
	if at := eff.Request.SubjectRepliedAt; at == nil || !at.Equal(caseNow) {
		t.Fatalf("after the reply: marked %v, want %v", at, caseNow)
	}
	c = after(c, eff)
	kari := &dsar.User{ID: "kari", Role: dsar.RoleOfficer, Controllers: []string{"nte"}}
	eff, err = dsar.Assign(testEnv(), c, dsar.Actor{ID: "apikey:1", Role: dsar.RoleAdmin}, kari.ID, kari)
	if err != nil {
		t.Fatal(err)
	}
	if eff.Request.SubjectRepliedAt == nil {
		t.Error("assigning the case took the mark away")
	}
	c = after(c, eff)
	eff, err = dsar.Note(testEnv(), c, kari.Actor(), "Read it.")
	if err != nil {
		t.Fatal(err)
	}
	if eff.Request.SubjectRepliedAt != nil {
		t.Error("still marked after an officer worked the case")
	}
}
