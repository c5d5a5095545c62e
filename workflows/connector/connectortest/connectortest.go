// Package connectortest helps the tests of collection read what an export
// task stored.
package connectortest

import (
	"context"
	"encoding/json"
	"io"

	"github.com/dsar-project/dsar"
)

// ReadExport returns the records an export task stored, in order, or an
// error when a line is not an ExportRecord.
func ReadExport(ctx context.Context, blobs dsar.Blobs, caseID, taskID string) ([]dsar.ExportRecord, error) {
	rc, err := blobs.Open(ctx, dsar.ExportBlobKey(caseID, taskID))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []dsar.ExportRecord
	dec := json.NewDecoder(rc)
	for {
		var r dsar.ExportRecord
		if err := dec.Decode(&r); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}
