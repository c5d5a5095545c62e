package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// TestResultsReviewedReleasedDownloaded: the files of an access case are
// assembled after its systems answered; a redaction makes files assembled
// before it stale; completion opens a download window; the subject needs
// the status link and a fresh e-mailed code; each download is counted and
// audited; at the end of the window the download is gone and the deletion
// recorded.
func TestResultsReviewedReleasedDownloaded(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 3, 9, 30))
	db := storetest.Open(t, clock)
	reqs, tasks, outbox, results, subjects := store.NewRequests(db), store.NewTasks(db), store.NewOutbox(db), store.NewResults(db), store.NewSubjects(db)
	r, err := reqs.Create(ctx, admin, verifiedRequest("nte"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.Approve(ctx, admin, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	// claimAll claims the case's items of the kind due now.
	claimAll := func(kind dsar.OutboxKind) []*dsar.OutboxItem {
		t.Helper()
		items, err := outbox.Due(ctx, clock.Now(), 10000)
		if err != nil {
			t.Fatal(err)
		}
		var out []*dsar.OutboxItem
		for _, it := range items {
			if it.RequestID == r.ID && it.Kind == kind {
				claimed, ok, err := outbox.Claim(ctx, it.ID, clock.Now(), time.Minute)
				if err != nil || !ok {
					t.Fatalf("claim: %v %v", ok, err)
				}
				out = append(out, claimed)
			}
		}
		return out
	}
	var exported string
	for _, it := range claimAll(dsar.OutboxTask) {
		var p dsar.TaskPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatal(err)
		}
		var results []dsar.TaskResult
		for _, ref := range p.Refs() {
			o := dsar.TaskOutcome{Kind: dsar.OutcomeNoData}
			if exported == "" {
				exported, o = ref.TaskID, dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 3}
			}
			results = append(results, dsar.TaskResult{TaskID: ref.TaskID, Round: ref.Round, Outcome: o})
		}
		if err := tasks.Record(ctx, it, results...); err != nil {
			t.Fatal(err)
		}
	}
	first := claimAll(dsar.OutboxAssemble)
	if len(first) != 1 {
		t.Fatalf("%d assemblies asked for", len(first))
	}
	c, reds, err := results.Assembly(ctx, r.ID)
	if err != nil || !c.Request.TasksEnded || len(reds) != 0 {
		t.Fatalf("assembly: %+v %v %v", c, reds, err)
	}
	// An officer redacts while the first assembly runs: it is stale.
	if _, err := reqs.Redact(ctx, admin, r.ID, exported, 2, "Names another customer."); err != nil {
		t.Fatal(err)
	}
	file := func(it *dsar.OutboxItem) []dsar.ResultFile {
		return []dsar.ResultFile{{Name: dsar.ResultReportHTML, Key: dsar.ResultBlobKey(r.ID, it.ID, dsar.ResultReportHTML), Bytes: 10, SHA256: "ab"}}
	}
	if err := results.Assembled(ctx, first[0], file(first[0]), 0); dsar.ErrorMessage(err) != "error.results.stale" {
		t.Errorf("files made before the redaction: %v", err)
	}
	second := claimAll(dsar.OutboxAssemble)
	if len(second) != 1 {
		t.Fatalf("%d assemblies after the redaction", len(second))
	}
	if _, reds, _ = results.Assembly(ctx, r.ID); len(reds) != 1 || reds[0].Line != 2 || reds[0].TaskID != exported {
		t.Fatalf("redactions %+v", reds)
	}
	if err := results.Assembled(ctx, second[0], file(second[0]), 1); err != nil {
		t.Fatal(err)
	}
	done, err := reqs.Complete(ctx, admin, r.ID, dsar.Decision{Summary: "Your data is ready."})
	if err != nil {
		t.Fatal(err)
	}
	loc := done.ReceivedAt.Location()
	if done.DownloadUntil == nil || !done.DownloadUntil.Equal(dsar.DateOf(clock.Now().Add(dsar.DefaultPolicy.DownloadTTL).In(loc)).EndIn(loc)) {
		t.Fatalf("download window: %v", done.DownloadUntil)
	}

	// The subject: a code, then the file.
	token := db.StatusToken(r.ID)
	if _, err := subjects.Download(ctx, token, "000000", dsar.ResultReportHTML, "192.0.2.9"); dsar.ErrorMessage(err) != "error.download.no_code" {
		t.Errorf("download without a code: %v", err)
	}
	if err := subjects.AskDownloadCode(ctx, token); err != nil {
		t.Fatal(err)
	}
	if err := subjects.AskDownloadCode(ctx, token); dsar.ErrorCode(err) != dsar.ERATELIMIT {
		t.Errorf("a second code at once: %v", err)
	}
	var codeID string
	items, _ := outbox.Due(ctx, clock.Now(), 10000)
	for _, it := range items {
		var p dsar.MailPayload
		if it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == dsar.MailDownloadCode {
			codeID = p.VerificationID
		}
	}
	code := db.Keyring.Code(dsar.TokenDownload, codeID)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	if _, err := subjects.Download(ctx, token, wrong, dsar.ResultReportHTML, "192.0.2.9"); dsar.ErrorMessage(err) != "error.verify.wrong_code" {
		t.Errorf("wrong code: %v", err)
	}
	if _, err := subjects.Download(ctx, "not-the-token", code, dsar.ResultReportHTML, "192.0.2.9"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("a tampered status link: %v", err)
	}
	f, err := subjects.Download(ctx, token, code, dsar.ResultReportHTML, "192.0.2.9")
	if err != nil || f == nil || f.Key != dsar.ResultBlobKey(r.ID, second[0].ID, dsar.ResultReportHTML) {
		t.Fatalf("download: %+v %v", f, err)
	}
	got, _ := reqs.Get(ctx, admin, r.ID)
	if got.Downloads != 1 {
		t.Errorf("%d downloads counted", got.Downloads)
	}
	evs, _ := reqs.Events(ctx, admin, r.ID)
	var kinds []string
	for _, ev := range evs {
		switch ev.Kind {
		case dsar.EventResultsAssembled, dsar.EventRedacted, dsar.EventDownloadCode, dsar.EventDownloaded:
			kinds = append(kinds, string(ev.Kind))
		}
	}
	if want := "redacted,results_assembled,download_code,downloaded"; strings.Join(kinds, ",") != want {
		t.Errorf("events %v, want %s", kinds, want)
	}

	// The end of the window.
	clock.Set(done.DownloadUntil.Add(time.Minute))
	if _, err := subjects.Download(ctx, token, code, dsar.ResultReportHTML, "192.0.2.9"); dsar.ErrorMessage(err) != "error.download.expired" {
		t.Errorf("after the window: %v", err)
	}
	expiry := claimAll(dsar.OutboxResultsExpiry)
	if len(expiry) != 1 {
		t.Fatalf("%d deletions due", len(expiry))
	}
	deleted := 0
	if err := results.Expired(ctx, expiry[0], func(context.Context) error { deleted++; return nil }); err != nil || deleted != 1 {
		t.Fatalf("expiry: %v, %d deletions", err, deleted)
	}
	if got, _ := reqs.Get(ctx, admin, r.ID); len(got.Results) != 0 {
		t.Errorf("files still listed after the deletion: %+v", got.Results)
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Fatalf("audit: %+v %v", rep, err)
	}
}

