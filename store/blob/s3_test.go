package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dsar-project/dsar/store/blob"
)

// A file larger than a part goes up in parts; one whose source fails
// after several parts leaves neither an object nor an unfinished upload.
func TestS3Multipart(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 40 MB")
	}
	ctx := context.Background()
	cfg := s3Config(t)
	s, err := blob.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const size = 40 << 20 // three parts
	enc := blob.NewEncrypted(s, blob.Keys{Current: mustKey(t)})
	if n, err := enc.Put(ctx, "cases/c/big", &sizedReader{n: size}); err != nil || n != size {
		t.Fatalf("Put = %d, %v", n, err)
	}
	f, err := enc.Open(ctx, "cases/c/big")
	if err != nil {
		t.Fatal(err)
	}
	got, want := sha256.New(), sha256.New()
	if n, err := io.Copy(got, f); err != nil || n != size {
		t.Fatalf("read %d, %v", n, err)
	}
	f.Close()
	io.Copy(want, &sizedReader{n: size})
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Error("the file reads differently")
	}

	if _, err := s.Put(ctx, "cases/c/broken", &failingReader{n: 36 << 20}); !errors.Is(err, errReader) {
		t.Fatalf("Put with a failing source: %v", err)
	}
	if keys := list(t, s, ""); len(keys) != 1 || keys[0] != "cases/c/big" {
		t.Errorf("keys after a failed upload: %v", keys)
	}
	raw, err := minio.NewCore(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	unfinished := func() []string {
		keys := []string{}
		for u := range raw.ListIncompleteUploads(ctx, testBucket, "", true) {
			if u.Err != nil {
				t.Fatal(u.Err)
			}
			keys = append(keys, u.Key)
		}
		return keys
	}
	if keys := unfinished(); len(keys) != 0 {
		t.Errorf("unfinished uploads left: %v", keys)
	}
	// The server does list an unfinished upload.
	if _, err := raw.NewMultipartUpload(ctx, testBucket, "cases/c/probe", minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if keys := unfinished(); len(keys) != 1 {
		t.Errorf("unfinished uploads = %v, want the probe", keys)
	}
}

// A missing bucket is said at start.
func TestS3Refuses(t *testing.T) {
	ctx := context.Background()
	cfg := s3Config(t)
	missing := cfg
	missing.Bucket = "no-such-bucket"
	if _, err := blob.NewS3(ctx, missing); err == nil {
		t.Error("NewS3 with a missing bucket: no error")
	}
}
