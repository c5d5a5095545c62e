package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// taskRow is a row of the tasks table.
type taskRow struct {
	ID            string `gorm:"primaryKey"`
	RequestID     string
	SystemKey     string
	RecipientKey  string
	Action        string
	Connector     string
	Purposes      string
	Categories    string
	Status        string
	Attempts      int
	Round         int
	Count         int
	Answer        string
	Reason        string
	Evidence      string
	External      string
	ExpectedBy    *time.Time
	DueAt         *time.Time
	FailureMailed bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	EndedAt       *time.Time
}

func (taskRow) TableName() string { return "tasks" }

func newTaskRow(t *dsar.Task) *taskRow {
	list := func(v []string) string {
		if len(v) == 0 {
			return "[]"
		}
		b, _ := json.Marshal(v) // strings always marshal
		return string(b)
	}
	return &taskRow{ID: t.ID, RequestID: t.RequestID, SystemKey: t.System, RecipientKey: t.Recipient, Action: string(t.Action),
		Connector: string(t.Connector), Purposes: list(t.Purposes), Categories: list(t.Categories), Status: string(t.Status),
		Attempts: t.Attempts, Round: t.Round, Count: t.Count, Answer: t.Answer, Reason: t.Reason, Evidence: t.Evidence,
		External: t.External, ExpectedBy: utc(t.ExpectedBy), DueAt: utc(t.DueAt), FailureMailed: t.FailureMailed,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(), EndedAt: utc(t.EndedAt)}
}

func (r *taskRow) toDomain(loc *time.Location) *dsar.Task {
	in := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		l := t.In(loc)
		return &l
	}
	t := &dsar.Task{ID: r.ID, RequestID: r.RequestID, System: r.SystemKey, Recipient: r.RecipientKey, Action: dsar.TaskAction(r.Action),
		Connector: dsar.ConnectorKind(r.Connector), Status: dsar.TaskStatus(r.Status), Attempts: r.Attempts, Round: r.Round,
		Count: r.Count, Answer: r.Answer, Reason: r.Reason, Evidence: r.Evidence, External: r.External,
		ExpectedBy: in(r.ExpectedBy), DueAt: in(r.DueAt), FailureMailed: r.FailureMailed,
		CreatedAt: r.CreatedAt.In(loc), UpdatedAt: r.UpdatedAt.In(loc), EndedAt: in(r.EndedAt)}
	_ = json.Unmarshal([]byte(r.Purposes), &t.Purposes) // written by the store
	_ = json.Unmarshal([]byte(r.Categories), &t.Categories)
	return t
}

// caseTasks returns the tasks of a case, oldest first.
func caseTasks(tx *gorm.DB, requestID string, loc *time.Location) ([]*dsar.Task, error) {
	var rows []taskRow
	if err := tx.Where("request_id = ?", requestID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*dsar.Task, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain(loc)
	}
	return out, nil
}

// taskProgress returns the progress of the tasks of the cases at now, by
// case ID; a case without tasks has none. It counts as dsar.ProgressOf
// does, in the database, so that a page of the queue takes one query.
func taskProgress(tx *gorm.DB, ids []string, now time.Time) (map[string]*dsar.TaskProgress, error) {
	out := map[string]*dsar.TaskProgress{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		RequestID                     string
		Total, Ended, Failed, Overdue int
	}
	now = now.UTC()
	err := tx.Model(&taskRow{}).Select(`request_id, COUNT(*) AS total,
		SUM(CASE WHEN status IN ? THEN 1 ELSE 0 END) AS ended,
		SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS failed,
		SUM(CASE WHEN status IN ? AND (expected_by < ? OR due_at < ?) THEN 1 ELSE 0 END) AS overdue`,
		dsar.EndedTaskStatuses, dsar.TaskFailed, dsar.WaitingTaskStatuses, now, now).
		Where("request_id IN ?", ids).Group("request_id").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.RequestID] = &dsar.TaskProgress{Total: r.Total, Ended: r.Ended, Failed: r.Failed, Overdue: r.Overdue}
	}
	return out, nil
}

// withProgress sets the progress of the requests' tasks.
func (db *DB) withProgress(tx *gorm.DB, reqs ...*dsar.Request) error {
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.ID
	}
	p, err := taskProgress(tx, ids, db.now())
	if err != nil {
		return err
	}
	for _, r := range reqs {
		r.Progress = p[r.ID]
	}
	return nil
}

