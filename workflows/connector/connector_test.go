package connector_test

import (
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// An answer keeps a short line of the system's text, never the subject's
// identities, control or direction characters, or a broken rune.
func TestAnswer(t *testing.T) {
	subj := dsar.Subject{Email: "Kari@Example.no", CustomerID: "K-1001", Phone: "+47 900 00 000", Name: "Kari Nordmann"}
	for _, tc := range []struct {
		status int
		text   string
		want   string
	}{
		{500, "", "HTTP 500"},
		{422, "unknown customer kari@example.NO (K-1001)\r\n\u202econtact Kari Nordmann", "HTTP 422: unknown customer [subject] ([subject]) contact [subject]"},
		{404, "no\x00such   user", "HTTP 404: no such user"},
		{503, strings.Repeat("é", 150), "HTTP 503: " + strings.Repeat("é", 100)},
		{400, "id 12 is bad", "HTTP 400: id 12 is bad"},
	} {
		if got := connector.Answer(subj, tc.status, tc.text); got != tc.want {
			t.Errorf("Answer(%d, %q) = %q, want %q", tc.status, tc.text, got, tc.want)
		}
	}
	if got := connector.Blank("row of ab and Kari", "ab", " kari "); got != "row of ab and [subject]" {
		t.Errorf("Blank = %q", got)
	}
}
