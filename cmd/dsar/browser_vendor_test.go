package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// TestVendorInABrowser: a vendor opens the link of an instruction in a real
// browser, sends the form with a count that is not a number, corrects it
// and confirms; the link then says the task is recorded. Every page is
// checked for width and accessibility, in both languages.
func TestVendorInABrowser(t *testing.T) {
	bctx := browser(t)
	ctx := context.Background()
	db := storetest.Open(t, dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)))
	ctrl, _ := db.Controllers.Get("nte")
	vendors := map[string]bool{}
	for i := range ctrl.Systems[:2] {
		ctrl.Systems[i].Connector = dsar.Connector{Kind: dsar.ConnectorVendorMail, VendorMail: &dsar.VendorMailConnector{
			Email: "privacy@vendor.example", RemindEveryDays: 5, AfterDays: 14, OnOverdue: dsar.OverdueBlock}}
		vendors[ctrl.Systems[i].Key] = true
	}
	reqs, tasks := store.NewRequests(db), store.NewTasks(db)
	r, err := reqs.Create(ctx, dsar.ActorService, dsar.NewRequest{Type: dsar.TypeErasure, Controller: "nte", Language: dsar.LanguageEN,
		Subject: dsar.Subject{Email: "kari@example.no", CustomerID: "K-77"}, Verified: true, VerificationMethod: "Signed in"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reqs.Plan(ctx, dsar.ActorService, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	leaveOut := map[string]string{}
	for _, task := range append(plan.Tasks, plan.Notify...) {
		if !vendors[task.Target()] {
			leaveOut[task.Target()] = "Erased at the counter."
		}
	}
	if _, err := reqs.Approve(ctx, dsar.ActorService, r.ID, "", leaveOut); err != nil {
		t.Fatal(err)
	}
	all, err := reqs.Tasks(ctx, dsar.ActorService, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, task := range all {
		if vendors[task.System] {
			if err := tasks.Callback(ctx, task.ID, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson}); err != nil {
				t.Fatal(err)
			}
			links = append(links, dsar.VendorConfirmPath(task.ID, db.Keyring.Token(dsar.TokenVendorConfirm, task.ID)))
		}
	}
	srv, err := api.New(api.Config{Requests: reqs, Cases: reqs, Subjects: store.NewSubjects(db), APIKeys: store.NewAPIKeys(db),
		Tasks: tasks, Suppression: reqs, Controllers: db.Controllers, Clock: db.Clock, Keyring: db.Keyring,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	for i, lang := range []string{"en", "nb"} {
		link := ts.URL + links[i]
		if err := chromedp.Do(bctx, chromedp.Navigate(link+"?lang="+lang), chromedp.WaitVisible(chromedp.CSS(`textarea[name="evidence"]`))); err != nil {
			failPage(t, bctx, err)
		}
		screenshot(t, bctx, "vendor-"+lang)
		checkPage(t, bctx, "vendor-"+lang)
		err := chromedp.Do(bctx,
			chromedp.Click(chromedp.CSS(`label[for="outcome-done"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="count"]`), "three"),
			chromedp.SendKeys(chromedp.CSS(`textarea[name="evidence"]`), "Deleted the profile and its events."),
			chromedp.Submit(chromedp.CSS(`textarea[name="evidence"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#count-error`)),
		)
		if err != nil {
			failPage(t, bctx, err)
		}
		checkPage(t, bctx, "vendor-errors-"+lang)
		err = chromedp.Do(bctx,
			chromedp.SetValue(chromedp.CSS(`input[name="count"]`), "3"),
			chromedp.Submit(chromedp.CSS(`textarea[name="evidence"]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.lead[role="status"]`)),
		)
		if err != nil {
			failPage(t, bctx, err)
		}
		checkPage(t, bctx, "vendor-thanks-"+lang)
		if err := chromedp.Do(bctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
			failPage(t, bctx, err)
		}
		page, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page, r.Reference) || strings.Contains(page, "K-77") {
			t.Errorf("%s: the link of a recorded task shows:\n%s", lang, page)
		}
		checkPage(t, bctx, "vendor-ended-"+lang)
	}
	got, err := reqs.Get(ctx, dsar.ActorService, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != dsar.StatusCompleted {
		t.Errorf("after both vendors confirmed: %s", got.Status)
	}
}
