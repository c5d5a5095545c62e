package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dsar-project/dsar/api"
)

// A method that a documented path does not declare is answered 405 with an
// Allow header naming the methods it does declare, whoever asks; OPTIONS
// answers with the same Allow.
func TestUndeclaredMethodsAnswer405WithAllow(t *testing.T) {
	doc := loadOpenAPI(t)
	// Every optional part on, so that every documented path is there.
	p, _ := newPageClientWith(t, func(c *api.Config) {
		c.OIDC = &api.OIDC{Issuer: "https://login.example/tenant", ClientID: "dsar", ClientSecret: "s", Name: "SSO"}
		c.Metrics = prometheus.NewRegistry()
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
// mailbox.
func TestRoutesOfPartsNotRunAre404(t *testing.T) {
	p, _ := newPageClientWith(t, func(c *api.Config) { c.Mailbox = nil })
	for _, path := range []string{"/signin/oidc", "/signin/oidc/callback", "/mailbox", "/mailbox/x.eml"} {
		req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
		code, body, h := p.do(req)
		if code != http.StatusNotFound || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"code":"not_found"`) {
			t.Errorf("%s: %d %s %s", path, code, h.Get("Content-Type"), body)
		}
	}
}
