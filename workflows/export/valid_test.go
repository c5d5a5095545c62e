package export

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.34E-5`, `true`, `false`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
	`"\u00e6\n\"\\\/"`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `1e`, `-`, `tru`, `nul`, `"abc`, "\"a\tb\"", `"\x"`,
	`"\u12"`, `{"a" 1}`, `{1:2}`, `[1 2]`, `{} {}`, ``, ` `, `{"a":"b"`, `[[[[]]]]`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "\"\xff\xfe\"", `{"a":{"b":{"c":"}"}}}`, `{"\u0041":1,"b\"":2}`, `{"a":1} x`, `{"a":1,"a":2}`, `+1`, `1e+`, `-a`,
}

// checkValid compares validJSON, and validObject on what starts like an
// object (with the keys it finds), with encoding/json.
func checkValid(t *testing.T, b []byte) {
	t.Helper()
	want := json.Valid(b)
	if got := validJSON(b); got != want {
		t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", b, got, want)
	}
	if s := strings.TrimLeft(string(b), " \t\r\n"); !strings.HasPrefix(s, "{") {
		return
	}
	var keys []string
	got := validObject(b, func(k []byte, escaped bool) {
		name, err := keyString(k, escaped)
		if err != nil {
			t.Errorf("validObject(%.60q): key %q: %v", b, k, err)
		}
		keys = append(keys, name)
	})
	if got != want {
		t.Errorf("validObject(%.60q) = %v, json.Valid says %v", b, got, want)
	}
	if got {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("validObject(%.60q): key %q is not in the object", b, k)
			}
		}
		if len(m) > len(keys) {
			t.Errorf("validObject(%.60q): keys %q miss some of the object's", b, keys)
		}
	}
}

func TestValidJSON(t *testing.T) {
	for _, s := range validCases {
		checkValid(t, []byte(s))
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkValid(t, b) })
}
