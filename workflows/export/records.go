package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/dsar-project/dsar"
)

// MaxLine is the longest line of a collected export this package reads:
// one record larger than this fails the export, so that a broken blob
// cannot make it hold an unbounded line.
const MaxLine = 16 << 20

// ValueColumn is the column of a record that is not a JSON object (a
// system that gave bare values): its value.
const ValueColumn = "value"

// lines reads the lines of a JSON Lines stream, one at a time, into a
// buffer it reuses: a line is valid until the next call.
type lines struct {
	r    *bufio.Reader
	buf  []byte
	n    int // lines read, for error messages and cancellation checks
	ctx  context.Context
	name string
}

func newLines(ctx context.Context, r io.Reader, name string) *lines {
	return &lines{r: bufio.NewReaderSize(r, 64<<10), ctx: ctx, name: name}
}

// next returns the next line that is not blank, without its line break;
// io.EOF at the end.
func (l *lines) next() ([]byte, error) {
	for {
		line, err := l.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			l.buf = append(l.buf[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = l.r.ReadSlice('\n')
				if len(l.buf)+len(line) > MaxLine {
					return nil, fmt.Errorf("%s: line %d is longer than %d bytes", l.name, l.n+1, MaxLine)
				}
				l.buf = append(l.buf, line...)
			}
			line = l.buf
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
		if len(line) == 0 && err != nil {
			return nil, io.EOF
		}
		l.n++
		if l.n%4096 == 0 {
			if cerr := l.ctx.Err(); cerr != nil {
				return nil, cerr
			}
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			return line, nil
		}
		if err != nil {
			return nil, io.EOF
		}
	}
}

// recordPrefix and recordMiddle frame a line as json.Marshal writes a
// dsar.ExportRecord; such a line is split without decoding it.
var (
	recordPrefix = []byte(`{"category":"`)
	recordMiddle = []byte(`","record":`)
)

// split returns the category and the record of a line of a collected
// export. The category is a slice of line (or of a fresh string's bytes)
// and valid as long as the line is. A line in the form encoding/json
// writes is split without decoding it, unless decode is set; the first
// pass checks that its record is one valid value (see scan). When only is
// not nil, a line of another category is skipped (skip is true) without
// looking at its record.
func split(line []byte, only *string, decode bool) (category, record []byte, skip bool, err error) {
	if rest, ok := bytes.CutPrefix(line, recordPrefix); ok && !decode {
		if q := bytes.IndexByte(rest, '"'); q >= 0 && bytes.IndexByte(rest[:q], '\\') < 0 {
			if only != nil && string(rest[:q]) != *only {
				return nil, nil, true, nil
			}
			if rec, ok := bytes.CutPrefix(rest[q:], recordMiddle); ok && len(rec) > 0 && rec[len(rec)-1] == '}' {
				return rest[:q], bytes.TrimSpace(rec[:len(rec)-1]), false, nil
			}
		}
	}
	var r dsar.ExportRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, nil, false, err
	}
	if len(r.Record) == 0 {
		return nil, nil, false, errors.New("a line without a record")
	}
	if only != nil && r.Category != *only {
		return nil, nil, true, nil
	}
	return []byte(r.Category), r.Record, false, nil
}

// errMalformed is the error of a record that is not valid JSON.
var errMalformed = errors.New("malformed JSON in a record")

// members calls fn with each member of the JSON object obj: its key as
// written (escaped says it has escapes) and its value. It does not check that obj is valid JSON (json.Valid does) but never
// reads past its end: a malformed object is an error.
func members(obj []byte, fn func(key []byte, escaped bool, val []byte)) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return errMalformed
	}
	i++
	for first := true; ; first = false {
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == '}' {
			return nil
		}
		if !first {
			if i >= len(obj) || obj[i] != ',' {
				return errMalformed
			}
			i = skipSpace(obj, i+1)
		}
		if i >= len(obj) || obj[i] != '"' {
			return errMalformed
		}
		ks := i
		ke, escaped := endString(obj, ks)
		if ke < 0 {
			return errMalformed
		}
		i = skipSpace(obj, ke+1)
		if i >= len(obj) || obj[i] != ':' {
			return errMalformed
		}
		vs := skipSpace(obj, i+1)
		ve := endValue(obj, vs)
		if ve < 0 {
			return errMalformed
		}
		fn(obj[ks+1:ke], escaped, obj[vs:ve])
		i = ve
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endString returns the index of the quote that closes the string opening
// at b[i], and whether the string has escapes; -1 when it is not closed.
// It jumps from quote to quote (a quote after an odd run of backslashes
// is escaped).
func endString(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1, escaped
		}
		q := j + k
		if !escaped && bytes.IndexByte(b[j:q], '\\') >= 0 {
			escaped = true
		}
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q, escaped
		}
		j = q + 1
	}
}

// endValue returns the index just after the JSON value starting at b[i];
// -1 when it does not end.
func endValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		j, _ := endString(b, i)
		if j < 0 {
			return -1
		}
		return j + 1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				k, _ := endString(b, j)
				if k < 0 {
					return -1
				}
				j = k
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// keyString returns a member's key as text: the bytes themselves, or,
// when it has escapes or invalid UTF-8, decoded as encoding/json does.
func keyString(key []byte, escaped bool) (string, error) {
	if !escaped && utf8.Valid(key) {
		return string(key), nil
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &s); err != nil {
		return "", errMalformed
	}
	return s, nil
}

// cellText writes a value as one cell of a table: a string as its text,
// null as nothing, a number or a boolean as written, an object or an
// array as compact JSON text.
func cellText(v []byte, scratch *bytes.Buffer) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1])
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	case 'n':
		return ""
	case '{', '[':
		if !hasAny(v, &jsonSpace) {
			return string(v) // already compact, as encoding/json writes it
		}
		scratch.Reset()
		if json.Compact(scratch, v) == nil {
			return scratch.String()
		}
	}
	return string(v)
}

// newBuffered buffers the writes of a pass to its output.
func newBuffered(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 64<<10) }
