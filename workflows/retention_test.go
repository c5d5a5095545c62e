package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows"
	"github.com/dsar-project/dsar/workflows/mail"
)

// retentionTables are the tables that hold rows of a case, with the
// column that names the case.
var retentionTables = []struct{ table, key, cols string }{
	{"requests", "id", "*"}, {"request_events", "request_id", "*"}, {"request_pauses", "request_id", "*"}, {"outbox", "request_id", "*"},
	{"verifications", "request_id", "*"}, {"request_messages", "request_id", "*"},
	{"identity_documents", "request_id", "id, request_id, file_name, content_type, length(sealed) AS sealed_length, created_at"},
	{"tasks", "request_id", "*"}, {"suppressions", "request_id", "*"},
}

// caseSnapshot is every row of a case in every table, with its files and
// the kept copies of its mails: what the tests compare.
type caseSnapshot struct {
	Rows  map[string][]map[string]any
	Files []string
	Mails []string
}

type retentionEnv struct {
	t       *testing.T
	url     string
	clock   *dsar.ManualClock
	db      *store.DB
	reqs    *store.Requests
	blobs   *blob.Dir
	mailbox *mail.Mailbox
	rt      *workflows.Retention
}

func newRetentionEnv(t *testing.T) *retentionEnv {
	t.Helper()
	e := &retentionEnv{t: t, clock: dsar.NewManualClock(time.Date(2022, time.January, 3, 9, 0, 0, 0, oslo))}
	e.url = storetest.URL(t)
	e.open()
	var err error
	if e.blobs, err = blob.NewDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if e.mailbox, err = mail.NewMailbox(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.rt = &workflows.Retention{DB: e.db, Blobs: e.blobs, Mailbox: e.mailbox, Clock: e.clock, Log: quiet, Batch: 2}
	return e
}

// open opens the test's database, keto-diets set to keep its case records
// for the CCPA's 24 months (11 CCR §7101) rather than its shipped 36.
func (e *retentionEnv) open() {
	e.db = storetest.OpenURL(e.t, e.url, e.clock)
	keto, _ := e.db.Controllers.Get("keto-diets")
	keto.RetentionMonths = dsar.MinCCPARetentionMonths
	e.reqs = store.NewRequests(e.db)
	if e.rt != nil {
		e.rt.DB = e.db
	}
}

// snapshot reads every row of the case.
func (e *retentionEnv) snapshot(id string) caseSnapshot {
	e.t.Helper()
	s := caseSnapshot{Rows: map[string][]map[string]any{}}
	for _, tb := range retentionTables {
		var rows []map[string]any
		storetest.Select(e.t, e.url, &rows, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? ORDER BY 1", tb.cols, tb.table, tb.key), id)
		for _, r := range rows {
			for k, v := range r {
				if b, ok := v.([]byte); ok { // SQLite gives some text as bytes
					r[k] = string(b)
				}
				if tm, ok := v.(time.Time); ok {
					r[k] = tm.UTC()
				}
			}
		}
		s.Rows[tb.table] = rows
	}
	var callbacks []map[string]any
	storetest.Select(e.t, e.url, &callbacks, "SELECT c.* FROM task_callbacks c JOIN tasks t ON t.id = c.task_id WHERE t.request_id = ?", id)
	s.Rows["task_callbacks"] = callbacks
	if err := e.blobs.List(ctx, dsar.CaseBlobPrefix(id), func(k string) error { s.Files = append(s.Files, k); return nil }); err != nil {
		e.t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(e.mailbox.Dir(), "*.eml"))
	for _, r := range s.Rows["outbox"] {
		for _, n := range names {
			if strings.HasPrefix(filepath.Base(n), fmt.Sprint(r["id"])+"@") {
				s.Mails = append(s.Mails, filepath.Base(n))
			}
		}
	}
	for _, r := range s.Rows["tasks"] {
		for _, n := range names {
			if strings.HasPrefix(filepath.Base(n), "task-"+fmt.Sprint(r["id"])+"-") {
				s.Mails = append(s.Mails, filepath.Base(n))
			}
		}
	}
	sort.Strings(s.Mails)
	return s
}

// keepCopies puts what the service keeps outside the database for the
// case: a collected export in the blob store, and in the local mailbox a
// copy of each of its mails and of a vendor's mail about its first task.
func (e *retentionEnv) keepCopies(r *dsar.Request) {
	e.t.Helper()
	if _, err := e.blobs.Put(ctx, dsar.ExportBlobKey(r.ID, "t1"), strings.NewReader(`{"category":"contact","record":{"email":"kari@example.no"}}`)); err != nil {
		e.t.Fatal(err)
	}
	s := e.snapshot(r.ID)
	var ids []string
	for _, o := range s.Rows["outbox"] {
		if o["kind"] == string(dsar.OutboxMail) {
			ids = append(ids, fmt.Sprint(o["id"])+"@dsar.test")
		}
	}
	if len(s.Rows["tasks"]) > 0 {
		ids = append(ids, "task-"+fmt.Sprint(s.Rows["tasks"][0]["id"])+"-r1@dsar.test")
	}
	for _, id := range ids {
		m := &mail.Message{ID: id, From: "dsar@dsar.test", To: []string{r.Subject.Email}, Subject: "Your request", Text: "Dear " + r.Subject.Name, Date: e.clock.Now()}
		if err := e.mailbox.Send(ctx, m); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *retentionEnv) must(r *dsar.Request, err error) *dsar.Request {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// The retention run removes exactly the personal data of the closed cases
// whose retention has run out, in every table, file and mail, leaves every
// other case as it was, keeps the dashboard's figures and the audit
// trail's verifiability, and does nothing the second time.
func TestRetentionRemovesExactlyThePersonalDataDue(t *testing.T) {
	e := newRetentionEnv(t)
	now := time.Date(2026, time.March, 15, 12, 0, 0, 0, oslo)
	officer := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin, IP: "198.51.100.4"}
	subjects := store.NewSubjects(e.db)
	subject := dsar.Subject{Email: "kari@example.no", Name: "Kari Nordmann", Phone: "+47 900 00 000", CustomerID: "C-42"}

	// full: through the web form, confirmed by the subject, asked for
	// proof, answered with a document (not yet checked), extended, noted, refused in part
	// and completed, 36 months and a day ago: due today.
	closedFull := now.AddDate(-3, 0, -1)
	e.clock.Set(closedFull.AddDate(0, 0, -20))
	full := e.must(e.reqs.Create(ctx, dsar.ActorPublic, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: subject,
		Details: "All my meter readings from my cabin at Hamar."}))
	verID := ""
	{
		var rows []struct{ ID string }
		storetest.Select(t, e.url, &rows, "SELECT id FROM verifications WHERE request_id = ?", full.ID)
		verID = rows[0].ID
	}
	_, token, err := subjects.VerifyCode(ctx, full.ID, e.db.Keyring.Code("verify", verID), "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(closedFull.AddDate(0, 0, -18))
	e.must(e.reqs.Ask(ctx, officer, full.ID, dsar.MessageIdentity, "Please send a bill with your customer number, Kari."))
	e.clock.Set(closedFull.AddDate(0, 0, -16))
	e.must(subjects.Reply(ctx, token, "Here it is, C-42.", &dsar.Document{FileName: "bill.pdf", ContentType: "application/pdf",
		Data: []byte("%PDF-1.4 Kari Nordmann C-42")}, "192.0.2.7"))
	e.clock.Set(closedFull.AddDate(0, 0, -15))
	e.must(e.reqs.Extend(ctx, officer, full.ID, "Kari's cabin readings are in the old archive."))
	e.must(e.reqs.Note(ctx, officer, full.ID, "Kari called about the cabin."))
	e.clock.Set(closedFull)
	e.must(e.reqs.Refuse(ctx, officer, full.ID, dsar.Decision{Ground: dsar.GroundOthersRights, Partial: true,
		Text: "The readings also show your neighbour Ola.", Part: "Ola's readings", Granted: "Kari's readings"}))
	storetest.Ready(t, e.db, full.ID)
	full = e.must(e.reqs.Complete(ctx, officer, full.ID, dsar.Decision{Summary: "Sent Kari her readings."}))

	// tasks: an erasure approved into the systems, one task skipped with
	// a reason, then refused. Closed with full.
	in := dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Subject: subject, Verified: true, VerificationMethod: "customer portal login"}
	e.clock.Set(closedFull.AddDate(0, 0, -2))
	tasks := e.must(e.reqs.Create(ctx, officer, in))
	e.must(e.reqs.Approve(ctx, officer, tasks.ID, "Erase Kari everywhere.", nil))
	ts, err := e.reqs.Tasks(ctx, officer, tasks.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		if !tk.Status.Ended() {
			e.must(e.reqs.SkipTask(ctx, officer, tasks.ID, tk.ID, "Kari has no account in this system."))
			break
		}
	}
	e.clock.Set(closedFull)
	tasks = e.must(e.reqs.Refuse(ctx, officer, tasks.ID, dsar.Decision{Ground: dsar.GroundManifestlyUnfounded, Text: "Kari asked ten times."}))

	closeAt := func(ctrl string, reg dsar.Regulation, closed time.Time) *dsar.Request {
		t.Helper()
		e.clock.Set(closed.AddDate(0, 0, -5))
		r := e.must(e.reqs.Create(ctx, officer, dsar.NewRequest{Type: dsar.TypeAccess, Controller: ctrl, Subject: subject, Regulation: reg,
			Details: "Everything.", Verified: true, VerificationMethod: "customer portal login"}))
		e.clock.Set(closed)
		storetest.Ready(t, e.db, r.ID)
		return e.must(e.reqs.Complete(ctx, officer, r.ID, dsar.Decision{Summary: "Sent Kari everything."}))
	}
	// Kept: closed 35 months ago, and exactly 36 months ago (kept through
	// the last day of the period).
	kept35 := closeAt("nte", "", now.AddDate(0, -35, 0))
	kept36 := closeAt("nte", "", now.AddDate(-3, 0, 0))
	// keto-diets keeps case records for 24 months.
	ccpa := closeAt("keto-diets", dsar.RegulationCCPA, now.AddDate(-2, 0, -1))
	ccpaKept := closeAt("keto-diets", dsar.RegulationCCPA, now.AddDate(0, -23, 0))
	// Open for four years: never touched.
	e.clock.Set(now.AddDate(-4, 0, 0))
	open := e.must(e.reqs.Create(ctx, officer, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: subject, Details: "Everything."}))

	e.clock.Set(now)
	// A mail the SMTP server refused, with the subject's address in the
	// error.
	outbox := store.NewOutbox(e.db)
	var mails []struct{ ID string }
	storetest.Select(t, e.url, &mails, "SELECT id FROM outbox WHERE request_id = ? AND kind = 'mail' ORDER BY id", full.ID)
	it, ok, err := outbox.Claim(ctx, mails[0].ID, now, time.Minute)
	if err != nil || !ok {
		t.Fatalf("claim a mail: %v %v", ok, err)
	}
	if err := outbox.Release(ctx, it, "550 <kari@example.no>: no such user", true); err != nil {
		t.Fatal(err)
	}
	all := []*dsar.Request{full, tasks, kept35, kept36, ccpa, ccpaKept, open}
	for _, r := range all {
		e.keepCopies(r)
	}
	snap := func() map[string]caseSnapshot {
		out := map[string]caseSnapshot{}
		for _, r := range all {
			out[r.Reference] = e.snapshot(r.ID)
		}
		return out
	}
	today := dsar.DateOf(now.In(oslo))
	dashboard := func() *dsar.Dashboard {
		t.Helper()
		d, err := e.db.Dashboard(ctx, admin, "", dsar.NewDate(2021, time.January, 1), today)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	verify := func(when string) {
		t.Helper()
		rep, err := e.db.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Intact() || rep.Events == 0 {
			t.Fatalf("%s: the audit trail does not verify (%d events): %v", when, rep.Events, rep.Problems)
		}
	}
	verify("before")
	before, dashBefore := snap(), dashboard()

	// The dry run lists the three due cases and removes nothing.
	plan, err := e.rt.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type line struct{ Ref, Ctrl, Closed, Due, Kinds string }
	var got []line
	for _, rm := range plan {
		got = append(got, line{rm.Reference, rm.Controller, rm.Closed.String(), rm.Due.String(), rm.KindNames()})
	}
	want := []line{
		{full.Reference, "nte", "2023-03-14", "2026-03-15", "subject,details,texts,messages,documents,verifications,mail,files,audit_personal"},
		{tasks.Reference, "nte", "2023-03-14", "2026-03-15", "subject,texts,task_texts,mail,files,audit_personal"},
		{ccpa.Reference, "keto-diets", "2024-03-14", "2026-03-15", "subject,details,texts,mail,files,audit_personal"},
	}
	less := func(a, b line) int { return strings.Compare(a.Ref, b.Ref) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, snap()); diff != "" {
		t.Fatalf("the dry run changed something (-before +after):\n%s", diff)
	}

	n, more, err := e.rt.Run(ctx, 0)
	if err != nil || n != 3 || more {
		t.Fatalf("run: removed %d, more %v, %v", n, more, err)
	}
	after := snap()
	for _, r := range []*dsar.Request{kept35, kept36, ccpaKept, open} {
		if diff := cmp.Diff(before[r.Reference], after[r.Reference]); diff != "" {
			t.Errorf("case %s not due was changed (-before +after):\n%s", r.Reference, diff)
		}
	}
	// What a removed case keeps and loses, table by table.
	personal := map[string]bool{"subject_email": true, "subject_name": true, "subject_phone": true, "subject_customer_id": true,
		"details": true, "extension_reason": true, "decision_text": true, "summary": true, "refused_part": true, "granted_part": true,
		"status_token_hash": true, "results": true} // results: the list of the subject's files, deleted with the case's files
	bookkeeping := map[string]bool{"updated_at": true, "audit_seq": true, "audit_hash": true, "personal_data_removed_at": true}
	for _, r := range []*dsar.Request{full, tasks, ccpa} {
		b, a := before[r.Reference], after[r.Reference]
		rb, ra := b.Rows["requests"][0], a.Rows["requests"][0]
		for col, v := range ra {
			switch {
			case personal[col]:
				if v != nil && v != "" {
					t.Errorf("%s: requests.%s kept %q", r.Reference, col, v)
				}
			case bookkeeping[col]:
			case !cmp.Equal(rb[col], v):
				t.Errorf("%s: requests.%s changed from %v to %v", r.Reference, col, rb[col], v)
			}
		}
		if ra["personal_data_removed_at"] == nil {
			t.Errorf("%s: no personal_data_removed_at", r.Reference)
		}
		for _, tb := range []string{"verifications", "request_messages", "identity_documents"} {
			if len(a.Rows[tb]) != 0 {
				t.Errorf("%s: %d rows left in %s", r.Reference, len(a.Rows[tb]), tb)
			}
		}
		for _, p := range a.Rows["request_pauses"] {
			if p["note"] != "" {
				t.Errorf("%s: a pause kept its note %q", r.Reference, p["note"])
			}
		}
		for _, o := range a.Rows["outbox"] {
			if o["last_error"] != "" {
				t.Errorf("%s: an outbox row kept its error %q", r.Reference, o["last_error"])
			}
		}
		if len(a.Rows["outbox"]) != len(b.Rows["outbox"]) || len(a.Rows["tasks"]) != len(b.Rows["tasks"]) {
			t.Errorf("%s: outbox or task rows were deleted, not cleared", r.Reference)
		}
		for _, tk := range a.Rows["tasks"] {
			for _, col := range []string{"answer", "reason", "evidence", "external"} {
				if tk[col] != "" {
					t.Errorf("%s: tasks.%s kept %q", r.Reference, col, tk[col])
				}
			}
		}
		evs := a.Rows["request_events"]
		if len(evs) != len(b.Rows["request_events"])+1 {
			t.Fatalf("%s: %d events after, %d before: want one more", r.Reference, len(evs), len(b.Rows["request_events"]))
		}
		for _, ev := range evs[:len(evs)-1] {
			var data map[string]string
			_ = json.Unmarshal([]byte(fmt.Sprint(ev["data"])), &data)
			if ev["client_ip"] != "" || ev["reason"] != "" || data["part"] != "" || data["granted"] != "" {
				t.Errorf("%s: event %v (%v) kept personal data: ip %q reason %q data %v", r.Reference, ev["seq"], ev["kind"], ev["client_ip"], ev["reason"], data)
			}
		}
		last := evs[len(evs)-1]
		if last["kind"] != string(dsar.EventPersonalDataRemoved) || last["reason"] != "records retention" {
			t.Errorf("%s: the last event is %v %q", r.Reference, last["kind"], last["reason"])
		}
		if len(a.Files) != 0 || len(a.Mails) != 0 || len(b.Files) == 0 || len(b.Mails) == 0 {
			t.Errorf("%s: files %v -> %v, mails %v -> %v", r.Reference, b.Files, a.Files, b.Mails, a.Mails)
		}
	}
	// The personal data was there to remove.
	if b := before[full.Reference]; len(b.Rows["request_messages"]) < 3 || len(b.Rows["identity_documents"]) != 1 || len(b.Rows["verifications"]) == 0 {
		t.Errorf("the full case had %d messages, %d documents, %d verifications before", len(b.Rows["request_messages"]),
			len(b.Rows["identity_documents"]), len(b.Rows["verifications"]))
	}
	hadTaskText := false
	for _, tk := range before[tasks.Reference].Rows["tasks"] {
		hadTaskText = hadTaskText || tk["reason"] != ""
	}
	if !hadTaskText {
		t.Error("the tasks case had no task text to remove")
	}

	verify("after")
	if diff := cmp.Diff(dashBefore, dashboard()); diff != "" {
		t.Errorf("the dashboard changed (-before +after):\n%s", diff)
	}
	// A removed case cannot be reopened: nobody is left to answer.
	if _, err := e.reqs.Reopen(ctx, officer, full.ID, "Kari wrote again."); dsar.ErrorMessage(err) != "error.reopen.removed" {
		t.Errorf("reopen a removed case: %v", err)
	}

	// The second run finds nothing and changes nothing.
	e.clock.Set(now.Add(time.Hour))
	if n, _, err := e.rt.Run(ctx, 0); err != nil || n != 0 {
		t.Errorf("second run: removed %d, %v", n, err)
	}
	if diff := cmp.Diff(after, snap()); diff != "" {
		t.Errorf("the second run changed something (-first +second):\n%s", diff)
	}
	if plan, err := e.rt.Plan(ctx); err != nil || len(plan) != 0 {
		t.Errorf("dry run after the removal: %d cases, %v", len(plan), err)
	}

	// The seal keeps the redacted events honest: changing what is left of
	// one (past the trigger) is found.
	e.db.Close() // SQLite: let the raw connection write
	drop := "DROP TRIGGER request_events_no_update"
	if !strings.HasPrefix(e.url, "sqlite:") {
		drop += " ON request_events"
	}
	if err := storetest.Exec(t, e.url, drop); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Exec(t, e.url, "UPDATE request_events SET actor = 'someone else' WHERE id = (SELECT min(id) FROM request_events WHERE request_id = ? AND redacted)", full.ID); err != nil {
		t.Fatal(err)
	}
	e.open()
	rep, err := e.db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Intact() || !strings.Contains(fmt.Sprint(rep.Problems), "seal") {
		t.Errorf("a changed redacted event was not found: %v", rep.Problems)
	}
}

// The trail stays append-only but for the one change a removal makes:
// clearing an event's personal data and marking it redacted, once.
func TestRedactionIsTheOnlyChangeToAnEvent(t *testing.T) {
	clock := dsar.NewManualClock(time.Date(2025, time.March, 5, 9, 0, 0, 0, oslo))
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, clock)
	r, err := store.NewRequests(db).Create(ctx, dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin, IP: "198.51.100.4"}, newRetentionRequest())
	if err != nil {
		t.Fatal(err)
	}
	db.Close() // SQLite: let the raw connection write
	for _, tc := range []struct {
		name, query string
		ok          bool
	}{
		{"change a reason", "UPDATE request_events SET reason = 'x' WHERE request_id = ?", false},
		{"redact and change the kind", "UPDATE request_events SET client_ip = '', reason = '', redacted = true, kind = 'note' WHERE request_id = ?", false},
		{"redact but keep the address", "UPDATE request_events SET reason = '', redacted = true WHERE request_id = ?", false},
		{"delete", "DELETE FROM request_events WHERE request_id = ?", false},
		{"redact", "UPDATE request_events SET client_ip = '', reason = '', data = '{}', redacted = true WHERE request_id = ?", true},
		{"redact again", "UPDATE request_events SET client_ip = '', reason = '', redacted = true WHERE request_id = ?", false},
	} {
		err := storetest.Exec(t, url, tc.query, r.ID)
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want success %v", tc.name, err, tc.ok)
		}
	}
}

