package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dsar-project/dsar/store/blob"
)

// encryptionKeyFile is where the embedded default keeps the key it
// generated, in DSAR_DATA_DIR.
const encryptionKeyFile = "encryption.key"

// openBlobs returns the store of case files DSAR_STORAGE names, encrypting
// at rest under the keys of loadBlobKeys.
func openBlobs(ctx context.Context, cfg *Config, log *slog.Logger, embedded bool) (*blob.Encrypted, error) {
	keys, err := loadBlobKeys(cfg, log, embedded)
	if err != nil {
		return nil, err
	}
	switch cfg.Storage {
	case "s3":
		s, err := blob.NewS3(ctx, cfg.S3())
		if err != nil {
			return nil, err
		}
		return blob.NewEncrypted(s, keys), nil
	default:
		d, err := blob.NewDir(filepath.Join(cfg.DataDir, "blobs"))
		if err != nil {
			return nil, fmt.Errorf("create the directory of case files in DSAR_DATA_DIR: %w", err)
		}
		return blob.NewEncrypted(d, keys), nil
	}
}

// loadBlobKeys returns DSAR_ENCRYPTION_KEY and DSAR_ENCRYPTION_OLD_KEYS
// (validated in LoadConfig). On the embedded default without a key, one is
// generated once into the data directory (mode 0600); with PostgreSQL every
// process must be given the same key.
func loadBlobKeys(cfg *Config, log *slog.Logger, embedded bool) (blob.Keys, error) {
	var keys blob.Keys
	old, err := blob.ParseKeys(cfg.EncryptionOldKeys)
	if err != nil {
		return keys, fmt.Errorf("DSAR_ENCRYPTION_OLD_KEYS: %v", err)
	}
	keys.Old = old
	if cfg.EncryptionKey != "" {
		if keys.Current, err = blob.ParseKey(cfg.EncryptionKey); err != nil {
			return keys, fmt.Errorf("DSAR_ENCRYPTION_KEY: %v", err)
		}
		return keys, nil
	}
	if !embedded {
		return keys, errors.New("DSAR_ENCRYPTION_KEY is required with DSAR_DATABASE_URL: every serve and worker process must share it (generate one with: openssl rand -base64 32)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return keys, fmt.Errorf("create DSAR_DATA_DIR: %w", err)
	}
	path := filepath.Join(cfg.DataDir, encryptionKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if b, err = generateKeyFile(path); err != nil {
			return keys, fmt.Errorf("keep the generated encryption key: %w", err)
		}
		log.Info("generated the key that encrypts case files at rest; back it up, apart from the data it encrypts", "file", path)
	} else if err != nil {
		return keys, fmt.Errorf("read the encryption key: %w", err)
	}
	if keys.Current, err = blob.ParseKey(string(b)); err != nil {
		return keys, fmt.Errorf("the encryption key in %s: %v", path, err)
	}
	return keys, nil
}

// generateKeyFile writes a new key to path (mode 0600) unless a file is
// already there, and returns what is in path: the key of whichever process
// came first when two start at once.
func generateKeyFile(path string) ([]byte, error) {
	_, text, err := blob.GenerateKey()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".encryption.key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteString(text + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	// A hard link fails when path exists, where a rename would replace it.
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return os.ReadFile(path)
}
