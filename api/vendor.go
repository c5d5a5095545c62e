package api

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// vendorOrder returns the task of a vendor's confirmation link: the link's
// token must be the task's, and the task one a vendor was mailed. Any
// other link is not found, whatever is wrong with it.
func (s *Server) vendorOrder(c echo.Context) (*dsar.TaskOrder, error) {
	notFound := &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	id := c.Param("id")
	want := s.cfg.Keyring.Token(dsar.TokenVendorConfirm, id)
	if subtle.ConstantTimeCompare([]byte(c.Param("token")), []byte(want)) != 1 {
		return nil, notFound
	}
	o, err := s.cfg.Tasks.Order(c.Request().Context(), id)
	if dsar.ErrorCode(err) == dsar.ENOTFOUND || err == nil && o.Connector.Kind != dsar.ConnectorVendorMail {
		return nil, notFound
	}
	return o, err
}

// vendorView returns the confirmation page of the task in the state
// ("", "thanks", "ended"): what the instruction asked, with only the
// identities it gave.
func (s *Server) vendorView(c echo.Context, o *dsar.TaskOrder, state string) templates.VendorPage {
	ctrl, r, t := o.Controller, o.Request, o.Task
	p := templates.VendorPage{Page: s.page(c, ctrl, "page.vendor.title"), Action: c.Request().URL.Path, State: state,
		Controller: ctrl.LegalName, Reference: r.Reference, System: ctrl.TargetName(t), TaskAction: t.Action, Purposes: t.Purposes,
		Email: r.Subject.Email, CustomerID: r.Subject.CustomerID,
		By: o.AskBy(dsar.DateOf(s.cfg.Clock.Now().In(ctrl.Location))).String()}
	for _, key := range t.Categories {
		if dc, ok := ctrl.DataCategory(key); ok {
			p.Categories = append(p.Categories, dc.Name)
		}
	}
	if t.Action == dsar.ActionRectify {
		p.Details = r.Details
	}
	return p
}

// vendorPage shows a vendor what it was asked, and the form to confirm
// it; a task recorded before says so.
func (s *Server) vendorPage(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	o, err := s.vendorOrder(c)
	if err != nil {
		return s.pageError(c, err)
	}
	state := ""
	if o.Task.Status.Ended() {
		state = "ended"
	}
	return s.render(c, http.StatusOK, "vendor", s.vendorView(c, o, state))
}

// vendorConfirm records the vendor's confirmation: done (with the records
// concerned, when known) or no data, with its words as evidence.
func (s *Server) vendorConfirm(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	o, err := s.vendorOrder(c)
	if err != nil {
		return s.pageError(c, err)
	}
	if o.Task.Status.Ended() {
		return s.render(c, http.StatusConflict, "vendor", s.vendorView(c, o, "ended"))
	}
	lang := languageOf(c)
	view := s.vendorView(c, o, "")
	view.Outcome, view.Count, view.Evidence = c.FormValue("outcome"), strings.TrimSpace(c.FormValue("count")), c.FormValue("evidence")
	view.Errors = map[string]string{}
	count := 0
	if view.Outcome != "done" && view.Outcome != "no_data" {
		view.Errors["outcome"] = templates.T(lang, "field.required", nil)
	}
	if view.Count != "" {
		if n, err := strconv.Atoi(view.Count); err != nil {
			view.Errors["count"] = templates.T(lang, "field.integer", nil)
		} else {
			count = n
		}
	}
	if len(view.Errors) == 0 {
		err = s.cfg.Tasks.Confirm(c.Request().Context(), o.Task.ID, view.Evidence, count, view.Outcome == "no_data")
		if err == nil {
			return s.render(c, http.StatusOK, "vendor", s.vendorView(c, o, "thanks"))
		}
	} else {
		err = dsar.ValidateReason("evidence", strings.TrimSpace(view.Evidence)) // every problem at once
	}
	var de *dsar.Error
	switch {
	case err == nil: // the form's own problems only
	case !errors.As(err, &de) || (de.Code != dsar.EINVALID && de.Code != dsar.ECONFLICT):
		return s.pageError(c, err)
	case de.Code == dsar.ECONFLICT:
		// Recorded meanwhile (by an officer, or a second click), or not
		// waiting for anyone.
		if o, err := s.cfg.Tasks.Order(c.Request().Context(), o.Task.ID); err == nil && o.Task.Status.Ended() {
			return s.render(c, http.StatusConflict, "vendor", s.vendorView(c, o, "ended"))
		}
		view.Error = templates.T(lang, de.Message, de.Params)
		return s.render(c, http.StatusConflict, "vendor", view)
	default:
		for _, f := range de.Fields {
			view.Errors[f.Field] = templates.T(lang, f.Message, f.Params)
		}
	}
	return s.render(c, http.StatusUnprocessableEntity, "vendor", view)
}
