package main

import (
	"fmt"
	"path/filepath"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
)

// openBlobs returns where the data the export tasks collect is kept: for
// now the plain directory DSAR_DATA_DIR/blobs, shared by the processes of
// one machine. store/blob (an encrypted directory, S3-compatible storage)
// replaces this one call.
func openBlobs(cfg *Config) (dsar.Blobs, error) {
	b, err := connectortest.NewDirBlobs(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return nil, fmt.Errorf("create the blob directory in DSAR_DATA_DIR: %w", err)
	}
	return b, nil
}
