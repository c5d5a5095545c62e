package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar/templates"
)

// officerRoutes adds the officers' pages: CSRF on every form, the page
// language, and the session.
func (s *Server) officerRoutes(e *echo.Echo) routes {
	return routes{e: e, mw: []echo.MiddlewareFunc{s.pageLanguage, s.csrf(), s.session}}
}

func (s *Server) secure() bool { return strings.HasPrefix(s.cfg.BaseURL, "https://") }

// setCookie sets one of the officers' cookies: HttpOnly, SameSite=Lax (the
// way back from a single sign-on provider is a cross-site navigation), and
// Secure behind https. maxAge 0 keeps it for the browser's session, -1
// deletes it.
func (s *Server) setCookie(c echo.Context, name, path, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

// csrfCookie is the pre-session cookie: a random value the CSRF tokens of
// visitors without a session (data subjects, and officers before they sign
// in) are tied to.
const csrfCookie = "dsar_csrf"

// csrfKey is where the page's CSRF token waits for its forms.
const csrfKey = "dsar.csrf"

// csrf checks the token of every form of the pages. The token is an HMAC
// of the officer's session, or of the pre-session cookie, under the
// service's key: a cookie and field pair the visitor chose is refused, and
// so is a post without its token, whatever Sec-Fetch-Site says; a
// cross-site post is refused even with one. A request form refused so
// comes back with what was typed (expiredForm); any other post gets the
// error page.
func (s *Server) csrf() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			binding, fresh := s.csrfBinding(c)
			want := s.cfg.Keyring.Token("csrf", binding)
			c.Set(csrfKey, want)
			c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return next(c)
			}
			if isMultipart(c.Request()) {
				// Files over a MiB wait on disk, not in memory.
				_ = c.Request().ParseMultipartForm(1 << 20) // an error: no token, refused below
			}
			got := c.FormValue("_csrf")
			if !fresh && c.Request().Header.Get("Sec-Fetch-Site") != "cross-site" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
				return next(c)
			}
			if c.Request().Method == http.MethodPost && c.Path() == "/c/:key" {
				return s.expiredForm(c)
			}
			return s.errorPage(c, http.StatusForbidden, "error.csrf")
		}
	}
}

// csrfBinding returns what the CSRF token is tied to: the officer's
// session, or else the pre-session cookie, renewed for an hour, and made
// now when there is none (fresh: no form can carry its token yet).
func (s *Server) csrfBinding(c echo.Context) (binding string, fresh bool) {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		return "session:" + ck.Value, false
	}
	v := ""
	if ck, err := c.Cookie(csrfCookie); err == nil && ck.Value != "" {
		v = ck.Value
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		v, fresh = base64.RawURLEncoding.EncodeToString(b), true
	}
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: v, Path: "/", MaxAge: 3600, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteStrictMode})
	return "pre-session:" + v, fresh
}

// registerOfficers adds sign-in, sign-out, the password page, the queue,
// the dashboard, the data map and the cases.
func (s *Server) registerOfficers(e *echo.Echo) {
	g := s.officerRoutes(e)
	g.GET("/signin", s.signInPage)
	g.POST("/signin", s.signIn)
	if s.cfg.OIDC != nil {
		g.GET("/signin/oidc", s.oidcStart)
		g.GET("/signin/oidc/callback", s.oidcCallback)
	}
	g.POST("/signout", s.signOut, signedIn)
	g.GET("/account/password", s.passwordPage, signedIn)
	g.POST("/account/password", s.changePassword, signedIn)
	g.GET("/queue", s.queuePage, signedIn)
	g.GET("/queue.csv", s.queueCSV, signedIn)
	g.POST("/queue/bulk", s.queueBulk, signedIn)
	g.GET("/dashboard", s.dashboardPage, signedIn)
	g.GET("/dashboard.json", s.dashboardJSON, signedIn)
	g.GET("/datamap", s.dataMapPage, signedIn)
	g.GET("/cases/:id", s.casePage, signedIn)
	g.GET("/documents/:id/:doc", s.caseDocument, signedIn)
	g.GET("/results/:id/:name", s.caseResultFile, signedIn)
	g.POST(caseActionRoute, s.caseAction, signedIn)
}

// workers lists whom cases of the controllers may be assigned to.
func (s *Server) workers(c echo.Context, controllers []string) ([]templates.Worker, error) {
	users, err := s.cfg.Users.Workers(c.Request().Context(), controllers)
	if err != nil {
		return nil, err
	}
	out := make([]templates.Worker, len(users))
	for i, u := range users {
		out[i] = templates.Worker{ID: u.ID, Email: u.Email}
	}
	return out, nil
}
