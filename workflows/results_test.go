package workflows_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows"
)

// runKind hands every due outbox row of the kind to its handler.
func (e *env) runKind(t *testing.T, kind dsar.OutboxKind) int {
	t.Helper()
	items, err := e.outbox.Due(ctx, e.clock.Now(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Kind != kind {
			continue
		}
		e.sent = append(e.sent, it)
		task, err := workflows.NewOutboxTask(it)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.process(task); err != nil {
			t.Fatalf("%s: %v", task.Type(), err)
		}
		n++
	}
	return n
}

// read returns what the case files hold under key.
func read(t *testing.T, blobs dsar.Blobs, key string) []byte {
	t.Helper()
	rc, err := blobs.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answered is a digiref case of the type whose systems, reached over HTTP
// with case files in a directory, have answered (each with records of the
// subject).
func answered(t *testing.T, typ dsar.RequestType, lang dsar.Language, records int) (*env, *blob.Dir, *dsar.Request) {
	t.Helper()
	return answeredWith(t, typ, lang, records, func(*env, *dsar.NewRequest) {})
}

// answeredWith is answered with the environment and the request's input
// changed by with before the request is made.
func answeredWith(t *testing.T, typ dsar.RequestType, lang dsar.Language, records int, with func(*env, *dsar.NewRequest)) (*env, *blob.Dir, *dsar.Request) {
	t.Helper()
	e, sys := httpEnv(t, 0)
	sys.Hold("kari@example.no", records)
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.handlers.Blobs = blobs
	in := dsar.NewRequest{Type: typ, Controller: "digiref", Language: lang,
		Subject: dsar.Subject{Email: "kari@example.no"}, Verified: true, VerificationMethod: "portal login"}
	with(e, &in)
	r, err := e.reqs.Create(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reqs.Approve(ctx, digirefOfficer, r.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	for e.runTasks(t) > 0 {
	}
	return e, blobs, r
}

// TestAccessAnsweredWithItsFiles: once an access case's systems have
// answered over HTTP, the worker assembles the report (HTML and JSON) from
// what they returned; a redacted record is left out of the files assembled
// next; completing the case gives them to the subject, who downloads the
// exact bytes with the status link and a mailed code; at the end of the
// window the files and the collected data are deleted.
func TestAccessAnsweredWithItsFiles(t *testing.T) {
	e, blobs, r := answered(t, dsar.TypeAccess, dsar.LanguageEN, 3)
	var export *dsar.Task
	for _, task := range e.tasks(t, r.ID) {
		if task.Action == dsar.ActionExport && export == nil {
			export = task
		}
	}
	if export == nil || export.Status != dsar.TaskDone || export.Count != 3 {
		t.Fatalf("export task %+v", export)
	}
	if n := e.runKind(t, dsar.OutboxAssemble); n != 1 {
		t.Fatalf("%d assemblies", n)
	}
	got, err := e.reqs.Get(ctx, admin, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ResultsAt == nil || len(got.Results) != 2 || got.Results[0].Name != dsar.ResultReportHTML || got.Results[1].Name != dsar.ResultReportJSON {
		t.Fatalf("results %+v", got.Results)
	}
	record := func(n int) string { return fmt.Sprintf(`"n":%d,"task":%q`, n, export.ID) }
	for _, f := range got.Results {
		b := read(t, blobs, f.Key)
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
			t.Errorf("%s: %d bytes, sha256 %s recorded; %d bytes read", f.Name, f.Bytes, f.SHA256, len(b))
		}
	}
	report := string(read(t, blobs, got.Results[1].Key))
	if !strings.Contains(report, record(2)) {
		t.Fatalf("the JSON report lacks record 2 of %s:\n%s", export.ID, report)
	}
	html := string(read(t, blobs, got.Results[0].Key))
	if !strings.Contains(html, `lang="en"`) || !strings.Contains(html, export.ID) {
		t.Errorf("the HTML report lacks the data: %.400s", html)
	}

	// A redaction: the next files leave record 2 out.
	if _, err := e.reqs.Redact(ctx, digirefOfficer, r.ID, export.ID, 2, "It names another customer."); err != nil {
		t.Fatal(err)
	}
	if n := e.runKind(t, dsar.OutboxAssemble); n != 1 {
		t.Fatalf("%d assemblies after the redaction", n)
	}
	got, _ = e.reqs.Get(ctx, admin, r.ID)
	report = string(read(t, blobs, got.Results[1].Key))
	if strings.Contains(report, record(2)) || !strings.Contains(report, record(1)) || !strings.Contains(report, record(3)) {
		t.Errorf("after redacting record 2: %s", report)
	}

	// Completed: the subject downloads the report with a code.
	done, err := e.reqs.Complete(ctx, digirefOfficer, r.ID, dsar.Decision{Summary: "Your data is ready to download."})
	if err != nil {
		t.Fatal(err)
	}
	subjects := store.NewSubjects(e.db)
	token := e.db.StatusToken(r.ID)
	if err := subjects.AskDownloadCode(ctx, token); err != nil {
		t.Fatal(err)
	}
	var code string
	items, _ := e.outbox.Due(ctx, e.clock.Now(), 1000)
	for _, it := range items {
		var p dsar.MailPayload
		if it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == dsar.MailDownloadCode {
			code = e.db.Keyring.Code(dsar.TokenDownload, p.VerificationID)
		}
	}
	e.runKind(t, dsar.OutboxMail)
	mailed := false
	for _, m := range e.smtp.Messages() {
		mailed = mailed || (code != "" && bytes.Contains(m.Raw, []byte(code)) && m.To[0] == "kari@example.no")
	}
	if !mailed {
		t.Fatalf("the code %q was not mailed to the subject", code)
	}
	f, err := subjects.Download(ctx, token, code, dsar.ResultReportJSON, "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	if string(read(t, blobs, f.Key)) != report {
		t.Errorf("the download is not the file reviewed")
	}

	// The end of the window: the files and the collected data go.
	e.clock.Set(done.DownloadUntil.Add(time.Minute))
	if n := e.runKind(t, dsar.OutboxResultsExpiry); n != 1 {
		t.Fatalf("%d deletions", n)
	}
	var left []string
	if err := blobs.List(ctx, dsar.CaseBlobPrefix(r.ID), func(k string) error { left = append(left, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("files left after the window: %v", left)
	}
	if _, err := subjects.Download(ctx, token, code, dsar.ResultReportJSON, "192.0.2.7"); dsar.ErrorMessage(err) != "error.download.expired" {
		t.Errorf("a download after the window: %v", err)
	}
}

// TestPortabilityAnsweredWithAPackage: a portability case's file is a ZIP
// whose manifest lists its files with their SHA-256.
func TestPortabilityAnsweredWithAPackage(t *testing.T) {
	e, blobs, r := answered(t, dsar.TypePortability, dsar.LanguageNB, 2)
	if n := e.runKind(t, dsar.OutboxAssemble); n != 1 {
		t.Fatalf("%d assemblies", n)
	}
	got, _ := e.reqs.Get(ctx, admin, r.ID)
	if len(got.Results) != 1 || got.Results[0].Name != dsar.ResultPackage {
		t.Fatalf("results %+v", got.Results)
	}
	b := read(t, blobs, got.Results[0].Key)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Files []struct{ Name, SHA256 string }
	}
	for _, zf := range zr.File {
		if zf.Name == "manifest.json" {
			rc, _ := zf.Open()
			if err := json.NewDecoder(rc).Decode(&manifest); err != nil {
				t.Fatal(err)
			}
			rc.Close()
		}
	}
	if len(manifest.Files) == 0 {
		t.Fatalf("no files in the manifest of %d entries", len(zr.File))
	}
}
