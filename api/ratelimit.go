package api

import (
	"context"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/dsar-project/dsar"
)

// RateLimiter decides whether a client may make one more call.
type RateLimiter interface {
	// Allow takes one call from the key's budget of perMinute calls a minute
	// and says when to try again if none is left.
	Allow(ctx context.Context, key string, perMinute int) (ok bool, retryAfter time.Duration, err error)
}

// RedisLimiter is a GCRA rate limiter in Redis (github.com/go-redis/redis_rate),
// shared by every serve process.
type RedisLimiter struct{ l *redis_rate.Limiter }

// NewRedisLimiter returns a limiter on the Redis behind rdb.
func NewRedisLimiter(rdb redis.UniversalClient) *RedisLimiter {
	return &RedisLimiter{l: redis_rate.NewLimiter(rdb)}
}

// Allow implements RateLimiter.
func (r *RedisLimiter) Allow(ctx context.Context, key string, perMinute int) (bool, time.Duration, error) {
	res, err := r.l.Allow(ctx, "dsar:rl:"+key, redis_rate.PerMinute(perMinute))
	if err != nil {
		return false, 0, err
	}
	return res.Allowed > 0, res.RetryAfter, nil
}

// rateLimit limits anonymous callers by client address and API keys by key.
// When Redis cannot be asked, the call is refused as unavailable (503 with
// Retry-After): a limit that lapses whenever Redis is down is no limit
// against guessing codes and passwords, and /readyz reports the process
// not ready then anyway. Nothing has been accepted, so nothing is lost:
// the caller tries again.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := actorOf(c)
		key, limit := "ip:"+c.RealIP(), s.cfg.PublicPerMinute
		if a.Authenticated() {
			key, limit = "key:"+a.ID, s.cfg.KeyPerMinute
		}
		if err := s.limit(c, key, limit); err != nil {
			return err
		}
		return next(c)
	}
}

// limit takes one call from the key's budget and returns a rate-limit error
// when none is left.
func (s *Server) limit(c echo.Context, key string, perMinute int) error {
	if s.cfg.Limiter == nil || perMinute <= 0 {
		return nil
	}
	ok, retry, err := s.cfg.Limiter.Allow(c.Request().Context(), key, perMinute)
	if err != nil {
		s.cfg.Log.Warn("rate limiter unavailable; refusing the call", "err", err)
		return &dsar.Error{Code: dsar.EUNAVAILABLE, Message: "error.unavailable"}
	}
	if !ok {
		secs := int(math.Ceil(retry.Seconds()))
		return &dsar.Error{Code: dsar.ERATELIMIT, Message: "error.rate_limited", Params: map[string]any{"seconds": max(secs, 1)}}
	}
	return nil
}
