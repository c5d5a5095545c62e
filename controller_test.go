package dsar

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ctrlBaseYAML is a valid configuration; the comments give the line numbers
// the invalid cases below refer to.
const ctrlBaseYAML = `controllers:
  - key: acme                                 # 2
    legal_name: Acme AS                       # 3
    jurisdiction: NO                          # 4
    time_zone: Europe/Oslo                    # 5
    languages: [nb, en]                       # 6
    privacy_contact:                          # 7
      email: privacy@acme.example             # 8
    supervisory_authority:                    # 9
      name: Datatilsynet                      # 10
      address: Postboks 458 Sentrum, 0105 Oslo # 11
    default_regulation: gdpr                  # 12
    data_categories:                          # 13
      - key: contact                          # 14
        name: Contact data                    # 15
        retention: 5 years after the last order # 16
        retention_period: P5Y                 # 17
        legal_bases: [contract]               # 18
    systems:                                  # 19
      - key: crm                              # 20
        name: CRM                             # 21
        legal_bases: [contract]               # 22
        purposes: [Customer care]             # 23
        data_categories: [contact]            # 24
        role: internal                        # 25
        connector: {kind: manual, instructions: Delete the customer in the CRM.} # 26
`

// ctrlEdit replaces the one occurrence of old in s with new.
func ctrlEdit(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times, want 1", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// ctrlMessages returns the lines of the message of an EINVALID error.
func ctrlMessages(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want one")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Code != EINVALID {
		t.Fatalf("code = %q, want %q", e.Code, EINVALID)
	}
	lines := strings.Split(e.Message, "\n")
	if len(e.Fields) != len(lines) {
		t.Errorf("%d fields for %d message lines", len(e.Fields), len(lines))
	}
	return lines
}

