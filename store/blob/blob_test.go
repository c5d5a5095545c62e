package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
)

const testBucket = "dsar-test"

// newS3 starts an S3 server on loopback (gofakes3, an independent
// implementation of the protocol) and returns the store on its bucket.
func newS3(t *testing.T) *blob.S3 {
	t.Helper()
	s, err := blob.NewS3(context.Background(), s3Config(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// s3Config starts the S3 server and returns how to reach its bucket.
func s3Config(t *testing.T) blob.S3Config {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	return blob.S3Config{
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Bucket: testBucket,
		AccessKey: "test-access", SecretKey: "test-secret", Insecure: true,
	}
}

func newDir(t *testing.T) *blob.Dir {
	t.Helper()
	d, err := blob.NewDir(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testKeys(t *testing.T) blob.Keys {
	t.Helper()
	k, _, err := blob.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return blob.Keys{Current: k}
}

// backends are the stores the conformance table runs against: each
// backend bare and behind the encryption.
func backends() map[string]func(t *testing.T) dsar.Blobs {
	return map[string]func(t *testing.T) dsar.Blobs{
		"dir":           func(t *testing.T) dsar.Blobs { return newDir(t) },
		"s3":            func(t *testing.T) dsar.Blobs { return newS3(t) },
		"encrypted-dir": func(t *testing.T) dsar.Blobs { return blob.NewEncrypted(newDir(t), testKeys(t)) },
		"encrypted-s3":  func(t *testing.T) dsar.Blobs { return blob.NewEncrypted(newS3(t), testKeys(t)) },
	}
}

func put(t *testing.T, b dsar.Blobs, key, content string) {
	t.Helper()
	n, err := b.Put(context.Background(), key, strings.NewReader(content))
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	if n != int64(len(content)) {
		t.Fatalf("Put %s read %d bytes, want %d", key, n, len(content))
	}
}

// read returns key's content, or the error of the open or of the read.
func read(b dsar.Blobs, key string) (string, error) {
	f, err := b.Open(context.Background(), key)
	if err != nil {
		return "", err
	}
	defer f.Close()
	content, err := io.ReadAll(f)
	return string(content), err
}

func list(t *testing.T, b dsar.Blobs, prefix string) []string {
	t.Helper()
	keys := []string{}
	if err := b.List(context.Background(), prefix, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatalf("List %q: %v", prefix, err)
	}
	return keys
}

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

var errReader = errors.New("the source broke")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errReader
	}
	n := min(len(p), f.n)
	for i := range p[:n] {
		p[i] = 'x'
	}
	f.n -= n
	return n, nil
}

func TestConformance(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, b dsar.Blobs)
	}{
		{"put and open", func(t *testing.T, b dsar.Blobs) {
			put(t, b, "cases/c1/exports/t1.jsonl", `{"category":"contact","record":{"email":"ada@example.com"}}`+"\n")
			put(t, b, "cases/c1/empty", "")
			for key, want := range map[string]string{
				"cases/c1/exports/t1.jsonl": `{"category":"contact","record":{"email":"ada@example.com"}}` + "\n",
				"cases/c1/empty":            "",
			} {
				got, err := read(b, key)
				if err != nil || got != want {
					t.Errorf("read %s = %q, %v; want %q", key, got, err, want)
				}
			}
		}},
		{"a large file streams through", func(t *testing.T, b dsar.Blobs) {
			want := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB: many packages
			if n, err := b.Put(ctx, "big", bytes.NewReader(want)); err != nil || n != int64(len(want)) {
				t.Fatalf("Put = %d, %v", n, err)
			}
			got, err := read(b, "big")
			if err != nil || got != string(want) {
				t.Fatalf("read: %v, equal %v", err, got == string(want))
			}
		}},
		{"replace", func(t *testing.T, b dsar.Blobs) {
			put(t, b, "cases/c1/a", "first version, longer than the second")
			put(t, b, "cases/c1/a", "second")
			if got, err := read(b, "cases/c1/a"); err != nil || got != "second" {
				t.Errorf("read = %q, %v; want second", got, err)
			}
			if diff := cmp.Diff([]string{"cases/c1/a"}, list(t, b, "")); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		}},
		{"not found", func(t *testing.T, b dsar.Blobs) {
			put(t, b, "cases/c1/exports/t1.jsonl", "x")
			for _, key := range []string{"cases/c2/exports/t1.jsonl", "cases/c1/exports", "cases/c1/exports/t1.json"} {
				if _, err := b.Open(ctx, key); dsar.ErrorCode(err) != dsar.ENOTFOUND {
					t.Errorf("Open %s: %v, want %s", key, err, dsar.ENOTFOUND)
				}
			}
		}},
		{"delete a prefix", func(t *testing.T, b dsar.Blobs) {
			for _, k := range []string{"cases/1/a", "cases/1/exports/t.jsonl", "cases/10/a", "cases/2/a"} {
				put(t, b, k, k)
			}
			if err := b.Delete(ctx, dsar.CaseBlobPrefix("1")); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"cases/10/a", "cases/2/a"}, list(t, b, "")); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if _, err := b.Open(ctx, "cases/1/a"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
				t.Errorf("Open a deleted key: %v", err)
			}
			if err := b.Delete(ctx, "cases/10/a"); err != nil { // one whole key
				t.Fatal(err)
			}
			if err := b.Delete(ctx, "cases/nothing/"); err != nil {
				t.Errorf("Delete of nothing: %v", err)
			}
			if diff := cmp.Diff([]string{"cases/2/a"}, list(t, b, "")); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			put(t, b, "cases/1/a", "again") // a deleted case's directory can be made again
			if got, err := read(b, "cases/1/a"); err != nil || got != "again" {
				t.Errorf("read = %q, %v", got, err)
			}
		}},
		{"list in lexical order", func(t *testing.T, b dsar.Blobs) {
			// "a-b" sorts before "a/b" ('-' < '/'), though a directory
			// walk meets the directory "a" first.
			for _, k := range []string{"a/z", "b", "a/b/c", "a-b", "a0", "a/b0", "A"} {
				put(t, b, k, k)
			}
			for prefix, want := range map[string][]string{
				"":      {"A", "a-b", "a/b/c", "a/b0", "a/z", "a0", "b"},
				"a":     {"a-b", "a/b/c", "a/b0", "a/z", "a0"},
				"a/":    {"a/b/c", "a/b0", "a/z"},
				"a/b":   {"a/b/c", "a/b0"},
				"a/b/":  {"a/b/c"},
				"c/":    {},
				"a/b/c": {"a/b/c"},
			} {
				if diff := cmp.Diff(want, list(t, b, prefix)); diff != "" {
					t.Errorf("List %q (-want +got):\n%s", prefix, diff)
				}
			}
		}},
		{"list stops at fn's error", func(t *testing.T, b dsar.Blobs) {
			for _, k := range []string{"k1", "k2", "k3"} {
				put(t, b, k, k)
			}
			stop := errors.New("stop")
			var seen []string
			err := b.List(ctx, "", func(k string) error { seen = append(seen, k); return stop })
			if !errors.Is(err, stop) || len(seen) != 1 {
				t.Errorf("List = %v after %v; want stop after one key", err, seen)
			}
		}},
		{"a failed put leaves nothing", func(t *testing.T, b dsar.Blobs) {
			put(t, b, "cases/c1/kept", "the old content")
			for _, key := range []string{"cases/c1/new", "cases/c1/kept"} {
				if _, err := b.Put(ctx, key, &failingReader{n: 200_000}); !errors.Is(err, errReader) {
					t.Errorf("Put %s with a failing source: %v", key, err)
				}
			}
			if _, err := b.Open(ctx, "cases/c1/new"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
				t.Errorf("Open after a failed Put: %v, want not found", err)
			}
			if got, err := read(b, "cases/c1/kept"); err != nil || got != "the old content" {
				t.Errorf("read after a failed replace = %q, %v", got, err)
			}
			if diff := cmp.Diff([]string{"cases/c1/kept"}, list(t, b, "")); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		}},
		{"unsafe keys are refused", func(t *testing.T, b dsar.Blobs) {
			for _, key := range []string{"", "../escape", "cases/../../escape", "/etc/passwd", "a//b", "a/./b", "a/", ".tmp/x", `a\..\b`} {
				if _, err := b.Put(ctx, key, strings.NewReader("x")); dsar.ErrorCode(err) != dsar.EINVALID {
					t.Errorf("Put %q: %v, want %s", key, err, dsar.EINVALID)
				}
				if _, err := b.Open(ctx, key); dsar.ErrorCode(err) != dsar.EINVALID {
					t.Errorf("Open %q: %v, want %s", key, err, dsar.EINVALID)
				}
			}
			if got := list(t, b, ""); len(got) != 0 {
				t.Errorf("keys after refused puts: %v", got)
			}
		}},
	}
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
			}
		})
	}
}

// A failed Put leaves no temporary file behind in the directory store.
func TestDirFailedPutLeavesNoTemporaryFile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(context.Background(), "cases/c/x", &failingReader{n: 100}); !errors.Is(err, errReader) {
		t.Fatalf("Put: %v", err)
	}
	var files []string
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}