// TestFurtherCopyFlagged: an access request of a subject whose earlier
// access request was answered says so (Art 15(3): a further copy, which may
// carry a fee announced first); another subject's, an erasure's and the
// first request's do not.
func TestFurtherCopyFlagged(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 3, 9, 30))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	create := func(typ dsar.RequestType, email string) *dsar.Request {
		t.Helper()
		in := verifiedRequest("nte")
		in.Type, in.Subject.Email = typ, email
		r, err := reqs.Create(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := create(dsar.TypeAccess, "kari@example.no")
	storetest.Ready(t, db, first.ID)
	if _, err := reqs.Complete(ctx, admin, first.ID, dsar.Decision{Summary: "Here is your data."}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r    *dsar.Request
		want int
	}{
		{create(dsar.TypeAccess, "KARI@example.no"), 1},
		{create(dsar.TypeAccess, "ola@example.no"), 0},
		{create(dsar.TypeErasure, "kari@example.no"), 0},
		{first, 0},
	} {
		got, err := reqs.Get(ctx, admin, tc.r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CopiesGiven != tc.want {
			t.Errorf("%s %s: %d copies given, want %d", got.Type, got.Subject.Email, got.CopiesGiven, tc.want)
		}
	}
	// A change's answer shows the case as Get does, also after one that
	// changes more than the request (a pause).
	further := create(dsar.TypeAccess, "kari@example.no")
	for name, change := range map[string]func() (*dsar.Request, error){
		"note": func() (*dsar.Request, error) { return reqs.Note(ctx, admin, further.ID, "Asked by phone as well.") },
		"pause": func() (*dsar.Request, error) {
			return reqs.Pause(ctx, admin, further.ID, dsar.PauseClarification, "Which accounts?")
		},
	} {
		got, err := change()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.CopiesGiven != 1 {
			t.Errorf("the answer to a %s: %d copies given, want 1", name, got.CopiesGiven)
		}
	}
}
