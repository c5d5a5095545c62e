package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// browser starts headless Chromium (Debian's) for the test. Without a
// browser the test is skipped, unless DSAR_TEST_REQUIRE_BROWSER is set, as
// CI sets it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("DSAR_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("DSAR_TEST_REQUIRE_BROWSER") != "" {
			t.Fatal("DSAR_TEST_REQUIRE_BROWSER is set but chromium is not installed")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1200, 1400),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves a full-page PNG under DSAR_SCREENSHOTS (docs/screenshots
// when CI or a developer asks for them); without it, nothing is written.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DSAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// failPage ends the test with what the browser shows.
func failPage(t *testing.T, ctx context.Context, err error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(c, chromedp.Location())
	text, _ := chromedp.Run(c, chromedp.Text(chromedp.CSS(`body`)))
	t.Fatalf("%v\nat %s:\n%s", err, loc, text)
}

// verificationMail waits for the verification mail to the address and
// returns its text.
func verificationMail(t *testing.T, catcher *mailtest.Server, to string) string {
	t.Helper()
	for n := 1; ; n++ {
		for _, m := range catcher.Wait(t, n, 30*time.Second) {
			if m.To[0] == to {
				if text := textPart(t, m); linkRE.MatchString(text) {
					return text
				}
			}
		}
	}
}

// textPart returns the decoded text/plain part of a mail.
func textPart(t *testing.T, m mailtest.Message) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p)
			return string(b)
		}
	}
}

var (
	codeRE = regexp.MustCompile(`\b\d{6}\b`)
	linkRE = regexp.MustCompile(`https?://\S+/v/[A-Za-z0-9_-]+`)
)

// apiCall sends a JSON call with an API key and decodes the answer.
func apiCall(t *testing.T, method, url, key string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, url, resp.StatusCode, out)
	}
	return out
}

