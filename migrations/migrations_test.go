package migrations

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Both dialects must have the same numbered files, so that a schema version
// means the same thing on Postgres and on the embedded database.
func TestDialectsHaveTheSameVersions(t *testing.T) {
	pg, err := fs.Glob(Postgres(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	lite, err := fs.Glob(SQLite(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) == 0 {
		t.Fatal("no migrations embedded")
	}
	if diff := cmp.Diff(pg, lite); diff != "" {
		t.Errorf("postgres and sqlite migrations differ (-postgres +sqlite):\n%s", diff)
	}
}
