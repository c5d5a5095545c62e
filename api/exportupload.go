package api

import (
	"context"
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// taskDoneRoute is the API's route that marks a task done, and
// caseActionRoute the case page's form actions: both take an export's
// data as a multipart file.
const (
	taskDoneRoute   = "/api/v1/requests/:id/tasks/:task/done"
	caseActionRoute = "/cases/:id/:action"
)

// isMultipart reports whether a request's body is multipart/form-data.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	return err == nil && mt == "multipart/form-data"
}

// completeWithFile marks a person's task done. With a file (the form's
// "file": JSON, JSON Lines or CSV, at most dsar.MaxExportUpload), the task
// must be an export's: the file's records are stored as its data
// (connector.Convert) and the task is done with their number; a file that
// cannot be used changes nothing. Without one, it is CompleteTask (which
// refuses an export done without its data).
func (s *Server) completeWithFile(c echo.Context, actor dsar.Actor, id, taskID, evidence string, count int, noData bool) (*dsar.Request, error) {
	ctx := c.Request().Context()
	fh, err := c.FormFile("file")
	if err != nil || fh.Size == 0 || noData {
		if err == nil && fh.Size > 0 { // data with "no data"
			return nil, dsar.Invalid(dsar.FieldError{Field: "file", Message: "field.export_file.no_data"})
		}
		return s.cfg.Cases.CompleteTask(ctx, actor, id, taskID, evidence, count, noData)
	}
	if fh.Size > dsar.MaxExportUpload {
		return nil, fileError("field.export_file.too_large", map[string]any{"max": dsar.MaxExportUpload >> 20})
	}
	format := connector.FormatOf(fh.Header.Get(echo.HeaderContentType), fh.Filename)
	if format == "" {
		return nil, fileError("field.export_file.format", nil)
	}
	if s.cfg.Blobs == nil {
		s.cfg.Log.Warn("an export's data was uploaded to a server without storage for it", "task", taskID)
		return nil, &dsar.Error{Code: dsar.EUNAVAILABLE, Message: "error.unavailable"}
	}
	return s.cfg.Cases.CompleteExport(ctx, actor, id, taskID, evidence, func(ctx context.Context, t *dsar.Task) (int, error) {
		f, err := fh.Open()
		if err != nil {
			return 0, err
		}
		defer f.Close()
		ex, err := connector.StartExport(ctx, s.cfg.Blobs, t.RequestID, t.ID)
		if err != nil {
			return 0, err
		}
		category := ""
		if len(t.Categories) == 1 {
			category = t.Categories[0]
		}
		if err := connector.Convert(ex, format, category, &connector.CapReader{R: f, Left: dsar.MaxExportUpload}); err != nil {
			ex.Abort(err)
			if errors.Is(err, connector.ErrTooLarge) {
				return 0, fileError("field.export_file.too_large", map[string]any{"max": dsar.MaxExportUpload >> 20})
			}
			return 0, fileError("field.export_file.invalid", map[string]any{"reason": err.Error()})
		}
		if ex.Lines() == 0 {
			ex.Abort(nil)
			return 0, fileError("field.export_file.empty", nil)
		}
		return ex.Commit()
	})
}

// fileError is an upload's problem with the file field.
func fileError(message string, params map[string]any) error {
	return dsar.Invalid(dsar.FieldError{Field: "file", Message: message, Params: params})
}
