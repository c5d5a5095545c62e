package templates

import (
	"testing"

	"github.com/dsar-project/dsar"
)

func TestMatchLanguage(t *testing.T) {
	const nb, en = dsar.LanguageNB, dsar.LanguageEN
	tests := []struct {
		header   string
		fallback dsar.Language
		want     dsar.Language
	}{
		{"nb-NO,nb;q=0.9,en;q=0.8", en, nb},
		{"no", en, nb},
		{"nn", en, nb},
		{"nn-NO", en, nb},
		{"no-NO", en, nb},
		{"nb", en, nb},
		{"en-GB", nb, en},
		{"en-US,en;q=0.9", nb, en},
		{"EN", nb, en},
		{"de", nb, nb},
		{"de", en, en},
		{"", nb, nb},
		{"", en, en},
		{"   ", en, en},
		{"*", nb, nb},
		{"da", en, en},                 // related, but not Norwegian
		{"sv-SE", nb, nb},              // likewise
		{"de, en;q=0.5", nb, en},       // first language we have
		{"de,nb;q=0.1", en, nb},        // however low its weight
		{"en;q=0.5, nb;q=0.9", en, nb}, // weights, not order, decide
		{"en;q=0, nb", en, nb},         // q=0 means not acceptable
		{"en;q=0", nb, nb},
		{"fr-CA,fr;q=0.9", en, en},
		{"nb-Latn-NO", en, nb},
		{"!!!, en-GB", nb, en}, // a malformed entry does not spoil the rest
		{"x-klingon", nb, nb},
		{"en;q=abc", nb, nb},
	}
	for _, tt := range tests {
		if got := MatchLanguage(tt.header, tt.fallback); got != tt.want {
			t.Errorf("MatchLanguage(%q, %q) = %q, want %q", tt.header, tt.fallback, got, tt.want)
		}
	}
}

func FuzzMatchLanguage(f *testing.F) {
	for _, s := range []string{"nb-NO,nb;q=0.9,en;q=0.8", "en-GB", "de", "", "*;q=0.1", "no;q=1.0, en;q=0.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := MatchLanguage(h, "fallback")
		if got != dsar.LanguageNB && got != dsar.LanguageEN && got != "fallback" {
			t.Fatalf("MatchLanguage(%q) = %q", h, got)
		}
	})
}