// failingTasks is the condition of the queue's filter dsar.TasksFailing on
// a query of the requests table: a failed task, or a waiting one past the
// time it was expected or due by.
func failingTasks(q *gorm.DB, now time.Time) *gorm.DB {
	now = now.UTC()
	return q.Where(`EXISTS (SELECT 1 FROM tasks WHERE tasks.request_id = requests.id AND (tasks.status = ?
		OR (tasks.status IN ? AND (tasks.expected_by < ? OR tasks.due_at < ?))))`, dsar.TaskFailed, dsar.WaitingTaskStatuses, now, now)
}

// applyTasks writes the tasks an effect added or changed, and the
// suppression it asks for.
func (db *DB) applyTasks(tx *gorm.DB, row *requestRow, eff *dsar.Effect) error {
	if len(eff.Tasks) > 0 {
		rows := make([]*taskRow, len(eff.Tasks))
		for i, t := range eff.Tasks {
			rows[i] = newTaskRow(t)
		}
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(rows, 200).Error; err != nil {
			return err
		}
	}
	if !eff.Suppress {
		return nil
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&suppressionRow{Controller: row.Controller,
		Hash: db.suppressionHash(row.SubjectEmail), RequestID: row.ID, CreatedAt: db.now().UTC()}).Error
}

// suppressionRow is a row of the suppression list.
type suppressionRow struct {
	Controller string `gorm:"primaryKey"`
	Hash       string `gorm:"primaryKey"`
	RequestID  string
	CreatedAt  time.Time
}

func (suppressionRow) TableName() string { return "suppressions" }

// suppressionHash is the keyed hash the suppression list keeps of an
// address (of dsar.SuppressionKey), never the address.
func (db *DB) suppressionHash(email string) string {
	return db.Keyring.Token(dsar.TokenSuppression, dsar.SuppressionKey(email))
}

// Suppressed implements dsar.SuppressionList: whether the address is on the
// controller's suppression list.
func (s *Requests) Suppressed(ctx context.Context, controller, email string) (bool, error) {
	var n int64
	err := s.db.gorm.WithContext(ctx).Model(&suppressionRow{}).
		Where("controller = ? AND hash = ?", controller, s.db.suppressionHash(email)).Count(&n).Error
	return n > 0, mapErr(err)
}

// Plan implements dsar.CaseService: what approving the case would do.
func (s *Requests) Plan(ctx context.Context, actor dsar.Actor, id string) (*dsar.Plan, error) {
	db := s.db.gorm.WithContext(ctx)
	row, err := s.load(db, actor, id, false)
	if err != nil {
		return nil, err
	}
	c, err := s.db.loadCase(db, row)
	if err != nil {
		return nil, mapErr(err)
	}
	return dsar.PlanFor(c.Controller, c.Request, dsar.DateOf(s.db.now().In(c.Controller.Location))), nil
}

// Tasks implements dsar.CaseService: the case's tasks, oldest first.
func (s *Requests) Tasks(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Task, error) {
	db := s.db.gorm.WithContext(ctx)
	row, err := s.load(db, actor, id, false)
	if err != nil {
		return nil, err
	}
	out, err := caseTasks(db, id, s.location(row.Controller))
	return out, mapErr(err)
}

// CompleteTask implements dsar.CaseService (dsar.CompleteTask by an officer).
func (s *Requests) CompleteTask(ctx context.Context, actor dsar.Actor, id, taskID, evidence string, count int, noData bool) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.CompleteTask(env, c, actor, taskID, evidence, count, noData)
	})
}

// CompleteExport implements dsar.CaseService (dsar.CompleteExport): the
// data is stored within the case's transaction, after the domain allowed
// it and before the task is recorded done.
func (s *Requests) CompleteExport(ctx context.Context, actor dsar.Actor, id, taskID, evidence string, put func(context.Context, *dsar.Task) (int, error)) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		if _, err := dsar.CompleteExport(env, c, actor, taskID, evidence, 0); err != nil {
			return nil, err
		}
		t, _ := c.Task(taskID) // there: CompleteExport found it
		n, err := put(ctx, t)
		if err != nil {
			return nil, err
		}
		return dsar.CompleteExport(env, c, actor, taskID, evidence, n)
	})
}

// SkipTask implements dsar.CaseService (dsar.SkipTask).
func (s *Requests) SkipTask(ctx context.Context, actor dsar.Actor, id, taskID, reason string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.SkipTask(env, c, actor, taskID, reason)
	})
}

