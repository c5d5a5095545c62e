package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dsar-project/dsar"
)

var _ dsar.Blobs = (*S3)(nil)

// s3PartSize is the part of a multipart upload, which a Put holds in
// memory: the least S3 takes but the last part. It bounds a file at 10,000
// parts, 160 GiB.
const s3PartSize = 16 << 20

// S3Config says where the files are kept in S3-compatible object storage.
type S3Config struct {
	// Endpoint is host[:port], without a scheme.
	Endpoint string
	Bucket   string
	// Region is the bucket's region; empty: us-east-1.
	Region    string
	AccessKey string
	SecretKey string
	// Insecure speaks plain HTTP (a local server), not HTTPS.
	Insecure bool
	// Transport, when set, carries the requests (tests).
	Transport http.RoundTripper
}

// S3 keeps each key as an object of one bucket. An object appears whole
// when its upload completes (S3 makes a PUT and a completed multipart
// upload atomic); a failed multipart upload is aborted.
type S3 struct {
	client *minio.Client
	bucket string
}

// NewS3 returns the store of cfg once it has checked that the bucket
// exists and the credentials reach it.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    !cfg.Insecure,
		Region:    region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint %s: %w", cfg.Endpoint, err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, dsar.Errorf(dsar.EUNAVAILABLE, "S3 bucket %s at %s: %v", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("S3 bucket %s does not exist at %s: create it first", cfg.Bucket, cfg.Endpoint)
	}
	return &S3{client: c, bucket: cfg.Bucket}, nil
}

// Put uploads r as key's object: in one request when it is shorter than a
// part, else in parts of 16 MiB.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	cr := &countReader{r: r}
	var first [1]byte
	n, err := io.ReadFull(cr, first[:])
	if err != nil && err != io.EOF {
		return cr.n, err
	}
	var body io.Reader = io.MultiReader(bytes.NewReader(first[:n]), cr)
	size := int64(-1)
	if n == 0 { // an empty file goes with its length: S3 wants one
		body, size = bytes.NewReader(nil), 0
	}
	_, err = s.client.PutObject(ctx, s.bucket, key, body, size, minio.PutObjectOptions{
		PartSize: s3PartSize, ContentType: "application/octet-stream",
		// The parts' checksums (CRC32C) guard the transfer; a signed
		// payload would sign each chunk besides (over plain HTTP), which
		// not every S3-compatible server reads.
		DisableContentSha256: true,
	})
	return cr.n, err
}

// Open returns key's object, an ENOTFOUND error when there is none.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	if _, err := obj.Stat(); err != nil { // the GET's response: does it exist
		obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, dsar.Errorf(dsar.ENOTFOUND, "no blob %s", key)
		}
		return nil, err
	}
	return obj, nil
}

// Delete removes every object whose key starts with prefix, in batches.
func (s *S3) Delete(ctx context.Context, prefix string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	var listErr error
	keys := make(chan minio.ObjectInfo)
	go func() {
		defer close(keys)
		for o := range objs {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			select {
			case keys <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	var errs []error
	for e := range s.client.RemoveObjects(ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
		errs = append(errs, fmt.Errorf("remove %s: %w", e.ObjectName, e.Err))
	}
	errs = append(errs, listErr) // the lister is done: RemoveObjects drained keys
	return errors.Join(errs...)
}

// List calls fn with the keys of the objects that start with prefix, in
// S3's order: lexical, by UTF-8 bytes.
func (s *S3) List(ctx context.Context, prefix string, fn func(key string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return o.Err
		}
		if err := fn(o.Key); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// countReader counts what is read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
