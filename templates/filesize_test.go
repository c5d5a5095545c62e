package templates

import (
	"testing"

	"github.com/dsar-project/dsar"
)

// Sizes are written in decimal units, with one decimal below ten and the
// language's decimal mark, never broken from their unit.
func TestFileSize(t *testing.T) {
	for _, tc := range []struct {
		lang dsar.Language
		n    int64
		want string
	}{
		{dsar.LanguageEN, 0, "0\u00a0B"},
		{dsar.LanguageEN, 999, "999\u00a0B"},
		{dsar.LanguageEN, 1000, "1.0\u00a0kB"},
		{dsar.LanguageNB, 1449, "1,4\u00a0kB"},
		{dsar.LanguageEN, 820_000, "820\u00a0kB"},
		{dsar.LanguageEN, 999_960, "1.0\u00a0MB"},
		{dsar.LanguageNB, 14_200_000, "14\u00a0MB"},
		{dsar.LanguageEN, 3_500_000_000, "3.5\u00a0GB"},
	} {
		if got := fileSize(tc.lang, tc.n); got != tc.want {
			t.Errorf("fileSize(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}
