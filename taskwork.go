package dsar

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OutcomeKind is what a connector reports of one step of a task.
type OutcomeKind string

// The outcomes of a task's step.
const (
	OutcomeDone          OutcomeKind = "done"           // carried out (Count records)
	OutcomeNoData        OutcomeKind = "no_data"        // the system holds nothing about the subject
	OutcomeAccepted      OutcomeKind = "accepted"       // the system answers later (callback or polling)
	OutcomeWaitingPerson OutcomeKind = "waiting_person" // a person must do it (an officer, a vendor)
	OutcomeReminded      OutcomeKind = "reminded"       // the person was reminded (vendor mail)
	OutcomeRetry         OutcomeKind = "retry"          // try again later (a 5xx, a timeout, a 429)
	OutcomeFailed        OutcomeKind = "failed"         // the system refused it for good
)

// TaskOutcome is what a connector, a callback or a person reports of a task.
type TaskOutcome struct {
	Kind  OutcomeKind
	Count int
	// Answer is the system's answer in short (status and the start of the
	// body), shown to the officers; never the subject's data.
	Answer string
	// RetryAfter is the wait the system asked for (Retry-After).
	RetryAfter time.Duration
	// External is what to follow an accepted task by (a status URL, an
	// OpenDSR request ID); PollAfter when to ask again (0: wait for the
	// callback).
	External  string
	PollAfter time.Duration
	// ExpectedBy is when the system expects to finish.
	ExpectedBy *time.Time
	// Evidence is what the person who did it wrote.
	Evidence string
}

// The backoff of a task's retries: the first retry after RetryBase,
// doubling each time up to RetryCap; a system's Retry-After is honoured up
// to RetryAfterCap, before a retry and before a poll alike.
const (
	RetryBase     = 30 * time.Second
	RetryCap      = time.Hour
	RetryAfterCap = 6 * time.Hour
	// DefaultMaxAttempts bounds the tries of a connector that sets none.
	DefaultMaxAttempts = 8
	// maxAnswer bounds the answer kept of a system.
	maxAnswer = 500
)

// Backoff returns the wait before try n+1 of the task after try n failed:
// exponential with a jitter of up to a fifth either way, derived from the
// task ID so that many tasks failing together do not retry together, and
// never shorter than the system's Retry-After.
func Backoff(taskID string, n int, retryAfter time.Duration) time.Duration {
	d := RetryBase << min(n-1, 20)
	if d > RetryCap || d <= 0 {
		d = RetryCap
	}
	h := fnv.New32a()
	h.Write([]byte(taskID + "/" + strconv.Itoa(n)))
	d += time.Duration(int64(h.Sum32()%401)-200) * d / 1000
	if retryAfter > 0 {
		d = max(d, min(retryAfter, RetryAfterCap))
	}
	return d
}

// MaxAttempts returns the tries of a machine connector before its task fails.
func (c *Connector) MaxAttempts() int {
	if c.Kind == ConnectorHTTP && c.HTTP.MaxAttempts > 0 {
		return c.HTTP.MaxAttempts
	}
	return DefaultMaxAttempts
}

// connectorOf returns the connector of the system or recipient a task goes to.
func (c *Case) connectorOf(t *Task) *Connector { return c.Controller.ConnectorOf(t) }

// Task returns the case's task with the ID.
func (c *Case) Task(id string) (*Task, bool) {
	i := slices.IndexFunc(c.Tasks, func(t *Task) bool { return t.ID == id })
	if i < 0 {
		return nil, false
	}
	return c.Tasks[i], true
}

// tasks is the work on a case's tasks within one operation: the copies it
// changes, written back in the effect.
type tasks struct {
	ch      *change
	changed []*Task
}

func (ch *change) tasks() *tasks { return &tasks{ch: ch} }

// get returns a copy of the task to change.
func (ts *tasks) get(id string) (*Task, bool) {
	for _, t := range ts.changed {
		if t.ID == id {
			return t, true
		}
	}
	t, ok := ts.ch.c.Task(id)
	if !ok {
		return nil, false
	}
	cp := *t
	ts.changed = append(ts.changed, &cp)
	return &cp, true
}

// all returns the case's tasks with this operation's changes.
func (ts *tasks) all() []*Task {
	out := make([]*Task, 0, len(ts.ch.c.Tasks)+len(ts.changed))
	for _, t := range ts.ch.c.Tasks {
		if i := slices.IndexFunc(ts.changed, func(x *Task) bool { return x.ID == t.ID }); i >= 0 {
			out = append(out, ts.changed[i])
		} else {
			out = append(out, t)
		}
	}
	for _, t := range ts.changed {
		if !slices.ContainsFunc(ts.ch.c.Tasks, func(x *Task) bool { return x.ID == t.ID }) {
			out = append(out, t)
		}
	}
	return out
}

