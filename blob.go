package dsar

import (
	"context"
	"encoding/json"
	"io"
)

// Blobs keeps the files of cases (the data collected from the systems, the
// packages handed to the subject) by key. Adapters: a directory on the
// embedded default, S3-compatible object storage in production, both
// encrypting at rest. Keys are made by the functions below, never from
// input.
type Blobs interface {
	// Put stores what r yields under key, replacing what was there, and
	// returns the number of bytes read from r. What r yields is streamed,
	// never held whole in memory. A Put that fails leaves no partial
	// file under key.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open reads what is under key; an ENOTFOUND error when there is
	// nothing. A tampered file fails the read with an error, never
	// yields altered bytes without one.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes every key that starts with prefix (one key when
	// prefix is a whole key); nothing there is not an error.
	Delete(ctx context.Context, prefix string) error
	// List calls fn with every key that starts with prefix, in lexical
	// order; it stops at fn's first error and returns it.
	List(ctx context.Context, prefix string, fn func(key string) error) error
}

// CaseBlobPrefix is the prefix of every file of a case: removing it
// removes all the case's files.
func CaseBlobPrefix(caseID string) string { return "cases/" + caseID + "/" }

// ExportBlobKey is where the data one export task collected is kept: JSON
// Lines of ExportRecord.
func ExportBlobKey(caseID, taskID string) string {
	return ExportsBlobPrefix(caseID) + taskID + ".jsonl"
}

// ExportRecord is one line of a collected export: one record of a data
// category of the system (a category key of the data map, or "" when the
// system did not say) as the system gave it.
type ExportRecord struct {
	Category string          `json:"category"`
	Record   json.RawMessage `json:"record"`
}
