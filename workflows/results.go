package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/export"
)

// The queue tasks of the files of access and portability cases.
const (
	// TypeAssemble assembles a case's files from what its export tasks
	// collected.
	TypeAssemble = "results:assemble"
	// TypeResultsExpiry deletes a case's files at the end of its download
	// window.
	TypeResultsExpiry = "results:expiry"
)

// writers are how each file of a case is written from its data.
var writers = map[string]func(ctx context.Context, w io.Writer, c export.Case) error{
	dsar.ResultReportHTML: export.WriteReportHTML,
	dsar.ResultReportJSON: export.WriteReportJSON,
	dsar.ResultPackage: func(ctx context.Context, w io.Writer, c export.Case) error {
		_, err := export.WritePackage(ctx, w, c)
		return err
	},
}

// assemble writes the files a case gives its subject (dsar.ResultNames)
// from the data its export tasks collected, leaving out the records
// officers redacted, each streamed into the case files under this
// assembly's own keys, and records them with their sizes and SHA-256. An
// assembly the case no longer wants (it moved on, or was redacted again
// meanwhile) deletes what it wrote.
func (h *Handlers) assemble(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	if h.Results == nil || h.Blobs == nil {
		return outcome{}, errors.New("this worker has no case files to assemble into")
	}
	c, reds, err := h.Results.Assembly(ctx, it.RequestID)
	if err != nil {
		if dsar.ErrorCode(err) == dsar.ENOTFOUND {
			return outcome{}, fmt.Errorf("assemble %s: %v: %w", it.RequestID, err, asynq.SkipRetry)
		}
		return outcome{}, err
	}
	ec := export.Case{Blobs: h.Blobs, Controller: c.Controller, Request: c.Request, Tasks: c.Tasks, Now: h.Clock.Now(),
		Redacted: map[string][]int{}}
	for _, r := range reds {
		ec.Redacted[r.TaskID] = append(ec.Redacted[r.TaskID], r.Line) // in the order of task and line
	}
	var files []dsar.ResultFile
	for _, name := range dsar.ResultNames(c.Request.Type) {
		key := dsar.ResultBlobKey(c.Request.ID, it.ID, name)
		n, sum, err := h.put(ctx, key, func(w io.Writer) error { return writers[name](ctx, w, ec) })
		if err != nil {
			return outcome{}, fmt.Errorf("assemble %s of %s: %w", name, it.RequestID, err)
		}
		files = append(files, dsar.ResultFile{Name: name, Key: key, Bytes: n, SHA256: sum})
	}
	if err := h.Results.Assembled(ctx, it, files, len(reds)); dsar.ErrorCode(err) == dsar.ECONFLICT {
		// Not wanted any more (the item is completed): nothing of it stays.
		return outcome{completed: true}, h.Blobs.Delete(ctx, dsar.ResultsBlobPrefix(c.Request.ID)+it.ID+"/")
	} else if err != nil {
		return outcome{}, err
	}
	return outcome{completed: true}, nil
}

// put streams what write writes into the case files under key, and
// returns its size and SHA-256 (hex). A write that fails stores nothing.
func (h *Handlers) put(ctx context.Context, key string, write func(io.Writer) error) (int64, string, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := write(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	sum := sha256.New()
	n, err := h.Blobs.Put(ctx, key, io.TeeReader(pr, sum))
	pr.CloseWithError(errors.New("the store stopped reading")) // frees a writer the store left
	if werr := <-done; err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(sum.Sum(nil)), nil
}

// expireResults deletes a case's files and the data its systems returned
// at the end of the download window, and records it.
func (h *Handlers) expireResults(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	if h.Results == nil || h.Blobs == nil {
		return outcome{}, errors.New("this worker has no case files")
	}
	return outcome{completed: true}, h.Results.Expired(ctx, it, func(ctx context.Context) error {
		var err error
		for _, prefix := range dsar.ExpiredBlobPrefixes(it.RequestID) {
			err = errors.Join(err, h.Blobs.Delete(ctx, prefix))
		}
		return err
	})
}
