package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// sessionCookie holds an officer's session token.
const sessionCookie = "dsar_session"

const userKey = "dsar.user"

// session makes a signed-in officer the actor of the request.
func (s *Server) session(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			u, err := s.cfg.Users.Session(c.Request().Context(), ck.Value)
			switch {
			case err == nil:
				a := u.Actor()
				a.IP = c.RealIP()
				c.Set(actorKey, a)
				c.Set(userKey, u)
			case dsar.ErrorCode(err) != dsar.EUNAUTHORIZED:
				// A session that cannot be looked up (the database is
				// down) is not "no session": the officer gets the
				// unavailable page, and stays signed in.
				return s.pageError(c, err)
			}
		}
		return next(c)
	}
}

// signedIn sends anonymous visitors to the sign-in page.
func signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := c.Get(userKey).(*dsar.User); !ok {
			return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// adminOnly refuses every signed-in user but an admin.
func adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, _ := c.Get(userKey).(*dsar.User); u == nil || u.Role != dsar.RoleAdmin {
			return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
		}
		return next(c)
	}
}

// ssoName is the single sign-on provider's name for the sign-in page, or
// "" without single sign-on.
func (s *Server) ssoName() string {
	if s.cfg.OIDC == nil {
		return ""
	}
	return s.cfg.OIDC.Name
}

// localPath keeps a "next" target on this site.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/queue"
	}
	return next
}

func (s *Server) signInPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "signin", templates.SignInPage{Page: s.page(c, nil, "page.signin.title"), Next: localPath(c.QueryParam("next")), SSOName: s.ssoName()})
}

func (s *Server) signIn(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	email, next := strings.TrimSpace(c.FormValue("email")), localPath(c.FormValue("next"))
	_, token, err := s.cfg.Users.SignIn(c.Request().Context(), email, c.FormValue("password"))
	if err != nil {
		var de *dsar.Error
		if !errors.As(err, &de) || (de.Code != dsar.EUNAUTHORIZED && de.Code != dsar.ERATELIMIT) {
			return s.pageError(c, err)
		}
		p := s.page(c, nil, "page.signin.title")
		return s.render(c, http.StatusUnauthorized, "signin", templates.SignInPage{Page: p, Email: email, Next: next, SSOName: s.ssoName(), Error: templates.T(p.Lang, de.Message, de.Params)})
	}
	s.setCookie(c, sessionCookie, "/", token, 0)
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) signOut(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Users.SignOut(c.Request().Context(), ck.Value); err != nil {
			return s.pageError(c, err)
		}
	}
	s.setCookie(c, sessionCookie, "/", "", -1)
	return c.Redirect(http.StatusSeeOther, "/signin")
}

func (s *Server) passwordPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "password", templates.PasswordPage{Page: s.page(c, nil, "page.password.title"), MinLength: dsar.MinPasswordLength})
}

func (s *Server) changePassword(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	ck, _ := c.Cookie(sessionCookie)
	p := templates.PasswordPage{Page: s.page(c, nil, "page.password.title"), MinLength: dsar.MinPasswordLength}
	err := s.cfg.Users.ChangePassword(c.Request().Context(), u.ID, c.FormValue("old"), c.FormValue("new"), ck.Value)
	var de *dsar.Error
	switch {
	case err == nil:
		p.Notice = templates.T(p.Lang, "page.password.changed", nil)
		return s.render(c, http.StatusOK, "password", p)
	case errors.As(err, &de) && de.Code == dsar.EINVALID && len(de.Fields) > 0:
		p.Error = templates.T(p.Lang, de.Fields[0].Message, de.Fields[0].Params)
		return s.render(c, http.StatusUnprocessableEntity, "password", p)
	}
	return s.pageError(c, err)
}
