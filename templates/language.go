package templates

import (
	"cmp"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/dsar-project/dsar"
)

// MatchLanguage picks the language to answer in from an Accept-Language
// header: nb for Norwegian (nb, no and nn, with any region or script), en for
// English (any variant), taking the entries in the order of their q weights.
// It returns fallback when the header is empty, cannot be read, or names
// neither language. Related languages do not count as a match: a Danish or
// Swedish reader gets fallback, not bokmål by guesswork, just as a German
// reader does not get English by chance. Norwegian nynorsk and unspecified
// Norwegian are answered in bokmål, the only Norwegian catalog there is.
func MatchLanguage(acceptLanguage string, fallback dsar.Language) dsar.Language {
	for _, tag := range parseAcceptLanguage(acceptLanguage) {
		base, conf := tag.Base()
		if conf < language.High {
			continue // "*" or a tag whose language is only guessed
		}
		switch base.String() {
		case "nb", "no", "nn":
			return dsar.LanguageNB
		case "en":
			return dsar.LanguageEN
		}
	}
	return fallback
}

// parseAcceptLanguage returns the tags of the header in order of preference.
// When the header as a whole is malformed, it keeps the entries that can be
// read on their own, so that one bad entry from an odd client does not throw
// away a good one.
func parseAcceptLanguage(h string) []language.Tag {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil
	}
	if tags, _, err := language.ParseAcceptLanguage(h); err == nil {
		return tags
	}
	type weighted struct {
		tag language.Tag
		q   float32
	}
	var ws []weighted
	for entry := range strings.SplitSeq(h, ",") {
		t, q, err := language.ParseAcceptLanguage(entry)
		if err != nil {
			continue
		}
		for i := range t {
			ws = append(ws, weighted{t[i], q[i]})
		}
	}
	slices.SortStableFunc(ws, func(a, b weighted) int { return cmp.Compare(b.q, a.q) })
	tags := make([]language.Tag, len(ws))
	for i, w := range ws {
		tags[i] = w.tag
	}
	return tags
}
