// Package connector is the one small interface every way of reaching a
// connected system implements (http, sql, manual, vendormail, opendsr: one
// package each below this one), and what a connector is given.
package connector

import (
	"context"

	"github.com/dsar-project/dsar"
)

// Order is one step of a task for a connector to carry out: the task, the
// case and the system (dsar.TaskOrder), the step, and the service's URLs
// for a later answer.
type Order struct {
	*dsar.TaskOrder
	Step dsar.TaskStep
	// CallbackURL is where the system may answer the task later (its token
	// is in the URL); OpenDSRCallbackURL where an OpenDSR processor posts
	// the status of the task's request; ConfirmURL where a vendor confirms
	// it did the task.
	CallbackURL        string
	OpenDSRCallbackURL string
	ConfirmURL         string
}

// Connector carries out the steps of tasks in one kind of system. Do
// reports what happened as an outcome; it never returns an error, because
// every failure is an outcome the domain decides on (retry, fail). For
// StepCancel the outcome is ignored.
type Connector interface {
	Do(ctx context.Context, o *Order) dsar.TaskOutcome
}

// Set holds the connector of each kind a worker can reach.
type Set map[dsar.ConnectorKind]Connector
