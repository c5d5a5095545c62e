package dsar

import (
	"context"
	"slices"
	"time"
)

// TaskAction is what a task asks a connected system or a recipient to do.
type TaskAction string

// The task actions (docs/connectors.md describes each on the wire).
const (
	ActionExport            TaskAction = "export"             // send the subject's data (access, portability)
	ActionErase             TaskAction = "erase"              // erase the subject's data
	ActionRectify           TaskAction = "rectify"            // correct the subject's data
	ActionRestrict          TaskAction = "restrict"           // keep the data, process it no more
	ActionStopProcessing    TaskAction = "stop_processing"    // stop processing for the given purposes (Art 21(1), Art 22)
	ActionSuppressMarketing TaskAction = "suppress_marketing" // no more direct marketing (Art 21(2))
	ActionWithdrawConsent   TaskAction = "withdraw_consent"   // consent withdrawn for the given purposes (Art 7(3))
	ActionNotifyRecipient   TaskAction = "notify_recipient"   // tell a recipient of a change (Art 19)
)

// TaskActions lists every task action.
var TaskActions = []TaskAction{ActionExport, ActionErase, ActionRectify, ActionRestrict, ActionStopProcessing,
	ActionSuppressMarketing, ActionWithdrawConsent, ActionNotifyRecipient}

// TaskStatus is where a system task stands. docs/connectors.md draws the
// lifecycle from TaskTransitions; a test keeps the two equal.
type TaskStatus string

// The task statuses.
const (
	TaskPlanned       TaskStatus = "planned"        // waits its turn (a recipient's notice waits for the systems)
	TaskSent          TaskStatus = "sent"           // handed to its connector: being tried, or tried again after a failed try
	TaskWaitingSystem TaskStatus = "waiting_system" // the system accepted it and answers later (callback or polling)
	TaskWaitingPerson TaskStatus = "waiting_person" // an officer or a vendor must do it and confirm
	TaskDone          TaskStatus = "done"           // carried out; Count says how many records
	TaskNoData        TaskStatus = "no_data"        // the system holds nothing about the subject
	TaskFailed        TaskStatus = "failed"         // gave up; an officer retries or skips it
	TaskSkipped       TaskStatus = "skipped"        // left out, with a reason
	TaskCancelled     TaskStatus = "cancelled"      // the case was withdrawn or refused before it ran
)

// TaskStatuses lists every task status.
var TaskStatuses = []TaskStatus{TaskPlanned, TaskSent, TaskWaitingSystem, TaskWaitingPerson, TaskDone, TaskNoData,
	TaskFailed, TaskSkipped, TaskCancelled}

// TaskTransitions lists, for each task status, the statuses a task may move
// to from it. A task is planned while it waits its turn (a recipient's
// notice waits for the systems), sent once its outbox item is written.
var TaskTransitions = map[TaskStatus][]TaskStatus{
	TaskPlanned:       {TaskSent, TaskSkipped, TaskCancelled},
	TaskSent:          {TaskSent, TaskWaitingSystem, TaskWaitingPerson, TaskDone, TaskNoData, TaskFailed, TaskSkipped, TaskCancelled},
	TaskWaitingSystem: {TaskWaitingSystem, TaskDone, TaskNoData, TaskFailed, TaskSkipped, TaskCancelled},
	TaskWaitingPerson: {TaskDone, TaskNoData, TaskFailed, TaskSkipped, TaskCancelled},
	TaskFailed:        {TaskSent, TaskSkipped, TaskCancelled},
}

// Ended reports whether the task will not change by itself any more: done,
// without data, skipped or cancelled. A failed task has not ended: it waits
// for an officer to retry or skip it.
func (s TaskStatus) Ended() bool { return slices.Contains(EndedTaskStatuses, s) }

// EndedTaskStatuses are the statuses of a task that has ended (Ended);
// WaitingTaskStatuses those of a task waiting for its system or a person,
// which is late once past the time it was expected or due by (Overdue).
var (
	EndedTaskStatuses   = []TaskStatus{TaskDone, TaskNoData, TaskSkipped, TaskCancelled}
	WaitingTaskStatuses = []TaskStatus{TaskWaitingSystem, TaskWaitingPerson}
)

// Offers reports whether an officer's action on one task applies to a task
// in the status: marking it done (a person's task, or a failed one done by
// hand), skipping it (any task that has not ended), retrying it (a failed
// one). The operations check it, and the case page offers by it.
func (s TaskStatus) Offers(a Action) bool {
	switch a {
	case ActionTaskDone:
		return s == TaskWaitingPerson || s == TaskFailed
	case ActionSkipTask:
		return s.CanMove(TaskSkipped)
	case ActionRetry:
		return s == TaskFailed
	}
	return false
}

