package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/dsar-project/dsar/store"
)

// seed fills the database with generated cases for load tests and demos:
//
//	dsar seed --cases 1000000 [--seed 1] [--force]
//
// The schema must be current (dsar migrate); the embedded database is
// migrated first.
func (m *Main) seed(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	cases := fs.Int("cases", 0, "how many cases to write (required)")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same cases on the same day")
	force := fs.Bool("force", false, "seed even though the database holds cases already")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("seed: unexpected argument %q", fs.Arg(0))}
	}
	if *cases <= 0 {
		return usageError{"usage: dsar seed --cases N [--seed S] [--force]"}
	}
	a, err := Open(ctx, cfg, log, m.Clock, openOptions{autoMigrate: true})
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	err = a.db.Seed(ctx, store.SeedOptions{Cases: *cases, Seed: *seed, Force: *force, Progress: func(done int) {
		log.Info("seeding", "cases", done, "of", *cases, "elapsed", time.Since(start).Round(time.Millisecond))
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "seeded %d cases (seed %d) in %s\n", *cases, *seed, time.Since(start).Round(time.Millisecond))
	return nil
}
