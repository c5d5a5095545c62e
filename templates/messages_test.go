package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
)

// requiredKeys lists the keys the rest of the service relies on.
func requiredKeys() []string {
	keys := []string{
		"error.invalid", "error.malformed_json", "error.unknown_field", "error.body_too_large",
		"error.not_found", "error.unauthorized", "error.forbidden", "error.rate_limited",
		"error.internal", "error.unavailable", "error.unknown_controller", "error.transition",
		"error.extend.already_extended", "error.extend.past_deadline",
		"error.pause.already_paused", "error.pause.not_paused", "error.pause.closed",
		"error.closed", "error.stale_schema", "error.method_not_allowed",
		"field.required", "field.email", "field.enum", "field.too_long", "field.future",
		"field.api_key_only", "field.regulation_not_allowed", "field.date", "field.timestamp",
		"field.integer", "field.cursor",
		"unit.days.one", "unit.days.other",
	}
	for _, t := range dsar.RequestTypes {
		keys = append(keys, "type."+string(t), "mail.request."+string(t))
	}
	for _, s := range dsar.Statuses {
		keys = append(keys, "status."+string(s))
	}
	for _, r := range dsar.Regulations {
		keys = append(keys, "regulation."+string(r))
	}
	return keys
}

// requiredPlaceholders lists the placeholders callers fill in.
var requiredPlaceholders = map[string][]string{
	"error.unknown_field":          {"field"},
	"error.body_too_large":         {"limit"},
	"error.rate_limited":           {"seconds"},
	"error.unknown_controller":     {"controller"},
	"error.transition":             {"from", "to"},
	"error.extend.past_deadline":   {"deadline"},
	"field.enum":                   {"allowed"},
	"field.too_long":               {"max"},
	"field.regulation_not_allowed": {"allowed"},
	"unit.days.one":                {"n"},
	"unit.days.other":              {"n"},
}

func TestRequiredKeysPresent(t *testing.T) {
	for _, lang := range dsar.Languages {
		for _, key := range requiredKeys() {
			if _, ok := catalogs[lang][key]; !ok {
				t.Errorf("%s: missing key %q", lang, key)
			}
		}
	}
}

func TestCatalogsHaveSameKeys(t *testing.T) {
	want := Keys(dsar.LanguageEN)
	if len(want) == 0 {
		t.Fatal("en catalog is empty")
	}
	for _, lang := range dsar.Languages {
		if diff := cmp.Diff(want, Keys(lang)); diff != "" {
			t.Errorf("keys of %s differ from en (-en +%s):\n%s", lang, lang, diff)
		}
	}
}

func TestCatalogsNoEmptyValues(t *testing.T) {
	for _, lang := range dsar.Languages {
		for key, msg := range catalogs[lang] {
			if strings.TrimSpace(msg) == "" {
				t.Errorf("%s: %q is empty", lang, key)
			}
			if msg != strings.TrimSpace(msg) {
				t.Errorf("%s: %q has leading or trailing white space", lang, key)
			}
		}
	}
}

func TestCatalogsPlaceholdersMatch(t *testing.T) {
	set := func(msg string) []string {
		p := placeholders(msg)
		slices.Sort(p)
		return slices.Compact(p)
	}
	for key, en := range catalogs[dsar.LanguageEN] {
		for _, lang := range dsar.Languages {
			msg, ok := catalogs[lang][key]
			if !ok {
				continue // TestCatalogsHaveSameKeys reports it
			}
			if diff := cmp.Diff(set(en), set(msg)); diff != "" {
				t.Errorf("%s %q: placeholders differ from en (-en +%s):\n%s", lang, key, lang, diff)
			}
		}
	}
	for key, want := range requiredPlaceholders {
		got := set(catalogs[dsar.LanguageEN][key])
		for _, p := range want {
			if !slices.Contains(got, p) {
				t.Errorf("en %q: placeholder {%s} missing", key, p)
			}
		}
	}
}

// TestCatalogsNoDuplicateKeys guards against a key written twice in a file,
// which encoding/json would silently resolve to the last value.
func TestCatalogsNoDuplicateKeys(t *testing.T) {
	for _, lang := range dsar.Languages {
		b, err := messageFiles.ReadFile("messages/" + string(lang) + ".json")
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			key := tok.(string)
			if seen[key] {
				t.Errorf("%s: key %q appears twice", lang, key)
			}
			seen[key] = true
			var v string
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: %q: %v", lang, key, err)
			}
		}
	}
}

func TestT(t *testing.T) {
	tests := []struct {
		name   string
		lang   dsar.Language
		key    string
		params map[string]any
		want   string
	}{
		{"plain en", dsar.LanguageEN, "error.invalid", nil, "The request has invalid fields."},
		{"plain nb", dsar.LanguageNB, "status.completed", nil, "Fullført"},
		{"placeholder", dsar.LanguageEN, "error.unknown_field", map[string]any{"field": "emial"},
			"The field emial is not recognised."},
		{"int placeholder", dsar.LanguageNB, "error.rate_limited", map[string]any{"seconds": 30},
			"For mange forespørsler. Prøv igjen om 30 sekunder."},
		{"two placeholders", dsar.LanguageEN, "error.transition", map[string]any{"from": "completed", "to": "received"},
			"The status of the request cannot change from «completed» to «received»."},
		{"statuses in words", dsar.LanguageNB, "error.transition", map[string]any{"from": dsar.StatusAwaitingVerification, "to": dsar.StatusCompleted},
			"Statusen til forespørselen kan ikke endres fra «Venter på bekreftelse fra den registrerte» til «Fullført»."},
		{"string slice joined", dsar.LanguageEN, "field.enum", map[string]any{"allowed": []string{"nb", "en"}},
			"Choose one of: nb, en."},
		{"typed slice joined", dsar.LanguageNB, "field.regulation_not_allowed",
			map[string]any{"allowed": []dsar.Regulation{dsar.RegulationGDPR, dsar.RegulationCCPA}},
			"Dette regelverket gjelder ikke for den behandlingsansvarlige. Velg en av disse: gdpr, ccpa."},
		{"missing param kept", dsar.LanguageEN, "field.too_long", nil,
			"This is too long. The maximum is {max} characters."},
		{"unknown language falls back to en", dsar.Language("de"), "error.forbidden", nil,
			"You do not have permission to do this."},
		{"unknown key returned as is", dsar.LanguageNB, "no.such.key", nil, "no.such.key"},
		{"value with braces not refilled", dsar.LanguageEN, "error.unknown_field", map[string]any{"field": "{field}"},
			"The field {field} is not recognised."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := T(tt.lang, tt.key, tt.params); got != tt.want {
				t.Errorf("T(%q, %q) = %q, want %q", tt.lang, tt.key, got, tt.want)
			}
		})
	}
}

func TestFillLeavesNonPlaceholderBraces(t *testing.T) {
	got := fill(`{"a": 1} {1x} {} {ok}`, map[string]any{"ok": "yes", "a": "no"})
	want := `{"a": 1} {1x} {} yes`
	if got != want {
		t.Errorf("fill = %q, want %q", got, want)
	}
}

func TestKeysSortedAndUnknownLanguage(t *testing.T) {
	keys := Keys(dsar.LanguageNB)
	if !slices.IsSorted(keys) {
		t.Error("Keys not sorted")
	}
	if got := Keys("de"); got != nil {
		t.Errorf("Keys(de) = %v, want nil", got)
	}
}

func ExampleT() {
	fmt.Println(T(dsar.LanguageNB, "field.too_long", map[string]any{"max": 200}))
	// Output: Dette er for langt. Maksimum er 200 tegn.
}