// CanMove reports whether a task may move from one status to another.
func (s TaskStatus) CanMove(to TaskStatus) bool { return slices.Contains(TaskTransitions[s], to) }

// Task is one piece of a case's work in one connected system, or one
// notice to a recipient (Art 19): what it asks, how it is reached and
// where it stands.
type Task struct {
	ID        string
	RequestID string
	// System is the key of the system, or Recipient of the recipient, that
	// the task goes to (exactly one is set).
	System    string
	Recipient string
	Action    TaskAction
	Connector ConnectorKind
	// Purposes are those a stop_processing or withdraw_consent task stops;
	// Categories the data categories the task concerns.
	Purposes   []string
	Categories []string
	Status     TaskStatus
	// Attempts counts the tries of a machine connector since the task was
	// last (re)started; Round counts the starts (an officer's retry starts
	// a new round, and the outbox items of an earlier round do nothing).
	Attempts int
	Round    int
	// Count is the number of records the system reported (done).
	Count int
	// Answer is the system's last answer (a failure's answer, say), short.
	Answer string
	// Reason says why a task was skipped, or why it failed.
	Reason string
	// Evidence is what the officer or vendor who did it wrote.
	Evidence string
	// External is what the system gave to follow the task: a status URL to
	// poll, an OpenDSR request ID.
	External string
	// ExpectedBy is when a waiting task is expected to end (a vendor that
	// takes days is waiting, not stuck); DueAt when a person's task is due.
	ExpectedBy *time.Time
	DueAt      *time.Time
	// FailureMailed records that the officers were told of the failure.
	FailureMailed bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	EndedAt       *time.Time
}

// Target names what the task goes to: the system's key, or "recipient:"
// and the recipient's key. An officer leaves a task out of a plan by it.
func (t *Task) Target() string {
	if t.Recipient != "" {
		return "recipient:" + t.Recipient
	}
	return t.System
}

// Overdue reports whether a waiting task (for the system or for a person)
// has passed the time it was expected or due by. A failed task is failing,
// not overdue; a task being tried has no such time.
func (t *Task) Overdue(now time.Time) bool {
	if !slices.Contains(WaitingTaskStatuses, t.Status) {
		return false
	}
	for _, at := range []*time.Time{t.ExpectedBy, t.DueAt} {
		if at != nil && now.After(*at) {
			return true
		}
	}
	return false
}

// TaskProgress is how far a case's tasks have come: how many there are,
// how many have ended, how many failed and how many are overdue (Overdue).
// The queue shows it; a case without tasks has none.
type TaskProgress struct {
	Total, Ended, Failed, Overdue int
}

// Failing reports whether a task of the case failed or is overdue: the
// queue's filter TasksFailing.
func (p *TaskProgress) Failing() bool { return p != nil && (p.Failed > 0 || p.Overdue > 0) }

// ProgressOf returns the progress of the tasks at now, nil when there are none.
func ProgressOf(tasks []*Task, now time.Time) *TaskProgress {
	if len(tasks) == 0 {
		return nil
	}
	p := &TaskProgress{Total: len(tasks)}
	for _, t := range tasks {
		switch {
		case t.Status.Ended():
			p.Ended++
		case t.Status == TaskFailed:
			p.Failed++
		case t.Overdue(now):
			p.Overdue++
		}
	}
	return p
}

// TasksFailing is the value of RequestFilter.Tasks that selects the cases
// with a failed task or a waiting task past its expected or due time.
const TasksFailing = "failing"

// TaskPayload is the payload of an OutboxTask item: the task to send (or
// poll, remind about, check for being overdue, cancel).
type TaskPayload struct {
	TaskID string   `json:"task_id"`
	Step   TaskStep `json:"step"`
	// Round is the task's round the item was written for: an item of an
	// earlier round (an officer retried the task since) does nothing.
	Round int `json:"round"`
	// More are further tasks of the same case that one operation sends (or
	// cancels) at the same moment, such as the tasks of an approval: they
	// go in one item, so that a worker claims them, looks them up and
	// records their outcomes once, and calls their systems side by side.
	More []TaskRef `json:"more,omitempty"`
}

// TaskRef names a task in a round.
type TaskRef struct {
	TaskID string `json:"task_id"`
	Round  int    `json:"round"`
}

// Refs returns every task of the item, the first one first.
func (p *TaskPayload) Refs() []TaskRef {
	return append([]TaskRef{{TaskID: p.TaskID, Round: p.Round}}, p.More...)
}

// Shared reports whether the step's items carry several tasks (More):
// the steps that hand tasks to their connectors. Polls, reminders and the
// end of a grace period are timed per task and go one task an item.
func (step TaskStep) Shared() bool { return step == StepSend || step == StepCancel }

