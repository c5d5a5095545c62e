package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
)

// retention runs `dsar retention`: it removes the personal data of the
// closed cases whose records retention has run out, as the worker's daily
// run does, or with --dry-run lists what it would remove (the case, its
// controller, closing date, due date and the kinds of data, never the data)
// and removes nothing.
func (m *Main) retention(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("dsar retention", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dry := fs.Bool("dry-run", false, "list what would be removed, removing nothing")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageError{"usage: dsar retention [--dry-run]"}
	}
	a, err := Open(ctx, cfg, log, m.Clock, openOptions{needMail: true})
	if err != nil {
		return err
	}
	defer a.Close()
	rt := a.retention()
	if !*dry {
		n, _, err := rt.Run(ctx, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "personal data removed from %d cases\n", n)
		return nil
	}
	plan, err := rt.Plan(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tCONTROLLER\tCLOSED\tDUE\tREMOVES")
	for _, rm := range plan {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rm.Reference, rm.Controller, rm.Closed, rm.Due, rm.KindNames())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d cases due; nothing was removed (dry run)\n", len(plan))
	return nil
}