// RetryTasks implements dsar.CaseService (dsar.RetryTasks).
func (s *Requests) RetryTasks(ctx context.Context, actor dsar.Actor, id, taskID string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.RetryTasks(env, c, actor, taskID)
	})
}

// Tasks carries out the workers' and the systems' side of system tasks.
type Tasks struct {
	db *DB
	// The outcomes waiting to be recorded, and how many callers of
	// Record are writing them.
	mu      sync.Mutex
	waiting []*recording
	writers int
}

// recording is the outcomes of a claimed item given to Record, and where
// their result goes.
type recording struct {
	ctx  context.Context
	step StepOutcome
	err  chan error
}

// StepOutcome is what the steps of a claimed outbox item came to: each
// task's outcome in its round.
type StepOutcome struct {
	Claimed *dsar.OutboxItem
	Results []dsar.TaskResult
}

// maxBatch is the most items Record writes in one transaction;
// batchTimeout bounds that transaction.
const (
	maxBatch     = 64
	batchTimeout = 30 * time.Second
)

// maxWriters returns how many batches Record writes at once: several on
// PostgreSQL, whose row locks let transactions on other cases run side by
// side; one on SQLite, which has one writer.
func (t *Tasks) maxWriters() int {
	if t.db.Dialect == SQLite {
		return 1
	}
	return 4
}

// NewTasks returns the task service on db.
func NewTasks(db *DB) *Tasks { return &Tasks{db: db} }

var _ dsar.TaskService = (*Tasks)(nil)

// taskCase locks the case of a task, in one query (it is on the path of
// every task step).
func (t *Tasks) taskCase(tx *gorm.DB, taskID string) (*requestRow, error) {
	q := t.db.forUpdate(tx)
	var row requestRow
	if err := q.Where("id = (?)", tx.Model(&taskRow{}).Select("request_id").Where("id = ?", taskID)).Take(&row).Error; err != nil {
		return nil, err
	}
	return &row, nil
}

// Order implements dsar.TaskService.
func (t *Tasks) Order(ctx context.Context, taskID string) (*dsar.TaskOrder, error) {
	orders, err := t.Orders(ctx, []string{taskID})
	if err != nil {
		return nil, err
	}
	return orders[0], nil
}

// Orders implements dsar.TaskService: one query for the tasks and one
// for their case.
func (t *Tasks) Orders(ctx context.Context, taskIDs []string) ([]*dsar.TaskOrder, error) {
	db := t.db.gorm.WithContext(ctx)
	var trs []taskRow
	if err := db.Where("id IN ?", taskIDs).Order("id").Find(&trs).Error; err != nil {
		return nil, mapErr(err)
	}
	if len(trs) < len(slices.Compact(slices.Sorted(slices.Values(taskIDs)))) {
		return nil, dsar.Errorf(dsar.ENOTFOUND, "a task of %v is not there", taskIDs)
	}
	var row requestRow
	if err := db.Where("id = ?", trs[0].RequestID).Take(&row).Error; err != nil {
		return nil, mapErr(err)
	}
	ctrl, ok := t.db.Controllers.Get(row.Controller)
	if !ok {
		return nil, dsar.Errorf(dsar.ECONFLICT, "the request's controller %q is no longer configured", row.Controller)
	}
	r := row.toDomain(ctrl.Location)
	orders := make([]*dsar.TaskOrder, len(trs))
	for i := range trs {
		if trs[i].RequestID != row.ID {
			return nil, dsar.Errorf(dsar.ECONFLICT, "tasks %s and %s belong to different cases", trs[0].ID, trs[i].ID)
		}
		o, err := dsar.NewTaskOrder(ctrl, r, trs[i].toDomain(ctrl.Location))
		if err != nil {
			return nil, err
		}
		orders[i] = o
	}
	return orders, nil
}

