package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// A method that a documented path does not declare is answered 405 with an
// Allow header naming the methods it does declare, whoever asks; OPTIONS
// answers with the same Allow.
func TestUndeclaredMethodsAnswer405WithAllow(t *testing.T) {
	doc := loadOpenAPI(t)
	// Every optional part on, so that every documented path is there.
	db := storetest.Open(t, dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)))
	p := newPageClientOn(t, db, func(c *api.Config) {
		c.OIDC = &api.OIDC{Issuer: "https://login.example/tenant", ClientID: "dsar", ClientSecret: "s", Name: "SSO"}
		c.Metrics = prometheus.NewRegistry()
		c.OpenDSR, c.OpenDSRSigner = store.NewOpenDSR(db), contractOpenDSRSigner(t)
	})
	param := regexp.MustCompile(`\{[^}]+\}`)
	checked := 0
	for path, item := range doc.Paths.Map() {
		if strings.HasPrefix(path, "/admin/queues") {
			continue // the queue monitor's routes take every method
		}
		declared := []string{http.MethodOptions}
		for method := range item.Operations() {
			declared = append(declared, method)
		}
		url := p.base + param.ReplaceAllString(path, "x")
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			if method != http.MethodOptions && slices.Contains(declared, method) {
				continue
			}
			req, _ := http.NewRequest(method, url, nil)
			code, _, h := p.do(req)
			allow := strings.Split(h.Get("Allow"), ", ")
			slices.Sort(allow)
			slices.Sort(declared)
			want := http.StatusMethodNotAllowed
			if method == http.MethodOptions {
				want = http.StatusNoContent
			}
			if code != want || !slices.Equal(allow, declared) {
				t.Errorf("%s %s: %d, Allow %q; want %d, Allow %q", method, path, code, h.Get("Allow"), want, strings.Join(declared, ", "))
			}
			checked++
		}
	}
	if checked < 150 {
		t.Errorf("only %d calls checked", checked)
	}
}

// The routes of optional parts a deployment does not run are 404, as
// documented: single sign-on without an issuer, the mailbox without a local
// mailbox, the OpenDSR intake without a certificate and key.
func TestRoutesOfPartsNotRunAre404(t *testing.T) {
	p, _ := newPageClientWith(t, func(c *api.Config) { c.Mailbox = nil })
	for _, path := range []string{"/signin/oidc", "/signin/oidc/callback", "/mailbox", "/mailbox/x.eml",
		"/opendsr/v2/discovery", "/opendsr/v2/cert.pem", "/opendsr/v2/requests/a7551968-d5d6-44b2-9831-815ac9017798"} {
		req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
		code, body, h := p.do(req)
		if code != http.StatusNotFound || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"code":"not_found"`) {
			t.Errorf("%s: %d %s %s", path, code, h.Get("Content-Type"), body)
		}
	}
}
