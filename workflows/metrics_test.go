package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows"
	"github.com/dsar-project/dsar/workflows/mail"
)

// downSender fails every send, as an unreachable relay does.
type downSender struct{}

func (downSender) Send(context.Context, *mail.Message) error {
	return errors.New("dial tcp: connection refused")
}

// A failing handler moves the task failure counter, and a failing mail the
// mail failure counter, transient or permanent.
func TestFailuresAreCounted(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	reg := prometheus.NewRegistry()
	m, err := workflows.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	e.handlers.Metrics = m
	e.create(t, "nte")
	count := func(labels string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range mfs {
			for _, mt := range f.GetMetric() {
				l := f.GetName() + "{"
				for i, p := range mt.GetLabel() {
					if i > 0 {
						l += ","
					}
					l += p.GetName() + "=" + p.GetValue()
				}
				if l+"}" == labels {
					return mt.GetCounter().GetValue()
				}
			}
		}
		t.Fatalf("no series %s", labels)
		return 0
	}
	if count("dsar_task_failures_total{type=mail:send}") != 0 || count("dsar_mail_failures_total{permanent=true}") != 0 {
		t.Fatal("the counters do not start at 0")
	}

	sendDue := func() (failed int) {
		t.Helper()
		items, err := e.outbox.Due(ctx, e.clock.Now(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Kind != dsar.OutboxMail {
				continue
			}
			task, err := workflows.NewOutboxTask(it)
			if err != nil {
				t.Fatal(err)
			}
			if e.process(task) != nil {
				failed++
			}
		}
		return failed
	}

	sender := e.handlers.Sender
	e.handlers.Sender = downSender{}
	n := sendDue()
	if n == 0 {
		t.Fatal("no mail to send")
	}
	if got := count("dsar_task_failures_total{type=mail:send}"); got != float64(n) {
		t.Errorf("task failures = %v, want %d", got, n)
	}
	if got := count("dsar_mail_failures_total{permanent=false}"); got != float64(n) {
		t.Errorf("transient mail failures = %v, want %d", got, n)
	}

	// A message that can never be sent (a bad sender address) is a
	// permanent failure.
	e.handlers.Sender, e.handlers.From = sender, "not an address"
	if sendDue() != n {
		t.Fatal("the mails with a bad sender address did not fail")
	}
	if got := count("dsar_mail_failures_total{permanent=true}"); got != float64(n) {
		t.Errorf("permanent mail failures = %v, want %d", got, n)
	}
	if got := count("dsar_task_failures_total{type=mail:send}"); got != float64(2*n) {
		t.Errorf("task failures = %v, want %d", got, 2*n)
	}
	if got := count("dsar_task_failures_total{type=deadline:reminder}"); got != 0 {
		t.Errorf("reminder failures = %v, want 0", got)
	}
}
