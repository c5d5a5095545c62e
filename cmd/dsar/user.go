package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// userUsage lists the user commands.
const userUsage = `usage:
  dsar user create --email EMAIL [--name NAME] --role admin|officer|auditor [--controller KEY]... [--password-file FILE]
  dsar user list
  dsar user update --email EMAIL --role admin|officer|auditor [--controller KEY]...
  dsar user disable --email EMAIL
  dsar user enable --email EMAIL
  dsar user reset-password --email EMAIL [--password-file FILE]`

// user runs `dsar user …`: the officers' accounts. A new or reset password
// is read from --password-file, or generated and printed once as the last
// line. Every change is recorded in the administrators' audit trail and ends
// the user's sessions.
func (m *Main) user(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	if len(args) == 0 {
		return usageError{userUsage}
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	email := fs.String("email", "", "the user's e-mail address, used to sign in (required)")
	var (
		role   *string
		pwFile *string
		name   *string
		ctrls  stringList
	)
	switch args[0] {
	case "create", "update":
		role = fs.String("role", "", "admin, officer or auditor (required)")
		fs.Var(&ctrls, "controller", "controller key the user works for (repeatable; required unless admin)")
	case "list", "disable", "enable", "reset-password":
	default:
		return usageError{fmt.Sprintf("unknown user command %q\n%s", args[0], userUsage)}
	}
	if args[0] == "create" {
		name = fs.String("name", "", "the user's name, as colleagues know them")
	}
	if args[0] == "create" || args[0] == "reset-password" {
		pwFile = fs.String("password-file", "", "a file holding the password; without it one is generated and printed")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 || (args[0] != "list" && *email == "") {
		return usageError{userUsage}
	}
	if name != nil {
		// Checked before the account is made, so that a bad name makes none.
		if err := dsar.ValidateUserName(*name); err != nil {
			return fieldErrors(err)
		}
	}
	password, generated := "", false
	if pwFile != nil {
		var err error
		if password, generated, err = readOrGeneratePassword(*pwFile); err != nil {
			return err
		}
	}
	a, err := Open(ctx, cfg, log, m.Clock, openOptions{autoMigrate: args[0] == "create"})
	if err != nil {
		return err
	}
	defer a.Close()
	admin := store.NewAdmin(a.db, store.NewAPIKeys(a.db))
	var u *dsar.User
	switch args[0] {
	case "create":
		if u, err = admin.CreateUser(ctx, cliActor(), *email, password, dsar.Role(*role), ctrls); err != nil {
			return fieldErrors(err)
		}
		if *name != "" {
			if u, err = store.NewUsers(a.db).SetName(ctx, u.Email, *name); err != nil {
				return fieldErrors(err)
			}
		}
		fmt.Fprintf(m.Stdout, "created user %s (%s, role %s, controllers %s)\n", u.ID, userLabel(u), u.Role, orAll(u.Controllers))
	case "list":
		list, err := admin.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tE-MAIL\tROLE\tCONTROLLERS\tCREATED\tPASSWORD CHANGED\tDISABLED\tNAME")
		for _, u := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, orAll(u.Controllers),
				u.CreatedAt.Format(time.RFC3339), u.PasswordChangedAt.Format(time.RFC3339), fmtTime(u.DisabledAt), u.Name)
		}
		return tw.Flush()
	case "update":
		if u, err = admin.UpdateUser(ctx, cliActor(), *email, dsar.Role(*role), ctrls); err != nil {
			return fieldErrors(err)
		}
		fmt.Fprintf(m.Stdout, "updated user %s (%s): role %s, controllers %s; their sessions ended\n", u.ID, u.Email, u.Role, orAll(u.Controllers))
	case "disable", "enable":
		disable := args[0] == "disable"
		if u, err = admin.SetUserDisabled(ctx, cliActor(), *email, disable); err != nil {
			return fieldErrors(err)
		}
		fmt.Fprintf(m.Stdout, "%sd user %s (%s)\n", args[0], u.ID, u.Email)
		if disable {
			fmt.Fprintln(m.Stdout, "their sessions ended; they get no reminders and cannot be assigned cases; reassign their open cases (queue filter: assigned to them)")
		}
	case "reset-password":
		if u, err = admin.ResetPassword(ctx, cliActor(), *email, password); err != nil {
			return fieldErrors(err)
		}
		fmt.Fprintf(m.Stdout, "reset the password of user %s (%s); their sessions ended\n", u.ID, u.Email)
	}
	if generated {
		fmt.Fprintln(m.Stdout, "the password is shown only now; sign in at /signin and change it:")
		fmt.Fprintln(m.Stdout, password)
	}
	return nil
}

// userLabel returns "Name <email>" for a user with a name, else the e-mail
// address.
func userLabel(u *dsar.User) string {
	if u.Name == "" {
		return u.Email
	}
	return u.Name + " <" + u.Email + ">"
}

// readOrGeneratePassword reads a password from file, or generates one (144
// random bits) when file is empty.
func readOrGeneratePassword(file string) (password string, generated bool, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, usageError{"--password-file: " + err.Error()}
		}
		return strings.TrimRight(string(b), "\r\n"), false, nil
	}
	return dsar.NewPassword(), true, nil
}
