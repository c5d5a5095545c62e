package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

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

// source is one system's collected export as the first pass found it: its
// categories, and whether every line must be decoded (decode) because some
// line is not in the form encoding/json writes an ExportRecord in.
type source struct {
	blobs  dsar.Blobs
	key    string
	cats   []*category
	decode bool
	// redacted are the lines (from 1, sorted) every pass leaves out.
	redacted []int
}

// scan reads a system's collected export once and returns its categories,
// in the order of the data map (dsar.System.CategoryOrder). Every record
// is checked to be valid JSON here, so later passes can trust the bytes. A
// line in encoding/json's form is split without decoding it; the record of
// a line with more fields after it is not one valid value, and such a line
// is decoded instead, as are all the blob's lines in later passes.
func scan(ctx context.Context, blobs dsar.Blobs, key string, sys *dsar.System, redacted []int) (*source, error) {
	src := &source{blobs: blobs, key: key, redacted: redacted}
	byKey := map[string]*category{}
	err := src.lines(ctx, nil, func(line, cat, rec []byte) error {
		if !validRecord(rec, nil) {
			var r dsar.ExportRecord
			if json.Unmarshal(line, &r) != nil || len(r.Record) == 0 {
				return errMalformed
			}
			src.decode = true
			cat, rec = []byte(r.Category), r.Record
		}
		c, ok := byKey[string(cat)]
		if !ok {
			c = &category{Key: string(cat), index: map[string]int{}}
			byKey[c.Key] = c
		}
		c.Records++
		var kerr error
		validRecord(rec, func(k []byte, escaped bool) {
			if _, ok := c.index[string(k)]; ok && !escaped {
				return // a known column, written as its name
			}
			name, err := keyString(k, escaped)
			if err != nil {
				kerr = err
				return
			}
			c.column(name)
		})
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
	for _, k := range keys {
		src.cats = append(src.cats, byKey[k])
	}
	return src, nil
}

// validRecord reports whether rec is one valid JSON value; with key not
// nil, it calls key with each top-level key of an object, or with
// ValueColumn for any other value.
func validRecord(rec []byte, key func(k []byte, escaped bool)) bool {
	if len(rec) > 0 && rec[0] == '{' {
		if key == nil {
			key = func([]byte, bool) {}
		}
		return validObject(rec, key)
	}
	if !validJSON(rec) {
		return false
	}
	if key != nil {
		key([]byte(ValueColumn), false)
	}
	return true
}

// lines calls fn with every line of the blob (of category only, when only
// is not nil) but the redacted ones, in order, with its category and
// record; the slices are valid only during the call. A task with no blob
// has no lines.
func (s *source) lines(ctx context.Context, only *string, fn func(line, cat, rec []byte) error) error {
	rc, err := s.blobs.Open(ctx, s.key)
	if dsar.ErrorCode(err) == dsar.ENOTFOUND {
		// A task done with nothing collected: a vendor confirmed it by
		// mail (sending any copy to the privacy contact). It has no
		// records to give.
		return nil
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	ls := newLines(ctx, rc, s.key)
	for {
		line, err := ls.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, out := slices.BinarySearch(s.redacted, ls.n); out {
			continue // left out by an officer (Art 15(4))
		}
		cat, rec, skip, err := split(line, only, s.decode)
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", s.key, ls.n, err)
		}
		if skip {
			continue
		}
		if err := fn(line, cat, rec); err != nil {
			return fmt.Errorf("%s: line %d: %w", s.key, ls.n, err)
		}
	}
}

// each calls fn with every record of one category, in order.
func (s *source) each(ctx context.Context, cat string, fn func(rec []byte) error) error {
	return s.lines(ctx, &cat, func(_, _, rec []byte) error { return fn(rec) })
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

// values sets r.vals to the raw value of each column in the record (nil
// for a column it does not have).
func (r *rows) values(rec []byte) error {
	clear(r.vals)
	if rec[0] != '{' {
		if i, ok := r.c.index[ValueColumn]; ok {
			r.vals[i] = rec
		}
		return nil
	}
	var kerr error
	err := members(rec, func(k []byte, escaped bool, v []byte) {
		i, ok := r.c.index[string(k)]
		if escaped || !ok && !utf8.Valid(k) {
			name, err := keyString(k, escaped)
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
	return errors.Join(err, kerr)
}

// row returns the cells of a record; valid until the next call.
func (r *rows) row(rec []byte) ([]string, error) {
	if err := r.values(rec); err != nil {
		return nil, err
	}
	for i, v := range r.vals {
		r.cells[i] = cellText(v, &r.scratch)
	}
	return r.cells, nil
}
