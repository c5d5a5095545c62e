package vendormail_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/vendormail"
	"github.com/dsar-project/dsar/workflows/mail"
)

var ctx = context.Background()

// order returns the order of a vendor-mail erasure task of NTE.
func order(t *testing.T, step dsar.TaskStep, email string) *connector.Order {
	t.Helper()
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	ctrl, _ := ctrls.Get("nte")
	sys := &ctrl.Systems[0]
	sys.Connector = dsar.Connector{Kind: dsar.ConnectorVendorMail, VendorMail: &dsar.VendorMailConnector{Email: email, RemindEveryDays: 5, AfterDays: 14}}
	r := &dsar.Request{ID: "r1", Reference: "NTE-2025-0001", Type: dsar.TypeErasure, Regulation: dsar.RegulationGDPR, Controller: "nte",
		Subject: dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann"}, DueDate: dsar.DateOf(time.Date(2025, 4, 5, 12, 0, 0, 0, time.UTC))}
	task := &dsar.Task{ID: "t1", RequestID: "r1", System: sys.Key, Action: dsar.ActionErase, Connector: dsar.ConnectorVendorMail, Round: 2}
	to, err := dsar.NewTaskOrder(ctrl, r, task)
	if err != nil {
		t.Fatal(err)
	}
	return &connector.Order{TaskOrder: to, Step: step, ConfirmURL: "https://dsar.example.test/vendor/tasks/t1/tok"}
}

func newConnector(s mail.Sender) *vendormail.Connector {
	return &vendormail.Connector{Sender: s, From: "dsar@example.test", MessageIDDomain: "dsar.example.test",
		Clock: dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))}
}

// A redelivered step sends the same message: the local mailbox keeps one.
func TestRedeliveryMailsOnce(t *testing.T) {
	box, err := mail.NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := newConnector(box)
	for range 2 {
		if o := c.Do(ctx, order(t, dsar.StepSend, "privacy@vendor.example")); o.Kind != dsar.OutcomeWaitingPerson {
			t.Fatalf("send: %+v", o)
		}
	}
	for range 2 {
		if o := c.Do(ctx, order(t, dsar.StepRemind, "privacy@vendor.example")); o.Kind != dsar.OutcomeReminded {
			t.Fatalf("remind: %+v", o)
		}
	}
	msgs, err := box.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages in the mailbox, want the instruction and one reminder", len(msgs))
	}
	if _, err := os.Stat(box.Path("task-t1-r2@dsar.example.test")); err != nil {
		t.Errorf("the instruction's Message-ID is not of the task and round: %v", err)
	}
	names, _ := filepath.Glob(filepath.Join(box.Dir(), "*remind-2025-03-05*"))
	if len(names) != 1 {
		t.Errorf("reminder files %v", names)
	}
}

// A mail that can never go fails the task with the reason; a server that
// cannot be reached is tried again.
func TestSendFailures(t *testing.T) {
	box, err := mail.NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if o := newConnector(box).Do(ctx, order(t, dsar.StepSend, "not an address")); o.Kind != dsar.OutcomeFailed || o.Answer == "" {
		t.Errorf("an invalid address: %+v, want failed with the reason", o)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	smtp, err := mail.NewSMTP("smtp://" + addr + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	o := newConnector(smtp).Do(ctx, order(t, dsar.StepSend, "privacy@vendor.example"))
	if o.Kind != dsar.OutcomeRetry || strings.Contains(o.Answer, "kari@example.no") {
		t.Errorf("a server that is down: %+v, want a retry", o)
	}
	if o := newConnector(smtp).Do(ctx, order(t, dsar.StepRemind, "privacy@vendor.example")); o.Kind != dsar.OutcomeReminded {
		t.Errorf("a reminder that cannot go: %+v, want it given up (the grace period ends all the same)", o)
	}
}
