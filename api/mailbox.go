package api

import (
	"errors"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
	"github.com/dsar-project/dsar/workflows/mail"
)

// registerMailbox adds the page of the local mailbox (the embedded default,
// where mail is kept rather than sent). Until officers sign in with accounts,
// an administrator opens it with an admin API key as the HTTP Basic password.
func (s *Server) registerMailbox(e *echo.Echo, box *mail.Mailbox) {
	auth := middleware.BasicAuthWithConfig(middleware.BasicAuthConfig{
		Realm: "dsar mailbox",
		Validator: func(_, password string, c echo.Context) (bool, error) {
			key, err := s.cfg.APIKeys.Authenticate(c.Request().Context(), password)
			if err != nil || key.Role != dsar.RoleAdmin {
				// A wrong key costs the address like an anonymous call.
				return false, s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute)
			}
			return true, nil
		},
	})
	g := e.Group("/mailbox", s.pageLanguage, auth)
	show := func(c echo.Context) error {
		list, err := box.List()
		if err != nil {
			return err
		}
		data := templates.MailboxPage{Page: s.page(c, nil, "page.mailbox.title")}
		for _, m := range list {
			data.Entries = append(data.Entries, templates.MailboxEntry{Name: m.Name, Date: m.Date, From: m.From, To: m.To, Subject: m.Subject})
		}
		if name := c.Param("name"); name != "" {
			m, err := box.Read(name)
			if errors.Is(err, os.ErrNotExist) {
				return s.errorPage(c, http.StatusNotFound, "error.not_found")
			}
			if err != nil {
				return err
			}
			data.Open = &templates.MailboxEntry{Name: m.Name, Date: m.Date, From: m.From, To: m.To, Subject: m.Subject}
			data.Text = m.Text
		}
		return s.render(c, http.StatusOK, "mailbox", data)
	}
	g.GET("", show)
	g.GET("/:name", show)
}
