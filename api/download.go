package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

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
	return s.sendResult(c, req.Reference, *f)
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

// transmissionView returns the direct transmission of the case's package
// the subject asked for, as the pages show it; nil when none.
func transmissionView(req *dsar.Request, ctrl *dsar.Controller) *templates.TransmissionView {
	t := req.Transmit
	if t.To == "" {
		return nil
	}
	v := &templates.TransmissionView{Organisation: t.Organisation, Other: t.To == dsar.TransmitOther, State: t.State,
		Receipt: t.Receipt, SHA256: t.SHA256, Attempts: t.Attempts, Status: t.Status, Reason: t.Reason}
	if ctrl != nil {
		v.Organisation = req.TransmitName(ctrl)
	}
	if t.At != nil {
		v.At = t.At.In(req.ReceivedAt.Location())
	}
	return v
}
