package api

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

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

// csrf checks the token of every form of the pages (a double-submit cookie),
// deciding by the token alone, so that a cross-site post gets the same error
// page as a missing token.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		AllowSecFetchSiteFunc: func(echo.Context) (bool, error) { return false, nil },
		TokenLookup:           "form:_csrf", CookieName: "dsar_csrf", CookiePath: "/", CookieHTTPOnly: true,
		CookieSecure: s.secure(), CookieSameSite: http.SameSiteStrictMode, CookieMaxAge: 3600,
		ErrorHandler: func(err error, c echo.Context) error {
			if c.Request().Method == http.MethodPost && c.Path() == "/c/:key" {
				return s.expiredForm(c)
			}
			return s.errorPage(c, http.StatusForbidden, "error.csrf")
		},
	})
}

// freshCSRF gives the page a new CSRF token (in the cookie and for its
// forms), for a form shown again after its token was refused.
func (s *Server) freshCSRF(c echo.Context) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	tok := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: "dsar_csrf", Value: tok, Path: "/", MaxAge: 3600, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteStrictMode})
	c.Set(middleware.DefaultCSRFConfig.ContextKey, tok)
}

// registerOfficers adds sign-in, sign-out, the password page and the queue.
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
	g.GET("/cases/:id", s.casePage, signedIn)
	g.POST("/cases/:id/:action", s.caseAction, signedIn)
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
