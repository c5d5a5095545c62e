// Package connectortest gives tests of collection a dsar.Blobs kept in a
// plain directory: Put writes a temporary file and renames it into place,
// so a failed or interrupted Put leaves nothing partial under the key. It
// neither encrypts nor authenticates (store/blob does): it is for tests,
// and stands in for store/blob in cmd/dsar's openBlobs until that is
// wired there.
package connectortest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dsar-project/dsar"
)

// DirBlobs is a dsar.Blobs in a directory: the file of a key is the key's
// path under the directory.
type DirBlobs struct {
	Dir string
}

var _ dsar.Blobs = (*DirBlobs)(nil)

// NewDirBlobs returns the blobs of dir, made if missing.
func NewDirBlobs(dir string) (*DirBlobs, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &DirBlobs{Dir: dir}, nil
}

func (b *DirBlobs) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return "", dsar.Errorf(dsar.EINVALID, "bad blob key %q", key)
	}
	return filepath.Join(b.Dir, filepath.FromSlash(key)), nil
}

// Put stores what r yields under key, atomically.
func (b *DirBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := b.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name()) // gone after the rename
	n, err := io.Copy(f, ctxReader{ctx, r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	return n, os.Rename(f.Name(), p)
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Open reads what is under key.
func (b *DirBlobs) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dsar.Errorf(dsar.ENOTFOUND, "no blob %q", key)
	}
	return f, err
}

// Delete removes every key that starts with prefix.
func (b *DirBlobs) Delete(ctx context.Context, prefix string) error {
	var keys []string
	if err := b.List(ctx, prefix, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		return err
	}
	for _, k := range keys {
		p, _ := b.path(k)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// List calls fn with every key that starts with prefix, in lexical order.
func (b *DirBlobs) List(_ context.Context, prefix string, fn func(key string) error) error {
	var keys []string
	err := filepath.WalkDir(b.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return err
		}
		rel, err := filepath.Rel(b.Dir, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// ReadExport returns the records of an export blob, failing the test's
// check by error when a line is not an ExportRecord.
func ReadExport(ctx context.Context, blobs dsar.Blobs, caseID, taskID string) ([]dsar.ExportRecord, error) {
	rc, err := blobs.Open(ctx, dsar.ExportBlobKey(caseID, taskID))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []dsar.ExportRecord
	dec := json.NewDecoder(rc)
	for {
		var r dsar.ExportRecord
		if err := dec.Decode(&r); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}