// move changes a task's status and records it in the audit chain.
func (ts *tasks) move(t *Task, to TaskStatus, reason string) {
	env, from := ts.ch.env, t.Status
	t.Status, t.UpdatedAt = to, env.Now
	if reason != "" {
		t.Reason = reason
	}
	if to.Ended() {
		t.EndedAt = &env.Now
	}
	data := map[string]string{"task": t.ID, "target": t.Target(), "action": string(t.Action), "from": string(from), "to": string(to)}
	if to == TaskDone {
		data["count"] = strconv.Itoa(t.Count)
	}
	a := ts.ch.actor
	ts.ch.eff.Events = append(ts.ch.eff.Events, &Event{Kind: EventTask, RequestID: t.RequestID, At: env.Now, Actor: a.ID, ClientIP: a.IP,
		From: ts.ch.from, To: ts.ch.from, Reason: reason, Data: data})
}

// send hands a task to its connector now, or at a later time. A step
// that hands tasks over (TaskStep.Shared) joins the operation's item of
// the same step and moment, if there is one.
func (ts *tasks) send(t *Task, step TaskStep, at time.Time) {
	eff := ts.ch.eff
	if step.Shared() {
		for _, it := range eff.Outbox {
			var p TaskPayload
			if it.Kind != OutboxTask || !it.RunAt.Equal(at) || json.Unmarshal(it.Payload, &p) != nil || p.Step != step {
				continue
			}
			p.More = append(p.More, TaskRef{TaskID: t.ID, Round: t.Round})
			it.Payload, _ = json.Marshal(p) // plain fields always marshal
			return
		}
	}
	payload, _ := json.Marshal(TaskPayload{TaskID: t.ID, Step: step, Round: t.Round}) // plain fields always marshal
	eff.Outbox = append(eff.Outbox, &OutboxItem{ID: ts.ch.env.NewID(), Kind: OutboxTask, RequestID: t.RequestID, Payload: payload, RunAt: at})
}

// add creates a task of the case.
func (ts *tasks) add(t *Task) {
	env := ts.ch.env
	t.ID, t.RequestID, t.Status, t.CreatedAt, t.UpdatedAt = env.NewID(), ts.ch.r.ID, TaskPlanned, env.Now, env.Now
	ts.changed = append(ts.changed, t)
}

// finish writes the changed tasks into the effect and, once every task has
// ended, moves the case on: the recipients' notices go out after the
// systems' work (Art 19); then an access or portability case is ready for
// its results, and any other is completed with what was done and kept.
func (ts *tasks) finish() {
	ch := ts.ch
	all := ts.all()
	if ch.r.ApprovedAt != nil && ch.r.Status == StatusInProgress && !ch.r.TasksEnded {
		systemsEnded, everyEnded := true, true
		for _, t := range all {
			if !t.Status.Ended() {
				everyEnded = false
				if t.Recipient == "" {
					systemsEnded = false
				}
			}
		}
		if systemsEnded && !everyEnded {
			for _, t := range all {
				if t.Recipient != "" && t.Status == TaskPlanned {
					t, _ = ts.get(t.ID)
					ts.move(t, TaskSent, "")
					ts.send(t, StepSend, ch.env.Now)
				}
			}
		}
		if everyEnded {
			ts.ended()
		}
	}
	ch.eff.Tasks = append(ch.eff.Tasks, ts.changed...)
}

// ended moves the case on once its tasks have all ended.
func (ts *tasks) ended() {
	ch := ts.ch
	r := ch.r
	r.TasksEnded = true
	ch.eff.Events = append(ch.eff.Events, &Event{Kind: EventTasksEnded, RequestID: r.ID, At: ch.env.Now, Actor: ch.actor.ID, From: ch.from, To: ch.from})
	if GivesResults(r.Type) {
		ch.assemble() // the files for the subject; an officer reviews and completes
		return
	}
	r.Status = StatusCompleted
	for _, h := range PlanFor(ch.c.Controller, r, DateOf(ch.env.Now.In(ch.c.Controller.Location))).Held {
		r.Decision.Kept = append(r.Decision.Kept, h.Kept(ch.c.Controller))
	}
	if !r.Decision.Partial {
		r.Decision.Ground, r.Decision.Text = "", ""
	}
	ch.eff.Suppress = r.Suppresses()
	ch.mail(MailPayload{Template: MailCompletion})
}

