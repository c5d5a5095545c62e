package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
)

// The layout of an encrypted file, as docs/storage.md gives it.
const (
	fileHeader  = 4 + 1 + 8 + 32
	dareHeader  = 16
	darePayload = 64 << 10
	dareTag     = 16
	darePackage = dareHeader + darePayload + dareTag
)

func mustKey(t *testing.T) blob.Key {
	t.Helper()
	k, _, err := blob.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func readAll(t *testing.T, b dsar.Blobs, key string) []byte {
	t.Helper()
	f, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer f.Close()
	content, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return content
}

// plaintext is personal data as a collected export holds it, more than
// three DARE packages long.
func plaintext() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 3*darePayload+1000; i++ {
		b.WriteString(`{"category":"contact","record":{"name":"Ada Lovelace","email":"ada@example.com","n":`)
		b.WriteString(strings.Repeat("7", i%10))
		b.WriteString("}}\n")
	}
	return b.Bytes()
}

// What is kept on disk or in the bucket holds no plaintext, and only the
// encrypting store reads it back.
func TestEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	secret := plaintext()
	for name, raw := range map[string]dsar.Blobs{"dir": newDir(t), "s3": newS3(t)} {
		t.Run(name, func(t *testing.T) {
			keys := blob.Keys{Current: mustKey(t)}
			enc := blob.NewEncrypted(raw, keys)
			if _, err := enc.Put(ctx, "cases/c1/exports/t1.jsonl", bytes.NewReader(secret)); err != nil {
				t.Fatal(err)
			}
			stored := readAll(t, raw, "cases/c1/exports/t1.jsonl")
			for _, needle := range []string{"Ada Lovelace", "ada@example.com", "category"} {
				if bytes.Contains(stored, []byte(needle)) {
					t.Errorf("the stored file contains %q", needle)
				}
			}
			if id := keys.Current.ID(); !bytes.Equal(stored[5:13], id[:]) {
				t.Errorf("header key id = %x, want %s", stored[5:13], id)
			}
			if got := readAll(t, enc, "cases/c1/exports/t1.jsonl"); !bytes.Equal(got, secret) {
				t.Error("the decrypted file differs from what was put")
			}
			// Another key opens nothing.
			other := blob.NewEncrypted(raw, blob.Keys{Current: mustKey(t)})
			if _, err := other.Open(ctx, "cases/c1/exports/t1.jsonl"); !errors.Is(err, blob.ErrUnknownKey) {
				t.Errorf("Open under another key: %v, want ErrUnknownKey", err)
			}
		})
	}
}

// The raw file on disk, read straight from the file system, holds no
// plaintext.
func TestEncryptedFileOnDisk(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	enc := blob.NewEncrypted(d, blob.Keys{Current: mustKey(t)})
	if _, err := enc.Put(context.Background(), "cases/c1/exports/t1.jsonl", strings.NewReader("ada@example.com")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "cases", "c1", "exports", "t1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("ada@example.com")) || len(b) != fileHeader+dareHeader+1+len("ada@example.com")+dareTag {
		t.Errorf("file on disk: %d bytes, %q", len(b), b)
	}
}

