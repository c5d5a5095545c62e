package workflows_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows"
	"github.com/dsar-project/dsar/workflows/mail"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
	"github.com/dsar-project/dsar/workflows/queuetest"
)

var (
	ctx     = context.Background()
	admin   = dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	oslo, _ = time.LoadLocation("Europe/Oslo")
	quiet   = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// env is the service's background machinery on a test database, a test
// Redis and an SMTP catcher, with a manual clock.
type env struct {
	clock    *dsar.ManualClock
	db       *store.DB
	reqs     *store.Requests
	subjects *store.Subjects
	outbox   *store.Outbox
	smtp     *mailtest.Server
	redis    asynq.RedisConnOpt
	client   *asynq.Client
	disp     *workflows.Dispatcher
	handlers *workflows.Handlers
	// mux routes a task to its handler, as a worker does.
	mux   *asynq.ServeMux
	flush func()
	// sent is every outbox row runDirect handed to a handler.
	sent []*dsar.OutboxItem
}

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	e := &env{clock: dsar.NewManualClock(now)}
	e.db = storetest.Open(t, e.clock)
	e.reqs, e.outbox = store.NewRequests(e.db), store.NewOutbox(e.db)
	e.smtp = mailtest.Start(t)
	sender, err := mail.NewSMTP(e.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	opt, rdb := queuetest.Redis(t)
	e.redis = opt
	e.flush = func() {
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	e.client = asynq.NewClient(opt)
	t.Cleanup(func() { e.client.Close() })
	e.disp = &workflows.Dispatcher{Outbox: e.outbox, Client: e.client, Clock: e.clock, Log: quiet}
	e.subjects = store.NewSubjects(e.db)
	e.handlers = &workflows.Handlers{Outbox: e.outbox, Requests: e.reqs, Cases: e.reqs, Jobs: e.subjects, Keyring: e.db.Keyring,
		Controllers: e.db.Controllers, Sender: sender, BaseURL: "https://dsar.example.test", Policy: dsar.DefaultPolicy,
		Clock: e.clock, Log: quiet, From: "dsar@example.test", MessageIDDomain: "dsar.example.test", Results: store.NewResults(e.db)}
	e.mux = asynq.NewServeMux()
	e.handlers.Register(e.mux)
	e.disp.Planners = []workflows.Planner{e.planner(t, "timers")}
	return e
}

// process hands the task to its handler, as a worker does after dequeuing it.
func (e *env) process(task *asynq.Task) error { return e.mux.ProcessTask(ctx, task) }

// planner returns the service's planner of the name.
func (e *env) planner(t *testing.T, name string) workflows.Planner {
	t.Helper()
	for _, p := range workflows.Planners(e.db) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no planner %q", name)
	return workflows.Planner{}
}

// serve starts an asynq server with the handlers; every finished task (its
// handler returned, with or without error) is reported on the channel.
func (e *env) serve(t *testing.T) (*asynq.Server, <-chan string) {
	t.Helper()
	done := make(chan string, 1000)
	srv := asynq.NewServer(e.redis, asynq.Config{Concurrency: 2, Logger: workflows.NewAsynqLogger(quiet),
		LogLevel: asynq.FatalLevel, ShutdownTimeout: 10 * time.Second})
	wrapped := asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		err := e.mux.ProcessTask(ctx, task)
		var p workflows.OutboxPayload
		_ = json.Unmarshal(task.Payload(), &p)
		done <- p.ID
		return err
	})
	if err := srv.Start(wrapped); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv, done
}