// Record implements dsar.TaskService. Outcomes recorded at the same time
// are written together, as a database commits a group of transactions at
// once: a caller that finds fewer than maxWriters writing writes what
// waits, batch after batch, until nothing does, and the others wait for
// their result. A batch is one transaction; in it each case is locked once
// and its outcomes are written one after the other, each with the effect
// and the audit events it would have alone. Under load this spares most
// of the locks, reads and commits of a fan-out; alone, an item is a batch
// of one.
func (t *Tasks) Record(ctx context.Context, claimed *dsar.OutboxItem, results ...dsar.TaskResult) error {
	if len(results) == 0 {
		return dsar.Errorf(dsar.EINVALID, "no outcome to record for outbox item %s", claimed.ID)
	}
	r := &recording{ctx: ctx, step: StepOutcome{Claimed: claimed, Results: results}, err: make(chan error, 1)}
	t.mu.Lock()
	t.waiting = append(t.waiting, r)
	if t.writers >= t.maxWriters() {
		t.mu.Unlock()
		return <-r.err
	}
	t.writers++
	var batch []*recording
	defer func() {
		// A panic while writing (a bug) must not leave the batch waiting
		// for ever, nor later outcomes behind a writer that is gone.
		if p := recover(); p != nil {
			t.mu.Lock()
			t.writers--
			rest := batch
			if t.writers == 0 { // nobody else would write what waits
				rest = append(rest, t.waiting...)
				t.waiting = nil
			}
			t.mu.Unlock()
			for _, w := range rest {
				select {
				case w.err <- fmt.Errorf("record task outcomes: %v", p):
				default: // it has its result
				}
			}
			panic(p)
		}
	}()
	for len(t.waiting) > 0 {
		n := min(len(t.waiting), maxBatch)
		batch = t.waiting[:n:n]
		t.waiting = t.waiting[n:]
		t.mu.Unlock()
		t.recordBatch(batch)
		t.mu.Lock()
	}
	t.writers--
	t.mu.Unlock()
	return <-r.err
}

// recordBatch writes the outcomes of a batch of Record's callers, and
// gives each its result; one whose context has ended is not written.
func (t *Tasks) recordBatch(batch []*recording) {
	live := make([]*recording, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err <- err
		} else {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	steps := make([]StepOutcome, len(live))
	for i, r := range live {
		steps[i] = r.step
	}
	// The transaction is the batch's, not its first caller's: one item's
	// lost lease must not cut the others' writes.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), batchTimeout)
	defer cancel()
	errs, _ := t.RecordBatch(ctx, steps)
	for i, err := range errs {
		live[i].err <- err
	}
}

// RecordBatch records the outcomes of several claimed items' steps, each
// as Record does, in one transaction, and returns each item's error (nil
// when it was recorded) and how many items were written alone, after the
// outcomes of their case failed together. The cases are locked in the
// order of their IDs, so that two workers' batches never wait for each
// other in a circle; the items of one case are written in the order given.
// A case whose items fail together is rolled back alone and tried item by
// item, so that one bad item fails no other.
func (t *Tasks) RecordBatch(ctx context.Context, steps []StepOutcome) (errs []error, alone int) {
	order := make([]int, len(steps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(steps[a].Claimed.RequestID, steps[b].Claimed.RequestID) })
	sorted := make([]StepOutcome, len(steps))
	for i, k := range order {
		sorted[i] = steps[k]
	}
	results := make([]error, len(steps))
	err := t.db.tx(ctx, func(tx *gorm.DB) error {
		if len(sorted) == 1 {
			return t.recordCase(tx, sorted)
		}
		for i := 0; i < len(sorted); {
			j := i + 1
			for j < len(sorted) && sorted[i].Claimed.RequestID != "" && sorted[j].Claimed.RequestID == sorted[i].Claimed.RequestID {
				j++
			}
			if err := t.isolated(tx, sorted[i:j]); err != nil {
				if j-i == 1 {
					results[order[i]] = err
				}
				for k := i; j-i > 1 && k < j; k++ {
					results[order[k]] = t.isolated(tx, sorted[k:k+1])
					alone++
				}
			}
			i = j
		}
		return nil
	})
	for i := range results {
		if err != nil {
			results[i] = err
		}
		results[i] = mapErr(results[i])
	}
	return results, alone
}

// isolated records items of one case behind a savepoint: when they fail,
// the transaction goes on without them.
func (t *Tasks) isolated(tx *gorm.DB, group []StepOutcome) error {
	if err := tx.SavePoint("outcomes").Error; err != nil {
		return err
	}
	err := t.recordCase(tx, group)
	if err != nil {
		if rerr := tx.RollbackTo("outcomes").Error; rerr != nil {
			return rerr
		}
	}
	return err
}

// recordCase records the outcomes of claimed items of one case, in order,
// on the case locked once, and completes the items. The outcomes' effects
// are joined (dsar.Effect.Then) and written together, a statement a table
// instead of some for each outcome.
func (t *Tasks) recordCase(tx *gorm.DB, group []StepOutcome) error {
	row, err := t.taskCase(tx, group[0].Results[0].TaskID)
	if err != nil {
		return err
	}
	c, err := t.db.loadCase(tx, row)
	if err != nil {
		return err
	}
	var pending *dsar.Effect
	flush := func() error {
		if pending == nil {
			return nil
		}
		err := t.db.apply(tx, row, pending)
		pending = nil
		return err
	}
	for _, item := range group {
		for _, r := range item.Results {
			eff, err := dsar.RecordOutcome(t.db.env(), c, dsar.ActorService, r.TaskID, r.Round, r.Outcome)
			if err != nil {
				return err
			}
			if pending == nil || !pending.Then(eff) {
				if err := flush(); err != nil {
					return err
				}
				pending = eff
			}
			next, ok := c.Follow(eff)
			if !ok {
				if err := flush(); err != nil {
					return err
				}
				if next, err = t.db.loadCase(tx, row); err != nil {
					return err
				}
			}
			c = next
		}
		if err := finish(tx, item.Claimed, dsar.OutboxDone, t.db.now()); err != nil {
			return err
		}
	}
	return flush()
}

// Overdue implements dsar.TaskService (dsar.TaskOverdue).
func (t *Tasks) Overdue(ctx context.Context, claimed *dsar.OutboxItem, taskID string, round int) error {
	return t.step(ctx, claimed, taskID, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.TaskOverdue(env, c, taskID, round)
	})
}

