package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// resultTypes are the media types of the files a subject downloads.
var resultTypes = map[string]string{
	dsar.ResultReportHTML: "text/html; charset=utf-8",
	dsar.ResultReportJSON: "application/json",
	dsar.ResultPackage:    "application/zip",
}

// minDownloadRate is the slowest connection a download is given time for:
// the server's write timeout is stretched by the file's size at this rate.
const minDownloadRate = 32 << 10 // bytes a second

// policy returns the subject-facing limits (how long a verification or
// download code is valid, the download window).
func (s *Server) policy() dsar.Policy { return s.cfg.Policy.OrDefault() }

// downloadSection returns the status page's part about the files of the
// case: nil when the case gives none (not an access or portability case,
// not completed, or the service keeps no files); the files, the limits and
// the forms while the download is open; why not when it is over.
func (s *Server) downloadSection(req *dsar.Request, token string, lang dsar.Language) *templates.DownloadSection {
	if s.cfg.Blobs == nil {
		return nil
	}
	p := s.policy()
	err := dsar.DownloadOpen(req, p, s.cfg.Clock.Now())
	var de *dsar.Error
	switch {
	case err == nil:
	case errors.As(err, &de) && de.Code == dsar.EGONE:
		return &templates.DownloadSection{Gone: templates.T(lang, de.Message, de.Params),
			NewRequest: "/c/" + url.PathEscape(req.Controller) + "?type=" + url.QueryEscape(string(req.Type))}
	default:
		return nil
	}
	d := &templates.DownloadSection{Until: req.DownloadUntil.In(req.ReceivedAt.Location()), Left: p.MaxDownloads - req.Downloads,
		CodeMinutes: int(p.DownloadCodeTTL.Minutes()),
		CodeAction:  dsar.StatusPath(token) + "/download/code", DownloadAction: dsar.StatusPath(token) + "/download"}
	for _, f := range req.Results {
		d.Files = append(d.Files, templates.DownloadFile{Name: f.Name, Bytes: f.Bytes})
	}
	return d
}

// downloadCodeForm mails the subject a code that opens the files, and
// leads back to the status page, which says where it went.
func (s *Server) downloadCodeForm(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	token := c.Param("token")
	if s.cfg.Blobs == nil {
		return s.showStatus(c, http.StatusNotFound, "error.download.none", nil)
	}
	if err := s.cfg.Subjects.AskDownloadCode(c.Request().Context(), token); err != nil {
		return s.downloadRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, dsar.StatusPath(token)+"?notice=download_code")
}

// downloadForm answers the code and the chosen file with the file itself,
// streamed from the case files as an attachment. The download is counted
// and audited before a byte is sent.
func (s *Server) downloadForm(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	ctx, token := c.Request().Context(), c.Param("token")
	if s.cfg.Blobs == nil {
		return s.showStatus(c, http.StatusNotFound, "error.download.none", nil)
	}
	f, err := s.cfg.Subjects.Download(ctx, token, c.FormValue("code"), c.FormValue("file"), c.RealIP())
	if err != nil {
		return s.downloadRefused(c, err)
	}
	req, err := s.cfg.Subjects.ByStatusToken(ctx, token)
	if err != nil {
		return s.pageError(c, err)
	}
	body, err := s.cfg.Blobs.Open(ctx, f.Key)
	if err != nil {
		return s.pageError(c, err)
	}
	defer body.Close()
	ctype, ok := resultTypes[f.Name]
	if !ok {
		ctype = "application/octet-stream"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, ctype)
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": req.Reference + "-" + f.Name}))
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	// Should a browser open the report anyway, it runs nothing and reaches
	// nothing of the service's origin.
	h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	// A large package over a slow line takes longer than the server's
	// write timeout allows a page.
	wait := time.Minute + time.Duration(f.Bytes/minDownloadRate)*time.Second
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(wait)) // not every writer can; then the server's timeout holds
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), body); err != nil {
		// The headers are out: the broken body is all the browser can be told.
		s.cfg.Log.Warn("download broke off", "err", err)
	}
	return nil
}

// downloadRefused shows the status page with why the code or the file was
// refused, in the status that says it (a wrong code 422 with the field
// marked, a locked or stale code 409, too soon 429, a window that ended or
// downloads used up 410, nothing to download 404); a status link that is
// not valid gets its own page, as on the status page.
func (s *Server) downloadRefused(c echo.Context, err error) error {
	var de *dsar.Error
	if !errors.As(err, &de) {
		return s.pageError(c, err)
	}
	status, ok := statusOf[de.Code]
	switch {
	case !ok || status >= 500:
		return s.pageError(c, err)
	case de.Code == dsar.EINVALID && len(de.Fields) > 0:
		fe := de.Fields[0]
		return s.showStatusField(c, status, fe.Message, fe.Params, fe.Field)
	}
	// A link that is not valid fails the page itself.
	return s.showStatus(c, status, de.Message, de.Params)
}