func (e *env) create(t *testing.T, ctrl string) *dsar.Request {
	t.Helper()
	r, err := e.reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: ctrl, Language: dsar.LanguageEN,
		Subject: dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann"}, Verified: true, VerificationMethod: "portal login"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) counts(t *testing.T) map[string]int {
	t.Helper()
	n, err := e.outbox.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// planTimers writes the cases' timers due now into the outbox, as every
// dispatch does.
func (e *env) planTimers(t *testing.T) {
	t.Helper()
	if _, err := e.db.PlanTimers(ctx, e.clock.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
}

// runDirect hands every due row straight to its handler, as a worker would
// after dequeuing it.
func (e *env) runDirect(t *testing.T) int {
	t.Helper()
	e.planTimers(t)
	items, err := e.outbox.Due(ctx, e.clock.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	e.sent = append(e.sent, items...)
	for _, it := range items {
		task, err := workflows.NewOutboxTask(it)
		if err != nil {
			t.Fatal(err)
		}
		herr := e.process(task)
		if herr != nil {
			t.Fatalf("%s: %v", task.Type(), herr)
		}
	}
	return len(items)
}

// TestRedisEmptiedMidRunLosesNothing queues acknowledgement mails, lets the
// worker handle some, empties Redis with FLUSHALL, and shows that the
// reconciler queues every pending row again and each mail goes out exactly
// once.
func TestRedisEmptiedMidRunLosesNothing(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	const n = 20
	for i := 0; i < n; i++ {
		e.create(t, []string{"nte", "proviso", "keto-diets"}[i%3])
	}
	queued, err := e.disp.Dispatch(ctx)
	if err != nil || queued != n {
		t.Fatalf("dispatch queued %d (%v), want %d", queued, err, n)
	}
	if again, _ := e.disp.Dispatch(ctx); again != 0 {
		t.Fatalf("a second dispatch queued %d rows again", again)
	}

	srv, done := e.serve(t)
	for i := 0; i < 5; i++ {
		<-done
	}
	e.flush() // Redis loses every queued task, mid-run
	srv.Shutdown()

	// Intake writes no future rows: the reminders are planned from the
	// cases' deadlines when their time comes.
	c := e.counts(t)
	handled, pending := c[dsar.OutboxDone], c[dsar.OutboxPending]
	if handled < 5 || handled+pending != n {
		t.Fatalf("after the flush: %v", c)
	}
	if got := len(e.smtp.Messages()); got != handled {
		t.Fatalf("%d mails sent for %d handled rows", got, handled)
	}
	// Within the grace period the reconciler leaves queued rows alone.
	if r, err := e.disp.Reconcile(ctx); err != nil || r != 0 {
		t.Fatalf("reconcile within grace re-queued %d (%v)", r, err)
	}
	e.clock.Advance(2 * time.Minute)
	requeued, err := e.disp.Reconcile(ctx)
	if err != nil || requeued != pending {
		t.Fatalf("reconcile re-queued %d (%v), want %d", requeued, err, pending)
	}

	_, done = e.serve(t)
	for i := 0; i < pending; i++ {
		<-done
	}
	msgs := e.smtp.Wait(t, n, 30*time.Second)
	ids := map[string]bool{}
	for _, m := range msgs {
		ids[m.Header.Get("Message-Id")] = true
	}
	if len(msgs) != n || len(ids) != n {
		t.Errorf("%d mails with %d distinct Message-IDs, want %d of each", len(msgs), len(ids), n)
	}
	if c := e.counts(t); c[dsar.OutboxDone] != n || c[dsar.OutboxPending] != 0 {
		t.Errorf("outbox at the end: %v", c)
	}
	e.clock.Advance(2 * time.Minute)
	if r, _ := e.disp.Reconcile(ctx); r != 0 {
		t.Errorf("a later reconcile re-queued %d done rows", r)
	}
	if len(e.smtp.Messages()) != n {
		t.Errorf("more mails arrived after the end: %d", len(e.smtp.Messages()))
	}
}

func TestAHandledTaskRunTwiceSendsOnce(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	r := e.create(t, "nte")
	items, err := e.outbox.Due(ctx, e.clock.Now(), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("due: %d, %v", len(items), err)
	}
	task, _ := workflows.NewOutboxTask(items[0])
	for i := 0; i < 3; i++ {
		if err := e.process(task); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails for one row", len(msgs))
	}
	m := msgs[0]
	if m.Header.Get("Message-Id") != "<"+items[0].ID+"@dsar.example.test>" || m.To[0] != "kari@example.no" ||
		!strings.Contains(m.Header.Get("From"), "dsar@example.test") || !strings.Contains(string(m.Raw), r.Reference) {
		t.Errorf("acknowledgement: headers %v", m.Header)
	}
	evs, _ := e.reqs.Events(ctx, admin, r.ID)
	if last := evs[len(evs)-1]; last.Kind != dsar.EventMailSent || last.Data["template"] != "acknowledgement" || len(evs) != 3 {
		t.Errorf("events: %+v", evs)
	}
	bad := asynq.NewTask(workflows.TypeSendMail, []byte("{"))
	if err := e.process(bad); err == nil || !strings.Contains(err.Error(), asynq.SkipRetry.Error()) {
		t.Errorf("a bad payload is not skipped: %v", err)
	}
}

func TestSMTPDownKeepsTheMailPending(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.create(t, "nte")
	down, err := mail.NewSMTP("smtp://127.0.0.1:1?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	up := e.handlers.Sender
	e.handlers.Sender = down
	items, _ := e.outbox.Due(ctx, e.clock.Now(), 10)
	task, _ := workflows.NewOutboxTask(items[0])
	if err := e.process(task); err == nil {
		t.Fatal("sending through a closed port succeeded")
	}
	if c := e.counts(t); c[dsar.OutboxPending] != 1 || c[dsar.OutboxDone] != 0 {
		t.Fatalf("after a failed send: %v", c)
	}
	e.handlers.Sender = up
	if err := e.process(task); err != nil {
		t.Fatal(err)
	}
	if len(e.smtp.Messages()) != 1 || e.counts(t)[dsar.OutboxDone] != 1 {
		t.Errorf("after SMTP came back: %d mails, %v", len(e.smtp.Messages()), e.counts(t))
	}
}

func TestRemindersFireBeforeAndAfterTheDeadline(t *testing.T) {
	// Received Wednesday 5 March 2025: due Monday 7 April (5 April is a Saturday).
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	r := e.create(t, "nte")
	e.runDirect(t) // the acknowledgement

	e.clock.Set(time.Date(2025, time.March, 31, 9, 0, 0, 0, oslo)) // 7 days before
	if n := e.runDirect(t); n != 1 {
		t.Fatalf("7-day reminder: %d rows due", n)
	}
	if n := e.runDirect(t); n != 1 { // the mail the reminder queued
		t.Fatalf("7-day reminder mail: %d rows due", n)
	}
	msgs := e.smtp.Messages()
	last := msgs[len(msgs)-1]
	if last.To[0] != "personvern@nte.no" && !strings.HasSuffix(last.To[0], "@nte.no") {
		t.Errorf("reminder went to %v, want NTE's privacy contact", last.To)
	}
	if !strings.Contains(string(last.Raw), r.Reference) {
		t.Errorf("reminder does not name the case")
	}
	if !strings.Contains(string(last.Raw), "https://dsar.example.test/cases/"+r.ID) || strings.Contains(string(last.Raw), "/s/") {
		t.Errorf("the reminder does not link the case page, or links the subject's status page")
	}

	// Extending moves the deadline: the pending 2-day reminder of the old
	// deadline is cancelled and new ones are planned.
	ext, err := e.reqs.Extend(ctx, admin, r.ID, "complex request")
	if err != nil {
		t.Fatal(err)
	}
	if n := e.runDirect(t); n != 1 {
		t.Fatalf("%d rows due after the extension, want its notice to the subject", n)
	}
	e.clock.Set(time.Date(2025, time.April, 5, 9, 0, 0, 0, oslo))
	if n := e.runDirect(t); n != 0 {
		t.Errorf("%d rows due at the old 2-day reminder", n)
	}
	// 5 Mar + 3 months = Thursday 5 June; overdue from 6 June.
	if ext.DueDate.String() != "2025-06-05" {
		t.Fatalf("extended due %s", ext.DueDate)
	}
	e.clock.Set(time.Date(2025, time.June, 6, 0, 0, 1, 0, oslo))
	e.runDirect(t) // 7d, 2d and overdue reminders of the new deadline
	e.runDirect(t) // their mails
	evs, _ := e.reqs.Events(ctx, admin, r.ID)
	var fired []string
	for _, ev := range evs {
		if ev.Kind == dsar.EventReminder {
			fired = append(fired, ev.Data["reminder"]+"/"+ev.Data["due_date"])
		}
	}
	want := "7d/2025-04-07 7d/2025-06-05 2d/2025-06-05 overdue/2025-06-05"
	if got := strings.Join(fired, " "); got != want {
		t.Errorf("reminders fired: %s\nwant %s", got, want)
	}
	if len(e.smtp.Messages()) != 6 {
		t.Errorf("%d mails, want the acknowledgement, the extension notice and four reminders", len(e.smtp.Messages()))
	}
}

func TestStaleReminderIsCancelled(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	r := e.create(t, "nte")
	e.runDirect(t)
	e.clock.Set(time.Date(2025, time.March, 31, 9, 0, 0, 0, oslo))
	e.planTimers(t)
	items, _ := e.outbox.Due(ctx, e.clock.Now(), 10)
	if len(items) != 1 {
		t.Fatalf("%d due", len(items))
	}
	// The reminder is in the queue when the officer extends.
	if _, err := e.disp.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Extend(ctx, admin, r.ID, "complex"); err != nil {
		t.Fatal(err)
	}
	task, _ := workflows.NewOutboxTask(items[0])
	if err := e.process(task); err != nil {
		t.Fatal(err)
	}
	evs, _ := e.reqs.Events(ctx, admin, r.ID)
	for _, ev := range evs {
		if ev.Kind == dsar.EventReminder {
			t.Errorf("a reminder for the old deadline fired: %+v", ev)
		}
	}
	if c := e.counts(t); c[dsar.OutboxCancelled] < 1 {
		t.Errorf("outbox: %v", c)
	}
}

// Reminders go to the case's officers: the assignee, or every officer of
// the controller; an overdue case escalates to the admins as well.
func TestRemindersGoToOfficersAndEscalate(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	users := store.NewUsers(e.db)
	e.handlers.Officers = users
	mk := func(email string, role dsar.Role, ctrls ...string) *dsar.User {
		u, err := users.Create(ctx, email, "a long enough password", role, ctrls)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	kari := mk("kari@nte.no", dsar.RoleOfficer, "nte")
	mk("ola@nte.no", dsar.RoleOfficer, "nte")
	mk("per@proviso.no", dsar.RoleOfficer, "proviso")
	mk("boss@nte.no", dsar.RoleAdmin)
	unassigned := e.create(t, "nte")
	assigned := e.create(t, "nte")
	if _, err := e.reqs.Assign(ctx, admin, assigned.ID, kari.ID); err != nil {
		t.Fatal(err)
	}
	e.runDirect(t) // acknowledgements, and kari's assignment mail
	recipients := func() map[string][]string {
		out := map[string][]string{}
		for _, m := range e.smtp.Messages()[3:] {
			for _, r := range []*dsar.Request{unassigned, assigned} {
				if strings.Contains(string(m.Raw), r.Reference) {
					out[r.Reference] = append(out[r.Reference], strings.Join(m.To, ","))
				}
			}
		}
		return out
	}
	e.clock.Set(time.Date(2025, time.March, 31, 9, 0, 0, 0, oslo)) // 7 days before 7 April
	e.runDirect(t)
	e.runDirect(t)
	got := recipients()
	if strings.Join(got[unassigned.Reference], ";") != "kari@nte.no,ola@nte.no" || strings.Join(got[assigned.Reference], ";") != "kari@nte.no" {
		t.Errorf("7-day reminders went to %v", got)
	}
	e.clock.Set(time.Date(2025, time.April, 8, 0, 0, 1, 0, oslo)) // overdue
	e.runDirect(t)
	e.runDirect(t)
	got = recipients()
	if last := got[assigned.Reference][len(got[assigned.Reference])-1]; last != "boss@nte.no,kari@nte.no" {
		t.Errorf("the overdue reminder of the assigned case went to %s, want the assignee and the admin", last)
	}
}

// Each officer gets one digest a morning, listing their open cases due
// within 7 days or overdue; a day with none sends nothing.
func TestDailyDigest(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	users := store.NewUsers(e.db)
	e.handlers.Officers = users
	e.disp.Planners = []workflows.Planner{e.planner(t, "digests")}
	if _, err := users.Create(ctx, "kari@nte.no", "a long enough password", dsar.RoleOfficer, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, "per@proviso.no", "a long enough password", dsar.RoleOfficer, []string{"proviso"}); err != nil {
		t.Fatal(err)
	}
	r := e.create(t, "nte") // due Monday 7 April
	e.runDirect(t)

	e.clock.Set(time.Date(2025, time.April, 1, 6, 59, 0, 0, oslo)) // before the morning
	if n, err := users.PlanDigests(ctx, e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("before 07:00: %d digests planned (%v)", n, err)
	}
	e.runDirect(t) // the 7-day reminder and its mail, no digest yet
	e.runDirect(t)
	sent := len(e.smtp.Messages())
	e.clock.Set(time.Date(2025, time.April, 1, 7, 30, 0, 0, oslo))
	for i := 0; i < 2; i++ { // planning twice plans once
		if _, err := e.disp.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.runDirect(t); n != 2 {
		t.Fatalf("%d rows due, want the digests of kari and per", n)
	}
	msgs := e.smtp.Messages()[sent:]
	if len(msgs) != 1 || msgs[0].To[0] != "kari@nte.no" || !strings.Contains(string(msgs[0].Raw), r.Reference) {
		t.Fatalf("digests: %d mails", len(msgs))
	}
	if c := e.counts(t); c[dsar.OutboxCancelled] < 1 {
		t.Errorf("per's empty digest was not cancelled: %v", c)
	}
}

// The reconciler plans the hourly checkpoint of the cases and a worker
// records it in the admin chain, which `dsar audit verify` then checks.
func TestHourlyCheckpoint(t *testing.T) {
	e := newEnv(t, time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	e.handlers.Audit = e.db
	e.disp.Planners = []workflows.Planner{e.planner(t, "checkpoint")}
	e.create(t, "nte")
	e.create(t, "proviso")
	e.runDirect(t)
	e.clock.Set(time.Date(2025, time.March, 5, 11, 30, 0, 0, oslo))
	for i := 0; i < 2; i++ { // planning twice plans once
		if _, err := e.disp.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.runDirect(t); n != 1 {
		t.Fatalf("%d rows due, want the checkpoint", n)
	}
	rep, err := e.db.VerifyAudit(ctx)
	if err != nil || !rep.Intact() || rep.Checkpoint == nil {
		t.Fatalf("after the checkpoint: %+v %v", rep, err)
	}
}
