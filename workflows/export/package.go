package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dsar-project/dsar"
)

// PackageSchemaVersion is the version of the portability package's layout
// and manifest; it changes when a field changes meaning or goes.
const PackageSchemaVersion = 1

// ManifestName is the name of the manifest in the package, its last file.
const ManifestName = "manifest.json"

// Manifest describes a portability package: what is in it, from where, and
// how to check each file.
type Manifest struct {
	SchemaVersion int       `json:"schema_version"`
	CaseReference string    `json:"case_reference"`
	Controller    string    `json:"controller"`
	Created       time.Time `json:"created"`
	Files         []File    `json:"files"`
	// LeftOut lists the categories found that the right to portability
	// does not reach (dsar.Controller.Portable), with their record counts:
	// the access answer holds them.
	LeftOut []LeftOut `json:"left_out"`
}

// File is one file of a package.
type File struct {
	Name     string `json:"name"`
	Format   string `json:"format"` // "json" or "csv"
	System   string `json:"system"`
	Category string `json:"category"`
	Records  int    `json:"records"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
}

// LeftOut is a category of a system's export the package leaves out.
type LeftOut struct {
	System   string `json:"system"`
	Category string `json:"category"`
	Records  int    `json:"records"`
}

// WritePackage writes the portability package of the case (Art 20) to w as
// a ZIP: for every system whose export task is done and every category of
// its data that is portable, SYSTEM/CATEGORY.json (a JSON array of the
// records as the system gave them) and SYSTEM/CATEGORY.csv (one row per
// record, one column per top-level key of any of the category's records,
// nested values as JSON text), then manifest.json. The ZIP is streamed to
// w; it returns the manifest it wrote.
func WritePackage(ctx context.Context, w io.Writer, c Case) (*Manifest, error) {
	if c.Request.Type != dsar.TypePortability {
		return nil, dsar.Errorf(dsar.ECONFLICT, "a portability package answers a portability request, not %s", c.Request.Type)
	}
	systems, err := dsar.ExportSystems(c.Controller, c.Tasks)
	if err != nil {
		return nil, err
	}
	m := &Manifest{SchemaVersion: PackageSchemaVersion, CaseReference: c.Request.Reference, Controller: c.Controller.LegalName,
		Created: c.Now.UTC(), Files: []File{}, LeftOut: []LeftOut{}}
	zw := zip.NewWriter(w)
	for _, s := range systems {
		if s.Status != dsar.TaskDone {
			continue
		}
		key := dsar.ExportBlobKey(c.Request.ID, s.Task)
		sys, _ := c.Controller.System(s.Key)
		src, err := scan(ctx, c.Blobs, key, sys, c.Redacted[s.Task])
		if err != nil {
			return nil, err
		}
		for _, cat := range src.cats {
			if !c.Controller.Portable(s.Key, cat.Key) {
				m.LeftOut = append(m.LeftOut, LeftOut{System: s.Key, Category: cat.Key, Records: cat.Records})
				continue
			}
			base := fileName(s.Key) + "/" + fileName(cat.Key)
			f, err := writeEntry(zw, base+".json", c.Now, func(ew io.Writer) error { return writeJSONArray(ctx, ew, src, cat) })
			if err != nil {
				return nil, err
			}
			f.Format, f.System, f.Category, f.Records = "json", s.Key, cat.Key, cat.Records
			m.Files = append(m.Files, f)
			f, err = writeEntry(zw, base+".csv", c.Now, func(ew io.Writer) error { return writeCSV(ctx, ew, src, cat) })
			if err != nil {
				return nil, err
			}
			f.Format, f.System, f.Category, f.Records = "csv", s.Key, cat.Key, cat.Records
			m.Files = append(m.Files, f)
		}
	}
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: c.Now})
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(mw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return m, zw.Close()
}

// fileName makes a key a safe name in the package: the data map's keys are
// already (lowercase letters, digits, '-'); anything else becomes '_', and
// the records of no category go to "uncategorised".
func fileName(key string) string {
	if key == "" {
		return "uncategorised"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, key)
}

// counter counts and hashes what passes through it to the ZIP entry.
type counter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// writeEntry adds one file to the ZIP, written by fn, and returns its
// name, size and SHA-256.
func writeEntry(zw *zip.Writer, name string, mod time.Time, fn func(io.Writer) error) (File, error) {
	ew, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod})
	if err != nil {
		return File{}, err
	}
	cw := &counter{w: ew, h: sha256.New()}
	if err := pipeTo(cw, fn); err != nil {
		return File{}, err
	}
	return File{Name: name, Bytes: cw.n, SHA256: hex.EncodeToString(cw.h.Sum(nil))}, nil
}

// writeJSONArray writes the category's records as a JSON array, one record
// a line.
func writeJSONArray(ctx context.Context, w io.Writer, src *source, cat *category) error {
	bw := newBuffered(w)
	bw.WriteString("[")
	n := 0
	err := src.each(ctx, cat.Key, func(rec []byte) error {
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		bw.WriteByte('\n')
		_, err := bw.Write(rec)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

// writeCSV writes the category's records as CSV (RFC 4180, "\n" line
// ends, as encoding/csv writes by default): a header of the columns the
// first pass found, then one row per record, each cell written straight
// from the record's bytes (cellText's rules).
func writeCSV(ctx context.Context, w io.Writer, src *source, cat *category) error {
	bw := newBuffered(w)
	for i, col := range cat.Columns {
		if i > 0 {
			bw.WriteByte(',')
		}
		csvField(bw, []byte(col))
	}
	bw.WriteByte('\n')
	rs := newRows(cat)
	err := src.each(ctx, cat.Key, func(rec []byte) error {
		if err := rs.values(rec); err != nil {
			return err
		}
		for i, v := range rs.vals {
			if i > 0 {
				bw.WriteByte(',')
			}
			csvCell(bw, v, &rs.scratch)
		}
		return bw.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// byteSet is a set of bytes, for scans that run on every cell.
type byteSet [256]bool

func newByteSet(chars string) (s byteSet) {
	for i := range len(chars) {
		s[chars[i]] = true
	}
	return s
}

var (
	csvSpecial = newByteSet(",\"\r\n") // a field with one of these is quoted
	jsonSpace  = newByteSet(" \t\r\n") // JSON's white space
)

// hasAny reports whether b holds a byte of the set.
func hasAny(b []byte, set *byteSet) bool {
	for _, c := range b {
		if set[c] {
			return true
		}
	}
	return false
}

func startsWithSpace(f []byte) bool {
	r, _ := utf8.DecodeRune(f)
	return unicode.IsSpace(r)
}

// csvCell writes a value as a CSV cell by the rules of cellText, without
// making a string of it.
func csvCell(w *bufio.Writer, v []byte, scratch *bytes.Buffer) {
	if len(v) == 0 {
		return
	}
	switch v[0] {
	case '"':
		if inner := v[1 : len(v)-1]; bytes.IndexByte(inner, '\\') < 0 {
			csvField(w, inner)
			return
		}
	case 'n':
		return
	case '{', '[':
		if !hasAny(v, &jsonSpace) {
			csvField(w, v)
			return
		}
	default:
		csvField(w, v)
		return
	}
	csvField(w, []byte(cellText(v, scratch)))
}

// csvField writes one field, quoted when it holds a comma, a quote or a
// line break, starts with white space or is \. (a PostgreSQL end-of-data
// marker), exactly as encoding/csv does.
func csvField(w *bufio.Writer, f []byte) {
	if len(f) == 0 || !hasAny(f, &csvSpecial) && !startsWithSpace(f) && string(f) != `\.` {
		w.Write(f)
		return
	}
	w.WriteByte('"')
	for {
		i := bytes.IndexByte(f, '"')
		if i < 0 {
			w.Write(f)
			break
		}
		w.Write(f[:i+1])
		w.WriteByte('"')
		f = f[i+1:]
	}
	w.WriteByte('"')
}
