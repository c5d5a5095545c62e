package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
)

// keys runs `dsar keys rotate [--dry-run]`: re-encrypt under
// DSAR_ENCRYPTION_KEY every case file still under a key of
// DSAR_ENCRYPTION_OLD_KEYS. It prints counts and key ids, never a key or
// what a file holds.
func (m *Main) keys(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return usageError{"usage: dsar keys rotate [--dry-run]"}
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	dryRun := fs.Bool("dry-run", false, "only count the files to re-encrypt")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"usage: dsar keys rotate [--dry-run]"}
	}
	blobs, err := openBlobs(ctx, cfg, log, cfg.DatabaseURL == "")
	if err != nil {
		return err
	}
	res, err := blobs.Rotate(ctx, *dryRun, log)
	if err != nil {
		return err
	}
	done := "re-encrypted"
	if *dryRun {
		done = "to re-encrypt (dry run: nothing changed)"
	}
	fmt.Fprintf(m.Stdout, "%d files: %d under the current key %s, %d %s, %d failed\n",
		res.Files, res.Current, blobs.CurrentKeyID(), res.Rotated, done, res.Failed)
	if res.Failed > 0 {
		return fmt.Errorf("%d files could not be read with the configured keys (the log names them); they were left as they are", res.Failed)
	}
	return nil
}
