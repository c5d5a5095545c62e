package blob

import (
	"context"
	"fmt"
	"log/slog"
)

// RotateResult counts the files a rotation went through.
type RotateResult struct {
	// Files is the number of files there are.
	Files int
	// Current is the number already under the current key.
	Current int
	// Rotated is the number re-encrypted under the current key (on a dry
	// run: the number that would be).
	Rotated int
	// Failed is the number that could not be read or re-encrypted: under
	// a key that is not configured, damaged, or the store failed.
	Failed int
}

// Rotate re-encrypts under the current key every file under another key,
// one at a time and streamed: each decrypted as it is read and encrypted as
// it is written, replacing the file whole (the stores' Put). A dry run only
// counts. A file that fails is logged by its key (names of cases and tasks,
// never their content) and counted, and the rotation goes on.
func (e *Encrypted) Rotate(ctx context.Context, dryRun bool, log *slog.Logger) (RotateResult, error) {
	var res RotateResult
	err := e.List(ctx, "", func(key string) error {
		res.Files++
		id, err := e.KeyID(ctx, key)
		if err == nil && id == e.keys.Current.id {
			res.Current++
			return nil
		}
		if err == nil {
			if _, ok := e.keys.find(id); !ok {
				err = fmt.Errorf("key id %s: %w", id, ErrUnknownKey)
			}
		}
		if err == nil && !dryRun {
			err = e.reencrypt(ctx, key)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Failed++
			log.Error("cannot re-encrypt a file", "key", key, "err", err)
			return nil
		}
		res.Rotated++
		return nil
	})
	return res, err
}

// reencrypt reads key's file through the old key and puts it back under
// the current one.
func (e *Encrypted) reencrypt(ctx context.Context, key string) error {
	f, _, err := e.open(ctx, key)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = e.Put(ctx, key, f)
	return err
}
