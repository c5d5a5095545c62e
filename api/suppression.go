package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// suppressionCheckJSON is the body of POST /api/v1/suppression/check.
type suppressionCheckJSON struct {
	Controller string   `json:"controller"`
	Emails     []string `json:"emails"`
}

// suppressionResultJSON is one address's answer.
type suppressionResultJSON struct {
	Email      string `json:"email"`
	Suppressed bool   `json:"suppressed"`
}

// checkSuppression answers whether addresses are on a controller's
// suppression list, in the order asked (dsar.CheckSuppression).
func (s *Server) checkSuppression(c echo.Context) error {
	var in suppressionCheckJSON
	if err := decodeJSON(c, s.cfg.BodyLimit, &in); err != nil {
		return err
	}
	on, err := dsar.CheckSuppression(c.Request().Context(), s.cfg.Suppression, s.cfg.Controllers, actorOf(c), in.Controller, in.Emails)
	if err != nil {
		return err
	}
	out := struct {
		Results []suppressionResultJSON `json:"results"`
	}{Results: make([]suppressionResultJSON, len(on))}
	for i, e := range in.Emails {
		out.Results[i] = suppressionResultJSON{Email: e, Suppressed: on[i]}
	}
	return c.JSON(http.StatusOK, out)
}
