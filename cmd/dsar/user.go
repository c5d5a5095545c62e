package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// user runs `dsar user create`: an officer's account. The password is read
// from --password-file, or generated and printed once as the last line.
func (m *Main) user(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: dsar user create --email EMAIL --role admin|officer|auditor [--controller KEY]... [--password-file FILE]"}
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	email := fs.String("email", "", "the officer's e-mail address, used to sign in (required)")
	role := fs.String("role", "", "admin, officer or auditor (required)")
	pwFile := fs.String("password-file", "", "a file holding the password; without it one is generated and printed")
	var ctrls stringList
	fs.Var(&ctrls, "controller", "controller key the user works for (repeatable; required unless admin)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	password, generated := "", false
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return usageError{"--password-file: " + err.Error()}
		}
		password = strings.TrimRight(string(b), "\r\n")
	} else {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		password, generated = base64.RawURLEncoding.EncodeToString(b), true
	}
	a, err := Open(ctx, cfg, log, m.Clock, openOptions{autoMigrate: true})
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := store.NewUsers(a.db).Create(ctx, *email, password, dsar.Role(*role), ctrls)
	if err != nil {
		return fieldErrors(err)
	}
	if err := a.db.RecordAdmin(ctx, cliActor(), store.AdminUserCreated, u.ID,
		map[string]string{"email": u.Email, "role": string(u.Role), "controllers": strings.Join(u.Controllers, ",")}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "created user %s (%s, role %s, controllers %s)\n", u.ID, u.Email, u.Role, orAll(u.Controllers))
	if generated {
		fmt.Fprintln(m.Stdout, "the password is shown only now; sign in at /signin and change it:")
		fmt.Fprintln(m.Stdout, password)
	}
	return nil
}
