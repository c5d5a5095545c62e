package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/dsar-project/dsar"
	sqlconn "github.com/dsar-project/dsar/workflows/connector/sql"
)

const connectorUsage = "usage: dsar connector dry-run --controller KEY --system KEY --action export|erase|rectify|restrict " +
	"[--email ADDRESS] [--customer-id ID] [--phone NUMBER] [--details 'column: value' ...]"

// connector runs the connector commands:
//
//	dsar connector dry-run --controller KEY --system KEY --action erase --email a@b.example
//
// A dry run carries out a task of a sql system in a transaction that is
// rolled back, and prints what would change: per table or statement the
// rows matched and how each column would be set, never the data itself.
func (m *Main) connector(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "dry-run" {
		return usageError{connectorUsage}
	}
	fs := flag.NewFlagSet("connector dry-run", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	ctrlKey := fs.String("controller", "", "the controller's key (required)")
	sysKey := fs.String("system", "", "the key of a system of kind sql (required)")
	action := fs.String("action", "", "export, erase, rectify or restrict (required)")
	var subj dsar.Subject
	fs.StringVar(&subj.Email, "email", "", "the subject's e-mail address")
	fs.StringVar(&subj.CustomerID, "customer-id", "", "the subject's customer ID")
	fs.StringVar(&subj.Phone, "phone", "", "the subject's phone number")
	var details stringList
	fs.Var(&details, "details", "a 'column: value' line of a rectification (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("connector dry-run: unexpected argument %q", fs.Arg(0))}
	}
	switch a := dsar.TaskAction(*action); {
	case *ctrlKey == "" || *sysKey == "" || *action == "":
		return usageError{connectorUsage}
	case a != dsar.ActionExport && a != dsar.ActionErase && a != dsar.ActionRectify && a != dsar.ActionRestrict:
		return usageError{fmt.Sprintf("connector dry-run: unknown --action %q (want export, erase, rectify or restrict)", *action)}
	}
	var ctrls *dsar.Controllers
	var err error
	if cfg.ControllersPath != "" {
		ctrls, err = dsar.LoadControllers(cfg.ControllersPath)
	} else {
		ctrls, err = dsar.DefaultControllers()
	}
	if err != nil {
		return fmt.Errorf("controllers configuration: %s", dsar.ErrorMessage(err))
	}
	c, ok := ctrls.Get(*ctrlKey)
	if !ok {
		return usageError{fmt.Sprintf("connector dry-run: no controller %q", *ctrlKey)}
	}
	s, ok := c.System(*sysKey)
	if !ok {
		return usageError{fmt.Sprintf("connector dry-run: controller %s has no system %q", c.Key, *sysKey)}
	}
	if s.Connector.Kind != dsar.ConnectorSQL {
		return usageError{fmt.Sprintf("connector dry-run: system %s is reached by a %s connector; a dry run needs kind sql", s.Key, s.Connector.Kind)}
	}
	// The hmac masks are computed with a throwaway key: the dry run rolls
	// them back and never shows them, so it needs no DSAR_SECRET_KEY.
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys, err := dsar.NewKeyring(secret)
	if err != nil {
		return err
	}
	conn := sqlconn.New(keys, log)
	defer conn.Close()
	o := &dsar.TaskOrder{
		Task:       &dsar.Task{ID: "dry-run", System: s.Key, Action: dsar.TaskAction(*action), Connector: dsar.ConnectorSQL},
		Request:    &dsar.Request{ID: "dry-run", Controller: c.Key, Subject: subj, Details: strings.Join(details, "\n")},
		Controller: c, Connector: &s.Connector, System: s,
	}
	rep, out := conn.DryRun(ctx, o)
	fmt.Fprintf(m.Stdout, "dry run of %s in system %s of %s: rolled back, nothing was changed\n", *action, s.Key, c.Key)
	switch out.Kind {
	case dsar.OutcomeRetry, dsar.OutcomeFailed:
		verb := "fail"
		if out.Kind == dsar.OutcomeRetry {
			verb = "be tried again"
		}
		return fmt.Errorf("the task would %s: %s", verb, out.Answer)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	for _, st := range rep.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%s", st.Target, st.Verb, rows(st.Rows))
		if len(st.Set) > 0 {
			fmt.Fprintf(tw, "\t%s", strings.Join(st.Set, ", "))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.Kind == dsar.OutcomeNoData {
		fmt.Fprintf(m.Stdout, "no rows: the task would end with no data (%s)\n", out.Answer)
		return nil
	}
	fmt.Fprintf(m.Stdout, "in all %s: the task would be done with count %d\n", rows(rep.Rows), out.Count)
	return nil
}

func rows(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}
