package connector

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/dsar-project/dsar"
)

// ErrNoBlobs is the failure of an export on a worker that was given no
// storage for the data it collects.
var ErrNoBlobs = errors.New("this worker has no storage for collected exports")

// Export streams the records of one export task into its blob
// (dsar.ExportBlobKey) as JSON Lines of dsar.ExportRecord, while they are
// read: nothing is held whole in memory. The blob is written by Commit and
// only then; Abort, or a failed Commit, leaves what was under the key
// before (Blobs.Put is atomic), so a task that fails or stops half-way
// simply runs again.
type Export struct {
	pw    *io.PipeWriter
	buf   *bufio.Writer
	done  chan struct{}
	put   error
	lines int
}

// StartExport starts the blob of the order's export task. Every
// StartExport must end in Commit or Abort.
func StartExport(ctx context.Context, blobs dsar.Blobs, caseID, taskID string) (*Export, error) {
	if blobs == nil {
		return nil, ErrNoBlobs
	}
	pr, pw := io.Pipe()
	e := &Export{pw: pw, buf: bufio.NewWriterSize(pw, 64<<10), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_, e.put = blobs.Put(ctx, dsar.ExportBlobKey(caseID, taskID), pr)
		pr.CloseWithError(e.put) // unblocks a writer when Put gave up early
	}()
	return e, nil
}

// Write adds one record: category is a data-category key of the system
// ("" when it did not say), record one JSON value, written compacted on one
// line.
func (e *Export) Write(category string, record json.RawMessage) error {
	line, err := json.Marshal(dsar.ExportRecord{Category: category, Record: record})
	if err != nil {
		return err
	}
	if _, err := e.buf.Write(append(line, '\n')); err != nil {
		return err
	}
	e.lines++
	return nil
}

// Lines returns the records written so far.
func (e *Export) Lines() int { return e.lines }

// Commit ends the records and stores the blob; it returns the records
// stored, or why nothing was stored.
func (e *Export) Commit() (int, error) {
	err := e.buf.Flush()
	if err != nil {
		e.pw.CloseWithError(err)
	} else {
		e.pw.Close()
	}
	<-e.done
	if e.put != nil {
		return 0, e.put
	}
	return e.lines, err
}

// Abort ends the export without storing anything: what was under the key
// before stays.
func (e *Export) Abort(why error) {
	if why == nil {
		why = errors.New("export aborted")
	}
	e.pw.CloseWithError(why)
	<-e.done
}
