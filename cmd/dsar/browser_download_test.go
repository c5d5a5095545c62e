package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// TestDownloadInABrowser: the subject of a completed portability case
// opens the status page, asks for a code, types the one the mail brings
// and downloads the package the worker assembled: the browser saves exactly
// the stored bytes, and the page then counts one download less.
func TestDownloadInABrowser(t *testing.T) {
	bctx := browser(t)
	e := migratedEnv(t)
	catcher := mailtest.Start(t)
	e["DSAR_SMTP_URL"] = catcher.URL()
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	svc := start(t, e)
	code, out, _ := run(t, e, "apikey", "create", "--name", "officer", "--role", "officer", "--controller", "nte")
	if code != 0 {
		t.Fatal("apikey create failed")
	}
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	email := "kari.download@example.no"

	// The officer approves the case and ends every task; the worker
	// assembles the package; the officer completes the case.
	id := apiCall(t, http.MethodPost, svc.url+"/api/v1/requests", key, map[string]any{"type": "portability", "controller": "nte", "language": "nb",
		"verified": true, "verification_method": "customer portal login", "subject": map[string]any{"email": email, "name": "Kari Nordmann"}})["id"].(string)
	apiCall(t, http.MethodPost, svc.url+"/api/v1/requests/"+id+"/approve", key, map[string]any{"note": "Identity verified in the portal."})
	tasks := apiCall(t, http.MethodGet, svc.url+"/api/v1/requests/"+id+"/tasks", key, nil)["data"].([]any)
	if len(tasks) == 0 {
		t.Fatal("the portability case has no tasks")
	}
	for _, tk := range tasks {
		apiCall(t, http.MethodPost, svc.url+"/api/v1/requests/"+id+"/tasks/"+tk.(map[string]any)["id"].(string)+"/skip", key,
			map[string]any{"reason": "The system holds no data about customers."})
	}
	files := assembled(t, svc.app.db, id)
	apiCall(t, http.MethodPost, svc.url+"/api/v1/requests/"+id+"/complete", key, map[string]any{"summary": "Her er dataene dine."})
	stored, err := svc.app.blobs.Open(context.Background(), files[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(stored)
	stored.Close()
	if err != nil || len(want) == 0 {
		t.Fatalf("the stored package: %d bytes, %v", len(want), err)
	}

	status := svc.url + "/s/" + svc.app.db.StatusToken(id)
	for _, lang := range []string{"en", "nb"} {
		if err := chromedp.Do(bctx, chromedp.Navigate(status+"?lang="+lang), chromedp.WaitVisible(chromedp.CSS(`#download-heading`))); err != nil {
			failPage(t, bctx, err)
		}
		screenshot(t, bctx, "status-download-"+lang)
		checkPage(t, bctx, "status-download-"+lang)
	}
	// Ask for a code: the page says where it went.
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`form[action$="/download/code"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`div.notice`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	notice, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`div.notice`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notice, "k***@example.no") || strings.Contains(notice, email) {
		t.Errorf("the notice %q does not say where the code went, or says the whole address", notice)
	}
	checkPage(t, bctx, "status-download-code-sent-nb")
	secret := downloadCode(t, catcher, email)

	// A wrong code first: the field says so.
	wrong := "000000"
	if wrong == secret {
		wrong = "111111"
	}
	err = chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(`#download-code`), wrong),
		chromedp.Click(chromedp.CSS(`button[name="file"][value="package.zip"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#download-code-error`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	checkPage(t, bctx, "status-download-wrong-code-nb")

	// The right code downloads the package into a folder of the test.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(bctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	progress := chromedp.BrowserEvents(wait, cdpbrowser.DownloadProgress)
	err = chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(`#download-code`), secret),
		chromedp.Click(chromedp.CSS(`button[name="file"][value="package.zip"]`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	var saved string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			saved = dir + "/" + ev.GUID
			break
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("the browser cancelled the download")
		}
	}
	got, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("the browser saved %d bytes, not the %d stored", len(got), len(want))
	}
	r, err := store.NewRequests(svc.app.db).Get(context.Background(), dsar.Actor{ID: "test", Role: dsar.RoleAdmin}, id)
	if err != nil || r.Downloads != 1 {
		t.Errorf("%d downloads counted (%v), want 1", r.Downloads, err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(status), chromedp.WaitVisible(chromedp.CSS(`#download-heading`))); err != nil {
		failPage(t, bctx, err)
	}
	page, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "Du kan laste ned 4 ganger til.") {
		t.Errorf("the page does not count the download:\n%s", page)
	}
}

func ptrTo[T any](v T) *T { return &v }

// assembled waits for the worker to assemble the case's files and returns
// them.
func assembled(t *testing.T, db *store.DB, id string) []dsar.ResultFile {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		r, err := store.NewRequests(db).Get(context.Background(), dsar.Actor{ID: "test", Role: dsar.RoleAdmin}, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Results) > 0 {
			return r.Results
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the worker did not assemble the files within 30 s")
		}
	}
}

// downloadCode waits for the download code mail to the address and
// returns its code.
func downloadCode(t *testing.T, catcher *mailtest.Server, to string) string {
	t.Helper()
	for n := 1; ; n++ {
		for _, m := range catcher.Wait(t, n, 30*time.Second) {
			if m.To[0] != to {
				continue
			}
			if text := textPart(t, m); strings.Contains(text, "Skriv inn denne koden") || strings.Contains(text, "Type this code") {
				return codeRE.FindString(text)
			}
		}
	}
}
