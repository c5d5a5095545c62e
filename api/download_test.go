package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/store/storetest"
)

// downloadEnv is a page client whose server keeps case files, and the
// case files themselves.
type downloadEnv struct {
	*pageClient
	db    *store.DB
	blobs dsar.Blobs
	clock *dsar.ManualClock
}

func newDownloadEnv(t *testing.T) *downloadEnv {
	t.Helper()
	clock := dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))
	db := storetest.Open(t, clock)
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := newPageClientOn(t, db, func(cfg *api.Config) { cfg.Blobs = blobs })
	return &downloadEnv{pageClient: p, db: db, blobs: blobs, clock: clock}
}

// completed makes a completed case of the type whose file holds data, and
// returns its ID and status page path.
func (e *downloadEnv) completed(t *testing.T, typ dsar.RequestType, data []byte) (string, string) {
	t.Helper()
	ctx, reqs := context.Background(), store.NewRequests(e.db)
	r, err := reqs.Create(ctx, downloadAdmin, dsar.NewRequest{Type: typ, Controller: "nte", Language: dsar.LanguageNB,
		Subject: dsar.Subject{Email: "kari.nordmann@example.no"}, Verified: true, VerificationMethod: "customer portal"})
	if err != nil {
		t.Fatal(err)
	}
	if dsar.GivesResults(typ) {
		storetest.Ready(t, e.db, r.ID)
		ready, err := reqs.Get(ctx, downloadAdmin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ready.Results {
			if _, err := e.blobs.Put(ctx, f.Key, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := reqs.Complete(ctx, downloadAdmin, r.ID, dsar.Decision{Summary: "Her er dataene dine."}); err != nil {
		t.Fatal(err)
	}
	return r.ID, "/s/" + e.db.StatusToken(r.ID)
}

// state is what a download changes: the count and the audit trail.
type downloadState struct{ Downloads, Events int }

func (e *downloadEnv) state(t *testing.T, id string) downloadState {
	t.Helper()
	r, err := store.NewRequests(e.db).Get(context.Background(), downloadAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := store.NewRequests(e.db).Events(context.Background(), downloadAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	return downloadState{r.Downloads, len(evs)}
}

// code returns the newest download code mailed for the case.
func (e *downloadEnv) code(t *testing.T, id string) string {
	t.Helper()
	items, err := store.NewOutbox(e.db).Due(context.Background(), e.clock.Now().Add(time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	var codeID string
	for _, it := range items {
		var p dsar.MailPayload
		if it.RequestID == id && it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == dsar.MailDownloadCode {
			codeID = p.VerificationID
		}
	}
	if codeID == "" {
		t.Fatalf("no download code mailed for %s", id)
	}
	return e.db.Keyring.Code(dsar.TokenDownload, codeID)
}

var downloadAdmin = dsar.Actor{ID: "a", Role: dsar.RoleAdmin}

// The subject of a completed portability case asks for a code on the
// status page, is told where it went (never the whole address), and
// downloads the package with it: exactly the stored bytes, as an
// attachment that is never cached nor sniffed, the download counted and
// audited. Refused input (a wrong code, a file the case has not, a post
// without its CSRF token, a tampered link) changes nothing but a wrong
// code's count.
func TestSubjectDownloadsTheFilesWithAnEmailedCode(t *testing.T) {
	e := newDownloadEnv(t)
	data := []byte("PK\x03\x04 the package of Kari's data")
	id, status := e.completed(t, dsar.TypePortability, data)

	code, page := e.get(status) // storetest.Ready records the file as 1 byte
	for _, want := range []string{"<h2 id=\"download-heading\">Dataene dine</h2>", "Dataene dine i en flyttbar pakke (ZIP med JSON- og CSV-filer)",
		"(1\u00a0B)", "Du kan laste ned 5 ganger til.", `action="` + status + `/download/code"`, `action="` + status + `/download"`,
		`name="file" value="package.zip"`, "Den gjelder i 30 minutter."} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page (%d) lacks %q", code, want)
		}
	}
	before := e.state(t, id)

	// A post without the page's CSRF token mails nothing.
	if code, _, _ := e.post(status+"/download/code", url.Values{}, "/nothing"); code != http.StatusForbidden {
		t.Errorf("a code asked for without the CSRF token: %d", code)
	}
	if got := e.state(t, id); got != before {
		t.Fatalf("a refused post changed %+v to %+v", before, got)
	}
	code, _, h := e.post(status+"/download/code", url.Values{}, status)
	if code != http.StatusSeeOther || h.Get("Location") != status+"?notice=download_code" {
		t.Fatalf("ask for a code: %d %s", code, h.Get("Location"))
	}
	_, page = e.get(h.Get("Location"))
	if !strings.Contains(page, "Vi har sendt en kode til k***@example.no.") || strings.Contains(page, "kari.nordmann@example.no") {
		t.Errorf("the confirmation does not say where the code went, or says the whole address")
	}
	secret := e.code(t, id)
	if code, page, _ := e.post(status+"/download/code", url.Values{}, status); code != http.StatusTooManyRequests ||
		!strings.Contains(page, "Vi har nettopp sendt deg en kode. Vent et minutt") {
		t.Errorf("a second code at once: %d", code)
	}
	afterCode := e.state(t, id)

	wrong := "000000"
	if wrong == secret {
		wrong = "111111"
	}
	download := func(form url.Values) (int, string, http.Header) { return e.post(status+"/download", form, status) }
	code, page, _ = download(url.Values{"code": {wrong}, "file": {dsar.ResultPackage}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `<p class="field-error" id="download-code-error"><span class="visually-hidden">Feil: </span>Koden er ikke riktig. Du har 4 forsøk igjen.</p>`) ||
		!strings.Contains(page, `aria-invalid="true"`) {
		t.Errorf("a wrong code: %d\n%s", code, page)
	}
	if _, page, _ = download(url.Values{"code": {wrong}, "file": {dsar.ResultPackage}}); !strings.Contains(page, "Du har 3 forsøk igjen.") {
		t.Errorf("the wrong code was not counted")
	}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		csrfFrom   string
		status     int
		says       string
	}{
		{"a file the case has not", status + "/download", url.Values{"code": {secret}, "file": {dsar.ResultReportHTML}}, status, http.StatusNotFound, "Det er ingenting å laste ned"},
		{"no CSRF token", status + "/download", url.Values{"code": {secret}, "file": {dsar.ResultPackage}}, "/nothing", http.StatusForbidden, ""},
		{"a tampered link", status + "x/download", url.Values{"code": {secret}, "file": {dsar.ResultPackage}}, status, http.StatusNotFound, "Denne lenken er ikke gyldig."},
		{"a tampered link asks for a code", status + "x/download/code", url.Values{}, status, http.StatusNotFound, "Denne lenken er ikke gyldig."},
	} {
		code, page, _ := e.post(tc.path, tc.form, tc.csrfFrom)
		if code != tc.status || !strings.Contains(page, tc.says) {
			t.Errorf("%s: %d, want %d saying %q", tc.name, code, tc.status, tc.says)
		}
	}
	if got, want := e.state(t, id), (downloadState{0, afterCode.Events}); got != want {
		t.Fatalf("refused downloads changed the case: %+v, want %+v", got, want)
	}

	req, _ := http.NewRequest(http.MethodGet, e.base+status, nil)
	_, page, _ = e.do(req)
	form := url.Values{"_csrf": {csrfRE.FindStringSubmatch(page)[1]}, "code": {secret}, "file": {dsar.ResultPackage}}
	req, _ = http.NewRequest(http.MethodPost, e.base+status+"/download", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body, hdr := e.do(req)
	if code != http.StatusOK || body != string(data) {
		t.Fatalf("the download: %d, %q, want the stored bytes", code, body)
	}
	ref := reference(t, e.db, id)
	got := map[string]string{}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Cache-Control", "X-Content-Type-Options"} {
		got[k] = hdr.Get(k)
	}
	if diff := cmp.Diff(map[string]string{"Content-Type": "application/zip", "Content-Disposition": `attachment; filename=` + ref + `-package.zip`,
		"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}, got); diff != "" {
		t.Errorf("the download's headers (-want +got):\n%s", diff)
	}
	if !strings.Contains(hdr.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("the download may run in the service's origin: %q", hdr.Get("Content-Security-Policy"))
	}
	if got, want := e.state(t, id), (downloadState{1, afterCode.Events + 1}); got != want {
		t.Errorf("after the download %+v, want %+v", got, want)
	}
	if _, page = e.get(status); !strings.Contains(page, "Du kan laste ned 4 ganger til.") {
		t.Errorf("the page does not count the download")
	}
}

// The HTML report is an attachment with its media type, never a page of
// the service's origin.
func TestTheReportDownloadsAsAnAttachment(t *testing.T) {
	e := newDownloadEnv(t)
	data := []byte("<!doctype html><title>Rapport</title><script>alert(1)</script>")
	id, status := e.completed(t, dsar.TypeAccess, data)
	if _, page := e.get(status); !strings.Contains(page, "Rapport som nettside (HTML)") {
		t.Fatalf("the access report is not offered")
	}
	if code, _, _ := e.post(status+"/download/code", url.Values{}, status); code != http.StatusSeeOther {
		t.Fatalf("ask for a code: %d", code)
	}
	code, body, h := e.post(status+"/download", url.Values{"code": {e.code(t, id)}, "file": {dsar.ResultReportHTML}}, status)
	if code != http.StatusOK || body != string(data) || h.Get("Content-Type") != "text/html; charset=utf-8" ||
		h.Get("Content-Disposition") != "attachment; filename="+reference(t, e.db, id)+"-report.html" {
		t.Errorf("the report: %d %q %q", code, h.Get("Content-Type"), h.Get("Content-Disposition"))
	}
}

// Once the window has ended, or the downloads are used up, the page says
// so (410) and how to get the data again; nothing is counted.
func TestDownloadGoneAfterTheWindowOrTheLastDownload(t *testing.T) {
	e := newDownloadEnv(t)
	id, status := e.completed(t, dsar.TypePortability, []byte("the package"))
	if code, _, _ := e.post(status+"/download/code", url.Values{}, status); code != http.StatusSeeOther {
		t.Fatalf("ask for a code: %d", code)
	}
	secret := e.code(t, id)
	form := func() url.Values { return url.Values{"code": {secret}, "file": {dsar.ResultPackage}} }
	for i := range dsar.DefaultPolicy.MaxDownloads {
		if code, _, _ := e.post(status+"/download", form(), status); code != http.StatusOK {
			t.Fatalf("download %d: %d", i+1, code)
		}
	}
	used := e.state(t, id)
	// The page no longer has a form; another page's token will do.
	code, page, _ := e.post(status+"/download", form(), "/c/nte")
	if code != http.StatusGone || !strings.Contains(page, "Dataene dine er lastet ned så mange ganger som tillatt (5).") ||
		!strings.Contains(page, `href="mailto:personvern@nte.no"`) || !strings.Contains(page, `href="/c/nte?type=portability"`) {
		t.Errorf("a download after the last: %d\n%s", code, page)
	}
	if code, page, _ := e.post(status+"/download/code", url.Values{}, "/c/nte"); code != http.StatusGone || !strings.Contains(page, "så mange ganger som tillatt") {
		t.Errorf("a code after the last download: %d", code)
	}
	if _, page := e.get(status); !strings.Contains(page, "så mange ganger som tillatt") || strings.Contains(page, `name="code"`) {
		t.Errorf("the status page still offers the download")
	}
	if got := e.state(t, id); got != used {
		t.Errorf("refused downloads changed %+v to %+v", used, got)
	}

	id, status = e.completed(t, dsar.TypePortability, []byte("the package"))
	if code, _, _ := e.post(status+"/download/code", url.Values{}, status); code != http.StatusSeeOther {
		t.Fatalf("ask for a code: %d", code)
	}
	secret = e.code(t, id)
	r, err := store.NewRequests(e.db).Get(context.Background(), downloadAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(r.DownloadUntil.Add(time.Second))
	before := e.state(t, id)
	code, page, _ = e.post(status+"/download", form(), "/c/nte")
	if code != http.StatusGone || !strings.Contains(page, "Perioden for å laste ned dataene dine er over") || !strings.Contains(page, `href="/c/nte?type=portability"`) {
		t.Errorf("a download after the window: %d", code)
	}
	if got := e.state(t, id); got != before {
		t.Errorf("a refused download changed %+v to %+v", before, got)
	}
}

// An erasure case gives no files: its page offers none, and a code or a
// download asked for anyway is refused, mailing nothing.
func TestNothingToDownloadForAnErasure(t *testing.T) {
	e := newDownloadEnv(t)
	id, status := e.completed(t, dsar.TypeErasure, nil)
	if code, page := e.get(status); code != http.StatusOK || strings.Contains(page, "download-heading") {
		t.Errorf("the erasure's page (%d) offers a download", code)
	}
	before := e.state(t, id)
	for _, path := range []string{"/download/code", "/download"} {
		code, page, _ := e.post(status+path, url.Values{"code": {"123456"}, "file": {dsar.ResultPackage}}, "/c/nte")
		if code != http.StatusNotFound || !strings.Contains(page, "Det er ingenting å laste ned for denne forespørselen.") {
			t.Errorf("%s: %d", path, code)
		}
	}
	if got := e.state(t, id); got != before {
		t.Errorf("refused posts changed %+v to %+v", before, got)
	}
}

// reference returns the case's reference.
func reference(t *testing.T, db *store.DB, id string) string {
	t.Helper()
	r, err := store.NewRequests(db).Get(context.Background(), downloadAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Reference
}

// Too many wrong codes lock the code: the page says to ask for a new one,
// and the new one downloads.
func TestALockedCodeAsksForANewOne(t *testing.T) {
	e := newDownloadEnv(t)
	id, status := e.completed(t, dsar.TypePortability, []byte("the package"))
	if code, _, _ := e.post(status+"/download/code", url.Values{}, status); code != http.StatusSeeOther {
		t.Fatalf("ask for a code: %d", code)
	}
	wrong := "000000"
	if wrong == e.code(t, id) {
		wrong = "111111"
	}
	form := func(code string) url.Values { return url.Values{"code": {code}, "file": {dsar.ResultPackage}} }
	for i := 1; i < dsar.DefaultPolicy.MaxCodeAttempts; i++ {
		if code, _, _ := e.post(status+"/download", form(wrong), status); code != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d: %d", i, code)
		}
	}
	code, page, _ := e.post(status+"/download", form(wrong), status)
	if code != http.StatusConflict || !strings.Contains(page, "For mange feil koder. Be om en ny kode nedenfor.") {
		t.Errorf("the last wrong code: %d", code)
	}
	if code, _, _ := e.post(status+"/download", form(e.code(t, id)), status); code != http.StatusConflict {
		t.Errorf("the right code once locked: %d", code)
	}
	e.clock.Advance(dsar.DefaultPolicy.ResendInterval)
	if code, _, _ := e.post(status+"/download/code", url.Values{}, status); code != http.StatusSeeOther {
		t.Fatalf("ask for a new code: %d", code)
	}
	if code, body, _ := e.post(status+"/download", form(e.code(t, id)), status); code != http.StatusOK || body != "the package" {
		t.Errorf("the new code: %d %q", code, body)
	}
	if got := e.state(t, id); got.Downloads != 1 {
		t.Errorf("%d downloads counted, want 1", got.Downloads)
	}
}