func TestDefaultControllers(t *testing.T) {
	cs, err := DefaultControllers()
	if err != nil {
		t.Fatalf("embedded controllers.yaml: %v\n%s", err, ErrorMessage(err))
	}
	type row struct {
		Key, Zone, Authority, Email string
		Jurisdiction                Jurisdiction
		Languages                   []Language
		Default                     Regulation
		Regulations                 []Regulation
		Related                     []string
		Processor                   bool
	}
	var got []row
	for _, c := range cs.All() {
		if c.Location == nil || c.Location.String() != c.TimeZone {
			t.Errorf("%s: Location = %v, want %s", c.Key, c.Location, c.TimeZone)
		}
		got = append(got, row{
			Key: c.Key, Zone: c.TimeZone, Authority: c.SupervisoryAuthority.Name, Email: c.PrivacyContact.Email,
			Jurisdiction: c.Jurisdiction, Languages: c.Languages, Default: c.DefaultRegulation,
			Regulations: c.Regulations, Related: c.Related, Processor: c.ProcessorFor != "",
		})
	}
	gdpr := []Regulation{RegulationGDPR}
	both := []Regulation{RegulationGDPR, RegulationCCPA}
	want := []row{
		{"nte", "Europe/Oslo", "Datatilsynet", "personvern@nte.no", JurisdictionNO, []Language{"nb", "en"}, RegulationGDPR, gdpr, nil, false},
		{"keto-diets", "Europe/Vilnius", "State Data Protection Inspectorate (VDAI)", "privacy@keto-diets.example", JurisdictionLT, []Language{"en", "nb"}, RegulationGDPR, both, []string{"max-nutrition"}, false},
		{"max-nutrition", "Europe/Vilnius", "State Data Protection Inspectorate (VDAI)", "privacy@max-nutrition.example", JurisdictionLT, []Language{"en", "nb"}, RegulationGDPR, both, []string{"keto-diets"}, false},
		{"digiref", "Europe/Oslo", "Datatilsynet", "personvern@digiref.example", JurisdictionNO, []Language{"nb"}, RegulationGDPR, gdpr, nil, false},
		{"intility", "Europe/Oslo", "Datatilsynet", "privacy@intility.no", JurisdictionNO, []Language{"nb", "en"}, RegulationGDPR, gdpr, nil, true},
		{"proviso", "Europe/Oslo", "Datatilsynet", "post@proviso.no", JurisdictionNO, []Language{"nb"}, RegulationGDPR, gdpr, nil, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("controllers (-want +got):\n%s", diff)
	}

	for _, c := range cs.All() {
		if c.Jurisdiction == JurisdictionNO && c.SupervisoryAuthority != (SupervisoryAuthority{
			Name: "Datatilsynet", Address: "Postboks 458 Sentrum, 0105 Oslo",
			Website: "https://www.datatilsynet.no", Email: "postkasse@datatilsynet.no",
		}) {
			t.Errorf("%s: supervisory authority = %+v", c.Key, c.SupervisoryAuthority)
		}
		if c.Jurisdiction == JurisdictionLT && c.SupervisoryAuthority.Address != "L. Sapiegos St. 17, LT-10312 Vilnius" {
			t.Errorf("%s: supervisory authority address = %q", c.Key, c.SupervisoryAuthority.Address)
		}
		if c.Allows(RegulationCCPA) && c.RetentionMonths < MinCCPARetentionMonths {
			t.Errorf("%s: retention %d months with ccpa", c.Key, c.RetentionMonths)
		}
		if len(c.Systems) == 0 || len(c.DataCategories) == 0 || len(c.Recipients) == 0 {
			t.Errorf("%s: %d systems, %d data categories, %d recipients; want some of each",
				c.Key, len(c.Systems), len(c.DataCategories), len(c.Recipients))
		}
		for _, s := range c.Systems {
			if s.Transfer() && s.Safeguard == "" {
				t.Errorf("%s: system %s transfers to %s without a safeguard", c.Key, s.Key, s.Country)
			}
		}
	}

	// Retention facts from the policies.
	periods := map[string]map[string]string{
		"intility":   {"webshop-orders": "P5Y", "cctv": "P7D", "school-visits": "P12M", "surveys": "P24M", "courses": ""},
		"keto-diets": {"contact": "P5Y", "service": "P5Y", "messaging": "P2Y", "communication": "P6M", "device": ""},
		"proviso":    {"contact": "P30D"},
	}
	for key, cats := range periods {
		c, _ := cs.Get(key)
		for cat, want := range cats {
			d, ok := c.DataCategory(cat)
			if !ok {
				t.Errorf("%s: no data category %s", key, cat)
				continue
			}
			if got := d.RetentionPeriod.String(); got != want {
				t.Errorf("%s/%s: retention period %q, want %q", key, cat, got, want)
			}
		}
	}
	intility, _ := cs.Get("intility")
	if intility.OrgNumber != "981 967 070" || intility.PrivacyContact.Address != "Schweigaards gate 39, 0191 Oslo" {
		t.Errorf("intility: org %q, address %q", intility.OrgNumber, intility.PrivacyContact.Address)
	}
	orders, _ := intility.DataCategory("webshop-orders")
	if !orders.HasBasis(LegalBasisLegalObligation) {
		t.Errorf("intility webshop orders: legal bases %v, want legal_obligation (bookkeeping)", orders.LegalBases)
	}
	nte, _ := cs.Get("nte")
	var consent, objection []string
	for _, s := range nte.Systems {
		if s.HasBasis(LegalBasisConsent) {
			consent = append(consent, s.Key)
		}
		if s.HasBasis(LegalBasisLegitimateInterest) {
			objection = append(objection, s.Key)
		}
	}
	wantConsent := []string{"google-analytics", "google-ads", "youtube", "meta-pixel", "snap-pixel", "tiktok-pixel", "linkedin-insight", "bing-uet"}
	if diff := cmp.Diff(wantConsent, consent); diff != "" {
		t.Errorf("nte consent-based systems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"nte-web", "segment", "intercom"}, objection); diff != "" {
		t.Errorf("nte legitimate-interest systems (-want +got):\n%s", diff)
	}
	if _, ok := cs.Get("nobody"); ok {
		t.Error("Get(nobody) found a controller")
	}
}

func TestControllerPausesClock(t *testing.T) {
	base := ctrlEdit(t, ctrlBaseYAML, "default_regulation: gdpr ", "default_regulation: gdpr\n    regulations: [gdpr, ccpa]\n   ")
	tests := []struct {
		name       string
		setting    string
		gdpr, ccpa bool
	}{
		{"unset: the legal defaults", "", true, false},
		{"true: for every regulation", "    pause_clock: true\n", true, true},
		{"false: for every regulation", "    pause_clock: false\n", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := ParseControllers("t.yaml", []byte(base+tt.setting))
			if err != nil {
				t.Fatal(ErrorMessage(err))
			}
			c, _ := cs.Get("acme")
			if got := c.PausesClock(RegulationGDPR); got != tt.gdpr {
				t.Errorf("PausesClock(gdpr) = %v, want %v", got, tt.gdpr)
			}
			if got := c.PausesClock(RegulationCCPA); got != tt.ccpa {
				t.Errorf("PausesClock(ccpa) = %v, want %v", got, tt.ccpa)
			}
		})
	}
}

func TestControllerDefaults(t *testing.T) {
	cs, err := ParseControllers("t.yaml", []byte(ctrlBaseYAML))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, ok := cs.Get("acme")
	if !ok {
		t.Fatal("acme not found")
	}
	if diff := cmp.Diff([]Regulation{RegulationGDPR}, c.Regulations); diff != "" {
		t.Errorf("regulations (-want +got):\n%s", diff)
	}
	if !c.Allows(RegulationGDPR) || c.Allows(RegulationCCPA) {
		t.Errorf("Allows: gdpr %v, ccpa %v; want true, false", c.Allows(RegulationGDPR), c.Allows(RegulationCCPA))
	}
	if c.RetentionMonths != DefaultRetentionMonths {
		t.Errorf("retention %d months, want %d", c.RetentionMonths, DefaultRetentionMonths)
	}
	if c.PauseClock != nil {
		t.Errorf("PauseClock = %v, want nil", *c.PauseClock)
	}
	if s, ok := c.System("crm"); !ok || s.Connector.Kind != ConnectorManual || s.Transfer() {
		t.Errorf("System(crm) = %+v, %v", s, ok)
	}

	s, _ := c.System("crm")
	if diff := cmp.Diff(&ManualConnector{Instructions: "Delete the customer in the CRM.", DueDays: 14, RemindEveryDays: 7, AfterDays: 30, OnOverdue: OverdueBlock}, s.Connector.Manual); diff != "" {
		t.Errorf("manual connector defaults (-want +got):\n%s", diff)
	}

	hooked := ctrlEdit(t, ctrlBaseYAML, "connector: {kind: manual, instructions: Delete the customer in the CRM.}", "connector: {kind: http, url: https://hooks.acme.example/crm, secret: {env: CRM_SECRET}}")
	cs, err = ParseControllers("t.yaml", []byte(hooked))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, _ = cs.Get("acme")
	s, _ = c.System("crm")
	if diff := cmp.Diff(&HTTPConnector{URL: "https://hooks.acme.example/crm", Secret: Secret{Env: "CRM_SECRET"}, Timeout: 10 * time.Second, MaxAttempts: 8, MaxExportBytes: DefaultMaxExportBytes}, s.Connector.HTTP); s.Connector.Kind != ConnectorHTTP || diff != "" {
		t.Errorf("http connector defaults (-want +got):\n%s", diff)
	}

	branded := ctrlEdit(t, ctrlBaseYAML, "default_regulation: gdpr ",
		"default_regulation: gdpr\n    branding: {logo: /static/acme.svg, primary_color: \"#AABBCC\", accent_color: \"#00ff00\"}\n   ")
	cs, err = ParseControllers("t.yaml", []byte(branded))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, _ = cs.Get("acme")
	if diff := cmp.Diff(Branding{Logo: "/static/acme.svg", PrimaryColor: "#aabbcc", AccentColor: "#00ff00"}, c.Branding); diff != "" {
		t.Errorf("branding (-want +got):\n%s", diff)
	}
}

func TestParseControllersInvalid(t *testing.T) {
	secondController := strings.TrimPrefix(ctrlBaseYAML, "controllers:\n")
	tests := []struct {
		name string
		yaml func(t *testing.T) string
		want []string
	}{
		{
			name: "unknown key",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "    time_zone: Europe/Oslo  ", "    time_zon: Europe/Oslo   ")
			},
			want: []string{
				`t.yaml:2: controllers[0].time_zone: is required`,
				`t.yaml:5: controllers[0].time_zon: unknown field "time_zon"`,
			},
		},
		{
			name: "unknown nested key",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "name: CRM   ", "name: CRM\n        colour: blue")
			},
			want: []string{`t.yaml:22: controllers[0].systems[0].colour: unknown field "colour"`},
		},
		{
			name: "bad time zone",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "Europe/Oslo", "Europe/Olso") },
			want: []string{`t.yaml:5: controllers[0].time_zone: unknown time zone "Europe/Olso"`},
		},
		{
			name: "missing privacy e-mail",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "      email: privacy@acme.example             # 8\n", "      name: Privacy team\n")
			},
			want: []string{`t.yaml:7: controllers[0].privacy_contact.email: is required`},
		},
		{
			name: "missing privacy contact",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "    privacy_contact:                          # 7\n      email: privacy@acme.example             # 8\n", "")
			},
			want: []string{`t.yaml:2: controllers[0].privacy_contact.email: is required`},
		},
		{
			name: "bad e-mail",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "privacy@acme.example", "Privacy <privacy@acme.example>")
			},
			want: []string{`t.yaml:8: controllers[0].privacy_contact.email: invalid e-mail address "Privacy <privacy@acme.example>": want a bare address such as privacy@example.com`},
		},
		{
			name: "bad jurisdiction",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "jurisdiction: NO", "jurisdiction: SE") },
			want: []string{`t.yaml:4: controllers[0].jurisdiction: unknown jurisdiction "SE" (want one of NO, LT, US-CA)`},
		},
		{
			name: "bad language",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "[nb, en]", "[nb, de]") },
			want: []string{`t.yaml:6: controllers[0].languages[1]: unknown language "de" (want one of nb, en)`},
		},
		{
			name: "bad default regulation",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "regulation: gdpr", "regulation: hipaa") },
			want: []string{`t.yaml:12: controllers[0].default_regulation: unknown regulation "hipaa" (want one of gdpr, ccpa)`},
		},
		{
			name: "bad legal basis",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "legal_bases: [contract]               # 22", "legal_bases: [contract, hunch]        # 22")
			},
			want: []string{`t.yaml:22: controllers[0].systems[0].legal_bases[1]: unknown legal basis "hunch" (want one of consent, contract, legal_obligation, vital_interests, public_task, legitimate_interest)`},
		},
		{
			name: "bad connector kind",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "kind: manual", "kind: magic") },
			want: []string{`t.yaml:26: controllers[0].systems[0].connector.kind: unknown connector kind "magic" (want one of http, sql, manual, vendor_mail, opendsr)`},
		},
		{
			name: "the old handling field",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "connector: {kind: manual, instructions: Delete the customer in the CRM.}", "handling: manual")
			},
			want: []string{
				`t.yaml:20: controllers[0].systems[0].connector: is required: how tasks reach the system, with kind one of http, sql, manual, vendor_mail, opendsr`,
				`t.yaml:26: controllers[0].systems[0].handling: unknown field "handling": a connector block replaces handling and webhook_url (docs/connectors.md, "The data map")`,
			},
		},
		{
			name: "duplicate controller key",
			yaml: func(t *testing.T) string { return ctrlBaseYAML + secondController },
			want: []string{`t.yaml:27: controllers[1].key: duplicate controller key "acme" (first at line 2)`},
		},
		{
			name: "duplicate system key",
			yaml: func(t *testing.T) string {
				return ctrlBaseYAML + "      - {key: crm, name: Old CRM, role: internal, legal_bases: [contract], purposes: [Archive], data_categories: [contact], connector: {kind: manual, instructions: x}}\n"
			},
			want: []string{`t.yaml:27: controllers[0].systems[1].key: duplicate system key "crm" (first at line 20)`},
		},
		{
			name: "unknown related key",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "default_regulation: gdpr ", "default_regulation: gdpr\n    related: [acme, nobody]\n   ")
			},
			want: []string{
				`t.yaml:13: controllers[0].related[0]: a controller cannot be related to itself`,
				`t.yaml:13: controllers[0].related[1]: unknown controller "nobody"`,
			},
		},
		{
			name: "unknown data category of a system",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "[contact]  ", "[contacts] ") },
			want: []string{`t.yaml:24: controllers[0].systems[0].data_categories[0]: unknown data category "contacts" (define it under data_categories)`},
		},
		{
			name: "transfer without safeguard",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "name: CRM   ", "name: CRM\n        country: US")
			},
			want: []string{`t.yaml:20: controllers[0].systems[0].safeguard: is required: US is outside the EEA`},
		},
		{
			name: "bad colour",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "default_regulation: gdpr ", "default_regulation: gdpr\n    branding:\n      primary_color: blue\n   ")
			},
			want: []string{`t.yaml:14: controllers[0].branding.primary_color: invalid colour "blue": want #rrggbb`},
		},
		{
			name: "bad retention period",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "P5Y", "5 years") },
			want: []string{`t.yaml:17: controllers[0].data_categories[0].retention_period: invalid retention period "5 years": want an ISO 8601 duration such as P5Y, P6M, P2W or P30D`},
		},
		{
			name: "ccpa needs 24 months of case records",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "default_regulation: gdpr ", "default_regulation: gdpr\n    regulations: [gdpr, ccpa]\n    retention_months: 12\n   ")
			},
			want: []string{`t.yaml:14: controllers[0].retention_months: must be at least 24 when ccpa is allowed (11 CCR §7101), not 12`},
		},
		{
			name: "regulations without the default",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "default_regulation: gdpr ", "default_regulation: gdpr\n    regulations: [ccpa]\n   ")
			},
			want: []string{`t.yaml:13: controllers[0].regulations: must include the default regulation "gdpr"`},
		},
		{
			name: "wrong YAML type",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "default_regulation: gdpr ", "default_regulation: gdpr\n    retention_months: lots\n   ")
			},
			want: []string{`t.yaml:13: controllers[0].retention_months: must be a whole number, not text "lots"`},
		},
		{
			name: "wrong YAML type inside a list",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "[nb, en]", "[nb, [en]]") },
			want: []string{`t.yaml:6: controllers[0].languages[1]: must be text, not a list`},
		},
		{
			name: "wrong YAML type of a list",
			yaml: func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, "[nb, en]", "{nb: {x: y}}") },
			want: []string{`t.yaml:6: controllers[0].languages: must be a list, not a mapping`},
		},
		{
			name: "key set twice",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "name: CRM   ", "name: CRM\n        name: CRM2")
			},
			want: []string{`t.yaml:22: controllers[0].systems[0].name: key "name" is set twice (first at line 21)`},
		},
		{
			name: "two values of the wrong type on one line",
			yaml: func(t *testing.T) string {
				return ctrlBaseYAML + "      - {key: old, name: Old CRM, role: internal, legal_bases: contract, purposes: archive, data_categories: [contact], connector: {kind: manual, instructions: x}}\n"
			},
			want: []string{
				`t.yaml:27: controllers[0].systems[1].legal_bases: must be a list, not text "contract"`,
				`t.yaml:27: controllers[0].systems[1].purposes: must be a list, not text "archive"`,
			},
		},
		{
			name: "a key set twice hides nothing else of its mapping",
			yaml: func(t *testing.T) string {
				s := ctrlEdit(t, ctrlBaseYAML, "name: CRM   ", "name: CRM\n        name: CRM2")
				return ctrlEdit(t, s, "kind: manual", "kind: magic")
			},
			want: []string{
				`t.yaml:22: controllers[0].systems[0].name: key "name" is set twice (first at line 21)`,
				`t.yaml:27: controllers[0].systems[0].connector.kind: unknown connector kind "magic" (want one of http, sql, manual, vendor_mail, opendsr)`,
			},
		},
		{
			name: "a merged key names its own line",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "    supervisory_authority:                    # 9\n",
					"    supervisory_authority:                    # 9\n      <<:\n        website: www.datatilsynet.no\n")
			},
			want: []string{`t.yaml:11: controllers[0].supervisory_authority.website: invalid URL "www.datatilsynet.no": want an absolute http or https URL`},
		},
		{
			name: "merging in what is not a mapping",
			yaml: func(t *testing.T) string {
				return ctrlEdit(t, ctrlBaseYAML, "    supervisory_authority:                    # 9\n",
					"    supervisory_authority:                    # 9\n      <<: [Datatilsynet]\n")
			},
			want: []string{`t.yaml:10: controllers[0].supervisory_authority: << must merge in a mapping or a list of mappings`},
		},
		{
			name: "aliases that expand past the bound",
			yaml: func(t *testing.T) string {
				// 1,000 controllers of 1,000 systems of 1,000 purposes, from
				// three short lines.
				return "purposes: &p [" + strings.Repeat("x, ", 999) + "x]\n" +
					"systems: &s [" + strings.Repeat("{purposes: *p}, ", 999) + "{purposes: *p}]\n" +
					"controllers: [" + strings.Repeat("{systems: *s}, ", 999) + "{systems: *s}]\n"
			},
			want: []string{
				`t.yaml:1: purposes: unknown field "purposes"`,
				`t.yaml:1: controllers[0].systems[99].purposes[692]: more than 100000 keys and values with the aliases expanded`,
				`t.yaml:2: systems: unknown field "systems"`,
			},
		},
		{
			name: "a dropped list item does not shift later paths",
			yaml: func(t *testing.T) string {
				return "controllers:\n  - just a string\n" + ctrlEdit(t, secondController, "Europe/Oslo", "Europe/Olso")
			},
			want: []string{
				`t.yaml:2: controllers[0]: must be a mapping, not text "just a string"`,
				`t.yaml:6: controllers[1].time_zone: unknown time zone "Europe/Olso"`,
			},
		},
		{
			name: "empty list items",
			yaml: func(t *testing.T) string {
				return "controllers:\n  -\n" + ctrlEdit(t, secondController, "[nb, en]", "[nb, ~, en]")
			},
			want: []string{
				`t.yaml:2: controllers[0]: is empty`,
				`t.yaml:7: controllers[1].languages[1]: is empty`,
			},
		},
		{
			name: "no controllers",
			yaml: func(t *testing.T) string { return "controllers: []\n" },
			want: []string{`t.yaml:1: controllers: at least one controller is required`},
		},
		{
			name: "empty file",
			yaml: func(t *testing.T) string { return "" },
			want: []string{`t.yaml:1: the file is empty: want a mapping with a list of controllers`},
		},
		{
			name: "syntax error",
			yaml: func(t *testing.T) string { return "controllers:\n  - key: acme\n    legal_name: [Acme\n" },
			// yaml.v3 names the line before the unclosed flow sequence.
			want: []string{`t.yaml:2: invalid YAML: did not find expected ',' or ']'`},
		},
		{
			name: "missing required fields, all reported",
			yaml: func(t *testing.T) string { return "controllers:\n  - key: Acme Corp\n" },
			want: []string{
				`t.yaml:2: controllers[0].key: invalid key "Acme Corp": use at most 63 lowercase letters, digits and single '-' between them`,
				`t.yaml:2: controllers[0].legal_name: is required`,
				`t.yaml:2: controllers[0].jurisdiction: is required`,
				`t.yaml:2: controllers[0].time_zone: is required`,
				`t.yaml:2: controllers[0].languages: at least one language is required`,
				`t.yaml:2: controllers[0].privacy_contact.email: is required`,
				`t.yaml:2: controllers[0].supervisory_authority.name: is required`,
				`t.yaml:2: controllers[0].supervisory_authority.address: is required`,
				`t.yaml:2: controllers[0].default_regulation: is required`,
			},
		},
		{
			name: "several mistakes, reported together in file order",
			yaml: func(t *testing.T) string {
				s := ctrlEdit(t, ctrlBaseYAML, "Europe/Oslo", "Europe/Olso")
				s = ctrlEdit(t, s, "privacy@acme.example", "privacy.acme.example")
				s = ctrlEdit(t, s, "jurisdiction: NO", "jurisdiction: no")
				s = ctrlEdit(t, s, "name: Contact data", "nam: Contact data")
				return s + strings.Replace(secondController, "key: acme", "key: acme-2", 1) + "    related: [acme-3]\n"
			},
			want: []string{
				`t.yaml:4: controllers[0].jurisdiction: unknown jurisdiction "no" (want one of NO, LT, US-CA)`,
				`t.yaml:5: controllers[0].time_zone: unknown time zone "Europe/Olso"`,
				`t.yaml:8: controllers[0].privacy_contact.email: invalid e-mail address "privacy.acme.example": want a bare address such as privacy@example.com`,
				`t.yaml:14: controllers[0].data_categories[0].name: is required`,
				`t.yaml:15: controllers[0].data_categories[0].nam: unknown field "nam"`,
				`t.yaml:52: controllers[1].related[0]: unknown controller "acme-3"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := ParseControllers("t.yaml", []byte(tt.yaml(t)))
			if cs != nil {
				t.Errorf("got controllers %v with the error", cs.All())
			}
			if diff := cmp.Diff(tt.want, ctrlMessages(t, err)); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseControllersFields(t *testing.T) {
	_, err := ParseControllers("t.yaml", []byte(ctrlEdit(t, ctrlBaseYAML, "Europe/Oslo", "Europe/Olso")))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *Error", err)
	}
	want := []FieldError{{
		Field:   "controllers[0].time_zone",
		Message: `unknown time zone "Europe/Olso"`,
		Params:  map[string]any{"file": "t.yaml", "line": 5},
	}}
	if diff := cmp.Diff(want, e.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if ErrorCode(err) != EINVALID {
		t.Errorf("ErrorCode = %q", ErrorCode(err))
	}
}

// TestParseControllersAliases shows that aliases and merge keys ("<<") work
// as in YAML: a merged mapping fills in only the keys the mapping leaves out.
func TestParseControllersAliases(t *testing.T) {
	const yml = `controllers:
  - key: acme
    legal_name: Acme AS
    jurisdiction: NO
    time_zone: Europe/Oslo
    languages: [nb, en]
    privacy_contact: &pc
      name: Privacy team
      email: privacy@acme.example
    supervisory_authority: &dt
      name: Datatilsynet
      address: Postboks 458 Sentrum, 0105 Oslo
    default_regulation: gdpr
  - key: acme-2
    legal_name: Acme 2 AS
    jurisdiction: NO
    time_zone: Europe/Oslo
    languages: [nb]
    privacy_contact:
      <<: [*pc, {name: Not merged, phone: "+47 22 00 00 00"}]
      name: Acme 2 privacy
    supervisory_authority: *dt
    default_regulation: gdpr
`
	cs, err := ParseControllers("t.yaml", []byte(yml))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	first, _ := cs.Get("acme")
	second, ok := cs.Get("acme-2")
	if !ok {
		t.Fatal("acme-2 not found")
	}
	want := Contact{Name: "Acme 2 privacy", Email: "privacy@acme.example", Phone: "+47 22 00 00 00"}
	if diff := cmp.Diff(want, second.PrivacyContact); diff != "" {
		t.Errorf("merged privacy contact (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first.SupervisoryAuthority, second.SupervisoryAuthority); diff != "" {
		t.Errorf("aliased supervisory authority (-first +second):\n%s", diff)
	}
}

func TestLoadControllers(t *testing.T) {
	cs, err := LoadControllers(filepath.Join("testdata", "controllers", "valid.yaml"))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	if c, ok := cs.Get("acme"); !ok || c.LegalName != "Acme AS" || len(cs.All()) != 1 {
		t.Errorf("got %+v", cs.All())
	}

	file := filepath.Join("testdata", "controllers", "invalid.yaml")
	_, err = LoadControllers(file)
	want := []string{
		file + `:5: controllers[0].jurisdiction: unknown jurisdiction "SE" (want one of NO, LT, US-CA)`,
		file + `:6: controllers[0].time_zone: unknown time zone "Europe/Olso"`,
		file + `:9: controllers[0].privacy_contact.email: invalid e-mail address "privacy(at)acme.example": want a bare address such as privacy@example.com`,
		file + `:10: controllers[0].supervisory_authority.address: is required`,
		file + `:13: controllers[0].related[0]: unknown controller "acme-group"`,
		file + `:14: controllers[0].colour: unknown field "colour"`,
	}
	if diff := cmp.Diff(want, ctrlMessages(t, err)); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}

	_, err = LoadControllers(filepath.Join(t.TempDir(), "missing.yaml"))
	if ErrorCode(err) != EINVALID {
		t.Errorf("missing file: got %v, want an EINVALID error", err)
	}

	// The shipped file loads from disk as well as embedded.
	path := filepath.Join(t.TempDir(), "controllers.yaml")
	if err := os.WriteFile(path, defaultControllersYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	if cs, err := LoadControllers(path); err != nil || len(cs.All()) != 6 {
		t.Errorf("LoadControllers(copy of controllers.yaml) = %v, %v", cs, ErrorMessage(err))
	}
}

func TestControllerRetentionPeriod(t *testing.T) {
	tests := []struct {
		in      string
		want    RetentionPeriod
		str     string
		endsOn  Date
		wantErr bool
	}{
		{in: "P5Y", want: RetentionPeriod{Years: 5}, str: "P5Y", endsOn: NewDate(2029, 2, 28)},
		{in: "P6M", want: RetentionPeriod{Months: 6}, str: "P6M", endsOn: NewDate(2024, 8, 29)},
		{in: "P2W", want: RetentionPeriod{Days: 14}, str: "P14D", endsOn: NewDate(2024, 3, 14)},
		{in: "P30D", want: RetentionPeriod{Days: 30}, str: "P30D", endsOn: NewDate(2024, 3, 30)},
		{in: "P1Y6M", want: RetentionPeriod{Years: 1, Months: 6}, str: "P1Y6M", endsOn: NewDate(2025, 8, 29)},
		{in: "P", wantErr: true},
		{in: "P0D", wantErr: true},
		{in: "5Y", wantErr: true},
		{in: "PT5H", wantErr: true},
		{in: "P1M1Y", wantErr: true},
		{in: "P99999Y", wantErr: true},
	}
	start := NewDate(2024, 2, 29)
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRetentionPeriod(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || got.String() != tt.str {
				t.Errorf("got %+v (%s), want %+v (%s)", got, got, tt.want, tt.str)
			}
			if end := got.EndsOn(start); end != tt.endsOn {
				t.Errorf("EndsOn(%s) = %s, want %s", start, end, tt.endsOn)
			}
		})
	}
	if s := (RetentionPeriod{}).String(); s != "" {
		t.Errorf("zero period String = %q", s)
	}
}

func FuzzParseControllers(f *testing.F) {
	f.Add(defaultControllersYAML)
	f.Add([]byte(ctrlBaseYAML))
	f.Add([]byte(ctrlDataMapYAML))
	f.Add([]byte("controllers:\n  - just a string\n  - {key: a, languages: [nb, [x]]}\n"))
	f.Add([]byte("controllers: &a [*a]\n"))
	f.Add([]byte("a: &a {<<: *a}\ncontrollers: [{<<: [*a, *a]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseControllers("f.yaml", data)
		if err == nil {
			if len(cs.All()) == 0 {
				t.Fatal("no error and no controllers")
			}
			for _, c := range cs.All() {
				if c.Location == nil || !c.Allows(c.DefaultRegulation) {
					t.Fatalf("controller %s not fully built", c.Key)
				}
			}
			return
		}
		if ErrorCode(err) != EINVALID {
			t.Fatalf("code %q for %v", ErrorCode(err), err)
		}
		for _, line := range strings.Split(ErrorMessage(err), "\n") {
			if !strings.HasPrefix(line, "f.yaml") {
				t.Fatalf("message line %q does not name the file", line)
			}
		}
	})
}
