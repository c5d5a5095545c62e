package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// audit runs `dsar audit verify`: it walks the audit chain and reports
// whether every event is intact. A problem is an error (exit code 1).
func (m *Main) audit(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	if len(args) != 1 || args[0] != "verify" {
		return usageError{"usage: dsar audit verify"}
	}
	a, err := Open(ctx, cfg, log, m.Clock, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if rep.PreChain > 0 {
		fmt.Fprintf(m.Stdout, "%d events written before the chain began (schema version 5) carry no hash and are not covered\n", rep.PreChain)
	}
	if rep.Checkpoint == nil {
		fmt.Fprintln(m.Stdout, "no checkpoint of the cases yet (a worker records one every hour): a case deleted whole would not be found")
	} else {
		fmt.Fprintf(m.Stdout, "cases checked against the checkpoint of %s\n", rep.Checkpoint.UTC().Format(time.RFC3339))
	}
	if rep.Intact() {
		fmt.Fprintf(m.Stdout, "audit trail intact: %d events\n", rep.Events)
		return nil
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(m.Stdout, "%s: %s\n", p.Kind, p.Message)
	}
	if more := rep.ProblemCount - len(rep.Problems); more > 0 {
		fmt.Fprintf(m.Stdout, "… and %d more problems\n", more)
	}
	return fmt.Errorf("audit trail damaged: %d problems in %d events", rep.ProblemCount, rep.Events)
}