func newRetentionRequest() dsar.NewRequest {
	return dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "kari@example.no"}}
}

// tickingClock is base's time plus a minute for every time it was read: a
// retention run on it spends its budget after a few cases.
type tickingClock struct {
	base dsar.Clock
	mu   sync.Mutex
	n    int
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.base.Now().Add(time.Duration(c.n) * time.Minute)
}

// The reconciler plans the day's retention run once, from 02:00 UTC; a
// worker carries it out, and a backlog that outlasts a part's budget goes
// on in further parts until nothing is due, each case in its own
// transaction.
func TestDailyRetentionRunInParts(t *testing.T) {
	e := newEnv(t, time.Date(2023, time.March, 1, 9, 0, 0, 0, oslo))
	e.disp.Planners = []workflows.Planner{e.planner(t, "retention")}
	const n = 5
	var cases []*dsar.Request
	for i := 0; i < n; i++ {
		cases = append(cases, e.create(t, "nte"))
	}
	e.clock.Set(time.Date(2023, time.March, 14, 10, 0, 0, 0, oslo))
	for _, r := range cases {
		storetest.Ready(t, e.db, r.ID)
		if _, err := e.reqs.Complete(ctx, admin, r.ID, dsar.Decision{Summary: "Sent Kari everything."}); err != nil {
			t.Fatal(err)
		}
	}
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.handlers.Blobs = blobs // the download windows end before the retention
	e.runDirect(t)           // the mails of the intake and the completions
	e.clock.Set(time.Date(2023, time.April, 1, 10, 0, 0, 0, oslo))
	e.runDirect(t) // the end of the download windows
	e.handlers.Retention = &workflows.Retention{DB: e.db, Blobs: blobs, Clock: &tickingClock{base: e.clock}, Log: quiet, Batch: 1}

	due := func() int {
		t.Helper()
		ids, err := e.db.RetentionDue(ctx, e.clock.Now(), 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	// 15 March 2026, 01:30 UTC: due, but the day's run is not yet.
	e.clock.Set(time.Date(2026, time.March, 15, 1, 30, 0, 0, time.UTC))
	if _, err := e.disp.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.runDirect(t); got != 0 || due() != n {
		t.Fatalf("before 02:00 UTC: %d rows ran, %d cases due", got, due())
	}
	e.clock.Set(time.Date(2026, time.March, 15, 2, 0, 0, 0, time.UTC))
	for i := 0; i < 2; i++ { // planning twice plans once
		if _, err := e.disp.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	parts := 0
	for e.runDirect(t) > 0 {
		parts++
		if parts > 2*n {
			t.Fatal("the run does not end")
		}
	}
	if parts < 2 || due() != 0 {
		t.Errorf("%d parts ran, %d cases still due", parts, due())
	}
	for _, r := range cases {
		got, err := e.reqs.Get(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PersonalDataRemovedAt == nil || got.Subject != (dsar.Subject{}) {
			t.Errorf("%s: removed at %v, subject %+v", r.Reference, got.PersonalDataRemovedAt, got.Subject)
		}
	}
	if rep, err := e.db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Errorf("audit after the run: %v %v", rep.Problems, err)
	}
	// Later the same day: nothing new is planned.
	e.clock.Set(time.Date(2026, time.March, 15, 20, 0, 0, 0, time.UTC))
	if _, err := e.disp.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.runDirect(t); got != 0 {
		t.Errorf("%d rows ran later the same day", got)
	}
}

// The daily run deletes the Idempotency-Key records that lapsed, answers
// and all, even when no call came to claim a key since; live ones stay.
func TestRetentionRunDeletesLapsedIdempotencyRecords(t *testing.T) {
	e := newRetentionEnv(t)
	ctx := context.Background()
	idem := store.NewIdempotency(e.db)
	claim, _, err := idem.Claim(ctx, "old", "h")
	if err != nil {
		t.Fatal(err)
	}
	if err := idem.Finish(ctx, "old", claim, &dsar.IdempotentAnswer{Status: 201, Body: []byte(`{"subject":{"email":"kari@example.no"}}`)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(dsar.IdempotencyTTL)
	if _, _, err := e.rt.Run(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// Nothing lapsed is left for a purge to find, a day later still.
	if n, err := e.db.PurgeIdempotency(ctx, e.clock.Now().Add(dsar.IdempotencyTTL)); err != nil || n != 0 {
		t.Errorf("left after the run: %d, %v", n, err)
	}
}

// A backlog of old webhook events larger than a part's budget allows is
// pruned over several parts, none of them past its budget by more than a
// transaction.
func TestRetentionRunPrunesWebhooksWithinItsBudget(t *testing.T) {
	e := newRetentionEnv(t)
	ctx := context.Background()
	at := e.clock.Now().UTC()
	const n = 1200 // three transactions of store.WebhookPruneBatch
	if err := storetest.Exec(t, e.url, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO webhook_events (id, type, request_id, controller, at, data)
		SELECT 'event-' || i, 'request.received', NULL, 'nte', ?, '{}' FROM seq`, n, at); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(dsar.WebhookRetention + time.Hour)
	// Each reading of the clock is a minute later: a budget of a minute
	// is spent by the first transaction.
	e.rt.Clock = &tickingClock{base: e.clock}
	left := func() int {
		var c []int
		storetest.Select(t, e.url, &c, "SELECT COUNT(*) FROM webhook_events")
		return c[0]
	}
	parts := 0
	for more := true; more; parts++ {
		var err error
		if _, more, err = e.rt.Run(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		if parts == 0 && left() != n-store.WebhookPruneBatch {
			t.Errorf("after the first part %d events are left, want %d", left(), n-store.WebhookPruneBatch)
		}
	}
	if parts != 3 || left() != 0 {
		t.Errorf("%d parts left %d events, want 3 parts and none", parts, left())
	}
}

// The daily run deletes the webhook events older than the redelivery
// window with their delivery log; a newer one stays.
func TestRetentionRunPrunesOldWebhookEvents(t *testing.T) {
	e := newRetentionEnv(t)
	ctx := context.Background()
	hooks := store.NewWebhooks(e.db)
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	sub, err := hooks.CreateSubscription(ctx, admin, dsar.WebhookSubscriptionInput{URL: "https://crm.example.com/hooks/dsar",
		Events: []dsar.WebhookEventType{dsar.WebhookRequestReceived}})
	if err != nil {
		t.Fatal(err)
	}
	at := e.clock.Now().UTC()
	for i, id := range []string{"old", "new"} {
		if err := storetest.Exec(t, e.url, `INSERT INTO webhook_events (id, type, controller, at, data) VALUES (?, 'request.received', 'nte', ?, '{}')`,
			id, at.Add(time.Duration(i)*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := storetest.Exec(t, e.url, `INSERT INTO webhook_attempts (id, event_id, subscription_id, attempt, outcome, status_code, at)
			VALUES (?, ?, ?, 1, 'delivered', 200, ?)`, "attempt-"+id, id, sub.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(dsar.WebhookRetention + time.Hour)
	if _, _, err := e.rt.Run(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var events, attempts []string
	storetest.Select(t, e.url, &events, "SELECT id FROM webhook_events ORDER BY id")
	storetest.Select(t, e.url, &attempts, "SELECT event_id FROM webhook_attempts ORDER BY event_id")
	if !slices.Equal(events, []string{"new"}) || !slices.Equal(attempts, []string{"new"}) {
		t.Errorf("after the run: events %v, attempts of %v; want only the newer one's", events, attempts)
	}
}
