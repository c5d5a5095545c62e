// Package vendormail is the connector of systems a processor or vendor
// runs without an API (the ad platforms behind a pixel, say): the task is
// mailed as an instruction to the vendor's privacy address, in the
// controller's first language, with a link on which the vendor confirms it
// did it (or that it holds no data). An officer may mark it done instead.
// The domain plans the reminders and the end of the grace period, as for
// a manual task; this connector sends the mails.
package vendormail

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
	"github.com/dsar-project/dsar/workflows/connector"
	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// Template is the mail template of the instruction and its reminders.
const Template = "vendor_instruction"

// Connector is the vendor mail connector.
type Connector struct {
	// Sender delivers the mails; From is the service's sending address and
	// MessageIDDomain the domain of the Message-IDs.
	Sender          dmail.Sender
	From            string
	MessageIDDomain string
	Clock           dsar.Clock
	Log             *slog.Logger
}

var _ connector.Connector = (*Connector)(nil)

// Do mails the instruction (StepSend) and then waits for the vendor, or
// mails a reminder (StepRemind). A mail the server refuses for good fails
// the task with the server's answer; any other failure to send the
// instruction is tried again later. A reminder that cannot be sent is
// logged and not tried again: the grace period ends all the same.
func (c *Connector) Do(ctx context.Context, o *connector.Order) dsar.TaskOutcome {
	reminder := o.Step == dsar.StepRemind
	if o.Step != dsar.StepSend && !reminder {
		return dsar.TaskOutcome{Kind: dsar.OutcomeReminded} // nothing to cancel or poll at a vendor
	}
	msg, err := c.message(o, reminder)
	if err != nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: err.Error()}
	}
	err = c.Sender.Send(ctx, msg)
	switch {
	case err == nil && reminder:
		return dsar.TaskOutcome{Kind: dsar.OutcomeReminded}
	case err == nil:
		return dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson}
	case reminder:
		c.log().Warn("vendor reminder not sent", "task", o.Task.ID, "permanent", dmail.IsPermanent(err), "err", err)
		return dsar.TaskOutcome{Kind: dsar.OutcomeReminded}
	case dmail.IsPermanent(err):
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the mail server refused the instruction: " + err.Error()}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "the instruction could not be sent: " + err.Error()}
}

func (c *Connector) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

// message renders the instruction, or its reminder, of the order. Its
// Message-ID comes from the task and its round (and, for a reminder, the
// day it is sent), so that a redelivered step sends the same message,
// which the mail server and the mailbox recognise.
func (c *Connector) message(o *connector.Order, reminder bool) (*dmail.Message, error) {
	vm := o.Connector.VendorMail
	if o.Connector.Kind != dsar.ConnectorVendorMail || vm == nil || vm.Email == "" {
		return nil, fmt.Errorf("the task's connector is not a vendor mail with an address")
	}
	ctrl, r, t := o.Controller, o.Request, o.Task
	now := c.Clock.Now()
	today := dsar.DateOf(now.In(ctrl.Location))
	data := templates.MailData{Language: ctrl.Languages[0], ControllerName: ctrl.LegalName, ContactEmail: ctrl.PrivacyContact.Email,
		Reference: r.Reference, Type: r.Type, Regulation: r.Regulation, DueDate: r.DueDate.String()}
	v := &templates.VendorData{Action: t.Action, System: ctrl.TargetName(t), Purposes: t.Purposes,
		Email: r.Subject.Email, CustomerID: r.Subject.CustomerID, By: o.AskBy(today).String(), ConfirmURL: o.ConfirmURL, Reminder: reminder}
	for _, key := range t.Categories {
		if dc, ok := ctrl.DataCategory(key); ok {
			v.Categories = append(v.Categories, dc.Name)
		}
	}
	if t.Action == dsar.ActionRectify {
		v.Details = r.Details
	}
	data.Vendor = v
	m, err := templates.RenderMail(Template, data)
	if err != nil {
		return nil, err
	}
	id := MessageIDPrefix(t.ID) + "r" + strconv.Itoa(t.Round)
	if reminder {
		id += "-remind-" + today.String()
	}
	return &dmail.Message{ID: id + "@" + c.MessageIDDomain,
		From:    (&mail.Address{Name: ctrl.LegalName, Address: c.From}).String(),
		To:      []string{vm.Email},
		ReplyTo: (&mail.Address{Name: ctrl.PrivacyContact.Name, Address: ctrl.PrivacyContact.Email}).String(),
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: now}, nil
}

// MessageIDPrefix is how the Message-ID of every mail about the task
// begins (the records retention removes the kept copies by it).
func MessageIDPrefix(taskID string) string { return "task-" + taskID + "-" }
