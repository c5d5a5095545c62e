package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// ssoEnv is dsar with single sign-on against a local OpenID Connect
// provider (mockoidc, a real server on loopback), and a browser that
// follows redirects and keeps cookies.
type ssoEnv struct {
	base     string
	provider *mockoidc.MockOIDC
	users    *store.Users
	browser  *http.Client
}

func newSSOEnv(t *testing.T, issuer string) *ssoEnv {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	if issuer == "" {
		issuer = cfg.Issuer
	}
	// The provider signs with its own clock; dsar checks with the same time.
	db := storetest.Open(t, dsar.NewManualClock(time.Now().Truncate(time.Second)))
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	reqs := store.NewRequests(db)
	srv, err := api.New(api.Config{Requests: reqs, Cases: reqs, Subjects: store.NewSubjects(db), APIKeys: store.NewAPIKeys(db),
		Users: store.NewUsers(db), Controllers: db.Controllers, Clock: db.Clock, Keyring: db.Keyring, Log: quietLog, BaseURL: base,
		OIDC: &api.OIDC{Issuer: issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Name: "Entra ID"}})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return &ssoEnv{base: base, provider: m, users: store.NewUsers(db), browser: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// get follows every redirect and returns the last answer.
func (e *ssoEnv) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
	req.Header.Set("Accept-Language", "nb")
	resp, err := e.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.Path, string(b)
}

func TestSingleSignOn(t *testing.T) {
	e := newSSOEnv(t, "")
	if _, err := e.users.Create(context.Background(), "kari@nte.no", "officer password 123", dsar.RoleOfficer, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	if code, _, page := e.get(t, "/signin?next=/dashboard"); code != http.StatusOK || !strings.Contains(page, `href="/signin/oidc?next=%2fdashboard"`) ||
		!strings.Contains(page, "Logg inn med Entra ID") {
		t.Fatalf("the sign-in page (%d) does not offer single sign-on", code)
	}
	// Signed in through the provider, straight to the page asked for.
	e.provider.QueueUser(&mockoidc.MockUser{Subject: "k1", Email: "Kari@NTE.no", EmailVerified: true})
	code, path, page := e.get(t, "/signin/oidc?next=/queue")
	if code != http.StatusOK || path != "/queue" || !strings.Contains(page, "kari@nte.no") {
		t.Fatalf("after single sign-on: %d at %s", code, path)
	}
	// No account, or a disabled one: refused, in the user's language.
	e.browser.Jar, _ = cookiejar.New(nil)
	e.provider.QueueUser(&mockoidc.MockUser{Subject: "o1", Email: "ola@nte.no", EmailVerified: true})
	if code, _, page := e.get(t, "/signin/oidc"); code != http.StatusForbidden || !strings.Contains(page, "Det finnes ingen aktiv konto for ola@nte.no") {
		t.Errorf("an e-mail address without an account: %d", code)
	}
	if _, err := e.users.SetDisabled(context.Background(), "kari@nte.no", true); err != nil {
		t.Fatal(err)
	}
	e.provider.QueueUser(&mockoidc.MockUser{Subject: "k1", Email: "kari@nte.no", EmailVerified: true})
	if code, _, _ := e.get(t, "/signin/oidc"); code != http.StatusForbidden {
		t.Errorf("a disabled account: %d", code)
	}
	if _, err := e.users.SetDisabled(context.Background(), "kari@nte.no", false); err != nil {
		t.Fatal(err)
	}
	// An address the provider has not verified is not enough.
	e.provider.QueueUser(&unverifiedUser{mockoidc.MockUser{Subject: "k2", Email: "kari@nte.no"}})
	if code, _, page := e.get(t, "/signin/oidc"); code != http.StatusForbidden || !strings.Contains(page, "ingen bekreftet e-postadresse") {
		t.Errorf("an unverified e-mail address: %d", code)
	}
	// A callback that did not start here (no state cookie, another state).
	if code, _, page := e.get(t, "/signin/oidc/callback?state=forged&code=abc"); code != http.StatusBadRequest || !strings.Contains(page, "Påloggingen er utløpt") {
		t.Errorf("a forged callback: %d", code)
	}
	// The provider refuses the code (used already, or made up): the way
	// back carries the right state but another code.
	stop := &http.Client{Jar: e.browser.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := stop.Get(e.base + "/signin/oidc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || to.Query().Get("code_challenge_method") != "S256" || to.Query().Get("nonce") == "" {
		t.Fatalf("the redirect to the provider: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _, page := e.get(t, "/signin/oidc/callback?code=made-up&state="+url.QueryEscape(to.Query().Get("state"))); code != http.StatusUnauthorized ||
		!strings.Contains(page, "Felles pålogging lyktes ikke") {
		t.Errorf("a refused code: %d", code)
	}
}

// A provider that does not answer leaves password sign-in working.
func TestSingleSignOnProviderDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/oidc"
	ln.Close()
	e := newSSOEnv(t, down)
	if code, _, page := e.get(t, "/signin/oidc"); code != http.StatusServiceUnavailable || !strings.Contains(page, "Felles pålogging er ikke tilgjengelig") {
		t.Errorf("provider down: %d", code)
	}
	if code, _, _ := e.get(t, "/signin"); code != http.StatusOK {
		t.Errorf("the sign-in page with the provider down: %d", code)
	}
}

// unverifiedUser is a provider's user whose e-mail address is not verified.
type unverifiedUser struct{ mockoidc.MockUser }

func (u *unverifiedUser) Claims(_ []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &struct {
		*mockoidc.IDTokenClaims
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}{c, u.Email, false}, nil
}
