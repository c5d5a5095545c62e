package blob

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/minio/sio"

	"github.com/dsar-project/dsar"
)

var _ dsar.Blobs = (*Encrypted)(nil)

// The format of an encrypted file (docs/storage.md):
//
//	magic    4 bytes  "DSRB"
//	version  1 byte   1
//	key id   8 bytes  KeyID of the key that encrypted it
//	salt    32 bytes  random, new for every Put
//	body              DARE 2.0 (github.com/minio/sio), AES-256-GCM, of
//	                  one byte 0x01 followed by the file
//
// The body's key is HMAC-SHA256(key, "dsar blob v1" | 0 | header | blob
// key): new for every file, bound to the header (a changed header, key id
// or salt opens nothing) and to the blob key (a file copied under another
// key opens nothing). DARE seals packages of 64 KiB with sequence numbers
// and a final flag, so that a flipped bit, swapped or dropped packages and
// a truncated file fail the read. The leading 0x01 makes the body of an
// empty file non-empty, so that cutting a file down to its header does not
// read as an empty file.
const (
	magic         = "DSRB"
	formatVersion = 1
	headerSize    = len(magic) + 1 + len(KeyID{}) + 32
	bodyMark      = 0x01
)

// ErrUnknownKey is the error of a file encrypted under a key that is
// neither the current key nor an old one.
var ErrUnknownKey = errors.New("blob encrypted under a key that is not configured")

// Encrypted encrypts what it puts into another store and decrypts what it
// opens from it; Delete and List pass through.
type Encrypted struct {
	inner dsar.Blobs
	keys  Keys
}

// NewEncrypted returns the encrypting store over inner.
func NewEncrypted(inner dsar.Blobs, keys Keys) *Encrypted {
	return &Encrypted{inner: inner, keys: keys}
}

// CurrentKeyID is the id of the key files are written under.
func (e *Encrypted) CurrentKeyID() KeyID { return e.keys.Current.id }

func bodyKey(k Key, header []byte, blobKey string) []byte {
	m := hmac.New(sha256.New, k.secret[:])
	m.Write([]byte("dsar blob v1\x00"))
	m.Write(header)
	m.Write([]byte(blobKey))
	return m.Sum(nil)
}

func dareConfig(key []byte) sio.Config {
	return sio.Config{MinVersion: sio.Version20, MaxVersion: sio.Version20, CipherSuites: []byte{sio.AES_256_GCM}, Key: key}
}

// Put encrypts r as it streams into the inner store, in packages of 64 KiB.
func (e *Encrypted) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	header := make([]byte, headerSize)
	copy(header, magic)
	header[len(magic)] = formatVersion
	id := e.keys.Current.id
	copy(header[len(magic)+1:], id[:])
	if _, err := rand.Read(header[len(magic)+1+len(id):]); err != nil {
		return 0, err
	}
	plain := &countReader{r: r}
	body, err := sio.EncryptReader(io.MultiReader(bytes.NewReader([]byte{bodyMark}), plain), dareConfig(bodyKey(e.keys.Current, header, key)))
	if err != nil {
		return 0, err
	}
	_, err = e.inner.Put(ctx, key, io.MultiReader(bytes.NewReader(header), body))
	return plain.n, err
}

// Open returns a reader of key's file that decrypts as it reads and fails
// on the first package that is not authentic, and at the end when the
// final package is missing.
func (e *Encrypted) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	f, _, err := e.open(ctx, key)
	return f, err
}

// open opens key's file and returns its decrypting reader and key id.
func (e *Encrypted) open(ctx context.Context, key string) (io.ReadCloser, KeyID, error) {
	f, err := e.inner.Open(ctx, key)
	if err != nil {
		return nil, KeyID{}, err
	}
	header, id, err := readHeader(f, key)
	if err != nil {
		f.Close()
		return nil, id, err
	}
	k, ok := e.keys.find(id)
	if !ok {
		f.Close()
		return nil, id, fmt.Errorf("blob %s: key id %s: %w", key, id, ErrUnknownKey)
	}
	body, err := sio.DecryptReader(f, dareConfig(bodyKey(k, header, key)))
	if err != nil {
		f.Close()
		return nil, id, err
	}
	d := &decrypter{key: key, body: body, closer: f}
	var mark [1]byte
	if _, err := io.ReadFull(d, mark[:]); err != nil || mark[0] != bodyMark {
		f.Close()
		if err == nil {
			err = fmt.Errorf("blob %s: malformed body", key)
		}
		return nil, id, err
	}
	return d, id, nil
}

// readHeader reads and checks the header of an encrypted file.
func readHeader(f io.Reader, key string) ([]byte, KeyID, error) {
	header := make([]byte, headerSize)
	var id KeyID
	if _, err := io.ReadFull(f, header); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, id, fmt.Errorf("blob %s: shorter than the header of an encrypted file", key)
		}
		return nil, id, err
	}
	if string(header[:len(magic)]) != magic {
		return nil, id, fmt.Errorf("blob %s: not an encrypted file", key)
	}
	if header[len(magic)] != formatVersion {
		return nil, id, fmt.Errorf("blob %s: encryption format version %d, want %d", key, header[len(magic)], formatVersion)
	}
	copy(id[:], header[len(magic)+1:])
	return header, id, nil
}

// decrypter reads the plaintext of a file, keeping the first error so that
// nothing is read past a failed package.
type decrypter struct {
	key    string
	body   io.Reader
	closer io.Closer
	err    error
}

func (d *decrypter) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.body.Read(p)
	if err != nil && err != io.EOF {
		var se sio.Error
		if errors.As(err, &se) {
			err = fmt.Errorf("blob %s: tampered with or damaged: %w", d.key, err)
		}
		d.err = err
		return 0, err
	}
	if err == io.EOF {
		d.err = io.EOF
	}
	return n, err
}

func (d *decrypter) Close() error { return d.closer.Close() }

// Delete removes every file whose key starts with prefix.
func (e *Encrypted) Delete(ctx context.Context, prefix string) error {
	return e.inner.Delete(ctx, prefix)
}

// List calls fn with every key that starts with prefix, in lexical order.
func (e *Encrypted) List(ctx context.Context, prefix string, fn func(key string) error) error {
	return e.inner.List(ctx, prefix, fn)
}

// KeyID returns the id of the key key's file was encrypted under, reading
// only its header.
func (e *Encrypted) KeyID(ctx context.Context, key string) (KeyID, error) {
	f, err := e.inner.Open(ctx, key)
	if err != nil {
		return KeyID{}, err
	}
	defer f.Close()
	_, id, err := readHeader(f, key)
	return id, err
}