// TestSubjectInABrowser: a data subject fills in the form in a real
// browser, reads the verification mail from the SMTP server, confirms with
// the code (in English) or the link (in Norwegian), sees the status page,
// and answers the officer's question for clarification there.
func TestSubjectInABrowser(t *testing.T) {
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

	for _, lang := range []string{"en", "nb"} {
		t.Run(lang, func(t *testing.T) {
			email := "kari." + lang + "@example.no"
			if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/c/nte?lang="+lang)); err != nil {
				t.Fatalf("navigate: %v", err)
			}
			if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`form`))); err != nil {
				failPage(t, bctx, err)
			}
			screenshot(t, bctx, "form-"+lang)
			checkPage(t, bctx, "form-"+lang)
			err := chromedp.Do(bctx,
				chromedp.Click(chromedp.CSS(`label[for="type-access"]`)),
				chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
				chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Kari Nordmann"),
				chromedp.SendKeys(chromedp.CSS(`textarea[name="details"]`), "All data about my electricity contract."),
				chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
				chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
			)
			if err != nil {
				failPage(t, bctx, err)
			}
			screenshot(t, bctx, "check-email-"+lang)
			checkPage(t, bctx, "check-email-"+lang)
			text := verificationMail(t, catcher, email)
			if lang == "en" {
				// English: the link's page (opening it changes nothing),
				// then back to type the code.
				codePage, lerr := chromedp.Run(bctx, chromedp.Location())
				if lerr != nil {
					t.Fatal(lerr)
				}
				if err := chromedp.Do(bctx, chromedp.Navigate(linkRE.FindString(text)), chromedp.WaitVisible(chromedp.CSS(`form[action^="/v/"] button`))); err != nil {
					failPage(t, bctx, err)
				}
				checkPage(t, bctx, "confirm-link-en")
				err = chromedp.Do(bctx,
					chromedp.Navigate(codePage),
					chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
					chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), codeRE.FindString(text)),
					chromedp.Submit(chromedp.CSS(`input[name="code"]`)),
				)
			} else {
				// Norwegian: follow the link, and confirm on its page.
				err = chromedp.Do(bctx,
					chromedp.Navigate(linkRE.FindString(text)),
					chromedp.WaitVisible(chromedp.CSS(`form[action^="/v/"] button`)),
				)
				if err == nil {
					checkPage(t, bctx, "confirm-link-"+lang)
					err = chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`form[action^="/v/"] button`)))
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			// Only the status page has the withdraw form.
			if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`form[action$="/withdraw"]`))); err != nil {
				failPage(t, bctx, err)
			}
			loc, err := chromedp.Run(bctx, chromedp.Location())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(loc, "/s/") {
				t.Fatalf("after verification the browser is at %s", loc)
			}
			screenshot(t, bctx, "status-"+lang)
			checkPage(t, bctx, "status-"+lang)

			// The officer asks for clarification; the subject answers on the status page.
			list := apiCall(t, http.MethodGet, svc.url+"/api/v1/requests?status=in_progress", key, nil)
			var id string
			for _, r := range list["data"].([]any) {
				m := r.(map[string]any)
				if m["subject"].(map[string]any)["email"] == email {
					id = m["id"].(string)
				}
			}
			if id == "" {
				t.Fatal("the verified request is not in progress")
			}
			apiCall(t, http.MethodPost, svc.url+"/api/v1/requests/"+id+"/messages", key,
				map[string]any{"kind": "clarification", "body": "Which metering point do you mean?"})
			if err := chromedp.Do(bctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`textarea[name="body"]`))); err != nil {
				t.Fatal(err)
			}
			page, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(page, "Which metering point do you mean?") {
				t.Errorf("the officer's question is not on the status page")
			}
			screenshot(t, bctx, "status-question-"+lang)
			checkPage(t, bctx, "status-question-"+lang)
			err = chromedp.Do(bctx,
				chromedp.SendKeys(chromedp.CSS(`textarea[name="body"]`), "The one at my cabin, 707057500012345678."),
				chromedp.Submit(chromedp.CSS(`textarea[name="body"]`)),
				chromedp.WaitNotPresent(chromedp.CSS(`textarea[name="body"]`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			if page, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`))); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(page, "707057500012345678") {
				t.Errorf("the answer is not on the status page")
			}
			got := apiCall(t, http.MethodGet, svc.url+"/api/v1/requests/"+id, key, nil)
			if got["status"] != "in_progress" || got["paused"] != false {
				t.Errorf("after the answer the case is %v (paused %v)", got["status"], got["paused"])
			}
		})
	}
}

// TestOfficerInABrowser: an officer signs in, filters the queue, opens a
// case, extends it with a reason and refuses it partly (the subject's mails
// arrive at the SMTP server), then approves the other cases in bulk.
func TestOfficerInABrowser(t *testing.T) {
	bctx := browser(t)
	e := migratedEnv(t)
	catcher := mailtest.Start(t)
	e["DSAR_SMTP_URL"] = catcher.URL()
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	svc := start(t, e)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("officer password 123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, e, "user", "create", "--email", "kari@nte.no", "--role", "officer", "--controller", "nte", "--password-file", pw); code != 0 {
		t.Fatalf("user create: %s", stderr)
	}
	code, out, _ := run(t, e, "apikey", "create", "--name", "portal", "--role", "system", "--controller", "nte")
	if code != 0 {
		t.Fatal("apikey create failed")
	}
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	var refs []string
	for i, typ := range []string{"access", "erasure", "erasure"} {
		r := apiCall(t, http.MethodPost, svc.url+"/api/v1/requests", key, map[string]any{"type": typ, "controller": "nte", "language": "nb",
			"verified": true, "verification_method": "customer portal login",
			"subject": map[string]any{"email": fmt.Sprintf("kunde%d@example.no", i), "name": "Kunde " + fmt.Sprint(i)}})
		refs = append(refs, r["reference"].(string))
	}
	catcher.Wait(t, 3, 30*time.Second) // the acknowledgements

	err := chromedp.Do(bctx,
		chromedp.Navigate(svc.url+"/queue?lang=nb"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "kari@nte.no"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "officer password 123"),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "queue-nb")
	checkPage(t, bctx, "queue-nb")
	if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/queue?type=erasure"), chromedp.WaitVisible(chromedp.CSS(`table`))); err != nil {
		failPage(t, bctx, err)
	}
	page, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, refs[0]) || !strings.Contains(page, refs[1]) || !strings.Contains(page, refs[2]) {
		t.Errorf("the erasure filter shows the wrong cases")
	}
	// Open the first erasure case and extend it with a reason.
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`a[href^="/cases/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="reason"]`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	caseLoc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	caseID := caseLoc[strings.LastIndex(caseLoc, "/")+1:]
	screenshot(t, bctx, "case-nb")
	checkPage(t, bctx, "case-nb")
	err = chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(`#extend-reason`), "Saken gjelder ti års måledata i tre systemer."),
		chromedp.Submit(chromedp.CSS(`#extend-reason`)),
		chromedp.WaitVisible(chromedp.CSS(`div.notice`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	// Refuse it on an erasure exception.
	err = chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`details.danger-zone summary`)),
		chromedp.SetValue(chromedp.CSS(`#refuse-ground`), "art17_3_b"),
		chromedp.SendKeys(chromedp.CSS(`#refuse-text`), "Fakturaer må oppbevares i fem år etter bokføringsloven."),
		chromedp.Click(chromedp.CSS(`label[for="refuse-confirm"]`)),
		chromedp.Submit(chromedp.CSS(`#refuse-text`)),
		chromedp.WaitVisible(chromedp.CSS(`div.notice`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	// The subject of the case (the first erasure, kunde1) got the
	// acknowledgement, the extension notice and the refusal.
	for n := 5; ; n++ {
		to := 0
		for _, m := range catcher.Wait(t, n, 30*time.Second) {
			if m.To[0] == "kunde1@example.no" {
				to++
			}
		}
		if to == 3 {
			break
		}
	}
	// Approve the cases waiting for approval (the other two) in one go.
	err = chromedp.Do(bctx,
		chromedp.Navigate(svc.url+"/queue?approval=pending"),
		chromedp.WaitVisible(chromedp.CSS(`#bulk-action`)),
		chromedp.SetValue(chromedp.CSS(`#bulk-action`), "approve"),
		chromedp.SendKeys(chromedp.CSS(`#bulk-body`), "Gjennomgått på mandagsmøtet."),
		chromedp.Submit(chromedp.CSS(`#bulk-body`)),
		// The page shows which cases the action changes and asks to confirm.
		chromedp.WaitVisible(chromedp.CSS(`#bulk-confirm`)),
	)
	if err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "bulk-nb")
	checkPage(t, bctx, "bulk-nb")
	// The confirmation in English too, left with Cancel: nothing changes.
	if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/queue?approval=pending&lang=en"), chromedp.WaitVisible(chromedp.CSS(`#bulk-action`)),
		chromedp.Submit(chromedp.CSS(`#bulk-body`)), chromedp.WaitVisible(chromedp.CSS(`#bulk-confirm`))); err != nil {
		failPage(t, bctx, err)
	}
	checkPage(t, bctx, "bulk-en")
	if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/queue?approval=pending&lang=nb"), chromedp.WaitVisible(chromedp.CSS(`#bulk-action`)),
		chromedp.SetValue(chromedp.CSS(`#bulk-action`), "approve"), chromedp.SendKeys(chromedp.CSS(`#bulk-body`), "Gjennomgått på mandagsmøtet."),
		chromedp.Submit(chromedp.CSS(`#bulk-body`)), chromedp.WaitVisible(chromedp.CSS(`#bulk-confirm`)),
		chromedp.Click(chromedp.CSS(`#bulk-confirm`)), chromedp.WaitVisible(chromedp.CSS(`div.notice`))); err != nil {
		failPage(t, bctx, err)
	}
	approved := apiCall(t, http.MethodGet, svc.url+"/api/v1/requests?approved=true", key, nil)["data"].([]any)
	if len(approved) != 2 {
		t.Errorf("%d approved cases, want the two in progress", len(approved))
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(`svg`))); err != nil {
		failPage(t, bctx, err)
	}
	screenshot(t, bctx, "dashboard-nb")
	checkPage(t, bctx, "dashboard-nb")
	// The same pages in English, and a page that does not exist.
	for _, page := range []struct{ path, wait string }{
		{"/queue?lang=en", "table"}, {"/cases/" + caseID + "?lang=en", "#actions"}, {"/dashboard?lang=en", "svg"}, {"/cases/no-such-case", "h1"},
		{"/cases/no-such-case?lang=en", "h1"}, {"/account/password?lang=en", "form"}, {"/account/password?lang=nb", "form"}, {"/signin?lang=en", "form"}, {"/signin?lang=nb", "form"},
	} {
		if err := chromedp.Do(bctx, chromedp.Navigate(svc.url+page.path), chromedp.WaitVisible(chromedp.CSS(page.wait))); err != nil {
			failPage(t, bctx, err)
		}
		checkPage(t, bctx, page.path)
	}
	got := apiCall(t, http.MethodGet, svc.url+"/api/v1/requests?status=refused", key, nil)
	data := got["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["reference"] != refs[1] || data[0].(map[string]any)["extended"] != true {
		t.Errorf("refused cases: %v", data)
	}
}
