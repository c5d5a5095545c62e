package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// TestCaseResultsInABrowser: an officer opens an access case whose files
// are assembled, in a real browser in both languages: the section lists the
// files and the form to leave a record out, and the page passes the width
// and accessibility checks; the officer leaves a record out and the page
// lists it.
func TestCaseResultsInABrowser(t *testing.T) {
	bctx := browser(t)
	e := migratedEnv(t)
	svc := start(t, e)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("officer password 123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, e, "user", "create", "--email", "kari@nte.no", "--role", "officer", "--controller", "nte", "--password-file", pw); code != 0 {
		t.Fatalf("user create: %s", stderr)
	}
	ctx := context.Background()
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	reqs, tasks := store.NewRequests(svc.app.db), store.NewTasks(svc.app.db)
	r, err := reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Language: dsar.LanguageNB,
		Subject: dsar.Subject{Email: "kunde@example.no", Name: "Kari Kunde"}, Verified: true, VerificationMethod: "kundeportal"})
	if err != nil {
		t.Fatal(err)
	}
	// The first export returns data; the rest answers when the test
	// readies the case (as the worker would).
	if _, err := reqs.Approve(ctx, admin, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	list, err := reqs.Tasks(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range list {
		if task.Action == dsar.ActionExport && task.Status == dsar.TaskSent {
			if err := tasks.Callback(ctx, task.ID, dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: 4}); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	storetest.Ready(t, svc.app.db, r.ID)

	err = chromedp.Do(bctx,
		chromedp.Navigate(svc.url+"/cases/"+r.ID+"?lang=nb"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "kari@nte.no"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "officer password 123"),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#results`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	checkPage(t, bctx, "case-results-nb")
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#results ~ details summary`)),
		chromedp.SetValue(chromedp.CSS(`#redact-line`), "2"),
		chromedp.SendKeys(chromedp.CSS(`#redact-reason`), "Posten er en melding som handler om en annen kunde."),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "case-results-nb")
	if err := chromedp.Do(bctx, chromedp.Submit(chromedp.CSS(`#redact-reason`)), chromedp.WaitVisible(chromedp.CSS(`#redactions`))); err != nil {
		failPage(t, bctx, err)
	}
	page, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "handler om en annen kunde") {
		t.Errorf("the redaction is not listed:\n%s", page)
	}
	checkPage(t, bctx, "case-redacted-nb")
	if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/cases/"+r.ID+"?lang=en"), chromedp.WaitVisible(chromedp.CSS(`#results`))); err != nil {
		failPage(t, bctx, err)
	}
	checkPage(t, bctx, "case-results-en")
	if got := apiStatus(t, svc.url+"/results/"+r.ID+"/report.html"); got != http.StatusSeeOther && got != http.StatusOK {
		t.Errorf("the file link without a session: %d", got)
	}
}

// apiStatus returns the status of a GET without credentials, not
// following redirects.
func apiStatus(t *testing.T, url string) int {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
