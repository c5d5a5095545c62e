package api

import (
	"net"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

const actorKey = "dsar.actor"

// authenticate reads an API key from "Authorization: Bearer …". No header
// makes the caller the public; a bad key is refused, never downgraded to
// public.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" {
			c.Set(actorKey, withIP(dsar.ActorPublic, c))
			return next(c)
		}
		scheme, secret, ok := strings.Cut(h, " ")
		var (
			key *dsar.APIKey
			err error = &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.unauthorized"}
		)
		if ok && strings.EqualFold(scheme, "Bearer") {
			key, err = s.cfg.APIKeys.Authenticate(c.Request().Context(), strings.TrimSpace(secret))
		}
		if err != nil {
			// A wrong key costs the caller's address like an anonymous call,
			// so that guessing keys is as slow as the public limit.
			if dsar.ErrorCode(err) == dsar.EUNAUTHORIZED {
				if lerr := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); lerr != nil {
					return lerr
				}
			}
			return err
		}
		c.Set(actorKey, withIP(key.Actor(), c))
		return next(c)
	}
}

// requireKey refuses the public.
func (s *Server) requireKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !actorOf(c).Authenticated() {
			return &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.unauthorized"}
		}
		return next(c)
	}
}

// withIP returns the actor acting from the client's address (the audit
// trail records it).
func withIP(a dsar.Actor, c echo.Context) dsar.Actor {
	a.IP = c.RealIP()
	return a
}

func actorOf(c echo.Context) dsar.Actor {
	if a, ok := c.Get(actorKey).(dsar.Actor); ok {
		return a
	}
	return dsar.ActorPublic
}

// ipExtractor returns how the client address is found: the peer address,
// or X-Forwarded-For as far as it passes through trusted proxies.
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, dsar.Errorf(dsar.EINVALID, "trusted proxy %q is not a CIDR network", cidr)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// mayChange refuses, before anything else is looked at, callers who may not
// change the case: roles that change nothing (403) and officers of other
// controllers (404, as if the case did not exist).
func (s *Server) mayChange(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := actorOf(c)
		if a.Role != dsar.RoleAdmin && a.Role != dsar.RoleOfficer {
			return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
		}
		if err := s.cfg.Requests.Visible(c.Request().Context(), a, c.Param("id")); err != nil {
			return err
		}
		return next(c)
	}
}

// scope refuses a key whose scopes do not allow calls of scope sc (403
// naming the scope); keys without scopes, and the public, pass on to the
// checks of their role.
func scope(sc dsar.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := actorOf(c).NeedScope(sc); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// taskDoneScope is the scope of completing a task: attaching the system's
// data to an export task (a multipart upload) needs exports:write, any
// other completion cases:write.
func taskDoneScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sc := dsar.ScopeCasesWrite
		if isMultipart(c.Request()) {
			sc = dsar.ScopeExportsWrite
		}
		return scope(sc)(next)(c)
	}
}
