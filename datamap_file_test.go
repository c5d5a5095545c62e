package dsar

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ctrlManual is the connector line of ctrlBaseYAML.
const ctrlManual = "connector: {kind: manual, instructions: Delete the customer in the CRM.}"

// ctrlDataMapYAML is a controller whose data map sets every field.
const ctrlDataMapYAML = `controllers:
  - key: shop
    legal_name: Shop AS
    jurisdiction: NO
    time_zone: Europe/Oslo
    languages: [nb]
    privacy_contact: {email: privacy@shop.example}
    supervisory_authority: {name: Datatilsynet, address: "Postboks 458 Sentrum, 0105 Oslo"}
    default_regulation: gdpr
    data_categories:
      - key: orders
        name: Ordre
        purpose: Levere varer og føre regnskap
        retention: Fem år etter regnskapsårets slutt
        retention_period: P5Y
        retention_trigger: regnskapsårets slutt
        legal_bases: [contract, legal_obligation]
        hold: {law: Bokføringsloven § 13, period: 5y, from_year_end: true}
      - key: score
        name: Kredittpoeng
        retention: Til kundeforholdet slutter
        legal_bases: [legitimate_interest, legal_obligation]
        source: Kredittopplysningsbyrået
        hold: {law: Hvitvaskingsloven § 30, period: P5Y}
    recipients:
      - key: courier
        name: Budfirma
        role: Leverer varer
        country: US
        safeguard: scc
        notify: {kind: vendor_mail, email: privacy@courier.example, remind_every_days: 2, after_days: 10, on_overdue: skip}
      - key: public
        name: Allmennheten
        role: Leser anmeldelser
        unreachable: Anonyme lesere kan ikke nås
    systems:
      - key: crm
        name: CRM
        owner: Kundeservice
        role: processor
        vendor: CRM Vendor AS
        country: US
        safeguard: scc
        legal_bases: [contract, legitimate_interest]
        purposes: [Kundeforhold, Kreditt]
        data_categories: [orders, score]
        marketing: true
        recipients: [courier, public]
        automated_decisions:
          - {name: Kredittgrense, logic: Poeng fra kjøpshistorikken, significance: Avgjør om du kan handle på faktura}
        connector:
          kind: http
          url: https://crm.shop.example/dsar
          secret: {file: /run/secrets/crm}
          timeout: 3s
          rate_per_second: 2.5
          max_attempts: 4
          max_export_bytes: 1048576
          no_data: [404, 410]
`

func TestParseDataMap(t *testing.T) {
	cs, err := ParseControllers("t.yaml", []byte(ctrlDataMapYAML))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, _ := cs.Get("shop")
	wantCategories := []DataCategory{
		{Key: "orders", Name: "Ordre", Purpose: "Levere varer og føre regnskap", Retention: "Fem år etter regnskapsårets slutt",
			RetentionPeriod: RetentionPeriod{Years: 5}, RetentionTrigger: "regnskapsårets slutt",
			LegalBases: []LegalBasis{LegalBasisContract, LegalBasisLegalObligation},
			Hold:       &LegalHold{Law: "Bokføringsloven § 13", Period: RetentionPeriod{Years: 5}, FromYearEnd: true}},
		{Key: "score", Name: "Kredittpoeng", Retention: "Til kundeforholdet slutter",
			LegalBases: []LegalBasis{LegalBasisLegitimateInterest, LegalBasisLegalObligation}, Source: "Kredittopplysningsbyrået",
			Hold: &LegalHold{Law: "Hvitvaskingsloven § 30", Period: RetentionPeriod{Years: 5}}},
	}
	wantRecipients := []Recipient{
		{Key: "courier", Name: "Budfirma", Role: "Leverer varer", Country: "US", Safeguard: SafeguardSCC,
			Notify: &Connector{Kind: ConnectorVendorMail, VendorMail: &VendorMailConnector{Email: "privacy@courier.example", RemindEveryDays: 2, AfterDays: 10, OnOverdue: OverdueSkip}}},
		{Key: "public", Name: "Allmennheten", Role: "Leser anmeldelser", Unreachable: "Anonyme lesere kan ikke nås"},
	}
	wantSystems := []System{{
		Key: "crm", Name: "CRM", Owner: "Kundeservice", Role: RoleProcessor, Vendor: "CRM Vendor AS", Country: "US", Safeguard: SafeguardSCC,
		LegalBases: []LegalBasis{LegalBasisContract, LegalBasisLegitimateInterest}, Purposes: []string{"Kundeforhold", "Kreditt"},
		DataCategories: []string{"orders", "score"}, Marketing: true, Recipients: []string{"courier", "public"},
		AutomatedDecisions: []AutomatedDecision{{Name: "Kredittgrense", Logic: "Poeng fra kjøpshistorikken", Significance: "Avgjør om du kan handle på faktura"}},
		Connector: Connector{Kind: ConnectorHTTP, HTTP: &HTTPConnector{URL: "https://crm.shop.example/dsar", Secret: Secret{File: "/run/secrets/crm"},
			Timeout: 3 * time.Second, RatePerSecond: 2.5, MaxAttempts: 4, NoData: []int{404, 410}, MaxExportBytes: 1 << 20}},
	}}
	for _, d := range []struct {
		name      string
		got, want any
	}{
		{"data categories", c.DataCategories, wantCategories},
		{"recipients", c.Recipients, wantRecipients},
		{"systems", c.Systems, wantSystems},
	} {
		if diff := cmp.Diff(d.want, d.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", d.name, diff)
		}
	}
}