// Remind implements dsar.TaskService (dsar.TaskReminder).
func (t *Tasks) Remind(ctx context.Context, claimed *dsar.OutboxItem, taskID string, round int) error {
	return t.step(ctx, claimed, taskID, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.TaskReminder(env, c, taskID, round)
	})
}

// step runs a task operation on the locked case of the task and completes
// the claimed outbox item, in one transaction: a crash leaves both undone,
// and the item's next run finds the task as it was.
func (t *Tasks) step(ctx context.Context, claimed *dsar.OutboxItem, taskID string, op operation) error {
	return mapErr(t.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := t.taskCase(tx, taskID)
		if err != nil {
			return err
		}
		if _, err := t.db.run(tx, row, op); err != nil {
			return err
		}
		return finish(tx, claimed, dsar.OutboxDone, t.db.now())
	}))
}

// Callback implements dsar.TaskService: a system's later answer to a task,
// in the task's current round.
func (t *Tasks) Callback(ctx context.Context, taskID string, o dsar.TaskOutcome) error {
	_, err := t.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) { return t.taskCase(tx, taskID) },
		func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			task, ok := c.Task(taskID)
			if !ok {
				return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.task.not_found"}
			}
			return dsar.RecordOutcome(env, c, dsar.ActorService, taskID, task.Round, o)
		})
	return err
}

// taskCallbackRow is a system's callback to a task, by its webhook-id.
type taskCallbackRow struct {
	TaskID     string `gorm:"primaryKey"`
	WebhookID  string `gorm:"primaryKey"`
	ReceivedAt time.Time
}

func (taskCallbackRow) TableName() string { return "task_callbacks" }

// CallbackOnce implements dsar.TaskService: a system's later answer to a
// task, recorded with the message's webhook-id in one transaction. An ID
// seen before for the task is a replay: ECONFLICT, and nothing changes.
func (t *Tasks) CallbackOnce(ctx context.Context, taskID, webhookID string, o dsar.TaskOutcome) error {
	_, err := t.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) {
		row, err := t.taskCase(tx, taskID)
		if err != nil {
			return nil, err
		}
		var n int64
		if err := tx.Model(&taskCallbackRow{}).Where("task_id = ? AND webhook_id = ?", taskID, webhookID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.callback.replayed"}
		}
		return row, tx.Create(&taskCallbackRow{TaskID: taskID, WebhookID: webhookID, ReceivedAt: t.db.now()}).Error
	},
		func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			task, ok := c.Task(taskID)
			if !ok {
				return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.task.not_found"}
			}
			return dsar.RecordOutcome(env, c, dsar.ActorService, taskID, task.Round, o)
		})
	return err
}

// Confirm implements dsar.TaskService: a vendor confirms through its link
// that it did the task.
func (t *Tasks) Confirm(ctx context.Context, taskID, evidence string, count int, noData bool) error {
	_, err := t.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) { return t.taskCase(tx, taskID) },
		func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			return dsar.CompleteTask(env, c, dsar.ActorService, taskID, evidence, count, noData)
		})
	return err
}
