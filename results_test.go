package dsar_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
)

// endedCase is a shop access or portability case approved, its systems
// answered (the CRM with data, the others with none) and its files
// assembled.
func endedCase(t *testing.T, typ dsar.RequestType) (*dsar.Case, dsar.Env) {
	t.Helper()
	env := testEnv()
	c := shopCase(typ, "")
	eff, err := dsar.Approve(env, c, shopOfficer, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	for _, task := range c.Tasks {
		o := dsar.TaskOutcome{Kind: dsar.OutcomeNoData}
		if task.Target() == "crm" {
			o = dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 3}
		}
		if eff, err = dsar.RecordOutcome(env, c, dsar.ActorService, task.ID, 0, o); err != nil {
			t.Fatal(err)
		}
		c = apply(c, eff)
	}
	if !c.Request.TasksEnded {
		t.Fatalf("tasks not ended: %+v", c.Tasks)
	}
	return c, env
}

func TestResultsAreReviewedThenReleased(t *testing.T) {
	c, env := endedCase(t, dsar.TypeAccess)
	crm := taskOf(t, c, "crm")
	// Redact: a done export's record, with a reason; the files are made
	// again without it.
	for _, tc := range []struct {
		task   string
		line   int
		reason string
		want   string
	}{
		{crm.ID, 2, "", "invalid:field.required"},
		{crm.ID, 0, "Names a third person.", "invalid:error.redact.line"},
		{taskOf(t, c, "books").ID, 1, "Names a third person.", "invalid:error.redact.no_data"},
		{"nope", 1, "Names a third person.", "invalid:error.redact.task"},
	} {
		if _, err := dsar.Redact(env, c, shopOfficer, tc.task, tc.line, tc.reason); code(err) != tc.want {
			t.Errorf("redact %s line %d %q: %v, want %s", tc.task, tc.line, tc.reason, err, tc.want)
		}
	}
	eff, err := dsar.Redact(env, c, shopOfficer, crm.ID, 2, "Names a third person.")
	if err != nil {
		t.Fatal(err)
	}
	if len(eff.Redactions) != 1 || eff.Redactions[0].Line != 2 || eff.Redactions[0].By != shopOfficer.ID ||
		!slices.ContainsFunc(eff.Outbox, func(it *dsar.OutboxItem) bool { return it.Kind == dsar.OutboxAssemble }) ||
		!slices.Contains(eff.CancelKinds, dsar.OutboxAssemble) {
		t.Errorf("redaction effect: %+v", eff)
	}
	if kinds(eff) != "redacted" {
		t.Errorf("redaction events %s", kinds(eff))
	}
	c = apply(c, eff)
	files := []dsar.ResultFile{{Name: dsar.ResultReportHTML, Bytes: 100, SHA256: "aa"}, {Name: dsar.ResultReportJSON, Bytes: 80, SHA256: "bb"}}
	if _, err := dsar.ResultsAssembled(env, c, files, 0); code(err) != "conflict:error.results.stale" {
		t.Errorf("files made before the redaction: %v", err)
	}
	eff, err = dsar.ResultsAssembled(env, c, files, 1)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if c.Request.ResultsAt == nil || len(c.Request.Results) != 2 || kinds(eff) != "results_assembled" {
		t.Fatalf("assembled: %+v, events %s", c.Request, kinds(eff))
	}
	// Complete releases: a window of DownloadTTL, and the files deleted at
	// its end.
	eff, err = dsar.Complete(env, c, shopOfficer, dsar.Decision{Summary: "Your data is ready to download."})
	if err != nil {
		t.Fatal(err)
	}
	until := dsar.DateOf(env.Now.Add(dsar.DefaultPolicy.DownloadTTL).In(c.Controller.Location)).EndIn(c.Controller.Location)
	if r := eff.Request; r.Status != dsar.StatusCompleted || r.DownloadUntil == nil || !r.DownloadUntil.Equal(until) {
		t.Errorf("completed: %+v", r)
	}
	if i := slices.IndexFunc(eff.Outbox, func(it *dsar.OutboxItem) bool { return it.Kind == dsar.OutboxResultsExpiry }); i < 0 || !eff.Outbox[i].RunAt.Equal(until) {
		t.Errorf("no deletion at the window's end: %+v", eff.Outbox)
	}
	c = apply(c, eff)
	if _, err := dsar.ResultsAssembled(env, c, files, 0); code(err) != "conflict:error.closed" {
		t.Errorf("files assembled after completion: %v", err)
	}
	if _, err := dsar.Redact(env, c, shopOfficer, crm.ID, 1, "Too late."); code(err) != "conflict:error.closed" {
		t.Errorf("redact after completion: %v", err)
	}
}

