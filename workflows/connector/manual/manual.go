// Package manual is the connector of systems without an API: the task goes
// to the case's officers, with the system's instructions and checklist, and
// waits for one of them to record that it was done (with evidence). The
// domain plans the reminders and the end of the grace period.
package manual

import (
	"context"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// Connector is the manual connector.
type Connector struct{}

var _ connector.Connector = Connector{}

// Do hands the task to a person: the officers see it on the case page and
// in their queue.
func (Connector) Do(_ context.Context, o *connector.Order) dsar.TaskOutcome {
	if o.Step == dsar.StepSend {
		return dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeReminded}
}
