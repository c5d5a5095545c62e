package dsar

import "time"

// Clock tells the time. Every deadline computation takes its "now" from a
// Clock so that tests can set it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
