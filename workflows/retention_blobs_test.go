package workflows_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dsar-project/dsar"
)

// dirBlobs is a minimal directory-backed dsar.Blobs for the retention
// tests only: one file per key under a directory, no encryption. The real
// adapter (store/blob) is built on another branch; the tests need only a
// real directory whose files the removal must delete.
type dirBlobs struct{ dir string }

var _ dsar.Blobs = dirBlobs{}

func (b dirBlobs) path(key string) string { return filepath.Join(b.dir, filepath.FromSlash(key)) }

func (b dirBlobs) Put(_ context.Context, key string, r io.Reader) (int64, error) {
	p := b.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, err
	}
	f, err := os.Create(p)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func (b dirBlobs) Open(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(b.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	return f, err
}

func (b dirBlobs) Delete(ctx context.Context, prefix string) error {
	var keys []string
	if err := b.List(ctx, prefix, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		return err
	}
	for _, k := range keys {
		if err := os.Remove(b.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (b dirBlobs) List(_ context.Context, prefix string, fn func(key string) error) error {
	var keys []string
	err := filepath.WalkDir(b.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(b.dir, p)
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
	for _, k := range keys { // WalkDir walks in lexical order
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}