func TestDownload(t *testing.T) {
	c, env := endedCase(t, dsar.TypePortability)
	if _, err := dsar.AskDownloadCode(env, c, time.Time{}); code(err) != "not_found:error.download.none" {
		t.Errorf("a code before completion: %v", err)
	}
	eff, err := dsar.ResultsAssembled(env, c, []dsar.ResultFile{{Name: dsar.ResultPackage, Bytes: 5, SHA256: "cc"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if eff, err = dsar.Complete(env, c, shopOfficer, dsar.Decision{Summary: "Here is your data."}); err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)

	// A code: mailed, at most one a ResendInterval.
	eff, err = dsar.AskDownloadCode(env, c, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if eff.NewDownloadCode == nil || !eff.NewDownloadCode.ExpiresAt.Equal(env.Now.Add(dsar.DefaultPolicy.DownloadCodeTTL)) || !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailDownloadCode}) || kinds(eff) != "download_code" {
		t.Errorf("code effect: %+v", eff)
	}
	if _, err := dsar.AskDownloadCode(env, c, env.Now.Add(-30*time.Second)); code(err) != "rate_limited:error.download.code_wait" {
		t.Errorf("a second code at once: %v", err)
	}
	live := *eff.NewDownloadCode

	// A wrong code counts; the right one downloads, counted and audited.
	eff, err = dsar.Download(env, c, live, false, dsar.ResultPackage, "192.0.2.1")
	if code(err) != "invalid:error.verify.wrong_code" || eff.DownloadCodeAttempts == nil || eff.DownloadCodeAttempts.Attempts != 1 {
		t.Errorf("wrong code: %+v %v", eff, err)
	}
	if _, err := dsar.Download(env, c, live, true, "other.zip", "192.0.2.1"); code(err) != "not_found:error.download.none" {
		t.Errorf("a file the case does not have: %v", err)
	}
	for i := 1; i <= dsar.DefaultPolicy.MaxDownloads; i++ {
		eff, err = dsar.Download(env, c, live, true, dsar.ResultPackage, "192.0.2.1")
		if err != nil {
			t.Fatalf("download %d: %v", i, err)
		}
		if eff.Request.Downloads != i || kinds(eff) != "downloaded" {
			t.Errorf("download %d: %d counted, events %s", i, eff.Request.Downloads, kinds(eff))
		}
		c = apply(c, eff)
	}
	if _, err := dsar.Download(env, c, live, true, dsar.ResultPackage, "192.0.2.1"); code(err) != "gone:error.download.used_up" {
		t.Errorf("a download too many: %v", err)
	}
	if _, err := dsar.AskDownloadCode(env, c, time.Time{}); code(err) != "gone:error.download.used_up" {
		t.Errorf("a code when used up: %v", err)
	}

	// At the end of the window: gone, and the files deleted.
	later := env
	later.Now = c.Request.DownloadUntil.Add(time.Second)
	c.Request.Downloads = 0
	if _, err := dsar.Download(later, c, live, true, dsar.ResultPackage, "192.0.2.1"); code(err) != "gone:error.download.expired" {
		t.Errorf("download after the window: %v", err)
	}
	eff, err = dsar.ResultsExpired(later, c)
	if err != nil || eff.Request == nil || len(eff.Request.Results) != 0 || kinds(eff) != "results_deleted" {
		t.Fatalf("expiry: %+v %v", eff, err)
	}
	if eff, _ = dsar.ResultsExpired(later, apply(c, eff)); len(eff.Events) != 0 {
		t.Errorf("a second expiry records again: %+v", eff)
	}
}

// kinds lists the kinds of an effect's events, comma separated.
func kinds(eff *dsar.Effect) string {
	var out []string
	for _, ev := range eff.Events {
		out = append(out, string(ev.Kind))
	}
	return strings.Join(out, ",")
}
