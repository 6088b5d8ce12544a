package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// cacheFile is what the agent writes to --cache-file: the last good watch
// list, with where and when it came from. A file holding only a payload
// ({"globs": [...]}), as an operator might write by hand to pre-seed a host,
// is read too, with an unknown version.
type cacheFile struct {
	Root    string             `json:"root,omitempty"`
	Version int32              `json:"version"`
	SavedAt time.Time          `json:"saved_at"`
	Payload watchlist.Document `json:"payload"`
}

// Check holds the cached list to the payload's rules (zkstate.Checker), so
// zkstate.Decode applies them.
func (c cacheFile) Check() error { return c.Payload.Check() }

// readCache reads a cache file, holding its list to the rules of a payload
// read from ZooKeeper (the rules of watchlist.Document): a file whose list is no watch list is
// an error, never an empty list. The error wraps fs.ErrNotExist when there
// is none, which at a first start is normal.
func readCache(path string) (cacheFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cacheFile{}, err
	}
	var probe struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return cacheFile{}, fmt.Errorf("cache file %s: %w", path, err)
	}
	if probe.Payload == nil {
		wl, err := zkstate.Decode[watchlist.Document](data)
		if err != nil {
			return cacheFile{}, fmt.Errorf("cache file %s: %w", path, err)
		}
		c := cacheFile{Version: -1, Payload: wl}
		if st, err := os.Stat(path); err == nil {
			c.SavedAt = st.ModTime()
		}
		return c, nil
	}
	// The whole file strictly, so that a key given twice anywhere in it
	// is refused too; the list by the payload's rules.
	c, err := zkstate.Decode[cacheFile](data, zkstate.WithStrictDecoding())
	if err != nil {
		return cacheFile{}, fmt.Errorf("cache file %s: %w", path, err)
	}
	return c, nil
}

// writeCache replaces the cache file atomically: a reader (this agent at
// its next start, after a crash or power cut at any instant) finds either
// the old complete file or the new complete file, never a torn one.
func writeCache(path string, c cacheFile) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// writeFileAtomic writes data to a temporary file in path's directory
// (rename is atomic only within one file system), syncs it, renames it over
// path and syncs the directory so that the rename itself survives a crash.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	// Some file systems cannot sync a directory; the file is in place
	// either way, so only report the other errors.
	if serr := d.Sync(); serr != nil && !errors.Is(serr, os.ErrInvalid) {
		err = serr
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
