package export

import (
	"errors"
	"io"
	"sync/atomic"
)

// The portability package is made in two stages that run side by side:
// reading and converting the export (parsing, CSV) writes into chunks, and
// a second goroutine compresses and hashes them into the ZIP entry. A few
// chunks of fixed size circulate between the two, so memory stays
// constant while both cores work.
const (
	pipeChunks    = 4
	pipeChunkSize = 64 << 10
)

// pipeTo runs fn with a writer whose bytes reach w from another goroutine,
// and returns once w has received all of them: fn's error, or w's first.
func pipeTo(w io.Writer, fn func(io.Writer) error) error {
	full := make(chan []byte, pipeChunks)
	free := make(chan []byte, pipeChunks)
	for range pipeChunks {
		free <- make([]byte, 0, pipeChunkSize)
	}
	cw := &chunkWriter{full: full, free: free}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range full {
			if cw.failed.Load() == nil {
				if _, err := w.Write(b); err != nil {
					cw.failed.Store(&err)
				}
			}
			free <- b[:0]
		}
	}()
	cw.buf = <-free
	err := fn(cw)
	if err == nil && len(cw.buf) > 0 {
		full <- cw.buf
	}
	close(full)
	<-done
	if p := cw.failed.Load(); p != nil {
		return *p
	}
	return err
}

// chunkWriter fills chunks and hands each full one to the consumer.
type chunkWriter struct {
	full, free chan []byte
	buf        []byte
	failed     atomic.Pointer[error]
}

var errConsumer = errors.New("export: the ZIP entry failed")

func (c *chunkWriter) Write(p []byte) (int, error) {
	if c.failed.Load() != nil {
		return 0, errConsumer
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(c.buf[len(c.buf):cap(c.buf)], p)
		c.buf = c.buf[:len(c.buf)+k]
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			c.full <- c.buf
			c.buf = <-c.free
		}
	}
	return n, nil
}
