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
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// Cuttable opens a migrated database of the test, like Open, with a
// function that makes it unreachable as a database server that went down
// does. On Postgres the store connects through a TCP proxy on loopback,
// and cut closes the proxy and every connection through it, so that the
// store meets broken connections and refused ones; on SQLite cut closes the
// store's connections. direct is a URL of the same database that the cut
// does not reach, to look at what was written.
func Cuttable(t testing.TB, clock dsar.Clock) (db *store.DB, direct string, cut func()) {
	t.Helper()
	direct = URL(t)
	if strings.HasPrefix(direct, "sqlite:") {
		db = OpenURL(t, direct, clock)
		return db, direct, func() { db.Close() }
	}
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr()
	return OpenURL(t, u.String(), clock), direct, p.close
}

// proxy forwards TCP connections to a server until it is closed.
type proxy struct {
	ln     net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(p.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, s) {
				return
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// track remembers the connections to close them with the proxy; it closes
// them at once, and says so, when the proxy is closed already.
func (p *proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

// close stops accepting and breaks every connection through the proxy.
func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns, p.closed = nil, true
}

// Exec runs one statement on the database at url over a connection of its
// own, bypassing the store: for tests of what the schema itself refuses.
func Exec(t testing.TB, url, query string, args ...any) error {
	t.Helper()
	var err error
	direct(t, url, func(g *gorm.DB) { err = g.Exec(query, args...).Error })
	return err
}

// Select reads rows of the database at url into dest (a pointer to a
// slice of structs) over a connection of its own, bypassing the store: for
// tests of what was written where the store has no reader (the admin
// trail, say).
func Select(t testing.TB, url string, dest any, query string, args ...any) {
	t.Helper()
	direct(t, url, func(g *gorm.DB) {
		if err := g.Raw(query, args...).Scan(dest).Error; err != nil {
			t.Fatal(err)
		}
	})
}

// direct runs f with a connection of its own to the database at url.
func direct(t testing.TB, url string, f func(*gorm.DB)) {
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
	f(g)
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
