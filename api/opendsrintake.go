package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// The OpenDSR 2.0 intake (docs/opendsr.md): the service answers OpenDSR
// clients as a processor does, below OpenDSRPrefix (the major version
// leads the path, section 3.4).
const (
	OpenDSRPrefix = "/opendsr/v2"
	// openDSRCertificatePath is where the certificate that signs the
	// answers and callbacks is served (discovery's processor_certificate).
	openDSRCertificatePath = OpenDSRPrefix + "/cert.pem"
)

// registerOpenDSR adds the OpenDSR intake's routes: discovery and the
// certificate for everyone, the requests for API keys (POST with
// requests:create, GET with requests:read, DELETE with requests:create:
// the client that submits requests may withdraw them). Every error below
// the prefix is an OpenDSR error body (openDSRErrors), and no call takes an
// Idempotency-Key: the subject_request_id makes a request once.
func (s *Server) registerOpenDSR(e *echo.Echo) {
	public := routes{e: e, prefix: OpenDSRPrefix, mw: []echo.MiddlewareFunc{s.openDSRErrors, s.rateLimit}}
	public.GET("/discovery", s.openDSRDiscovery)
	public.GET("/cert.pem", s.openDSRCertificate)
	keyed := routes{e: e, prefix: OpenDSRPrefix, mw: []echo.MiddlewareFunc{s.openDSRErrors, s.authenticate, s.rateLimit, s.requireKey}}
	keyed.POST("/requests", s.openDSRSubmit, scope(dsar.ScopeRequestsCreate))
	keyed.GET("/requests/:id", s.openDSRStatus, scope(dsar.ScopeRequestsRead))
	keyed.DELETE("/requests/:id", s.openDSRCancel, scope(dsar.ScopeRequestsCreate))
}

// openDSRErrors answers every error of an OpenDSR route with an OpenDSR
// error body (sections 7.5 and 7.6) in the caller's language: a request
// that is malformed, invalid or not possible now is 400, as the
// specification wants every error of a well-meant call to be; the others
// keep their statuses (401, 403, 404, 413, 429, 503), as the rest of the
// API answers them.
func (s *Server) openDSRErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		var (
			de *dsar.Error
			mf malformed
		)
		status := http.StatusInternalServerError
		switch {
		case errors.As(err, &mf):
			status, de = http.StatusBadRequest, mf.err
		case errors.As(err, &de):
			if st, ok := statusOf[de.Code]; ok {
				status = st
			}
			switch de.Code {
			case dsar.EINVALID, dsar.EUNPROCESSABLE, dsar.ECONFLICT:
				status = http.StatusBadRequest
			}
		}
		if de == nil || status == http.StatusInternalServerError {
			return err // the problem document of a failure, logged
		}
		lang := languageOf(c)
		var body dsar.OpenDSRErrorResponse
		body.Error.Code = status
		body.Error.Message = templates.T(lang, de.Message, de.Params)
		if de.Code == dsar.EUNAVAILABLE || de.Code == dsar.ESTALE {
			body.Error.Message = templates.T(lang, "error.unavailable", nil)
		}
		for i, f := range de.Fields {
			msg := templates.T(lang, f.Message, f.Params)
			if i == 0 {
				body.Error.Message = f.Field + ": " + msg
			}
			body.Error.Errors = append(body.Error.Errors, dsar.OpenDSRErrorDetail{Domain: "Validation", Reason: f.Field, Message: msg})
		}
		h := c.Response().Header()
		unavailable(c, de.Code)
		switch status {
		case http.StatusTooManyRequests:
			if secs, ok := de.Params["seconds"]; ok {
				h.Set("Retry-After", fmt.Sprint(secs))
			}
		case http.StatusUnauthorized:
			h.Set("WWW-Authenticate", `Bearer realm="dsar"`)
		}
		h.Set("Content-Language", string(lang))
		h.Set("Cache-Control", "no-store")
		return c.JSON(status, body)
	}
}

// openDSRSigned answers with v as JSON, signed with the certificate's key
// for the processor's domain (X-OpenDSR-Signature over the exact body,
// X-OpenDSR-Processor-Domain; sections 7.3, 8.3, 9.2).
func (s *Server) openDSRSigned(c echo.Context, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sig, err := s.cfg.OpenDSRSigner.Sign(body)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(dsar.HeaderOpenDSRDomain, s.cfg.OpenDSRSigner.Domain)
	h.Set(dsar.HeaderOpenDSRSignature, sig)
	h.Set("Cache-Control", "no-store")
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}

// openDSRDiscovery answers the discovery document (section 6).
func (s *Server) openDSRDiscovery(c echo.Context) error {
	return s.openDSRSigned(c, http.StatusOK, dsar.NewOpenDSRDiscovery(s.cfg.BaseURL+openDSRCertificatePath))
}

// openDSRCertificate serves the certificate that signs the answers and
// callbacks, in PEM.
func (s *Server) openDSRCertificate(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "application/x-pem-file", s.cfg.OpenDSRSigner.CertificatePEM())
}

// openDSRSubmit takes an OpenDSR request (section 7): a new case, or the
// case the same subject_request_id made before, answered the same way.
// Fields the specification does not name, and the extensions of other
// processors, are ignored.
func (s *Server) openDSRSubmit(c echo.Context) error {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != echo.MIMEApplicationJSON {
			return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
		}
	}
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(s.cfg.BodyLimit)
	}
	if err != nil {
		return err
	}
	var in dsar.OpenDSRRequest
	if err := json.Unmarshal(body, &in); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return malformed{dsar.Invalid(dsar.FieldError{Field: ute.Field, Message: "field.type", Params: map[string]any{"type": ute.Type.String()}})}
		}
		return malformed{&dsar.Error{Code: dsar.EINVALID, Message: "error.malformed_json"}}
	}
	intake, req, _, err := s.cfg.OpenDSR.Submit(r.Context(), actorOf(c), &in, s.cfg.OpenDSRSigner.Domain)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, OpenDSRPrefix+"/requests/"+intake.ID)
	return s.openDSRSigned(c, http.StatusCreated, intake.ResponseOf(req, body))
}

// openDSRStatus answers how a request stands (section 8.3).
func (s *Server) openDSRStatus(c echo.Context) error {
	intake, req, err := s.cfg.OpenDSR.Get(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.openDSRSigned(c, http.StatusOK, intake.StatusOf(req))
}

// openDSRCancel cancels a request (section 9): its case is withdrawn while
// it is open.
func (s *Server) openDSRCancel(c echo.Context) error {
	intake, req, err := s.cfg.OpenDSR.Cancel(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.openDSRSigned(c, http.StatusAccepted, dsar.OpenDSRCancellation{ControllerID: req.Controller, SubjectRequestID: intake.ID,
		ReceivedTime: s.cfg.Clock.Now().UTC().Format(time.RFC3339), APIVersion: dsar.OpenDSRAPIVersion})
}
