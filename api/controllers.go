package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// controllerJSON is what the public may know of a controller: enough to
// choose it on a form and to know whom to complain to.
type controllerJSON struct {
	Key                  string            `json:"key"`
	LegalName            string            `json:"legal_name"`
	Jurisdiction         string            `json:"jurisdiction"`
	TimeZone             string            `json:"time_zone"`
	Languages            []string          `json:"languages"`
	DefaultRegulation    string            `json:"default_regulation"`
	Regulations          []string          `json:"regulations"`
	Identifiers          []string          `json:"identifiers"`
	PrivacyContact       map[string]string `json:"privacy_contact"`
	SupervisoryAuthority map[string]string `json:"supervisory_authority"`
	// PortabilityRecipients are the organisations a portable package can
	// be sent to directly: what a request's transmit_to may name.
	PortabilityRecipients []portabilityRecipientJSON `json:"portability_recipients"`
}

// portabilityRecipientJSON is a portability recipient as the public sees
// it: its key and name, never its endpoint.
type portabilityRecipientJSON struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

func (s *Server) listControllers(c echo.Context) error {
	all := s.cfg.Controllers.All()
	out := struct {
		Data []controllerJSON `json:"data"`
	}{Data: make([]controllerJSON, 0, len(all))}
	for _, ct := range all {
		j := controllerJSON{
			Key: ct.Key, LegalName: ct.LegalName, Jurisdiction: string(ct.Jurisdiction), TimeZone: ct.TimeZone,
			DefaultRegulation: string(ct.DefaultRegulation), Identifiers: append([]string{}, ct.Identifiers...),
			PrivacyContact: nonEmpty(map[string]string{"name": ct.PrivacyContact.Name, "email": ct.PrivacyContact.Email,
				"phone": ct.PrivacyContact.Phone, "address": ct.PrivacyContact.Address}),
			SupervisoryAuthority: nonEmpty(map[string]string{"name": ct.SupervisoryAuthority.Name, "address": ct.SupervisoryAuthority.Address,
				"website": ct.SupervisoryAuthority.Website, "email": ct.SupervisoryAuthority.Email}),
			PortabilityRecipients: []portabilityRecipientJSON{},
		}
		for _, p := range ct.PortabilityRecipients {
			j.PortabilityRecipients = append(j.PortabilityRecipients, portabilityRecipientJSON{Key: p.Key, Name: p.Name})
		}
		for _, l := range ct.Languages {
			j.Languages = append(j.Languages, string(l))
		}
		for _, r := range ct.Regulations {
			j.Regulations = append(j.Regulations, string(r))
		}
		out.Data = append(out.Data, j)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, out)
}

func nonEmpty(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}
