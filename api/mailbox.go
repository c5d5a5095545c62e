package api

import (
	"errors"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar/templates"
	"github.com/dsar-project/dsar/workflows/mail"
)

// registerMailbox adds the page of the local mailbox (the embedded default,
// where mail is kept rather than sent), for signed-in administrators.
func (s *Server) registerMailbox(e *echo.Echo, box *mail.Mailbox) {
	g := s.officerRoutes(e)
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
	g.GET("/mailbox", show, signedIn, adminOnly)
	g.GET("/mailbox/:name", show, signedIn, adminOnly)
}
