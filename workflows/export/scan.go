package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/dsar-project/dsar"
)

// category is what the first pass over a system's export found of one of
// its data categories: how many records, and the columns of its tables
// (the union of the records' top-level keys, in the order they first
// appear). Its size grows with the number of distinct keys, which the
// system's schema bounds, never with the number of records.
type category struct {
	Key     string
	Records int
	Columns []string
	index   map[string]int
}

// column returns the position of a column, adding it when new.
func (c *category) column(name string) int {
	if i, ok := c.index[name]; ok {
		return i
	}
	c.index[name] = len(c.Columns)
	c.Columns = append(c.Columns, name)
	return len(c.Columns) - 1
}

// scan reads a system's collected export once and returns its categories,
// in the order of the data map (dsar.System.CategoryOrder). Every record
// is checked to be valid JSON here, so later passes can trust the bytes.
func scan(ctx context.Context, blobs dsar.Blobs, key string, sys *dsar.System) ([]*category, error) {
	byKey := map[string]*category{}
	err := eachLine(ctx, blobs, key, nil, func(cat, rec []byte) error {
		c, ok := byKey[string(cat)]
		if !ok {
			c = &category{Key: string(cat), index: map[string]int{}}
			byKey[c.Key] = c
		}
		c.Records++
		if rec[0] != '{' {
			if !validJSON(rec) {
				return errMalformed
			}
			c.column(ValueColumn)
			return nil
		}
		var kerr error
		ok = validObject(rec, func(k []byte, escaped bool) {
			if _, ok := c.index[string(k)]; ok && !escaped {
				return
			}
			name, err := keyString(k, escaped)
			if err != nil {
				kerr = err
				return
			}
			c.column(name)
		})
		if !ok {
			return errMalformed
		}
		return kerr
	})
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if sys != nil {
		sys.CategoryOrder(keys)
	}
	out := make([]*category, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out, nil
}

// eachLine calls fn with the category and the record of every line of the
// blob under key (of category only, when only is not nil), in order; the
// slices are valid only during the call.
func eachLine(ctx context.Context, blobs dsar.Blobs, key string, only *string, fn func(cat, rec []byte) error) error {
	rc, err := blobs.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	ls := newLines(ctx, rc, key)
	for {
		line, err := ls.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		cat, rec, skip, err := split(line, only)
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", key, ls.n, err)
		}
		if skip {
			continue
		}
		if err := fn(cat, rec); err != nil {
			return fmt.Errorf("%s: line %d: %w", key, ls.n, err)
		}
	}
}

// eachRecord calls fn with every record of one category of the blob.
func eachRecord(ctx context.Context, blobs dsar.Blobs, key, cat string, fn func(rec []byte) error) error {
	return eachLine(ctx, blobs, key, &cat, func(_, rec []byte) error { return fn(rec) })
}

// rows turns the records of a category into table rows: one cell per
// column, reusing its slices from row to row.
type rows struct {
	c       *category
	vals    [][]byte
	cells   []string
	scratch bytes.Buffer
}

func newRows(c *category) *rows {
	return &rows{c: c, vals: make([][]byte, len(c.Columns)), cells: make([]string, len(c.Columns))}
}

// row returns the cells of a record; valid until the next call.
func (r *rows) row(rec []byte) ([]string, error) {
	clear(r.vals)
	if rec[0] != '{' {
		if i, ok := r.c.index[ValueColumn]; ok {
			r.vals[i] = rec
		}
	} else {
		var kerr error
		err := members(rec, func(k []byte, escaped bool, v []byte) {
			i, ok := r.c.index[string(k)]
			if escaped {
				name, err := keyString(k, true)
				if err != nil {
					kerr = err
					return
				}
				i, ok = r.c.index[name]
			}
			if ok {
				r.vals[i] = v
			}
		})
		if err := errors.Join(err, kerr); err != nil {
			return nil, err
		}
	}
	for i, v := range r.vals {
		r.cells[i] = cellText(v, &r.scratch)
	}
	return r.cells, nil
}
