package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
)

// Test keys (32 bytes each), one in base64 and one in hex.
const (
	oldKeyText = "b2xkIGtleSBvZiB0aGUgdGVzdHMsIDMyIGJ5dGVzLi4="
	newKeyText = "6e6577206b6579206f66207468652074657374732c2033322062797465732e2e"
)

// s3Env starts an S3 server on loopback and returns the variables that
// point the service's storage at its bucket.
func s3Env(t *testing.T) env {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket("dsar"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	return env{"DSAR_STORAGE": "s3", "DSAR_S3_ENDPOINT": srv.URL, "DSAR_S3_INSECURE": "true", "DSAR_S3_BUCKET": "dsar",
		"DSAR_S3_REGION": "eu-north-1", "DSAR_S3_ACCESS_KEY": "test-access", "DSAR_S3_SECRET_KEY": "test-secret"}
}

// blobsOf opens the service's store of case files under e, as serve and
// worker do.
func blobsOf(t *testing.T, e env) (*blob.Encrypted, error) {
	t.Helper()
	cfg, err := LoadConfig(e.get)
	if err != nil {
		t.Fatal(err)
	}
	return openBlobs(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg.DatabaseURL == "")
}

func with(e env, kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// `dsar keys rotate` moves every case file from the old key to the new
// one; afterwards the new key alone reads them, in a directory and in S3.
func TestKeysRotate(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{
		dsar.ExportBlobKey("case-1", "task-1"):        `{"category":"contact","record":{"email":"kari@example.no"}}` + "\n",
		dsar.ExportBlobKey("case-1", "task-2"):        `{"category":"orders","record":{"id":1}}` + "\n",
		dsar.CaseBlobPrefix("case-2") + "package.zip": "",
	}
	for name, storage := range map[string]func(t *testing.T) env{
		"dir": func(t *testing.T) env { return env{} },
		"s3":  s3Env,
	} {
		t.Run(name, func(t *testing.T) {
			base := with(storage(t), "DSAR_DATA_DIR", t.TempDir(), "DSAR_LOG_LEVEL", "warn")
			before := with(base, "DSAR_ENCRYPTION_KEY", oldKeyText)
			rotating := with(base, "DSAR_ENCRYPTION_KEY", newKeyText, "DSAR_ENCRYPTION_OLD_KEYS", oldKeyText)
			after := with(base, "DSAR_ENCRYPTION_KEY", newKeyText)

			b, err := blobsOf(t, before)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range files {
				if _, err := b.Put(ctx, k, strings.NewReader(v)); err != nil {
					t.Fatal(err)
				}
			}
			newID := mustParse(t, newKeyText).ID().String()

			code, out, stderr := run(t, rotating, "keys", "rotate", "--dry-run")
			if want := "3 files: 0 under the current key " + newID + ", 3 to re-encrypt (dry run: nothing changed), 0 failed\n"; code != 0 || out != want {
				t.Errorf("dry run: exit %d, %q %s; want %q", code, out, stderr, want)
			}
			// Without the old key the files cannot be read, and nothing changes.
			code, out, stderr = run(t, after, "keys", "rotate")
			if code != 1 || !strings.Contains(out, "3 files: 0 under the current key "+newID+", 0 re-encrypted, 3 failed") ||
				!strings.Contains(stderr, "3 files could not be read") {
				t.Errorf("rotate without the old key: exit %d, %q %s", code, out, stderr)
			}
			checkFiles(t, before, files)

			code, out, stderr = run(t, rotating, "keys", "rotate")
			if want := "3 files: 0 under the current key " + newID + ", 3 re-encrypted, 0 failed\n"; code != 0 || out != want {
				t.Errorf("rotate: exit %d, %q %s; want %q", code, out, stderr, want)
			}
			for _, secret := range []string{oldKeyText, newKeyText, "kari@example.no"} {
				if strings.Contains(out+stderr, secret) {
					t.Errorf("rotate printed %q", secret)
				}
			}
			checkFiles(t, after, files)
			old, err := blobsOf(t, before)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := old.Open(ctx, dsar.ExportBlobKey("case-1", "task-1")); !errors.Is(err, blob.ErrUnknownKey) {
				t.Errorf("the old key still opens a file: %v", err)
			}
			code, out, _ = run(t, after, "keys", "rotate")
			if code != 0 || !strings.HasPrefix(out, "3 files: 3 under the current key") {
				t.Errorf("second rotate: exit %d, %q", code, out)
			}
		})
	}
}

func mustParse(t *testing.T, s string) blob.Key {
	t.Helper()
	k, err := blob.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// checkFiles reads every file under e's keys and compares it.
func checkFiles(t *testing.T, e env, want map[string]string) {
	t.Helper()
	b, err := blobsOf(t, e)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		f, err := b.Open(context.Background(), k)
		if err != nil {
			t.Errorf("open %s: %v", k, err)
			continue
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(got) != v {
			t.Errorf("%s = %q, %v; want %q", k, got, err, v)
		}
	}
}

func TestKeysUsage(t *testing.T) {
	for _, args := range [][]string{{"keys"}, {"keys", "list"}, {"keys", "rotate", "now"}, {"keys", "rotate", "--force"}} {
		if code, _, stderr := run(t, env{"DSAR_DATA_DIR": t.TempDir()}, args...); code != 2 || !strings.Contains(stderr, "dsar keys rotate [--dry-run]") && !strings.Contains(stderr, "flag provided but not defined") {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// The embedded default generates its key once, into the data directory,
// readable by the owner only, and logs that it did, not the key.
func TestEncryptionKeyGenerated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg, err := LoadConfig(env{"DSAR_DATA_DIR": dir}.get)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	b, err := openBlobs(ctx, cfg, log, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "cases/c/f", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, encryptionKeyFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", st, err)
	}
	text, _ := os.ReadFile(path)
	if key, err := blob.ParseKey(string(text)); err != nil || key.ID() != b.CurrentKeyID() {
		t.Errorf("key file holds %v, %v", key.ID(), err)
	}
	if !strings.Contains(logs.String(), "generated the key") || strings.Contains(logs.String(), strings.TrimSpace(string(text))) {
		t.Errorf("log: %s", logs.String())
	}
	logs.Reset()
	again, err := openBlobs(ctx, cfg, log, true)
	if err != nil || again.CurrentKeyID() != b.CurrentKeyID() || logs.Len() != 0 {
		t.Fatalf("second start: %v, key %s, log %q", err, again.CurrentKeyID(), logs.String())
	}
	// With PostgreSQL the key must be given.
	if _, err := openBlobs(ctx, cfg, log, false); err == nil || !strings.Contains(err.Error(), "DSAR_ENCRYPTION_KEY is required") {
		t.Errorf("without a key on PostgreSQL: %v", err)
	}
}

func TestConfigStorage(t *testing.T) {
	for _, c := range []struct {
		env  env
		want string
	}{
		{env{"DSAR_STORAGE": "disk"}, "DSAR_STORAGE: want dir or s3"},
		{env{"DSAR_STORAGE": "s3"}, "DSAR_S3_ENDPOINT: required"},
		{env{"DSAR_STORAGE": "s3", "DSAR_S3_ENDPOINT": "s3.example"}, "DSAR_S3_BUCKET: required"},
		{env{"DSAR_STORAGE": "s3", "DSAR_S3_ENDPOINT": "s3.example", "DSAR_S3_BUCKET": "b"}, "DSAR_S3_ACCESS_KEY and DSAR_S3_SECRET_KEY: required"},
		{with(s3Env(t), "DSAR_S3_INSECURE", ""), "an http:// endpoint needs DSAR_S3_INSECURE=true"},
		{with(s3Env(t), "DSAR_S3_ENDPOINT", "ftp://s3.example"), "DSAR_S3_ENDPOINT: want host[:port]"},
		{with(s3Env(t), "DSAR_S3_ENDPOINT", "https://s3.example/bucket"), "DSAR_S3_ENDPOINT: want host[:port]"},
		{with(s3Env(t), "DSAR_S3_INSECURE", "maybe"), "DSAR_S3_INSECURE: want true or false"},
		{env{"DSAR_S3_BUCKET": "b"}, "DSAR_S3_BUCKET is set but DSAR_STORAGE is dir"},
		{env{"DSAR_ENCRYPTION_KEY": "not-a-key-at-all"}, "DSAR_ENCRYPTION_KEY: want 32 bytes"},
		{env{"DSAR_ENCRYPTION_KEY": newKeyText, "DSAR_ENCRYPTION_OLD_KEYS": oldKeyText + ",short-secret"}, "DSAR_ENCRYPTION_OLD_KEYS: key 2 of the list"},
		{env{"DSAR_ENCRYPTION_OLD_KEYS": oldKeyText}, "set DSAR_ENCRYPTION_KEY too"},
		{with(s3Env(t), "DSAR_S3_ENDPOINT", "https://s3.eu-north-1.amazonaws.com", "DSAR_S3_INSECURE", ""), ""},
		{with(s3Env(t), "DSAR_ENCRYPTION_KEY", newKeyText, "DSAR_ENCRYPTION_OLD_KEYS", oldKeyText), ""},
	} {
		cfg, err := LoadConfig(c.env.get)
		if c.want != "" {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: %v, want %q", c.env, err, c.want)
			}
			if err != nil && (strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), "not-a-key")) {
				t.Errorf("the error repeats a key: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.env, err)
			continue
		}
		var out bytes.Buffer
		cfg.Print(&out)
		for _, secret := range []string{"test-secret", "test-access", newKeyText, oldKeyText} {
			if strings.Contains(out.String(), secret) {
				t.Errorf("config printed %q:\n%s", secret, out.String())
			}
		}
		for _, want := range []string{"DSAR_STORAGE=s3\n", "DSAR_S3_BUCKET=dsar\n", "DSAR_S3_SECRET_KEY=(set)\n", "DSAR_S3_REGION=eu-north-1\n"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("config lacks %q:\n%s", want, out.String())
			}
		}
	}
	if cfg, err := LoadConfig(env{"DSAR_STORAGE": "s3", "DSAR_S3_ENDPOINT": "https://s3.example:9000/", "DSAR_S3_BUCKET": "b",
		"DSAR_S3_ACCESS_KEY": "a", "DSAR_S3_SECRET_KEY": "s"}.get); err != nil || cfg.S3().Endpoint != "s3.example:9000" || cfg.S3().Insecure {
		t.Errorf("https endpoint: %v", err)
	}
}
