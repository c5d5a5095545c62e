package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
)

// contractDataMap reads the data maps: the document's example is the
// answer for Digiref's shipped data map; admins, officers and auditors of
// the controller may read it, a system's key may not, and a controller the
// key does not cover is not found.
func contractDataMap(t *testing.T, e *contractEnv) {
	a := e.do(t, contractCall{method: "GET", path: "/api/v1/controllers/digiref/datamap", key: "digiref", want: 200})
	example := e.doc.Paths.Find("/api/v1/controllers/{key}/datamap").Get.Responses.Status(200).Value.Content.Get("application/json").Example
	if want, _ := json.Marshal(example); !jsonEqual(t, a.body, want) {
		t.Errorf("the example of GET /api/v1/controllers/{key}/datamap is not Digiref's data map:\n got %s\nwant %s", a.body, want)
	}
	// Intility's: the webshop's orders under the bookkeeping hold, and the
	// webshop run by a processor.
	var dm struct {
		Controller     string `json:"controller"`
		DataCategories []struct {
			Key  string `json:"key"`
			Hold *struct {
				Law         string `json:"law"`
				Period      string `json:"period"`
				FromYearEnd bool   `json:"from_year_end"`
			} `json:"hold"`
		} `json:"data_categories"`
		Systems []struct {
			Key       string `json:"key"`
			Role      string `json:"role"`
			Connector struct {
				Kind string `json:"kind"`
			} `json:"connector"`
		} `json:"systems"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/controllers/intility/datamap", key: "admin", want: 200}).decode(t, &dm)
	held := false
	for _, d := range dm.DataCategories {
		if d.Hold != nil && d.Hold.Period == "P5Y" && d.Hold.FromYearEnd && d.Hold.Law != "" {
			held = true
		}
	}
	if dm.Controller != "intility" || !held || len(dm.Systems) == 0 {
		t.Errorf("intility's data map: %+v", dm)
	}
	for _, s := range dm.Systems {
		if s.Key == "webshop" && (s.Role != "processor" || s.Connector.Kind != "vendor_mail") {
			t.Errorf("the webshop: %+v", s)
		}
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/controllers/nte/datamap", key: "officer", want: 200})
	e.do(t, contractCall{method: "GET", path: "/api/v1/controllers/nte/datamap", key: "auditor", want: 200})
	// A system's key of the controller may not read it.
	if p := e.do(t, contractCall{method: "GET", path: "/api/v1/controllers/nte/datamap", key: "system", want: 403}).problem(t); p.Code != "forbidden" {
		t.Errorf("problem %+v", p)
	}
	// Another controller's, or one that does not exist: not found alike.
	for _, c := range []contractCall{
		{path: "/api/v1/controllers/intility/datamap", key: "officer"},
		{path: "/api/v1/controllers/digiref/datamap", key: "auditor"},
		{path: "/api/v1/controllers/keto-diets/datamap", key: "system"},
		{path: "/api/v1/controllers/no-such-org/datamap", key: "admin"},
	} {
		c.method, c.want = "GET", 404
		if p := e.do(t, c).problem(t); p.Code != "not_found" {
			t.Errorf("%s with %s: problem %+v", c.path, c.key, p)
		}
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/controllers/NTE/datamap", key: "admin", want: 404, docRejects: true})
}

// TestDataMapNamesSecretsOnly: a data map whose systems are reached over
// HTTP, SQL and OpenDSR names where each secret is kept, and never shows
// the secret, even while it is set.
func TestDataMapNamesSecretsOnly(t *testing.T) {
	const (
		hookSecret = "whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr"
		dsn        = "postgres://crm:hunter2-db-password@db.nte.example/crm"
		token      = "opendsr-bearer-token-never-shown"
	)
	t.Setenv("DSAR_TEST_DATAMAP_HOOK", hookSecret)
	t.Setenv("DSAR_TEST_DATAMAP_DSN", dsn)
	t.Setenv("DSAR_TEST_DATAMAP_TOKEN", token)
	e := newContractEnv(t, func(cfg *api.Config, e *contractEnv) {
		ctrl, _ := e.db.Controllers.Get("nte")
		ctrl.Systems[0].Connector = dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{
			URL: "https://hooks.nte.example/dsar", Secret: dsar.Secret{Env: "DSAR_TEST_DATAMAP_HOOK"},
			Timeout: 10 * time.Second, RatePerSecond: 5, MaxAttempts: 8, NoData: []int{404}}}
		ctrl.Systems[1].Connector = dsar.Connector{Kind: dsar.ConnectorSQL, SQL: &dsar.SQLConnector{
			Driver: "postgres", DSN: dsar.Secret{Env: "DSAR_TEST_DATAMAP_DSN"},
			Statements: map[dsar.TaskAction][]string{dsar.ActionErase: {"DELETE FROM customers WHERE email = $1"}},
			Tables:     []dsar.SQLTable{{Name: "orders", Match: map[string]string{"email": "email"}, Mask: map[string]string{"name": "null"}}}}}
		ctrl.Systems[2].Connector = dsar.Connector{Kind: dsar.ConnectorOpenDSR, OpenDSR: &dsar.OpenDSRConnector{
			URL: "https://opendsr.vendor.example", Token: dsar.Secret{Env: "DSAR_TEST_DATAMAP_TOKEN"}, Certificate: "/etc/dsar/vendor.pem"}}
	})
	for _, key := range []string{"admin", "officer", "auditor"} {
		a := e.do(t, contractCall{method: "GET", path: "/api/v1/controllers/nte/datamap", key: key, want: 200})
		body := string(a.body)
		for _, secret := range []string{hookSecret, "c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr", dsn, "hunter2", token} {
			if strings.Contains(body, secret) {
				t.Errorf("%s: the data map shows a secret's value %q", key, secret)
			}
		}
		for _, want := range []string{`"secret":"env:DSAR_TEST_DATAMAP_HOOK"`, `"secret":"env:DSAR_TEST_DATAMAP_DSN"`, `"secret":"env:DSAR_TEST_DATAMAP_TOKEN"`,
			`"timeout":"10s"`, `"rate_per_second":5`, `"max_attempts":8`, `"no_data":[404]`, `"certificate":"/etc/dsar/vendor.pem"`,
			`"statements":{"erase":["DELETE FROM customers WHERE email = $1"]}`, `"mask":{"name":"null"}`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the data map lacks %s", key, want)
			}
		}
	}
}

// The data map page: an officer of Intility reads its systems, the
// bookkeeping hold and how each recipient is told, in the page's
// language; an auditor reads Proviso's profiling with its logic; a
// controller the user does not cover is not found; a secret is never
// shown.
func TestDataMapPage(t *testing.T) {
	t.Setenv("DSAR_TEST_DATAMAP_PAGE", "whsec_dGhpcy1tdXN0LW5vdC1iZS1zZWVu")
	p, db := newPageClientWith(t, func(cfg *api.Config) {
		ctrl, _ := cfg.Controllers.Get("intility")
		ctrl.Systems[0].Connector = dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{
			URL: "https://hooks.intility.example/dsar", Secret: dsar.Secret{Env: "DSAR_TEST_DATAMAP_PAGE"}}}
	})
	officer(t, db, "intility")
	p.signIn("kari@nte.no", "officer password 123")
	code, page := p.get("/datamap")
	if code != http.StatusOK {
		t.Fatalf("the data map: %d", code)
	}
	for _, want := range []string{
		"<h1>Datakart: Intility AS</h1>", "Intility Webshop (webshop.intility.no)", "En databehandler",
		"Bokføringsloven § 13", "5 år fra utgangen av året", "E-post til leverandøren", "Avtale", "Rettslig forpliktelse",
		"Utenfor EØS", "HTTP", `href="/datamap" aria-current="page"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the data map lacks %q", want)
		}
	}
	if strings.Contains(page, "dGhpcy1tdXN0LW5vdC1iZS1zZWVu") || strings.Contains(page, "DSAR_TEST_DATAMAP_PAGE") {
		t.Error("the data map shows a secret")
	}
	// One controller only: no choice of controllers.
	if strings.Contains(page, `href="/datamap?controller=`) {
		t.Error("a choice of one controller")
	}
	if code, page := p.get("/datamap?controller=intility&lang=en"); code != http.StatusOK || !strings.Contains(page, "5 years from the end of the year") || !strings.Contains(page, "Legal obligation") {
		t.Errorf("the data map in English: %d", code)
	}
	for _, other := range []string{"nte", "no-such-org"} {
		if code, _ := p.get("/datamap?controller=" + other); code != http.StatusNotFound {
			t.Errorf("the data map of %s: %d, want 404", other, code)
		}
	}

	// An auditor of two controllers chooses between them (the page keeps
	// the language chosen last).
	if _, err := store.NewUsers(db).Create(context.Background(), "revisor@proviso.no", "auditor password 123", dsar.RoleAuditor, []string{"proviso", "digiref"}); err != nil {
		t.Fatal(err)
	}
	p.signIn("revisor@proviso.no", "auditor password 123")
	code, page = p.get("/datamap?controller=proviso&lang=nb")
	if code != http.StatusOK {
		t.Fatalf("the auditor's data map: %d", code)
	}
	for _, want := range []string{"<h1>Datakart: Proviso AS</h1>", "Anbefalinger og innhold tilpasset interesser", "Logikk: Preferanser",
		`href="/datamap?controller=proviso" aria-current="page"`, `href="/datamap?controller=digiref">Digiref AS`} {
		if !strings.Contains(page, want) {
			t.Errorf("the auditor's data map lacks %q", want)
		}
	}
	if code, page := p.get("/datamap?controller=digiref"); code != http.StatusOK || !strings.Contains(page, "Kan ikke varsles: Google har bare") {
		t.Errorf("Digiref's data map: %d", code)
	}
}