// A file changed in any way fails the read: never altered bytes without
// an error.
func TestEncryptedTampering(t *testing.T) {
	ctx := context.Background()
	secret := plaintext()
	raw := newDir(t)
	enc := blob.NewEncrypted(raw, blob.Keys{Current: mustKey(t)})
	if _, err := enc.Put(ctx, "orig", bytes.NewReader(secret)); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Put(ctx, "other", bytes.NewReader(secret)); err != nil {
		t.Fatal(err)
	}
	stored := readAll(t, raw, "orig")
	pkg := func(i int) (int, int) { return fileHeader + i*darePackage, fileHeader + (i+1)*darePackage }
	flipBit := func(off int, mask byte) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= mask; return b }
	}
	flip := func(off int) func([]byte) []byte { return flipBit(off, 0x01) }
	last := len(stored) - 1
	tests := []struct {
		name   string
		change func([]byte) []byte
	}{
		{"magic", flip(0)},
		{"format version", flip(4)},
		{"key id", flip(5)},
		{"salt", flip(20)},
		{"first package's header", flip(fileHeader + 2)},
		{"first package's nonce", flip(fileHeader + 8)},
		{"first package's payload", flip(fileHeader + dareHeader + 100)},
		{"second package's payload", flip(fileHeader + darePackage + dareHeader + 5000)},
		{"last package's final flag cleared", func(b []byte) []byte { s, _ := pkg(3); return flipBit(s+4, 0x80)(b) }},
		{"second package marked final, the rest cut", func(b []byte) []byte {
			s, e := pkg(1)
			b[s+4] ^= 0x80
			return b[:e]
		}},
		{"last byte (tag)", flip(last)},
		{"truncated to the header", func(b []byte) []byte { return b[:fileHeader] }},
		{"truncated inside the header", func(b []byte) []byte { return b[:10] }},
		{"truncated at a package boundary", func(b []byte) []byte { _, end := pkg(1); return b[:end] }},
		{"truncated inside a package", func(b []byte) []byte { return b[:fileHeader+darePackage+300] }},
		{"last byte dropped", func(b []byte) []byte { return b[:last] }},
		{"packages swapped", func(b []byte) []byte {
			s1, e1 := pkg(1)
			s2, e2 := pkg(2)
			out := append([]byte{}, b[:s1]...)
			out = append(out, b[s2:e2]...)
			out = append(out, b[s1:e1]...)
			return append(out, b[e2:]...)
		}},
		{"a package dropped", func(b []byte) []byte {
			s1, e1 := pkg(1)
			return append(append([]byte{}, b[:s1]...), b[e1:]...)
		}},
		{"a package repeated", func(b []byte) []byte {
			s1, e1 := pkg(1)
			out := append([]byte{}, b[:e1]...)
			out = append(out, b[s1:e1]...)
			return append(out, b[e1:]...)
		}},
		{"bytes appended", func(b []byte) []byte { return append(b, b[fileHeader:fileHeader+100]...) }},
		{"the file of another key", func([]byte) []byte { return readAll(t, raw, "other") }},
		{"empty", func([]byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := tt.change(append([]byte{}, stored...))
			if bytes.Equal(changed, stored) {
				t.Fatal("the change changed nothing")
			}
			if _, err := raw.Put(ctx, "orig", bytes.NewReader(changed)); err != nil {
				t.Fatal(err)
			}
			f, err := enc.Open(ctx, "orig")
			if err == nil {
				var got []byte
				got, err = io.ReadAll(f)
				f.Close()
				if err == nil {
					t.Fatalf("read %d bytes without an error (same as put: %v)", len(got), bytes.Equal(got, secret))
				}
			}
			if dsar.ErrorCode(err) == dsar.ENOTFOUND {
				t.Errorf("error %v, want one that says the file is bad", err)
			}
		})
	}
	t.Run("unchanged reads", func(t *testing.T) {
		if _, err := raw.Put(ctx, "orig", bytes.NewReader(stored)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readAll(t, enc, "orig"), secret) {
			t.Error("the restored file reads differently")
		}
	})
}

func TestParseKey(t *testing.T) {
	secret := bytes.Repeat([]byte{0xab}, 32)
	want, err := blob.NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append([]byte("dsar blob key id\x00"), secret...))
	if got := want.ID().String(); got != hex.EncodeToString(sum[:8]) {
		t.Errorf("key id = %s", got)
	}
	for _, s := range []string{
		hex.EncodeToString(secret), strings.ToUpper(hex.EncodeToString(secret)),
		base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret),
		" " + base64.StdEncoding.EncodeToString(secret) + "\n",
	} {
		k, err := blob.ParseKey(s)
		if err != nil || k.ID() != want.ID() {
			t.Errorf("ParseKey(%q) = %s, %v; want %s", s, k.ID(), err, want.ID())
		}
	}
	for _, s := range []string{"", "short", hex.EncodeToString(secret[:31]), base64.StdEncoding.EncodeToString(append(secret, 1)), strings.Repeat("z", 64)} {
		if _, err := blob.ParseKey(s); err == nil || (s != "" && strings.Contains(err.Error(), s)) {
			t.Errorf("ParseKey(%q) = %v; want an error that does not repeat the text", s, err)
		}
	}
	keys, err := blob.ParseKeys(hex.EncodeToString(secret) + ", ," + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	if err != nil || len(keys) != 2 || keys[0].ID() != want.ID() {
		t.Errorf("ParseKeys = %d keys, %v", len(keys), err)
	}
	if _, err := blob.ParseKeys(hex.EncodeToString(secret) + ",nope"); err == nil || !strings.Contains(err.Error(), "key 2") {
		t.Errorf("ParseKeys with a bad second key: %v", err)
	}
}