// TestParseConnectors parses a block of every connector kind, with every
// field set and with the defaults.
func TestParseConnectors(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  Connector
	}{
		{
			name:  "http, defaults",
			block: "{kind: http, url: http://127.0.0.1:8091/dsar, secret: {env: SAMPLE_SECRET}}",
			want: Connector{Kind: ConnectorHTTP, HTTP: &HTTPConnector{URL: "http://127.0.0.1:8091/dsar", Secret: Secret{Env: "SAMPLE_SECRET"},
				Timeout: DefaultHTTPTimeout, MaxAttempts: DefaultMaxAttempts, MaxExportBytes: DefaultMaxExportBytes}},
		},
		{
			name:  "http, every field",
			block: "{kind: http, url: https://crm.example/dsar, secret: {file: /run/secrets/crm}, timeout: 1m30s, rate_per_second: 10, max_attempts: 3, no_data: [404, 410]}",
			want: Connector{Kind: ConnectorHTTP, HTTP: &HTTPConnector{URL: "https://crm.example/dsar", Secret: Secret{File: "/run/secrets/crm"},
				Timeout: 90 * time.Second, RatePerSecond: 10, MaxAttempts: 3, NoData: []int{404, 410}, MaxExportBytes: DefaultMaxExportBytes}},
		},
		{
			name: "sql, statements and tables",
			block: `{kind: sql, driver: postgres, dsn: {env: CRM_DSN},
          statements: {export: ["SELECT * FROM customers WHERE email = $1"], erase: ["DELETE FROM customers WHERE email = $1", "DELETE FROM carts WHERE email = $1"],
            rectify: ["UPDATE customers SET updated = now() WHERE email = $1"], restrict: ["UPDATE customers SET restricted = true WHERE email = $1"]},
          tables: [{name: public.orders, match: {email: buyer_email, customer_id: customer_no, phone: msisdn}, export: [id, total],
            mask: {buyer_email: "null", name: "fixed:erased", msisdn: hmac, note: random, street: ~}, rectify: [name], restrict: on_hold}]}`,
			want: Connector{Kind: ConnectorSQL, SQL: &SQLConnector{Driver: "postgres", DSN: Secret{Env: "CRM_DSN"},
				Statements: map[TaskAction][]string{
					ActionExport:   {"SELECT * FROM customers WHERE email = $1"},
					ActionErase:    {"DELETE FROM customers WHERE email = $1", "DELETE FROM carts WHERE email = $1"},
					ActionRectify:  {"UPDATE customers SET updated = now() WHERE email = $1"},
					ActionRestrict: {"UPDATE customers SET restricted = true WHERE email = $1"},
				},
				Tables: []SQLTable{{Name: "public.orders", Match: map[string]string{"email": "buyer_email", "customer_id": "customer_no", "phone": "msisdn"},
					Export: []string{"id", "total"}, Rectify: []string{"name"}, Restrict: "on_hold",
					Mask: map[string]string{"buyer_email": "null", "name": "fixed:erased", "msisdn": "hmac", "note": "random", "street": "null"}}}}},
		},
		{
			name: "sql, export categories",
			block: `{kind: sql, driver: postgres, dsn: {env: CRM_DSN}, export_category: contact,
          statements: {export: ["SELECT * FROM customers WHERE email = $1"]}, tables: [{name: customers, match: {email: email}, category: contact}]}`,
			want: Connector{Kind: ConnectorSQL, SQL: &SQLConnector{Driver: "postgres", DSN: Secret{Env: "CRM_DSN"}, ExportCategory: "contact",
				Statements: map[TaskAction][]string{ActionExport: {"SELECT * FROM customers WHERE email = $1"}},
				Tables:     []SQLTable{{Name: "customers", Match: map[string]string{"email": "email"}, Category: "contact"}}}},
		},
		{
			name:  "sql, a table only",
			block: "{kind: sql, driver: postgres, dsn: {file: /run/secrets/dsn}, tables: [{name: customers, match: {email: email}}]}",
			want: Connector{Kind: ConnectorSQL, SQL: &SQLConnector{Driver: "postgres", DSN: Secret{File: "/run/secrets/dsn"},
				Tables: []SQLTable{{Name: "customers", Match: map[string]string{"email": "email"}}}}},
		},
		{
			name:  "manual, defaults",
			block: "{kind: manual, instructions: Slett kunden.}",
			want: Connector{Kind: ConnectorManual, Manual: &ManualConnector{Instructions: "Slett kunden.", DueDays: DefaultDueDays,
				RemindEveryDays: DefaultRemindEveryDays, AfterDays: DefaultAfterDays, OnOverdue: OverdueBlock}},
		},
		{
			name:  "manual, every field",
			block: "{kind: manual, instructions: Slett kunden., checklist: [Funnet, Slettet], due_days: 5, remind_every_days: 0, after_days: 9, on_overdue: skip}",
			want: Connector{Kind: ConnectorManual, Manual: &ManualConnector{Instructions: "Slett kunden.", Checklist: []string{"Funnet", "Slettet"},
				DueDays: 5, RemindEveryDays: 0, AfterDays: 9, OnOverdue: OverdueSkip}},
		},
		{
			name:  "vendor mail, defaults",
			block: "{kind: vendor_mail, email: privacy@vendor.example}",
			want: Connector{Kind: ConnectorVendorMail, VendorMail: &VendorMailConnector{Email: "privacy@vendor.example",
				RemindEveryDays: DefaultRemindEveryDays, AfterDays: DefaultAfterDays, OnOverdue: OverdueBlock}},
		},
		{
			name:  "vendor mail, every field",
			block: "{kind: vendor_mail, email: privacy@vendor.example, remind_every_days: 3, after_days: 14, on_overdue: skip}",
			want: Connector{Kind: ConnectorVendorMail, VendorMail: &VendorMailConnector{Email: "privacy@vendor.example",
				RemindEveryDays: 3, AfterDays: 14, OnOverdue: OverdueSkip}},
		},
		{
			name:  "opendsr",
			block: "{kind: opendsr, url: https://opendsr.vendor.example/v2, token: {env: VENDOR_TOKEN}, certificate: /etc/dsar/vendor.pem}",
			want: Connector{Kind: ConnectorOpenDSR, OpenDSR: &OpenDSRConnector{URL: "https://opendsr.vendor.example/v2",
				Token: Secret{Env: "VENDOR_TOKEN"}, Certificate: "/etc/dsar/vendor.pem"}},
		},
		{
			name:  "opendsr, no token",
			block: "{kind: opendsr, url: https://opendsr.vendor.example/v2}",
			want:  Connector{Kind: ConnectorOpenDSR, OpenDSR: &OpenDSRConnector{URL: "https://opendsr.vendor.example/v2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := ParseControllers("t.yaml", []byte(ctrlEdit(t, ctrlBaseYAML, ctrlManual, "connector: "+tt.block)))
			if err != nil {
				t.Fatal(ErrorMessage(err))
			}
			c, _ := cs.Get("acme")
			if diff := cmp.Diff(tt.want, c.Systems[0].Connector); diff != "" {
				t.Errorf("connector (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDataMapInvalid(t *testing.T) {
	// connector puts a connector block on line 26.
	connector := func(block string) func(t *testing.T) string {
		return func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, ctrlManual, "connector: "+block) }
	}
	// recipient adds recipients from line 27, one a line.
	recipient := func(items ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			return ctrlBaseYAML + "    recipients:\n      - " + strings.Join(items, "\n      - ") + "\n"
		}
	}
	// system edits the system's lines.
	system := func(old, new string) func(t *testing.T) string {
		return func(t *testing.T) string { return ctrlEdit(t, ctrlBaseYAML, old, new) }
	}
	const (
		sys  = "t.yaml:26: controllers[0].systems[0].connector"
		kind = "(want one of http, sql, manual, vendor_mail, opendsr)"
	)
	tests := []struct {
		name string
		yaml func(t *testing.T) string
		want []string
	}{
		// Systems.
		{"no connector", system(ctrlManual, "owner: IT"), []string{
			`t.yaml:20: controllers[0].systems[0].connector: is required: how tasks reach the system, with kind one of http, sql, manual, vendor_mail, opendsr`}},
		{"connector as text", connector("manual"), []string{sys + `: must be a mapping, not text "manual"`}},
		{"no kind", connector("{instructions: x}"), []string{sys + ".kind: is required " + kind}},
		{"unknown kind", connector("{kind: webhook}"), []string{sys + `.kind: unknown connector kind "webhook" ` + kind}},
		{"no role", system("role: internal   ", "owner: IT        "), []string{
			`t.yaml:20: controllers[0].systems[0].role: is required (want one of internal, processor)`}},
		{"unknown role", system("role: internal   ", "role: vendor     "), []string{
			`t.yaml:25: controllers[0].systems[0].role: unknown role "vendor" (want one of internal, processor)`}},
		{"processor without vendor", system("role: internal   ", "role: processor  "), []string{
			`t.yaml:25: controllers[0].systems[0].vendor: is required for a processor: who runs the system for the controller (Art 28)`}},
		{"unknown and repeated recipients", func(t *testing.T) string {
			return ctrlEdit(t, recipient("{key: courier, name: Bud, role: Levering, unreachable: Nei}")(t), "role: internal   ", "recipients: [courier, courier, nobody]")
		}, []string{
			`t.yaml:20: controllers[0].systems[0].role: is required (want one of internal, processor)`,
			`t.yaml:25: controllers[0].systems[0].recipients[1]: duplicate recipient "courier"`,
			`t.yaml:25: controllers[0].systems[0].recipients[2]: unknown recipient "nobody" (define it under recipients)`,
		}},
		{"automated decision without logic", system("role: internal   ", "role: internal\n        automated_decisions: [{name: Score, significance: Price}, {name: Score, logic: x, significance: y}]"), []string{
			`t.yaml:26: controllers[0].systems[0].automated_decisions[0].logic: is required`,
			`t.yaml:26: controllers[0].systems[0].automated_decisions[1].name: duplicate automated decision "Score"`,
		}},
		{"marketing not a boolean", system("role: internal   ", "role: internal\n        marketing: often"), []string{
			`t.yaml:26: controllers[0].systems[0].marketing: must be true or false, not text "often"`}},

		// Secrets.
		{"a secret written in the file", connector("{kind: http, url: https://crm.example/dsar, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}"), []string{
			sys + ".secret: a secret is never written in the configuration: name where it is kept, {env: NAME} or {file: PATH}"}},
		{"a DSN written in the file", connector("{kind: sql, driver: postgres, dsn: 'postgres://u:pw@db/crm', tables: [{name: c, match: {email: e}}]}"), []string{
			sys + ".dsn: a secret is never written in the configuration: name where it is kept, {env: NAME} or {file: PATH}"}},
		{"a secret where its name belongs", connector("{kind: http, url: https://crm.example/dsar, secret: {env: 'whsec_Mf/KQ9r8'}}"), []string{
			sys + ".secret.env: must be the name of an environment variable (letters, digits and _), never the secret itself"}},
		{"a secret in two places", connector("{kind: http, url: https://crm.example/dsar, secret: {env: A, file: /b}}"), []string{
			sys + ".secret: name either env or file, not both"}},
		{"a secret named nowhere", connector("{kind: http, url: https://crm.example/dsar, secret: {}}"), []string{
			sys + ".secret: name where the secret is kept: {env: NAME} or {file: PATH}"}},
		{"a secret of an unknown kind", connector("{kind: http, url: https://crm.example/dsar, secret: {value: x}}"), []string{
			sys + `.secret.value: unknown field "value"`,
			sys + ".secret: name where the secret is kept: {env: NAME} or {file: PATH}"}},

		// http.
		{"http without url and secret", connector("{kind: http}"), []string{
			sys + ".url: is required: an absolute http or https URL",
			sys + ".secret: is required: {env: NAME} or {file: PATH}, where the secret is kept"}},
		{"http url not absolute", connector("{kind: http, url: /dsar, secret: {env: S}}"), []string{
			sys + `.url: invalid URL "/dsar": want an absolute http or https URL`}},
		{"http settings out of range", connector("{kind: http, url: https://crm.example/dsar, secret: {env: S}, timeout: 10, rate_per_second: -1, max_attempts: 0, no_data: [200, 404, 404, 429], max_export_bytes: 10}"), []string{
			sys + `.timeout: invalid duration "10": want a number with a unit such as 10s or 2m`,
			sys + ".rate_per_second: must be between 0 (no limit) and 10000, not -1",
			sys + ".max_attempts: must be between 1 and 100, not 0",
			sys + ".max_export_bytes: must be between 1024 and 68719476736 bytes, not 10",
			sys + ".no_data[0]: invalid status 200: want a 4xx status by which the system says it holds nothing (404, 410), not 429",
			sys + ".no_data[2]: duplicate status 404",
			sys + ".no_data[3]: invalid status 429: want a 4xx status by which the system says it holds nothing (404, 410), not 429"}},
		{"http timeout too long, rate not a number", connector("{kind: http, url: https://crm.example/dsar, secret: {env: S}, timeout: 1h, rate_per_second: .nan}"), []string{
			sys + ".timeout: must be more than 0s and at most 5m0s, not 1h",
			sys + ".rate_per_second: must be between 0 (no limit) and 10000, not NaN"}},
		{"a field of another kind", connector("{kind: http, url: https://crm.example/dsar, secret: {env: S}, email: a@b.example, instructions: x}"), []string{
			sys + ".instructions: is not a field of kind http (its fields: url, secret, timeout, rate_per_second, max_attempts, no_data, max_export_bytes)",
			sys + ".email: is not a field of kind http (its fields: url, secret, timeout, rate_per_second, max_attempts, no_data, max_export_bytes)"}},

		// manual and vendor_mail.
		{"manual without instructions", connector("{kind: manual, checklist: [a, ''], due_days: 0, on_overdue: later}"), []string{
			sys + ".instructions: is required: what the officer does, step by step",
			sys + ".checklist[1]: is empty",
			sys + ".due_days: must be between 1 and 365, not 0",
			sys + `.on_overdue: unknown rule "later" (want one of block, skip)`}},
		{"manual overdue before it is due", connector("{kind: manual, instructions: x, due_days: 20, after_days: 10, remind_every_days: 400}"), []string{
			sys + ".remind_every_days: must be between 0 and 365, not 400",
			sys + ".after_days: must be at least due_days (20), not 10"}},
		{"vendor mail without e-mail", connector("{kind: vendor_mail, url: https://vendor.example}"), []string{
			sys + ".url: is not a field of kind vendor_mail (its fields: email, remind_every_days, after_days, on_overdue)",
			sys + ".email: is required: the vendor's privacy address"}},
		{"vendor mail with a bad e-mail", connector("{kind: vendor_mail, email: privacy at vendor, after_days: 0}"), []string{
			sys + `.email: invalid e-mail address "privacy at vendor": want a bare address such as privacy@example.com`,
			sys + ".after_days: must be between 1 and 365, not 0"}},

		// opendsr.
		{"opendsr without url", connector("{kind: opendsr, token: secret-token}"), []string{
			sys + ".token: a secret is never written in the configuration: name where it is kept, {env: NAME} or {file: PATH}",
			sys + ".url: is required: an absolute http or https URL"}},

		// sql.
		{"sql export categories not the system's", connector(`{kind: sql, driver: postgres, dsn: {env: DSN}, export_category: orders,
          tables: [{name: t, match: {email: e}, category: orders}]}`), []string{
			sys + `.export_category: unknown data category "orders": want one of the system's data_categories (contact)`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].category: unknown data category "orders": want one of the system's data_categories (contact)`}},
		{"sql export category without statements", connector(`{kind: sql, driver: postgres, dsn: {env: DSN}, export_category: contact,
          tables: [{name: t, match: {email: e}}]}`), []string{
			sys + ".export_category: is the category of the export statements: there are none (a table's category is its own category)"}},
		{"sql without driver, dsn or work", connector("{kind: sql}"), []string{
			sys + ".dsn: is required: {env: NAME} or {file: PATH}, where the secret is kept",
			sys + ".driver: is required (want one of postgres)",
			sys + ".tables: statements or tables are required: what the connector runs"}},
		{"sql with bad names", connector(`{kind: sql, driver: mysql, dsn: {env: DSN}, statements: {erase: [" "]},
          tables: [{name: "x; DROP TABLE y", match: {email: "e-mail"}, export: [id, id, "a b"], mask: {"a b": hmac, c: blank}, restrict: "1x"}, {name: t}]}`), []string{
			sys + `.driver: unknown driver "mysql" (want one of postgres)`,
			sys + ".statements.erase[0]: is empty",
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].name: invalid table name "x; DROP TABLE y": want letters, digits and _ (schema.table allowed)`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].match.email: invalid column name "e-mail": want letters, digits and _`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].match: is required: the column of at least one identity (email, customer_id, phone)`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].export[1]: duplicate column "id"`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].export[2]: invalid column name "a b": want letters, digits and _`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].restrict: invalid column name "1x": want letters, digits and _`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].mask.a b: invalid column name "a b": want letters, digits and _`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[0].mask.c: unknown mask "blank" (want null, fixed:TEXT, hmac or random)`,
			`t.yaml:27: controllers[0].systems[0].connector.tables[1].match: is required: the column of at least one identity (email, customer_id, phone)`}},

		// Data categories.
		{"a hold without law or period", system("retention_period: P5Y", "retention_period: P5Y\n        hold: {from_year_end: true}"), []string{
			`t.yaml:18: controllers[0].data_categories[0].hold.law: is required`,
			`t.yaml:18: controllers[0].data_categories[0].hold.period: is required: how long the law keeps the data, such as 5y`,
			`t.yaml:18: controllers[0].data_categories[0].hold: a legal hold is retention the law requires: add legal_obligation to the category's legal_bases`}},
		{"a hold of a bad period", system("legal_bases: [contract]               # 18", "legal_bases: [legal_obligation]\n        hold: {law: Bokføringsloven § 13, period: 5 years}"), []string{
			`t.yaml:19: controllers[0].data_categories[0].hold.period: invalid period "5 years": want years, months, weeks or days such as 5y, 6m, 2w or 30d`}},

		// Recipients.
		{"a recipient neither told nor unreachable", recipient("{key: courier, name: Bud, role: Levering}"), []string{
			`t.yaml:28: controllers[0].recipients[0].notify: is required: how the recipient is told of a rectification, erasure or restriction (Art 19), or unreachable: why that is impossible or disproportionate`}},
		{"a recipient both told and unreachable", recipient("{key: courier, name: Bud, role: Levering, notify: {kind: manual, instructions: Ring}, unreachable: Nei}"), []string{
			`t.yaml:28: controllers[0].recipients[0].unreachable: give either notify or unreachable, not both`}},
		{"a recipient told through sql", recipient("{key: courier, name: Bud, role: Levering, notify: {kind: sql}}"), []string{
			`t.yaml:28: controllers[0].recipients[0].notify.kind: a recipient is not told through sql (want one of http, vendor_mail, manual)`}},
		{"a recipient told through an unknown kind", recipient("{key: courier, name: Bud, role: Levering, notify: {kind: fax}}"), []string{
			`t.yaml:28: controllers[0].recipients[0].notify.kind: unknown connector kind "fax" (want one of http, vendor_mail, manual)`}},
		{"recipients without keys, and twice", recipient("{name: Bud, role: Levering, unreachable: Nei}", "{key: bud, name: Bud, role: Levering, unreachable: Nei}", "{key: bud, name: Bud 2, role: Levering, unreachable: Nei}"), []string{
			`t.yaml:28: controllers[0].recipients[0].key: is required`,
			`t.yaml:30: controllers[0].recipients[2].key: duplicate recipient key "bud" (first at line 29)`}},
		{"a recipient's notice with a secret written in", recipient("{key: bud, name: Bud, role: Levering, notify: {kind: http, url: https://bud.example/h, secret: whsec_abc}}"), []string{
			`t.yaml:28: controllers[0].recipients[0].notify.secret: a secret is never written in the configuration: name where it is kept, {env: NAME} or {file: PATH}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := ParseControllers("t.yaml", []byte(tt.yaml(t)))
			if cs != nil {
				t.Errorf("got controllers %v with the error", cs.All())
			}
			got := ctrlMessages(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			for _, line := range got {
				for _, secret := range []string{"whsec_", "pw@", "Mf/KQ9r8", "secret-token"} {
					if strings.Contains(line, secret) {
						t.Errorf("a message repeats the secret: %s", line)
					}
				}
			}
		})
	}
}

// TestShippedDataMap checks the data map of the shipped organisations: the
// embedded default reaches no outside system, and every processor and
// recipient is described.
func TestShippedDataMap(t *testing.T) {
	cs, err := DefaultControllers()
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	for _, c := range cs.All() {
		conns := map[string]*Connector{}
		for i := range c.Systems {
			s := &c.Systems[i]
			conns["system "+s.Key] = &s.Connector
			if s.Role == RoleProcessor && s.Vendor == "" || s.Owner == "" {
				t.Errorf("%s/%s: role %s, vendor %q, owner %q", c.Key, s.Key, s.Role, s.Vendor, s.Owner)
			}
		}
		for i := range c.Recipients {
			r := &c.Recipients[i]
			if (r.Notify == nil) == (r.Unreachable == "") {
				t.Errorf("%s/%s: notify %v, unreachable %q", c.Key, r.Key, r.Notify, r.Unreachable)
			}
			if r.Notify != nil {
				conns["recipient "+r.Key] = r.Notify
			}
		}
		for where, conn := range conns {
			switch conn.Kind {
			case ConnectorManual:
				if conn.Manual.Instructions == "" {
					t.Errorf("%s %s: manual without instructions", c.Key, where)
				}
			case ConnectorVendorMail:
				if !strings.HasSuffix(conn.VendorMail.Email, ".example") {
					t.Errorf("%s %s: vendor address %s is not an example address", c.Key, where, conn.VendorMail.Email)
				}
			default:
				t.Errorf("%s %s: connector %s needs an outside system", c.Key, where, conn.Kind)
			}
		}
	}
}

// TestShippedPlans plans requests at the shipped organisations.
func TestShippedPlans(t *testing.T) {
	cs, err := DefaultControllers()
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	today := NewDate(2026, time.December, 3)
	plan := func(key string, typ RequestType, objection ObjectionKind) *Plan {
		c, ok := cs.Get(key)
		if !ok {
			t.Fatalf("no controller %s", key)
		}
		return PlanFor(c, &Request{Type: typ, Objection: objection}, today)
	}
	type row struct {
		System string
		Action TaskAction
	}
	rows := func(p *Plan) []row {
		var out []row
		for _, task := range p.Tasks {
			out = append(out, row{task.System, task.Action})
		}
		return out
	}
	each := func(action TaskAction, systems ...string) []row {
		var out []row
		for _, s := range systems {
			out = append(out, row{s, action})
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		controller string
		typ        RequestType
		objection  ObjectionKind
		want       []row
	}{
		{"an NTE objection to direct marketing reaches the marketing systems", "nte", TypeObjection, ObjectionDirectMarketing,
			each(ActionSuppressMarketing, "segment", "google-ads", "meta-pixel", "snap-pixel", "tiktok-pixel", "linkedin-insight", "bing-uet")},
		{"an NTE consent withdrawal reaches the consent-based systems", "nte", TypeWithdrawConsent, "",
			each(ActionWithdrawConsent, "google-analytics", "google-ads", "youtube", "meta-pixel", "snap-pixel", "tiktok-pixel", "linkedin-insight", "bing-uet")},
		{"an NTE Art 21(1) objection reaches the legitimate-interest systems", "nte", TypeObjection, ObjectionLegitimate,
			each(ActionStopProcessing, "nte-web", "segment", "intercom")},
		{"a Proviso automated-decision request reaches the profiling", "proviso", TypeAutomatedDecision, "",
			each(ActionStopProcessing, "profiling")},
		{"a Proviso objection to direct marketing", "proviso", TypeObjection, ObjectionDirectMarketing,
			each(ActionSuppressMarketing, "hubspot", "profiling", "google-ads")},
		{"an Intility erasure keeps the webshop's orders", "intility", TypeErasure, "",
			each(ActionErase, "visitor-registration", "cctv", "case-system", "questback", "google-analytics", "facebook-pixel", "linkedin-insight")},
		{"a Keto Diets consent withdrawal", "keto-diets", TypeWithdrawConsent, "",
			each(ActionWithdrawConsent, "platform", "marketing", "google-analytics", "hotjar", "facebook", "doubleclick")},
		{"Digiref: access to every system", "digiref", TypeAccess, "", each(ActionExport, "kundetelling", "google-analytics")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rows(plan(tc.controller, tc.typ, tc.objection))); diff != "" {
				t.Errorf("tasks (-want +got):\n%s", diff)
			}
		})
	}

	// The bookkeeping hold: kept five years from the end of the year.
	p := plan("intility", TypeErasure, "")
	want := []Held{{System: "webshop", Category: "webshop-orders",
		Law: "Bokføringsloven § 13 (regnskapsmateriale oppbevares i fem år etter regnskapsårets slutt)", Until: NewDate(2031, time.December, 31)}}
	if diff := cmp.Diff(want, p.Held); diff != "" {
		t.Errorf("intility erasure held (-want +got):\n%s", diff)
	}
	intility, _ := cs.Get("intility")
	if k := p.Held[0].Kept(intility); !strings.HasPrefix(k.What, "Bestillinger i nettbutikken") || k.Until != "2031-12-31" {
		t.Errorf("kept %+v", k)
	}
	if p := plan("proviso", TypeAutomatedDecision, ""); !slices.Equal(p.Tasks[0].Purposes, []string{"Anbefalinger og innhold tilpasset interesser"}) {
		t.Errorf("proviso automated decision purposes %v", p.Tasks[0].Purposes)
	}

	// Digiref's systems are run by hand.
	for _, typ := range []RequestType{TypeAccess, TypeErasure, TypeRectification, TypeRestriction, TypeWithdrawConsent} {
		p := plan("digiref", typ, "")
		for _, task := range append(slices.Clone(p.Tasks), p.Notify...) {
			if task.Connector != ConnectorManual {
				t.Errorf("digiref %s: %s by %s, want manual", typ, task.Target(), task.Connector)
			}
		}
	}

	// Every recipient gets a notice after an erasure, or is recorded as
	// unreachable; none after an access request.
	for _, c := range cs.All() {
		p := PlanFor(c, &Request{Type: TypeErasure}, today)
		var got, wantKeys []string
		for _, task := range p.Notify {
			r, _ := c.Recipient(task.Recipient)
			if task.Action != ActionNotifyRecipient || r.Notify == nil || task.Connector != r.Notify.Kind {
				t.Errorf("%s: notice %+v", c.Key, task)
			}
			got = append(got, task.Recipient)
		}
		for _, r := range p.Unreachable {
			got = append(got, r.Key+" (unreachable)")
		}
		for _, r := range c.Recipients {
			if r.Notify != nil {
				wantKeys = append(wantKeys, r.Key)
			}
		}
		for _, r := range c.Recipients {
			if r.Notify == nil {
				wantKeys = append(wantKeys, r.Key+" (unreachable)")
			}
		}
		if diff := cmp.Diff(wantKeys, got); diff != "" || len(got) != len(c.Recipients) {
			t.Errorf("%s: recipients after an erasure (-want +got):\n%s", c.Key, diff)
		}
		if p := PlanFor(c, &Request{Type: TypeAccess}, today); len(p.Notify)+len(p.Unreachable) != 0 {
			t.Errorf("%s: recipients told of an access request", c.Key)
		}
	}
	digiref, _ := cs.Get("digiref")
	if p := PlanFor(digiref, &Request{Type: TypeErasure}, today); len(p.Notify) != 1 || len(p.Unreachable) != 1 || p.Unreachable[0].Key != "google" {
		t.Errorf("digiref erasure: %d notices, unreachable %v", len(p.Notify), p.Unreachable)
	}
}

// TestSampleHTTPExample loads the example of the http connector that
// docs/connectors.md points to; cmd/dsar loads it as DSAR_CONFIG too.
func TestSampleHTTPExample(t *testing.T) {
	cs, err := LoadControllers(filepath.Join("docs", "examples", "sample-http.yaml"))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, ok := cs.Get("sample-shop")
	if !ok || len(cs.All()) != 1 {
		t.Fatalf("controllers %v", cs.All())
	}
	s, _ := c.System("shop")
	want := Connector{Kind: ConnectorHTTP, HTTP: &HTTPConnector{URL: "http://127.0.0.1:8091/dsar", Secret: Secret{Env: "DSAR_SAMPLE_SYSTEM_SECRET"},
		Timeout: 5 * time.Second, RatePerSecond: 50, MaxAttempts: 5, NoData: []int{404}, MaxExportBytes: DefaultMaxExportBytes}}
	if diff := cmp.Diff(want, s.Connector); diff != "" {
		t.Errorf("sample system connector (-want +got):\n%s", diff)
	}
	p := PlanFor(c, &Request{Type: TypeErasure}, NewDate(2026, time.December, 3))
	if len(p.Tasks) != 1 || !slices.Equal(p.Tasks[0].Categories, []string{"account", "newsletter"}) || len(p.Held) != 1 || len(p.Notify) != 1 || len(p.Unreachable) != 1 {
		t.Errorf("sample erasure plan: %d tasks %v, held %v, %d notices, %d unreachable", len(p.Tasks), p.Tasks, p.Held, len(p.Notify), len(p.Unreachable))
	}
}

// TestConnectorsDocExample parses the example of docs/connectors.md, "The
// data map", and checks what the text says an erasure does with it.
func TestConnectorsDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "connectors.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## The data map")
	if !ok {
		t.Fatal(`docs/connectors.md has no section "The data map"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, example, ok := strings.Cut(section, "### Example")
	_, example, ok2 := strings.Cut(example, "```yaml\n")
	example, _, ok3 := strings.Cut(example, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the data map section has no YAML example")
	}
	cs, err := ParseControllers("connectors.md", []byte(example))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, _ := cs.Get("shop")
	p := PlanFor(c, &Request{Type: TypeErasure}, NewDate(2026, time.December, 3))
	if len(p.Tasks) != 1 || p.Tasks[0].System != "ads" || p.Tasks[0].Connector != ConnectorVendorMail {
		t.Errorf("erasure tasks %v: want the ad platform's, by vendor mail", p.Tasks)
	}
	if len(p.Held) != 1 || p.Held[0].System != "webshop" || p.Held[0].Until != NewDate(2031, time.December, 31) {
		t.Errorf("held %v: want the web shop's orders until 2031-12-31", p.Held)
	}
	if len(p.Notify) != 1 || p.Notify[0].Recipient != "courier" || p.Notify[0].Connector != ConnectorManual ||
		len(p.Unreachable) != 1 || p.Unreachable[0].Key != "readers" {
		t.Errorf("notices %v, unreachable %v", p.Notify, p.Unreachable)
	}
	if s, _ := c.System("webshop"); s.Connector.Kind != ConnectorHTTP {
		t.Errorf("web shop connector %s", s.Connector.Kind)
	}
}

// TestParsePortabilityRecipients checks the organisations a portable
// package can be sent to directly: parsed with their defaults, and each
// mistake named with its file, line and field.
func TestParsePortabilityRecipients(t *testing.T) {
	// recipients adds portability recipients from line 28, one a line.
	recipients := func(items ...string) string {
		return ctrlBaseYAML + "    portability_recipients:\n      - " + strings.Join(items, "\n      - ") + "\n"
	}
	cs, err := ParseControllers("t.yaml", []byte(recipients(
		"{key: kraftbytte, name: Kraftbytte AS, url: 'https://kraftbytte.example/dsar/packages', secret: {env: KRAFTBYTTE_SECRET}}",
		"{key: local, name: Test receiver, url: 'http://127.0.0.1:8092/in', secret: {file: /run/secrets/local}, timeout: 30s, max_attempts: 2}",
	)))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, _ := cs.Get("acme")
	want := []PortabilityRecipient{
		{Key: "kraftbytte", Name: "Kraftbytte AS", URL: "https://kraftbytte.example/dsar/packages", Secret: Secret{Env: "KRAFTBYTTE_SECRET"},
			Timeout: DefaultTransmitTimeout, MaxAttempts: DefaultMaxAttempts},
		{Key: "local", Name: "Test receiver", URL: "http://127.0.0.1:8092/in", Secret: Secret{File: "/run/secrets/local"}, Timeout: 30 * time.Second, MaxAttempts: 2},
	}
	if diff := cmp.Diff(want, c.PortabilityRecipients); diff != "" {
		t.Errorf("portability recipients (-want +got):\n%s", diff)
	}

	const item = "t.yaml:28: controllers[0].portability_recipients"
	for _, tc := range []struct {
		name  string
		items []string
		want  []string
	}{
		{"nothing but a key", []string{"{key: x}"}, []string{
			item + "[0].name: is required",
			item + "[0].url: is required: the https URL the package is posted to",
			item + "[0].secret: is required: {env: NAME} or {file: PATH}, where the secret is kept"}},
		{"http to another machine", []string{"{key: x, name: X, url: 'http://x.example/in', secret: {env: S}}"}, []string{
			item + "[0].url: must be https: http only reaches a receiver on this machine (localhost, 127.0.0.1, ::1)"}},
		{"not a URL", []string{"{key: x, name: X, url: 'ftp://x.example/in', secret: {env: S}}"}, []string{
			item + `[0].url: invalid URL "ftp://x.example/in": want an absolute https URL`}},
		{"credentials in the URL", []string{"{key: x, name: X, url: 'https://u:p@x.example/in', secret: {env: S}}"}, []string{
			item + "[0].url: must not hold credentials: the uploads are signed with the secret"}},
		{"a secret written in the file", []string{"{key: x, name: X, url: 'https://x.example/in', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}"}, []string{
			item + "[0].secret: a secret is never written in the configuration: name where it is kept, {env: NAME} or {file: PATH}"}},
		{"settings out of range", []string{"{key: x, name: X, url: 'https://x.example/in', secret: {env: S}, timeout: 1h, max_attempts: 0}"}, []string{
			item + "[0].max_attempts: must be between 1 and 100, not 0",
			item + "[0].timeout: must be more than 0s and at most 30m0s, not 1h"}},
		{"the key other", []string{"{key: other, name: X, url: 'https://x.example/in', secret: {env: S}}"}, []string{
			item + `[0].key: "other" is what a subject chooses for an organisation that is not set up: use another key`}},
		{"an unknown field", []string{"{key: x, name: X, url: 'https://x.example/in', secret: {env: S}, headers: {a: b}}"}, []string{
			item + `[0].headers: unknown field "headers"`}},
		{"a duplicate key", []string{"{key: x, name: X, url: 'https://x.example/in', secret: {env: S}}", "{key: x, name: Y, url: 'https://y.example/in', secret: {env: T}}"}, []string{
			"t.yaml:29: controllers[0].portability_recipients[1].key: duplicate portability recipient key \"x\" (first at line 28)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := ParseControllers("t.yaml", []byte(recipients(tc.items...)))
			if cs != nil {
				t.Fatalf("got controllers with the error")
			}
			if diff := cmp.Diff(tc.want, ctrlMessages(t, err)); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPortabilityDocExample parses the configuration example of
// docs/portability.md.
func TestPortabilityDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "portability.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## Configuration")
	_, example, ok := strings.Cut(section, "```yaml\n")
	example, _, ok2 := strings.Cut(example, "```")
	if !ok || !ok2 {
		t.Fatal("docs/portability.md has no YAML example under Configuration")
	}
	cs, err := ParseControllers("portability.md", []byte(example))
	if err != nil {
		t.Fatal(ErrorMessage(err))
	}
	c, _ := cs.Get("shop")
	want := []PortabilityRecipient{{Key: "kraftbytte", Name: "Kraftbytte AS", URL: "https://api.kraftbytte.example/dsar/packages",
		Secret: Secret{Env: "KRAFTBYTTE_PORTABILITY_SECRET"}, Timeout: 2 * time.Minute, MaxAttempts: 8}}
	if diff := cmp.Diff(want, c.PortabilityRecipients); diff != "" {
		t.Errorf("the example's recipients (-want +got):\n%s", diff)
	}
}
