// Package blob keeps the files of cases (dsar.Blobs): in a directory on the
// embedded default or in S3-compatible object storage, either of them
// behind Encrypted, which encrypts every file at rest.
package blob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dsar-project/dsar"
)

var _ dsar.Blobs = (*Dir)(nil)

// tmpDir is the directory under the root where a Put writes before it
// renames the file into place. Keys cannot name it: no segment of a key
// starts with a dot.
const tmpDir = ".tmp"

// Dir keeps each key as a file under a root directory, the key's slashes
// making subdirectories. A Put writes a temporary file and renames it into
// place, so a file is either whole or not there.
type Dir struct {
	root string
}

// NewDir returns the store in root, creating it (mode 0700) when missing.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, tmpDir), 0o700); err != nil {
		return nil, err
	}
	return &Dir{root: root}, nil
}

// checkKey refuses a key that would not map to a file inside the root: an
// empty or absolute key, an empty segment, a segment starting with a dot
// ("..", ".", ".tmp"), a backslash or a NUL byte.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") {
		return dsar.Errorf(dsar.EINVALID, "blob key %q: want a relative slash-separated path", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return dsar.Errorf(dsar.EINVALID, "blob key %q: empty segment or one starting with a dot", key)
		}
	}
	return nil
}

// path is the file of a checked key.
func (d *Dir) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// Put writes r to a temporary file, syncs it and renames it to key's path.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	dst := d.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Join(d.root, tmpDir), "put-*")
	if err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	if err := f.Close(); err != nil {
		return n, err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return n, err
	}
	done = true
	return n, nil
}

// Open opens key's file.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dsar.Errorf(dsar.ENOTFOUND, "no blob %s", key)
	}
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() { // a prefix of keys, not a key
		f.Close()
		return nil, dsar.Errorf(dsar.ENOTFOUND, "no blob %s", key)
	}
	return f, nil
}

// Delete removes the files of every key that starts with prefix, then the
// directories that became empty.
func (d *Dir) Delete(ctx context.Context, prefix string) error {
	var dirs []string
	err := d.List(ctx, prefix, func(key string) error {
		if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dirs = append(dirs, filepath.Dir(d.path(key)))
		return nil
	})
	if err != nil {
		return err
	}
	// Deepest first; a directory that still holds files stays.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	root := filepath.Clean(d.root)
	for _, dir := range dirs {
		for dir != root && strings.HasPrefix(dir, root) {
			if os.Remove(dir) != nil {
				break
			}
			dir = filepath.Dir(dir)
		}
	}
	return nil
}

// List walks the directory that prefix's last slash ends, and calls fn with
// the keys that start with prefix, sorted.
func (d *Dir) List(ctx context.Context, prefix string, fn func(key string) error) error {
	base := ""
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		base = prefix[:i]
		if err := checkKey(base); err != nil {
			return err
		}
	}
	start := d.root
	if base != "" {
		start = d.path(base)
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if strings.HasPrefix(e.Name(), ".") && p != start {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
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