// Rotation re-encrypts the files of old keys under the current key, and
// after it the current key alone reads them all.
func TestRotate(t *testing.T) {
	ctx := context.Background()
	raw := newDir(t)
	oldKey, newKey, lostKey := mustKey(t), mustKey(t), mustKey(t)
	before := blob.NewEncrypted(raw, blob.Keys{Current: oldKey})
	want := map[string]string{}
	for _, k := range []string{"cases/a/exports/t1.jsonl", "cases/a/exports/t2.jsonl", "cases/b/empty"} {
		want[k] = "content of " + k
		if k == "cases/b/empty" {
			want[k] = ""
		}
		if _, err := before.Put(ctx, k, strings.NewReader(want[k])); err != nil {
			t.Fatal(err)
		}
	}
	lost := blob.NewEncrypted(raw, blob.Keys{Current: lostKey})
	if _, err := lost.Put(ctx, "cases/c/lost", strings.NewReader("under a key no one has")); err != nil {
		t.Fatal(err)
	}
	after := blob.NewEncrypted(raw, blob.Keys{Current: newKey, Old: []blob.Key{oldKey}})
	want["cases/a/new"] = "written after the key changed"
	if _, err := after.Put(ctx, "cases/a/new", strings.NewReader(want["cases/a/new"])); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	dry, err := after.Rotate(ctx, true, log)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(blob.RotateResult{Files: 5, Current: 1, Rotated: 3, Failed: 1}, dry); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if id, _ := after.KeyID(ctx, "cases/a/exports/t1.jsonl"); id != oldKey.ID() {
		t.Errorf("a dry run changed a file's key to %s", id)
	}

	res, err := after.Rotate(ctx, false, log)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(blob.RotateResult{Files: 5, Current: 1, Rotated: 3, Failed: 1}, res); diff != "" {
		t.Errorf("rotation (-want +got):\n%s", diff)
	}
	only := blob.NewEncrypted(raw, blob.Keys{Current: newKey})
	for k, w := range want {
		if got := readAll(t, only, k); string(got) != w {
			t.Errorf("%s = %q after rotation, want %q", k, got, w)
		}
	}
	again, err := only.Rotate(ctx, false, log)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(blob.RotateResult{Files: 5, Current: 4, Failed: 1}, again); diff != "" {
		t.Errorf("second rotation (-want +got):\n%s", diff)
	}
}

// A damaged file is not replaced by a rotation: the read fails before the
// new file is renamed into place.
func TestRotateKeepsADamagedFile(t *testing.T) {
	ctx := context.Background()
	raw := newDir(t)
	oldKey := mustKey(t)
	if _, err := blob.NewEncrypted(raw, blob.Keys{Current: oldKey}).Put(ctx, "f", bytes.NewReader(plaintext())); err != nil {
		t.Fatal(err)
	}
	stored := readAll(t, raw, "f")
	damaged := append([]byte{}, stored...)
	damaged[fileHeader+2*darePackage+100] ^= 0x80
	if _, err := raw.Put(ctx, "f", bytes.NewReader(damaged)); err != nil {
		t.Fatal(err)
	}
	enc := blob.NewEncrypted(raw, blob.Keys{Current: mustKey(t), Old: []blob.Key{oldKey}})
	res, err := enc.Rotate(ctx, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || res != (blob.RotateResult{Files: 1, Failed: 1}) {
		t.Errorf("Rotate = %+v, %v", res, err)
	}
	if !bytes.Equal(readAll(t, raw, "f"), damaged) {
		t.Error("the damaged file was replaced")
	}
}

// sizedReader yields n bytes of a repeating pattern without holding them.
type sizedReader struct{ n, off int64 }

func (r *sizedReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = byte('a' + (r.off+int64(i))%26)
	}
	r.n -= int64(len(p))
	r.off += int64(len(p))
	return len(p), nil
}

// A file of 100 MB goes in and out in constant memory: what the Put and
// the read allocate in all is a small fraction of the file.
func TestEncryptedConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB")
	}
	const size = 100 << 20
	ctx := context.Background()
	enc := blob.NewEncrypted(newDir(t), blob.Keys{Current: mustKey(t)})
	if _, err := enc.Put(ctx, "warm", strings.NewReader("x")); err != nil { // pools and first-use allocations
		t.Fatal(err)
	}
	var m0, m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m0)
	n, err := enc.Put(ctx, "big", &sizedReader{n: size})
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v", n, err)
	}
	runtime.ReadMemStats(&m1)
	f, err := enc.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	h, want := sha256.New(), sha256.New()
	buf := make([]byte, 32<<10)
	got, err := io.CopyBuffer(h, f, buf)
	f.Close()
	if err != nil || got != size {
		t.Fatalf("read %d, %v", got, err)
	}
	runtime.ReadMemStats(&m2)
	if _, err := io.Copy(want, &sizedReader{n: size}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Error("the 100 MB file reads differently")
	}
	putAlloc, readAlloc := m1.TotalAlloc-m0.TotalAlloc, m2.TotalAlloc-m1.TotalAlloc
	t.Logf("allocated for 100 MB: put %d kB, read %d kB", putAlloc>>10, readAlloc>>10)
	const limit = 4 << 20
	if putAlloc > limit || readAlloc > limit {
		t.Errorf("allocated put %d, read %d bytes for a file of %d: want under %d each", putAlloc, readAlloc, size, limit)
	}
}
