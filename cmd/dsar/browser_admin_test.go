package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAdminInABrowser: an admin adds an officer and creates an API key on
// the administration pages in a real browser; the generated password and
// the key are shown once, the key works for the API, and the pages (and
// the data maps) fit a desk's window and a phone's.
func TestAdminInABrowser(t *testing.T) {
	bctx := browser(t)
	e := migratedEnv(t)
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
		chromedp.Navigate(svc.url+"/admin/users?lang=nb"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "boss@nte.no"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "admin password 1234"),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-user`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "kari@nte.no"),
		chromedp.Click(chromedp.CSS(`input[name="controller"][value="nte"]`)),
		chromedp.Submit(chromedp.CSS(`#email`)),
		chromedp.WaitVisible(chromedp.CSS(`div.notice code`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	password, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`div.notice code`)))
	if err != nil || len(password) < 12 {
		t.Fatalf("the generated password %q: %v", password, err)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`a[href^="/admin/users/"]:not([href$="?lang=nb"]):not([href$="?lang=en"])`)), chromedp.WaitVisible(chromedp.CSS(`#edit`))); err != nil {
		failPage(t, bctx, err)
	}
	userPage, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(bctx,
		chromedp.Navigate(svc.url+"/admin/keys"),
		chromedp.WaitVisible(chromedp.CSS(`#new-key`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Kundeportal"),
		chromedp.Click(chromedp.CSS(`input[name="controller"][value="nte"]`)),
		chromedp.Submit(chromedp.CSS(`#name`)),
		chromedp.WaitVisible(chromedp.CSS(`div.notice code`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	key, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`div.notice code`)))
	if err != nil || !strings.HasPrefix(key, "dsar_") {
		t.Fatalf("the key %q: %v", key, err)
	}
	apiCall(t, http.MethodGet, svc.url+"/api/v1/requests", key, nil)

	for _, page := range []string{"/admin/users", userPage, "/admin/keys", "/admin/users?lang=en", userPage + "?lang=en", "/admin/keys?lang=en", "/mailbox?lang=en", "/mailbox?lang=nb",
		"/datamap?controller=nte&lang=en", "/datamap?controller=proviso", "/datamap?controller=intility&lang=nb"} {
		if !strings.HasPrefix(page, "http") {
			page = svc.url + page
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
			failPage(t, bctx, err)
		}
		checkPage(t, bctx, strings.TrimPrefix(page, svc.url))
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(svc.url+"/admin/users")); err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "admin-users-nb")
	if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/admin/keys")); err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "admin-keys-nb")
	if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/datamap?controller=intility&lang=nb")); err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "datamap-nb")
}
