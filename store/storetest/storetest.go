// Package storetest opens a fresh, migrated database for a test: a schema
// of its own on the Postgres server named by DSAR_TEST_DATABASE_URL, or an
// embedded SQLite file in the test's temporary directory when that variable
// is unset. When DSAR_TEST_REQUIRE_SERVICES is set (as CI sets it), a
// missing or unreachable Postgres fails the test instead of falling back.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
)

// URL returns a database URL for a new, empty database of the test, and
// registers its removal.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("DSAR_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("DSAR_TEST_REQUIRE_SERVICES") != "" {
			t.Fatal("DSAR_TEST_REQUIRE_SERVICES is set but DSAR_TEST_DATABASE_URL is not")
		}
		return "sqlite:" + filepath.Join(t.TempDir(), "dsar.db")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to DSAR_TEST_DATABASE_URL: %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if db, err := admin.DB(); err == nil {
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse DSAR_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated database of the test with the given clock and the
// shipped example controllers.
func Open(t testing.TB, clock dsar.Clock) *store.DB {
	t.Helper()
	return OpenURL(t, URL(t), clock)
}

// OpenURL opens and migrates the database at url.
func OpenURL(t testing.TB, url string, clock dsar.Clock) *store.DB {
	t.Helper()
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url, clock, ctrls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Keyring = Keyring(t)
	db.Policy = dsar.DefaultPolicy
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// Exec runs one statement on the database at url over a connection of its
// own, bypassing the store: for tests of what the schema itself refuses.
func Exec(t testing.TB, url, query string, args ...any) error {
	t.Helper()
	var dial gorm.Dialector
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		dial = sqlite.Open(path)
	} else {
		dial = postgres.Open(url)
	}
	g, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if db, err := g.DB(); err == nil {
			db.Close()
		}
	}()
	return g.Exec(query, args...).Error
}

// Keyring returns a keyring with a fixed test secret.
func Keyring(t testing.TB) *dsar.Keyring {
	t.Helper()
	k, err := dsar.NewKeyring([]byte("test secret: not for production use, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
