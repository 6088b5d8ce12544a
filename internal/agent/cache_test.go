package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/watchlist"
)

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cache.json")
	want := cacheFile{Root: "/procwatch", Version: 7, SavedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Payload: watchlist.Document{Globs: []string{"sshd", "cmdline:*java*"}}}
	for range 2 { // the second write replaces the first
		if err := writeCache(path, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cache mismatch (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the cache file (no temporary left)", len(entries))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("cache file mode %v, want 0644", st.Mode().Perm())
	}
}

// A hand-written file holding only the payload seeds a host too.
func TestCachePlainPayload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.json")
	if err := os.WriteFile(path, []byte(`{"globs": ["nginx*"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != -1 || got.Root != "" || len(got.Payload.Globs) != 1 || got.Payload.Globs[0] != "nginx*" || got.SavedAt.IsZero() {
		t.Errorf("readCache = %+v, want version -1, no root, [nginx*], saved at the file's mtime", got)
	}
}

func TestCacheErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := readCache(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte(`{"payload": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readCache(bad); err == nil {
		t.Error("truncated file read without error")
	}
	if err := writeCache(filepath.Join(dir, "no", "such", "dir", "cache"), cacheFile{}); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// TestCacheRefusesInvalidLists: a cache file whose list is no watch list
// (one an older agent may have written with "globs": null) is refused, so
// that loadCache ignores it instead of putting an empty list in force.
func TestCacheRefusesInvalidLists(t *testing.T) {
	dir := t.TempDir()
	tooMany := make([]string, watchlist.MaxGlobs+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("g%d", i)
	}
	many, err := json.Marshal(tooMany)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{
		`{"root": "/procwatch", "version": 3, "saved_at": "2025-01-02T03:04:05Z", "payload": {"globs": null}}`,
		`{"root": "/procwatch", "version": 3, "saved_at": "2025-01-02T03:04:05Z", "payload": {}}`,
		`{"root": "/procwatch", "version": 3, "saved_at": "2025-01-02T03:04:05Z", "payload": {"GLOBS": ["sshd"]}}`,
		`{"root": "/procwatch", "version": 3, "version": 4, "payload": {"globs": ["sshd"]}}`,
		`{"root": "/procwatch", "version": 3, "payload": {"globs": ` + string(many) + `}}`,
		`{"globs": null}`,
		`{"Globs": ["sshd"]}`,
		`{}`,
	} {
		path := filepath.Join(dir, "cache.json")
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		label := doc
		if len(label) > 80 {
			label = label[:80] + "…"
		}
		if c, err := readCache(path); err == nil {
			t.Errorf("readCache(%s) = version %d with %d globs, want an error", label, c.Version, len(c.Payload.Globs))
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("readCache(%s): %v does not name the file", label, err)
		}
	}
	// [] is a list.
	path := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(path, []byte(`{"globs": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := readCache(path); err != nil || c.Payload.Globs == nil || len(c.Payload.Globs) != 0 {
		t.Errorf("readCache({\"globs\": []}) = %+v, %v; want an empty list", c, err)
	}
}
