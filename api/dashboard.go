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

// dashboardQuery is the dashboard's filter as the officer typed it.
type dashboardQuery struct {
	Controller, From, To string
}

// dashboardFilter reads the filter: the controller ("" for every controller
// the officer may see) and the period, by default the last 12 months (from
// the first day of the month eleven months back to today, in the
// controller's zone, or the latest date of the controllers for several). A date that is not YYYY-MM-DD is
// an EINVALID error naming the field; the store checks the rest.
func (s *Server) dashboardFilter(c echo.Context) (dashboardQuery, dsar.Date, dsar.Date, error) {
	q := c.QueryParams()
	v := dashboardQuery{Controller: strings.TrimSpace(q.Get("controller")), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	// Today is the controller's date; for several controllers, the latest
	// of their dates, so that nothing received today is left out anywhere.
	now := s.cfg.Clock.Now()
	today := dsar.DateOf(now.UTC())
	for _, ct := range s.cfg.Controllers.All() {
		if (v.Controller == "" || ct.Key == v.Controller) && ct.Location != nil {
			if d := dsar.DateOf(now.In(ct.Location)); d.After(today) || v.Controller != "" {
				today = d
			}
		}
	}
	if v.To == "" {
		v.To = today.String()
	}
	if v.From == "" {
		first := dsar.NewDate(today.Year, today.Month, 1).AddMonths(-11)
		v.From = first.String()
	}
	from, err := dsar.ParseDate(v.From)
	if err != nil {
		return v, from, dsar.Date{}, dsar.Invalid(dsar.FieldError{Field: "from", Message: "field.date"})
	}
	to, err := dsar.ParseDate(v.To)
	if err != nil {
		return v, from, to, dsar.Invalid(dsar.FieldError{Field: "to", Message: "field.date"})
	}
	return v, from, to, nil
}

// dashboardFigures computes the figures of the filter for the actor.
func (s *Server) dashboardFigures(c echo.Context) (dashboardQuery, *dsar.Dashboard, error) {
	v, from, to, err := s.dashboardFilter(c)
	if err != nil {
		return v, nil, err
	}
	if s.cfg.Dashboard == nil {
		return v, nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	d, err := s.cfg.Dashboard.Dashboard(c.Request().Context(), actorOf(c), v.Controller, from, to)
	return v, d, err
}

// badFilter reports whether err is bad input of the filter form, with its
// message in lang.
func badFilter(err error, lang dsar.Language) (string, bool) {
	var de *dsar.Error
	if !errors.As(err, &de) || de.Code != dsar.EINVALID {
		return "", false
	}
	if len(de.Fields) > 0 {
		return de.Fields[0].Field + ": " + templates.T(lang, de.Fields[0].Message, de.Fields[0].Params), true
	}
	return templates.T(lang, de.Message, de.Params), true
}

// dashboardPage shows the figures of the officer's controllers over a
// period, with the charts drawn on the server. A bad filter comes back as
// the form with its message (400).
func (s *Server) dashboardPage(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	v, d, err := s.dashboardFigures(c)
	p := s.page(c, nil, "page.dashboard.title")
	data := templates.DashboardPage{Page: p, Controllers: u.Controllers, Controller: v.Controller,
		From: v.From, To: v.To, Figures: d}
	if len(data.Controllers) == 0 {
		for _, ct := range s.cfg.Controllers.All() {
			data.Controllers = append(data.Controllers, ct.Key)
		}
	}
	query := url.Values{"from": {v.From}, "to": {v.To}}
	if v.Controller != "" {
		query.Set("controller", v.Controller)
	}
	data.JSON = "/dashboard.json?" + query.Encode()
	if err != nil {
		msg, ok := badFilter(err, p.Lang)
		if !ok {
			return s.pageError(c, err)
		}
		data.Error, data.Figures = msg, nil
		return s.render(c, http.StatusBadRequest, "dashboard", data)
	}
	return s.render(c, http.StatusOK, "dashboard", data)
}

// dashboardJSON returns the same figures as JSON, for yearly reporting. A
// bad filter is a 400 problem document.
func (s *Server) dashboardJSON(c echo.Context) error {
	_, d, err := s.dashboardFigures(c)
	if err != nil {
		var de *dsar.Error
		if errors.As(err, &de) && de.Code == dsar.EINVALID {
			return malformed{de}
		}
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, d)
}
