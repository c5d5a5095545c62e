package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsar-project/dsar"
)

// TestWebhookAdminInABrowser: an admin subscribes a receiver on loopback
// (the deployment allows private addresses) on the administration page in
// a real browser, sees the signing secret once, sends a test event, which
// the receiver gets signed with that secret, and sees the attempt in the
// subscription's delivery log; the pages fit a desk's window and a
// phone's.
func TestWebhookAdminInABrowser(t *testing.T) {
	bctx := browser(t)
	type delivery struct {
		header http.Header
		body   []byte
	}
	got := make(chan delivery, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	e := migratedEnv(t)
	e["DSAR_WEBHOOK_ALLOW_PRIVATE"] = "true"
	svc := start(t, e)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("admin password 1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, e, "user", "create", "--email", "boss@nte.no", "--role", "admin", "--password-file", pw); code != 0 {
		t.Fatalf("user create: %s", stderr)
	}
	err := chromedp.Do(bctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(svc.url+"/admin/webhooks?lang=nb"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "boss@nte.no"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "admin password 1234"),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-webhook`)),
		chromedp.SendKeys(chromedp.CSS(`#new-url`), receiver.URL+"/hooks/dsar"),
		chromedp.SendKeys(chromedp.CSS(`#new-description`), "CRM"),
		chromedp.Click(chromedp.CSS(`input[name="event"][value="request.received"]`)),
		chromedp.Click(chromedp.CSS(`input[name="event"][value="request.completed"]`)),
		chromedp.Click(chromedp.CSS(`input[name="controller"][value="nte"]`)),
		chromedp.Submit(chromedp.CSS(`#new-url`)),
		chromedp.WaitVisible(chromedp.CSS(`div.notice code`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	secret, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`div.notice code`)))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret %q: %v", secret, err)
	}
	action, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('form[action$="/test"]').getAttribute("action")`))
	if err != nil {
		failPage(t, bctx, err)
	}
	subPage := svc.url + strings.TrimSuffix(action, "/test")
	if err := chromedp.Do(bctx, chromedp.Navigate(subPage), chromedp.WaitVisible(chromedp.CSS(`#log`))); err != nil {
		failPage(t, bctx, err)
	}
	if page, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`))); err != nil || strings.Contains(page, secret) {
		t.Fatalf("the secret is shown again (%v)", err)
	}

	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`form[action$="/test"] button`)), chromedp.WaitVisible(chromedp.CSS(`div.notice`))); err != nil {
		failPage(t, bctx, err)
	}
	var d delivery
	select {
	case d = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the receiver got no test event")
	}
	key, err := dsar.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	id, err := key.Verify(d.header, d.body, time.Now())
	if err != nil || !strings.HasPrefix(id, "evt_test_") || !strings.Contains(string(d.body), `"type":"webhook.test"`) {
		t.Fatalf("the test event %s (%v): %s", id, err, d.body)
	}
	// The attempt is written right after the answer: the page shows it
	// once it is.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := chromedp.Do(bctx, chromedp.Navigate(subPage), chromedp.WaitVisible(chromedp.CSS(`#log`))); err != nil {
			failPage(t, bctx, err)
		}
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.attempt").length`))
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			failPage(t, bctx, errors.New("the delivery log shows no attempt after the receiver answered"))
		}
	}
	row, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`tr.attempt`)))
	if err != nil || !strings.Contains(row, "webhook.test") || !strings.Contains(row, id) || !strings.Contains(row, "levert · HTTP 204") {
		t.Fatalf("the delivery log's entry %q (%v)", row, err)
	}

	for _, page := range []string{"/admin/webhooks", subPage, "/admin/webhooks?lang=en", subPage + "?lang=en"} {
		if !strings.HasPrefix(page, "http") {
			page = svc.url + page
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
			failPage(t, bctx, err)
		}
		checkPage(t, bctx, strings.TrimPrefix(page, svc.url))
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(svc.url+"/admin/webhooks?lang=nb")); err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "admin-webhooks-nb")
	if err := chromedp.Do(bctx, chromedp.Navigate(subPage)); err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "admin-webhook-nb")
}
