package workflows

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/hibiken/asynq"
)

// asynqLogger adapts slog to asynq's logger interface.
type asynqLogger struct{ l *slog.Logger }

// NewAsynqLogger returns an asynq.Logger that writes to l.
func NewAsynqLogger(l *slog.Logger) asynq.Logger {
	return asynqLogger{l: l.With("component", "asynq")}
}

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)); os.Exit(1) }
