package workflows

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// Queue is the asynq queue the outbox tasks go to.
const Queue = "default"

// TaskCheckInterval is how often an idle worker looks for new tasks
// (asynq sleeps half of it plus up to all of it again between looks): a
// tenth of asynq's default second, so that the first task after a quiet
// spell (an approval's fan-out, a verification mail) starts within about
// 150 ms, for about ten cheap Redis calls a second per idle worker.
const TaskCheckInterval = 100 * time.Millisecond

// MaxRetry is how often a failing outbox task is retried, with asynq's
// exponential backoff (about three weeks in all), before its row is marked
// failed for an operator to look at.
const MaxRetry = 25

// OutboxPayload is the payload of every outbox task: the row's ID only, so
// that the database stays the one place the work is described.
type OutboxPayload struct {
	ID string `json:"id"`
}

// NewOutboxTask returns the queue task of an outbox row. Its ID is the
// row's ID, so that a row is in the queue at most once. A running row whose
// lease expired is another matter: its worker died, and asynq may hold its
// task as active for minutes more; the task that hands it to another worker
// at once takes the row's ID with the number of the attempt that died.
func NewOutboxTask(it *dsar.OutboxItem) (*asynq.Task, error) {
	k, ok := kinds[it.Kind]
	if !ok {
		return nil, fmt.Errorf("outbox item %s: unknown kind %q", it.ID, it.Kind)
	}
	b, err := json.Marshal(OutboxPayload{ID: it.ID})
	if err != nil {
		return nil, err
	}
	id := it.ID
	if it.Status == dsar.OutboxRunning {
		id += "#" + strconv.Itoa(it.Attempts)
	}
	return asynq.NewTask(k.taskType, b, asynq.TaskID(id), asynq.Queue(Queue), asynq.MaxRetry(MaxRetry)), nil
}
