package connector

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode/utf8"
)

// Format is a file format of collected data a person or a processor hands
// over: FormatJSON, FormatJSONLines or FormatCSV.
type Format string

// The formats Convert reads.
const (
	// FormatJSON is a JSON array of records, or one JSON value.
	FormatJSON Format = "json"
	// FormatJSONLines is JSON values one after the other (one a line, as a
	// rule): one record each.
	FormatJSONLines Format = "jsonl"
	// FormatCSV is comma-separated values with a header row: one record
	// per row, an object of the row's values (text) by column name.
	FormatCSV Format = "csv"
)

// Formats lists the formats in the words the pages and docs use.
const Formats = "JSON, JSON Lines or CSV"

// FormatOf returns the format of a file from its media type and, failing
// that, its name's extension; "" when it is none of them.
func FormatOf(contentType, name string) Format {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/json", "text/json":
		return FormatJSON
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines", "application/json-seq":
		return FormatJSONLines
	case "text/csv", "application/csv":
		return FormatCSV
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".json":
		return FormatJSON
	case ".jsonl", ".ndjson":
		return FormatJSONLines
	case ".csv":
		return FormatCSV
	}
	return ""
}

// ErrTooLarge is the failure of a body or file over its bound.
var ErrTooLarge = errors.New("over the size limit")

// CapReader fails a read past Left bytes with ErrTooLarge.
type CapReader struct {
	R    io.Reader
	Left int64
}

func (c *CapReader) Read(p []byte) (int, error) {
	if c.Left <= 0 {
		// One byte more tells a body of exactly the bound from a longer one.
		var one [1]byte
		if n, _ := c.R.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return c.R.Read(p)
	}
	if int64(len(p)) > c.Left {
		p = p[:c.Left]
	}
	n, err := c.R.Read(p)
	c.Left -= int64(n)
	return n, err
}

// Convert reads a file of records in the format and writes each to the
// export as it reads it, of category (a JSON or JSON Lines value that is
// itself an ExportRecord, {"category":"…","record":…}, keeps its own): a
// JSON array's elements, JSON Lines' values, CSV's rows. Its errors say
// where the file is wrong (the record's number, the line), never what it
// holds.
func Convert(ex *Export, format Format, category string, r io.Reader) error {
	switch format {
	case FormatJSON, FormatJSONLines:
		return convertJSON(ex, category, r)
	case FormatCSV:
		return convertCSV(ex, category, r)
	}
	return fmt.Errorf("not %s", Formats)
}

// convertJSON reads a JSON array, or a sequence of JSON values (JSON Lines,
// or one value).
func convertJSON(ex *Export, category string, r io.Reader) error {
	br := bufio.NewReader(r)
	array := false
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return nil // empty: no records
		}
		if err != nil {
			return err
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
			_, _ = br.ReadByte()
			continue
		}
		if bytes.HasPrefix(b, []byte{0xEF}) { // a UTF-8 byte order mark
			if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
				_, _ = br.Discard(3)
				continue
			}
		}
		array = b[0] == '['
		break
	}
	dec := json.NewDecoder(br)
	if array {
		_, _ = dec.Token() // the '['
	}
	for n := 1; ; n++ {
		if array && !dec.More() {
			break
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err == io.EOF && !array {
			return nil
		} else if err != nil {
			return fmt.Errorf("record %d: %w", n, jsonError(err))
		}
		if err := writeValue(ex, category, v); err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more data after the array")
	}
	return nil
}

// writeValue writes a JSON value as a record, or as the ExportRecord it is.
func writeValue(ex *Export, category string, v json.RawMessage) error {
	if bytes.HasPrefix(bytes.TrimSpace(v), []byte("{")) {
		var fields map[string]json.RawMessage
		if json.Unmarshal(v, &fields) == nil && len(fields) == 2 && fields["record"] != nil {
			var c string
			if json.Unmarshal(fields["category"], &c) == nil {
				return ex.Write(c, fields["record"])
			}
		}
	}
	return ex.Write(category, v)
}

// jsonError words a decoding error: where, not what.
func jsonError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, ErrTooLarge):
		return err
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the file ends in the middle of a value")
	case errors.As(err, &se):
		return fmt.Errorf("not JSON at byte %d", se.Offset)
	}
	return err
}

// convertCSV reads CSV with a header row.
func convertCSV(ex *Export, category string, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return csvError(err)
	}
	names := make([][]byte, len(header))
	for i, h := range header {
		h = strings.TrimPrefix(h, "\uFEFF")
		if strings.TrimSpace(h) == "" || !utf8.ValidString(h) {
			return fmt.Errorf("line 1: column %d has no name", i+1)
		}
		names[i], _ = json.Marshal(h)
	}
	var b bytes.Buffer
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err)
		}
		b.Reset()
		b.WriteByte('{')
		for i, v := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(names[i])
			b.WriteByte(':')
			s, _ := json.Marshal(v) // invalid UTF-8 becomes U+FFFD
			b.Write(s)
		}
		b.WriteByte('}')
		if err := ex.Write(category, b.Bytes()); err != nil {
			return err
		}
	}
}

// csvError words a CSV error: the line and what is wrong, not the text.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, ErrTooLarge) {
			return ErrTooLarge
		}
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}
