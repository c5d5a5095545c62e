package export

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// csvRoundTrip writes a row of "x" and f with csvField and reads it back
// with encoding/csv.
func csvRoundTrip(t *testing.T, f string) {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	csvField(w, []byte("x"))
	w.WriteByte(',')
	csvField(w, []byte(f))
	w.WriteByte('\n')
	w.Flush()
	written := b.String()
	rows, err := csv.NewReader(&b).ReadAll()
	// encoding/csv reads "\r\n" in a quoted field as "\n", and a lone
	// "\r" outside one as the end of a line: compare what it can keep.
	want := strings.ReplaceAll(f, "\r\n", "\n")
	if err != nil || len(rows) != 1 || len(rows[0]) != 2 || rows[0][1] != want {
		t.Errorf("field %q came back as %q (%v)", f, rows, err)
	}
	var ref bytes.Buffer
	cw := csv.NewWriter(&ref)
	cw.Write([]string{"x", f})
	cw.Flush()
	if ref.String() != written {
		t.Errorf("field %q: written %q, encoding/csv writes %q", f, written, ref.String())
	}
}

func TestCSVField(t *testing.T) {
	for _, f := range []string{"", "a", "a,b", `a"b`, `""`, " lead", "\tlead", "trail ", "x\ny", "x\r\ny", "æøå", `{"a":[1,2]}`, "a\rb", `\.`, "\u00a0nbsp", "\u2028x"} {
		csvRoundTrip(t, f)
	}
}

func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "a,b", `a"b`, " x", "x\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, '\r') || strings.ContainsRune(s, 0) || !utf8Valid(s) {
			t.Skip()
		}
		csvRoundTrip(t, s)
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
