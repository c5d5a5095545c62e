package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/connector/http/fakesystem"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// TestAccessAnsweredEndToEnd runs the service on the example controllers
// file of the HTTP connector against the sample system on loopback: an
// access request approved through the API fans out, the system's export
// lands in the case files (encrypted: the raw files hold none of it), the
// worker assembles the report, the officer reads it and completes the case,
// and the subject downloads exactly that report with a mailed code.
func TestAccessAnsweredEndToEnd(t *testing.T) {
	raw := dsar.NewWebhookSecret()
	secret, err := dsar.ParseWebhookSecret(raw)
	if err != nil {
		t.Fatal(err)
	}
	sys := fakesystem.New(secret, dsar.SystemClock{}, nil)
	sys.Hold("kari@example.no", 3)
	srv := httptest.NewServer(sys)
	t.Cleanup(srv.Close)
	t.Cleanup(sys.Close)
	example, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "sample-http.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "controllers.yaml")
	if err := os.WriteFile(cfgFile, bytes.ReplaceAll(example, []byte("http://127.0.0.1:8091/dsar"), []byte(srv.URL+"/dsar")), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DSAR_SAMPLE_SYSTEM_SECRET", raw)
	e := migratedEnv(t)
	catcher := mailtest.Start(t)
	e["DSAR_SMTP_URL"] = catcher.URL()
	e["DSAR_CONFIG"] = cfgFile
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	e["DSAR_SAMPLE_SYSTEM_SECRET"] = raw
	if e["DSAR_DATA_DIR"] == "" {
		e["DSAR_DATA_DIR"] = t.TempDir()
	}
	svc := start(t, e)
	code, out, stderr := run(t, e, "apikey", "create", "--name", "me", "--role", "admin")
	if code != 0 {
		t.Fatalf("apikey create: %s", stderr)
	}
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	r := apiCall(t, http.MethodPost, svc.url+"/api/v1/requests", key, map[string]any{"type": "access", "controller": "sample-shop",
		"language": "en", "verified": true, "verification_method": "demo", "subject": map[string]any{"email": "kari@example.no"}})
	id := r["id"].(string)
	apiCall(t, http.MethodPost, svc.url+"/api/v1/requests/"+id+"/approve", key, map[string]any{})

	// The worker collects the export and assembles the report.
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var files []any
	for len(files) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no files a minute after the approval: %v", apiCall(t, http.MethodGet, svc.url+"/api/v1/requests/"+id+"/tasks", key, nil))
		}
		<-tick.C
		got := apiCall(t, http.MethodGet, svc.url+"/api/v1/requests/"+id, key, nil)
		if res, ok := got["results"].(map[string]any); ok {
			files, _ = res["files"].([]any)
		}
	}
	report := get(t, svc.url+"/api/v1/requests/"+id+"/results/report.json", key)
	if !bytes.Contains(report, []byte(`"n":3`)) || !bytes.Contains(report, []byte("Datatilsynet")) {
		t.Fatalf("the report lacks the system's records or the authority: %.600s", report)
	}
	// At rest the case files are encrypted: no file under the data
	// directory holds the records or the subject's address in the clear.
	if e["DSAR_STORAGE"] == "" || e["DSAR_STORAGE"] == "dir" {
		checked := 0
		err := filepath.WalkDir(filepath.Join(e["DSAR_DATA_DIR"], "blobs"), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			checked++
			if bytes.Contains(b, []byte(`"task"`)) || bytes.Contains(b, []byte("kari@example.no")) || bytes.Contains(b, []byte("Datatilsynet")) {
				t.Errorf("%s holds plaintext", p)
			}
			return nil
		})
		if err != nil || checked < 2 {
			t.Fatalf("%d files checked: %v", checked, err)
		}
	}

	done := apiCall(t, http.MethodPost, svc.url+"/api/v1/requests/"+id+"/complete", key, map[string]any{"summary": "Your data is ready to download."})
	if res, _ := done["results"].(map[string]any); res == nil || res["download_until"] == nil {
		t.Fatalf("completed without a download window: %v", done)
	}

	// The subject: a code by mail, then the file.
	ctx := context.Background()
	subjects := store.NewSubjects(svc.app.db)
	token := svc.app.db.StatusToken(id)
	if err := subjects.AskDownloadCode(ctx, token); err != nil {
		t.Fatal(err)
	}
	var code6 string
	for _, m := range catcher.Wait(t, 3, 30*time.Second) { // the acknowledgement, the completion, the code
		if strings.Contains(m.Header.Get("Subject"), "download code") {
			for _, f := range strings.Fields(string(m.Raw)) {
				if len(f) == 6 && strings.Trim(f, "0123456789") == "" {
					code6 = f
				}
			}
		}
	}
	if code6 == "" {
		t.Fatal("no download code mailed")
	}
	f, err := subjects.Download(ctx, token, code6, dsar.ResultReportJSON, "192.0.2.8")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := svc.app.blobs.Open(ctx, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, report) {
		t.Error("the subject's download is not the report the officer read")
	}
}

// get returns the body of a GET with the key, failing on an error status.
func get(t *testing.T, url, key string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}
