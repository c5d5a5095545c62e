package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dsar-project/dsar"
)

// APIKeys implements dsar.APIKeyService on the database.
//
// A key that authenticated is remembered for KeyCacheTTL, so that busy
// integrations cost no query per call; a revocation therefore reaches the
// other processes within that time (at once in the process that revoked).
type APIKeys struct {
	db    *DB
	mu    sync.Mutex
	cache map[string]cachedKey // by secret hash
}

// KeyCacheTTL is how long an authenticated key is remembered.
const KeyCacheTTL = 10 * time.Second

type cachedKey struct {
	key     *dsar.APIKey
	expires time.Time
}

var _ dsar.APIKeyService = (*APIKeys)(nil)

// NewAPIKeys returns the API key service of db.
func NewAPIKeys(db *DB) *APIKeys { return &APIKeys{db: db, cache: map[string]cachedKey{}} }

// secretPrefix marks dsar API keys, so that secret scanners can find leaked ones.
const secretPrefix = "dsar_"

// hashSecret returns the stored form of a secret. Keys carry 256 random
// bits, so a plain SHA-256 (not a slow password hash) cannot be reversed.
func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Create stores a new key and returns it with its secret.
func (s *APIKeys) Create(ctx context.Context, name string, role dsar.Role, controllers []string, scopes ...dsar.Scope) (*dsar.APIKey, string, error) {
	var fields []dsar.FieldError
	name = strings.TrimSpace(name)
	if name == "" {
		fields = append(fields, dsar.FieldError{Field: "name", Message: "field.required"})
	} else if err := dsar.ValidateText("name", name, false, dsar.MaxNameLength); err != nil {
		fields = append(fields, err.(*dsar.Error).Fields...)
	}
	if !role.Valid() {
		fields = append(fields, dsar.FieldError{Field: "role", Message: "field.enum", Params: map[string]any{"allowed": dsar.Roles}})
	}
	for _, c := range controllers {
		if _, ok := s.db.Controllers.Get(c); !ok {
			fields = append(fields, dsar.FieldError{Field: "controller", Message: "error.unknown_controller", Params: map[string]any{"controller": c}})
		}
	}
	if role != dsar.RoleAdmin && role.Valid() && len(controllers) == 0 {
		fields = append(fields, dsar.FieldError{Field: "controller", Message: "field.required"})
	}
	scopes, err := dsar.NormalizeScopes("scopes", scopes)
	if err != nil {
		fields = append(fields, err.(*dsar.Error).Fields...)
	}
	if len(fields) > 0 {
		return nil, "", dsar.Invalid(fields...)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := secretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.db.now()
	slices.Sort(controllers)
	controllers = slices.Compact(controllers)
	row := &apiKeyRow{ID: newID(), Name: name, Role: string(role), Controllers: strings.Join(controllers, ","),
		Scopes: joinScopes(scopes), SecretHash: hashSecret(secret), CreatedAt: now}
	if err := s.db.gorm.WithContext(ctx).Create(row).Error; err != nil {
		return nil, "", mapErr(err)
	}
	return row.toDomain(), secret, nil
}

func (r *apiKeyRow) toDomain() *dsar.APIKey {
	k := &dsar.APIKey{ID: r.ID, Name: r.Name, Role: dsar.Role(r.Role), CreatedAt: r.CreatedAt.UTC(),
		LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
	if r.Controllers != "" {
		k.Controllers = strings.Split(r.Controllers, ",")
	}
	if r.Scopes != "" {
		for _, sc := range strings.Split(r.Scopes, ",") {
			k.Scopes = append(k.Scopes, dsar.Scope(sc))
		}
	}
	return k
}

func joinScopes(scopes []dsar.Scope) string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		out[i] = string(sc)
	}
	return strings.Join(out, ",")
}

// Authenticate returns the live key with this secret. The lookup is by the
// secret's hash, so no secret is ever compared byte by byte.
func (s *APIKeys) Authenticate(ctx context.Context, secret string) (*dsar.APIKey, error) {
	unauthorized := &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.unauthorized"}
	if !strings.HasPrefix(secret, secretPrefix) || len(secret) > 100 {
		return nil, unauthorized
	}
	hash := hashSecret(secret)
	now := s.db.now()
	s.mu.Lock()
	c, ok := s.cache[hash]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, nil
	}
	var row apiKeyRow
	err := s.db.gorm.WithContext(ctx).Where("secret_hash = ? AND revoked_at IS NULL", hash).Take(&row).Error
	if dsar.ErrorCode(mapErr(err)) == dsar.ENOTFOUND {
		return nil, unauthorized
	}
	if err != nil {
		return nil, mapErr(err)
	}
	// Record use at most once a minute, so that busy keys cost no write per call.
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) > time.Minute {
		s.db.gorm.WithContext(ctx).Model(&apiKeyRow{}).Where("id = ?", row.ID).Update("last_used_at", now)
	}
	key := row.toDomain()
	s.mu.Lock()
	if len(s.cache) > 10000 { // bounded: start over rather than grow
		clear(s.cache)
	}
	s.cache[hash] = cachedKey{key: key, expires: now.Add(KeyCacheTTL)}
	s.mu.Unlock()
	return key, nil
}

// List returns every key, revoked ones included, newest first.
func (s *APIKeys) List(ctx context.Context) ([]*dsar.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.gorm.WithContext(ctx).Order("created_at DESC").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.APIKey, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// Revoke revokes the key; it stops working at once.
func (s *APIKeys) Revoke(ctx context.Context, id string) error {
	s.mu.Lock()
	for h, c := range s.cache {
		if c.key.ID == id {
			delete(s.cache, h)
		}
	}
	s.mu.Unlock()
	res := s.db.gorm.WithContext(ctx).Model(&apiKeyRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.db.now())
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	return nil
}
