package workflows

import (
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// Task types.
const (
	// TypeSendMail sends the e-mail of an OutboxMail row.
	TypeSendMail = "mail:send"
	// TypeReminder fires the deadline reminder of an OutboxReminder row.
	TypeReminder = "deadline:reminder"
	// TypeVerifyReminder reminds an unverified subject with a new code.
	TypeVerifyReminder = "verification:reminder"
	// TypeVerifyExpiry closes a request that was never verified.
	TypeVerifyExpiry = "verification:expiry"
	// TypeDigest sends an officer's daily digest.
	TypeDigest = "digest:send"
	// TypeCheckpoint records the hourly checkpoint of the cases.
	TypeCheckpoint = "audit:checkpoint"
)

// Queue is the asynq queue the outbox tasks go to.
const Queue = "default"

// MaxRetry is how often a failing outbox task is retried, with asynq's
// exponential backoff (about three weeks in all), before its row is marked
// failed for an operator to look at.
const MaxRetry = 25

// OutboxPayload is the payload of every outbox task: the row's ID only, so
// that the database stays the one place the work is described.
type OutboxPayload struct {
	ID string `json:"id"`
}

// taskTypes maps outbox kinds to task types.
var taskTypes = map[dsar.OutboxKind]string{
	dsar.OutboxMail:           TypeSendMail,
	dsar.OutboxReminder:       TypeReminder,
	dsar.OutboxVerifyReminder: TypeVerifyReminder,
	dsar.OutboxVerifyExpiry:   TypeVerifyExpiry,
	dsar.OutboxDigest:         TypeDigest,
	dsar.OutboxCheckpoint:     TypeCheckpoint,
}

// NewOutboxTask returns the task of an outbox row.
func NewOutboxTask(it *dsar.OutboxItem) (*asynq.Task, error) {
	typ, ok := taskTypes[it.Kind]
	if !ok {
		return nil, fmt.Errorf("outbox item %s: unknown kind %q", it.ID, it.Kind)
	}
	b, err := json.Marshal(OutboxPayload{ID: it.ID})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(typ, b, asynq.TaskID(it.ID), asynq.Queue(Queue), asynq.MaxRetry(MaxRetry)), nil
}
