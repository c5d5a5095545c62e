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
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "\"\xff\xfe\"", `{"a":{"b":{"c":"}"}}}`, `+1`, `1e+`, `-a`,
}

func TestValidJSON(t *testing.T) {
	for _, s := range validCases {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