// Approve approves the case for execution: the identity is settled and the
// request's scope is clear. It carries out the plan (PlanFor): every task
// is sent to its system at once, except those an officer left out, with a
// reason, by their Target; the recipients' notices wait for the systems.
// A case with nothing to do in any system moves on at once.
func Approve(env Env, c *Case, a Actor, note string, leaveOut map[string]string) (*Effect, error) {
	note = strings.TrimSpace(note)
	if note != "" {
		if err := ValidateReason("note", note); err != nil {
			return nil, err
		}
	}
	ch, err := start(env, c, a, ActionApprove)
	if err != nil {
		return nil, err
	}
	plan := PlanFor(c.Controller, ch.r, DateOf(env.Now.In(c.Controller.Location)))
	targets := map[string]bool{}
	for _, t := range append(slices.Clone(plan.Tasks), plan.Notify...) {
		targets[t.Target()] = true
	}
	var fields []FieldError
	for target, why := range leaveOut {
		if !targets[target] {
			fields = append(fields, FieldError{Field: "leave_out", Message: "error.plan.unknown_target", Params: map[string]any{"target": target}})
		} else if err := ValidateReason("leave_out", why); err != nil {
			fields = append(fields, err.(*Error).Fields...)
		}
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	now := env.Now
	ch.r.ApprovedAt, ch.r.ApprovedBy, ch.r.TasksEnded = &now, a.ID, false
	ts := ch.tasks()
	for _, t := range plan.Tasks {
		ts.add(t)
		if why, out := leaveOut[t.Target()]; out {
			ts.move(t, TaskSkipped, strings.TrimSpace(why))
			continue
		}
		ts.move(t, TaskSent, "")
		ts.send(t, StepSend, now)
	}
	for _, t := range plan.Notify {
		ts.add(t)
		if why, out := leaveOut[t.Target()]; out {
			ts.move(t, TaskSkipped, strings.TrimSpace(why))
		}
	}
	for _, rc := range plan.Unreachable {
		t := &Task{Recipient: rc.Key, Action: ActionNotifyRecipient}
		ts.add(t)
		ts.move(t, TaskSkipped, rc.Unreachable)
	}
	n := len(ts.changed)
	ts.finish()
	return ch.done(&Event{Kind: EventApproved, Reason: note, Data: map[string]string{"tasks": strconv.Itoa(n)}})
}

// RecordOutcome records what a connector, a system's callback or a person
// reported of one step of a task in the given round, and decides what
// follows: a retry after a backoff, a failure (mailed to the officers
// once), a wait with polling or reminders, or the end of the task. An
// outcome for a task that has moved on, or for an earlier round, changes
// nothing: a repeated callback or a redelivered queue item is harmless.
func RecordOutcome(env Env, c *Case, a Actor, taskID string, round int, o TaskOutcome) (*Effect, error) {
	ch := begin(env, c, a)
	ts := ch.tasks()
	t, ok := ts.get(taskID)
	if !ok {
		return nil, &Error{Code: ENOTFOUND, Message: "error.task.not_found"}
	}
	if round != t.Round || t.Status.Ended() || t.Status == TaskFailed || t.Status == TaskPlanned {
		return &Effect{}, nil
	}
	if o.Answer != "" {
		t.Answer = truncate(o.Answer, maxAnswer)
	}
	if o.ExpectedBy != nil {
		t.ExpectedBy = o.ExpectedBy
	}
	if o.External != "" {
		t.External = o.External
	}
	conn := c.connectorOf(t)
	switch o.Kind {
	case OutcomeDone, OutcomeNoData:
		to := TaskDone
		if o.Kind == OutcomeNoData {
			to = TaskNoData
		}
		t.Count, t.Evidence = o.Count, truncate(strings.TrimSpace(o.Evidence), maxAnswer)
		ts.move(t, to, "")
	case OutcomeAccepted:
		if t.Status != TaskWaitingSystem {
			ts.move(t, TaskWaitingSystem, "")
		}
		if o.PollAfter > 0 {
			ts.send(t, StepPoll, env.Now.Add(min(o.PollAfter, RetryAfterCap)))
		}
	case OutcomeWaitingPerson:
		if t.Status == TaskWaitingPerson {
			return &Effect{}, nil
		}
		remind, after, _, _ := conn.Person()
		due := env.Now.AddDate(0, 0, after)
		if conn.Kind == ConnectorManual && conn.Manual.DueDays > 0 {
			d := env.Now.AddDate(0, 0, conn.Manual.DueDays)
			t.DueAt = &d
		}
		t.ExpectedBy = &due
		ts.move(t, TaskWaitingPerson, "")
		for k := remind; remind > 0 && k < after; k += remind {
			ts.send(t, StepRemind, env.Now.AddDate(0, 0, k))
		}
		ts.send(t, StepOverdue, due)
	case OutcomeReminded:
		return &Effect{}, nil
	case OutcomeRetry:
		t.Attempts++
		if t.Attempts >= conn.MaxAttempts() {
			ts.fail(t, "error.task.attempts")
			break
		}
		ts.move(t, TaskSent, "")
		ts.send(t, StepSend, env.Now.Add(Backoff(t.ID, t.Attempts, o.RetryAfter)))
	case OutcomeFailed:
		t.Attempts++
		ts.fail(t, "error.task.refused")
	default:
		return nil, Errorf(EINVALID, "unknown task outcome %q", o.Kind)
	}
	return ts.close()
}

// close finishes an operation on tasks: the case's own status changes only
// when its tasks have all ended.
func (ts *tasks) close() (*Effect, error) {
	ts.finish()
	ch := ts.ch
	if ch.r.Status != ch.from {
		return ch.done(&Event{Kind: EventTransition})
	}
	if ch.r.TasksEnded != ch.c.Request.TasksEnded {
		ch.r.UpdatedAt = ch.env.Now
		ch.eff.Request = ch.r
	}
	return ch.eff, nil
}

// fail marks a task failed and tells the case's officers, once: a
// repeated answer to a failed task changes nothing, and a failure after an
// officer's retry is shown on the case page without a new mail.
func (ts *tasks) fail(t *Task, reason string) {
	ts.move(t, TaskFailed, reason)
	if !t.FailureMailed {
		t.FailureMailed = true
		ts.ch.mail(MailPayload{Template: MailTaskFailed, To: RecipientController, TaskID: t.ID})
	}
}

// TaskOverdue ends the grace period of a person's task that is still not
// done: by the connector's setting the task fails and blocks the case, or
// it is skipped with the reason recorded.
func TaskOverdue(env Env, c *Case, taskID string, round int) (*Effect, error) {
	ch := begin(env, c, ActorService)
	ts := ch.tasks()
	t, ok := ts.get(taskID)
	if !ok {
		return nil, &Error{Code: ENOTFOUND, Message: "error.task.not_found"}
	}
	if round != t.Round || t.Status != TaskWaitingPerson {
		return &Effect{}, nil
	}
	if _, _, then, _ := c.connectorOf(t).Person(); then == OverdueSkip {
		ts.move(t, TaskSkipped, "task.overdue_skipped")
	} else {
		ts.fail(t, "task.overdue_blocked")
	}
	return ts.close()
}

// TaskReminder reminds the case's officers of a manual task still not done.
func TaskReminder(env Env, c *Case, taskID string, round int) (*Effect, error) {
	ch := begin(env, c, ActorService)
	t, ok := c.Task(taskID)
	if !ok {
		return nil, &Error{Code: ENOTFOUND, Message: "error.task.not_found"}
	}
	if round != t.Round || t.Status != TaskWaitingPerson || t.Connector != ConnectorManual {
		return &Effect{}, nil
	}
	ch.mail(MailPayload{Template: MailTaskReminder, To: RecipientController, TaskID: t.ID})
	return ch.eff, nil
}

// CompleteTask records that the person who does a task did it: an officer
// (action complete_task) or the vendor through its confirmation link
// (ActorService with the vendor's words in the evidence). noData says the
// system held nothing about the subject. An officer hands in the data of
// an export task they did (CompleteExport): done without it, an export is
// refused.
func CompleteTask(env Env, c *Case, a Actor, taskID, evidence string, count int, noData bool) (*Effect, error) {
	if t, ok := c.Task(taskID); ok && t.Action == ActionExport && !noData && a.ID != ActorService.ID {
		if err := ValidateReason("evidence", strings.TrimSpace(evidence)); err != nil {
			return nil, err
		}
		return nil, Invalid(FieldError{Field: "file", Message: "field.export_file.required"})
	}
	return completeTask(env, c, a, taskID, evidence, count, noData)
}

// CompleteExport records that an officer did an export task by hand and
// handed in its data: records of them, already stored under the task's
// ExportBlobKey. Call it once with records 0 to check, before storing,
// that it would be recorded.
func CompleteExport(env Env, c *Case, a Actor, taskID, evidence string, records int) (*Effect, error) {
	if t, ok := c.Task(taskID); ok && t.Action != ActionExport {
		return nil, Invalid(FieldError{Field: "file", Message: "field.export_file.not_export"})
	}
	return completeTask(env, c, a, taskID, evidence, records, false)
}

func completeTask(env Env, c *Case, a Actor, taskID, evidence string, count int, noData bool) (*Effect, error) {
	evidence = strings.TrimSpace(evidence)
	if err := ValidateReason("evidence", evidence); err != nil {
		return nil, err
	}
	if count < 0 {
		return nil, Invalid(FieldError{Field: "count", Message: "error.task.count"})
	}
	if a.ID != ActorService.ID {
		if err := Allowed(ActionTaskDone, c, a, env.Now); err != nil {
			return nil, err
		}
	}
	ch := begin(env, c, a)
	ts := ch.tasks()
	t, ok := ts.get(taskID)
	if !ok {
		return nil, &Error{Code: ENOTFOUND, Message: "error.task.not_found"}
	}
	if !t.Status.Offers(ActionTaskDone) {
		return nil, &Error{Code: ECONFLICT, Message: "error.task.not_waiting", Params: map[string]any{"status": t.Status}}
	}
	t.Count, t.Evidence = count, truncate(evidence, maxAnswer)
	if noData {
		ts.move(t, TaskNoData, "")
	} else {
		ts.move(t, TaskDone, "")
	}
	return ts.close()
}

// SkipTask leaves a task that has not ended out of the case, with the
// officer's reason; the case goes on without it.
func SkipTask(env Env, c *Case, a Actor, taskID, reason string) (*Effect, error) {
	reason = strings.TrimSpace(reason)
	if err := ValidateReason("reason", reason); err != nil {
		return nil, err
	}
	if err := Allowed(ActionSkipTask, c, a, env.Now); err != nil {
		return nil, err
	}
	ch := begin(env, c, a)
	ts := ch.tasks()
	t, ok := ts.get(taskID)
	if !ok {
		return nil, &Error{Code: ENOTFOUND, Message: "error.task.not_found"}
	}
	if !t.Status.Offers(ActionSkipTask) {
		return nil, &Error{Code: ECONFLICT, Message: "error.task.ended", Params: map[string]any{"status": t.Status}}
	}
	ts.move(t, TaskSkipped, reason)
	return ts.close()
}

// RetryTasks starts the failed tasks again from where they failed: the
// task of taskID, or every failed task of the case when taskID is empty.
// What is done is never run again. An unknown task is ENOTFOUND; no failed
// task to start, ECONFLICT.
func RetryTasks(env Env, c *Case, a Actor, taskID string) (*Effect, error) {
	if err := Allowed(ActionRetry, c, a, env.Now); err != nil {
		return nil, err
	}
	if taskID != "" {
		if _, ok := c.Task(taskID); !ok {
			return nil, &Error{Code: ENOTFOUND, Message: "error.task.not_found"}
		}
	}
	ch := begin(env, c, a)
	ts := ch.tasks()
	n := 0
	for _, t0 := range c.Tasks {
		if !t0.Status.Offers(ActionRetry) || (taskID != "" && t0.ID != taskID) {
			continue
		}
		t, _ := ts.get(t0.ID)
		// A new round: its own tries and its own times (the officers were
		// told of the task's failure once; the case page shows the rest).
		t.Round++
		t.Attempts, t.ExpectedBy, t.DueAt = 0, nil, nil
		ts.move(t, TaskSent, "")
		ts.send(t, StepSend, env.Now)
		n++
	}
	if n == 0 {
		return nil, &Error{Code: ECONFLICT, Message: "error.task.none_failed"}
	}
	return ts.close()
}

// cancelTasks cancels the case's tasks that have not ended, when the case
// closes before they ran (withdrawn, refused); a processor still working on
// one is told (StepCancel).
func (ch *change) cancelTasks() {
	ts := ch.tasks()
	for _, t0 := range ch.c.Tasks {
		if t0.Status.Ended() {
			continue
		}
		t, _ := ts.get(t0.ID)
		if t.Status == TaskWaitingSystem {
			ts.send(t, StepCancel, ch.env.Now)
		}
		ts.move(t, TaskCancelled, "")
	}
	ch.eff.Tasks = append(ch.eff.Tasks, ts.changed...)
}

// OpenTasks reports whether any task of the case has not ended.
func (c *Case) OpenTasks() bool {
	return slices.ContainsFunc(c.Tasks, func(t *Task) bool { return !t.Status.Ended() })
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
