package blob

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an encryption key: AES-256.
const KeySize = 32

// KeyID names a key in the header of every file it encrypted, so that a
// file says which key opens it: the first 8 bytes of SHA-256 of a label
// and the key, which tell nothing of the key.
type KeyID [8]byte

// String is the key id in hex, as `dsar keys rotate` and the logs show it.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// Key is one encryption key and its id.
type Key struct {
	id     KeyID
	secret [KeySize]byte
}

// ID is the key's id.
func (k Key) ID() KeyID { return k.id }

// NewKey returns the key of 32 bytes of secret.
func NewKey(secret []byte) (Key, error) {
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("want %d bytes, got %d", KeySize, len(secret))
	}
	var k Key
	copy(k.secret[:], secret)
	sum := sha256.Sum256(append([]byte("dsar blob key id\x00"), secret...))
	copy(k.id[:], sum[:])
	return k, nil
}

// GenerateKey returns a new random key and its text form (base64), the
// form ParseKey reads.
func GenerateKey() (Key, string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return Key{}, "", err
	}
	k, err := NewKey(b)
	return k, base64.StdEncoding.EncodeToString(b), err
}

// ParseKey reads a key written as 64 hex digits or as base64 (standard or
// URL alphabet, padded or not) of 32 bytes. The error never repeats the
// text.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return NewKey(b)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return NewKey(b)
		}
	}
	return Key{}, errors.New("want 32 bytes written as 64 hex digits or in base64 (generate one with: openssl rand -base64 32)")
}

// ParseKeys reads a comma-separated list of keys in ParseKey's forms; the
// empty string is no keys. An error names the position of a bad key, never
// its text.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for i, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, err := ParseKey(part)
		if err != nil {
			return nil, fmt.Errorf("key %d of the list: %v", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Keys are the keys of the encryption at rest: Current encrypts every file
// written, and opens them along with Old, the keys of files written before
// a rotation, which only open.
type Keys struct {
	Current Key
	Old     []Key
}

// find returns the key of id.
func (ks Keys) find(id KeyID) (Key, bool) {
	if ks.Current.id == id {
		return ks.Current, true
	}
	for _, k := range ks.Old {
		if k.id == id {
			return k, true
		}
	}
	return Key{}, false
}
