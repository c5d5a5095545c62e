package workflows

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// Metrics counts the workers' failures. A nil *Metrics counts nothing.
type Metrics struct {
	taskFailures *prometheus.CounterVec
	mailFailures *prometheus.CounterVec
}

// NewMetrics returns the failure counters, registered on reg:
// dsar_task_failures_total{type} and dsar_mail_failures_total{permanent}.
// Each series starts at 0, so that rate() sees the first failure.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		taskFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_task_failures_total",
			Help: "Outbox tasks whose handler failed (each failed attempt, retried or final), by task type.",
		}, []string{"type"}),
		mailFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_mail_failures_total",
			Help: "Failed attempts to send an e-mail, by whether the failure is permanent (the message can never be delivered).",
		}, []string{"permanent"}),
	}
	for _, c := range []prometheus.Collector{m.taskFailures, m.mailFailures} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, k := range kinds {
		m.taskFailures.WithLabelValues(k.taskType)
	}
	m.mailFailures.WithLabelValues("true")
	m.mailFailures.WithLabelValues("false")
	return m, nil
}

// failed counts a failed attempt of a task of the type.
func (m *Metrics) failed(taskType string, err error) {
	if m == nil {
		return
	}
	m.taskFailures.WithLabelValues(taskType).Inc()
	if taskType == TypeSendMail {
		m.mailFailures.WithLabelValues(strconv.FormatBool(dmail.IsPermanent(err))).Inc()
	}
}
