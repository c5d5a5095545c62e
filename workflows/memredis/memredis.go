// Package memredis runs the in-process Redis-compatible server of the
// embedded default mode (github.com/alicebob/miniredis), so that one process
// with no Redis installed still runs the real asynq queue.
package memredis

import (
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Server is a running in-process Redis on a loopback port.
type Server struct {
	m    *miniredis.Miniredis
	stop chan struct{}
	wg   sync.WaitGroup
}

// Start starts a server on 127.0.0.1 with a free port.
func Start() (*Server, error) {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, err
	}
	s := &Server{m: m, stop: make(chan struct{})}
	// miniredis expires keys only when told that time passed; asynq relies
	// on expiring keys (leases, uniqueness locks), so pass real time on.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-s.stop:
				return
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.m.Addr() }

// URL returns the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.m.Addr() + "/0" }

// Close stops the server.
func (s *Server) Close() {
	close(s.stop)
	s.wg.Wait()
	s.m.Close()
}