// TaskResult is what a task's step in a round came to: a connector's
// outcome, for the store to record.
type TaskResult struct {
	TaskID  string
	Round   int
	Outcome TaskOutcome
}

// TaskStep is what an OutboxTask item does with its task.
type TaskStep string

// The steps of a task's outbox items.
const (
	StepSend    TaskStep = "send"    // send the task, or try again
	StepPoll    TaskStep = "poll"    // ask the system how the task stands
	StepRemind  TaskStep = "remind"  // remind the person who must do it
	StepOverdue TaskStep = "overdue" // the person's grace period ran out
	StepCancel  TaskStep = "cancel"  // tell the system the task is withdrawn (OpenDSR)
)

// Fits reports whether a task in the status still needs the step: an item
// for a task that moved on since (answered by a callback, retried,
// cancelled) does nothing.
func (step TaskStep) Fits(st TaskStatus) bool {
	switch step {
	case StepSend:
		return st == TaskSent
	case StepPoll:
		return st == TaskWaitingSystem
	case StepRemind:
		return st == TaskWaitingPerson
	case StepCancel:
		return st == TaskCancelled
	}
	return false
}

// TaskOrder is what a connector is given to carry out a step of a task:
// the task, the case (the subject's identities, its reference and
// deadline), and the system or recipient with its connector.
type TaskOrder struct {
	Task       *Task
	Request    *Request
	Controller *Controller
	Connector  *Connector
	System     *System    // nil for a recipient's notice
	Recipient  *Recipient // nil for a system's task
}

// NewTaskOrder returns the order of a task of the request.
func NewTaskOrder(c *Controller, r *Request, t *Task) (*TaskOrder, error) {
	o := &TaskOrder{Task: t, Request: r, Controller: c}
	if t.Recipient != "" {
		rc, ok := c.Recipient(t.Recipient)
		if !ok || rc.Notify == nil {
			return nil, Errorf(ECONFLICT, "recipient %q of task %s is no longer configured with a way to notify it", t.Recipient, t.ID)
		}
		o.Recipient, o.Connector = rc, rc.Notify
		return o, nil
	}
	s, ok := c.System(t.System)
	if !ok {
		return nil, Errorf(ECONFLICT, "system %q of task %s is no longer configured", t.System, t.ID)
	}
	o.System, o.Connector = s, c.ConnectorOf(t)
	return o, nil
}

// IdempotencyKey is the key a system recognises a repeated task by: the
// same for every try of every round, so that the system applies each
// (case, action) once.
func (o *TaskOrder) IdempotencyKey() string { return o.Task.ID }

// TaskService is the task work of the workers and of the systems' answers.
type TaskService interface {
	// Order returns what a connector needs to carry out a task; Orders
	// the same for several tasks of one case, in the order of their IDs.
	Order(ctx context.Context, taskID string) (*TaskOrder, error)
	Orders(ctx context.Context, taskIDs []string) ([]*TaskOrder, error)
	// Record records the outcomes of the claimed outbox item's steps, and
	// completes the item, in one transaction.
	Record(ctx context.Context, claimed *OutboxItem, results ...TaskResult) error
	// Overdue ends a person's task's grace period; Remind reminds the
	// officers of a manual task; each completes the claimed item.
	Overdue(ctx context.Context, claimed *OutboxItem, taskID string, round int) error
	Remind(ctx context.Context, claimed *OutboxItem, taskID string, round int) error
	// Callback records a system's later answer to a task.
	Callback(ctx context.Context, taskID string, o TaskOutcome) error
	// CallbackOnce records a system's signed later answer to a task once
	// per message ID (its webhook-id): an ID seen before for the task is a
	// replay, refused with ECONFLICT.
	CallbackOnce(ctx context.Context, taskID, webhookID string, o TaskOutcome) error
	// Confirm records a vendor's confirmation that it did a task (with
	// the records concerned, 0 when not known), or that it held no data.
	Confirm(ctx context.Context, taskID, evidence string, count int, noData bool) error
}

// SuppressionList answers whether an address is on a controller's
// suppression list (erased, or objected to direct marketing).
type SuppressionList interface {
	Suppressed(ctx context.Context, controller, email string) (bool, error)
}

// AskBy returns the date by which the person who does the task (a vendor)
// is asked to have done it, today being today: the end of the task's
// grace period (when it was given, or as it would be set today), but never
// after the case's due date.
func (o *TaskOrder) AskBy(today Date) Date {
	by := o.Request.DueDate
	var end Date
	switch _, after, _, _ := o.Connector.Person(); {
	case o.Task.ExpectedBy != nil:
		end = DateOf(o.Task.ExpectedBy.In(o.Controller.Location))
	case after > 0:
		end = today.AddDays(after)
	default:
		return by
	}
	if end.Before(by) {
		return end
	}
	return by
}
