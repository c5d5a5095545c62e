// Package migrations holds the numbered SQL migrations of the database
// schema, embedded in the binary and applied by `dsar migrate` (and by the
// all-in-one embedded default on start).
//
// Each dialect has its own directory with the same numbered files: the SQL
// differs where the engines differ (types, partial indexes, triggers), the
// versions never do. A test checks that both directories list the same
// versions.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Postgres returns the migrations for PostgreSQL.
func Postgres() fs.FS { return sub("postgres") }

// SQLite returns the migrations for the embedded SQLite database.
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return f
}
