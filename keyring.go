package dsar

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Keyring derives the secrets the service hands to data subjects from one
// server secret: the link tokens and 6-digit codes of verification mails, and
// the token of a request's status page. Deriving them (HMAC-SHA256 of a
// purpose and an ID) makes them the same every time a mail is rendered, so a
// retried mail is the same mail, while the database keeps only their SHA-256
// hashes. The keyring also seals identity documents at rest (AES-256-GCM).
type Keyring struct {
	mac  []byte
	aead cipher.AEAD
}

// MinSecretLength is the least number of bytes a server secret must have.
const MinSecretLength = 32

// NewKeyring returns the keyring of a server secret of at least
// MinSecretLength bytes.
func NewKeyring(secret []byte) (*Keyring, error) {
	if len(secret) < MinSecretLength {
		return nil, Errorf(EINVALID, "the secret key must have at least %d bytes", MinSecretLength)
	}
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("dsar key " + purpose))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("seal"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{mac: derive("tokens"), aead: aead}, nil
}

func (k *Keyring) sum(purpose, id string) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return m.Sum(nil)
}

// Token returns the 256-bit URL-safe token of a purpose ("verify", "status")
// and an ID.
func (k *Keyring) Token(purpose, id string) string {
	return base64.RawURLEncoding.EncodeToString(k.sum("token:"+purpose, id))
}

// Code returns the 6-digit code of a purpose and an ID.
func (k *Keyring) Code(purpose, id string) string {
	n := binary.BigEndian.Uint64(k.sum("code:"+purpose, id)[:8])
	return fmt.Sprintf("%06d", n%1_000_000)
}

// Seal encrypts plain; ad (the owner's ID) is authenticated with it, so a
// sealed blob cannot be moved to another owner.
func (k *Keyring) Seal(plain, ad []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, plain, ad)
}

// Open decrypts what Seal sealed for the same ad.
func (k *Keyring) Open(sealed, ad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed data too short")
	}
	return k.aead.Open(nil, sealed[:n], sealed[n:], ad)
}

// HashSecret returns the stored form of a token or code: its SHA-256, hex.
func HashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// SameHash compares two hashes in constant time.
func SameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
