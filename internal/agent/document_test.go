package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zktest"
)

// logLines keeps the agent's log for the test to search, and shows it with
// -v or on failure.
type logLines struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	return testWriter{l.t}.Write(p)
}

// line returns the first line holding every one of parts, or "".
func (l *logLines) line(parts ...string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, ln := range strings.Split(l.b.String(), "\n") {
		for _, p := range parts {
			if !strings.Contains(ln, p) {
				continue next
			}
		}
		return ln
	}
	return ""
}

// TestInvalidDocumentsKeepTheLastGoodList writes, around procctl, documents
// that decode into an empty or different list under lax JSON rules but are
// not watch lists: no globs at all, a key in another case, a key twice, more
// globs than one payload may hold. Each must leave the last good list in
// force, be counted and logged, flag the agent as holding an invalid payload,
// and never reach the cache file.
func TestInvalidDocumentsKeepTheLastGoodList(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	name, _ := names("iv")
	newSleeper(t, name).start(t, 1)
	op := operator(t, cluster.ConnectString(), root, name)
	cache := filepath.Join(t.TempDir(), "procwatch.cache")
	logs := &logLines{t: t}
	a := startAgent(t, Config{
		Servers:        []string{cluster.ConnectString()},
		Path:           root,
		CacheFile:      cache,
		SessionTimeout: 4 * time.Second,
		ProcfsRoot:     "/proc",
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	a.waitStatus(t, "/readyz", http.StatusOK, 20*time.Second)
	_, info := op.DirtyRead()
	good := []want{
		{name: "procwatch_glob_processes", labels: []string{"glob=" + name}, value: 1},
		{name: "procwatch_globs", value: 1},
		{name: "procwatch_state_version", value: float64(info.Version)},
	}
	a.waitMetrics(t, 10*time.Second, append(good, want{name: "procwatch_state_invalid", value: 0})...)
	cached, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}

	tooMany := []string{name}
	for i := range watchlist.MaxGlobs {
		tooMany = append(tooMany, fmt.Sprintf("pw-extra-%d", i))
	}
	tooManyDoc, err := json.Marshal(map[string][]string{"globs": tooMany})
	if err != nil {
		t.Fatal(err)
	}
	conn := zktest.Connect(t, cluster.ConnectString(), 4*time.Second)
	for i, doc := range []string{
		`{}`,
		`null`,
		`{"globs": null}`,
		fmt.Sprintf(`{"glob": [%q]}`, name),
		fmt.Sprintf(`{"GLOBS": [%q]}`, name),
		fmt.Sprintf(`{"globs": [%q], "globs": []}`, name),
		string(tooManyDoc),
	} {
		label := doc
		if len(label) > 40 {
			label = fmt.Sprintf("%d globs", len(tooMany))
		}
		st, err := conn.Set(root+"/payload", []byte(doc), -1)
		if err != nil {
			t.Fatal(err)
		}
		a.waitMetrics(t, 10*time.Second, append(good,
			want{name: "procwatch_state_invalid_payloads_total", value: float64(i + 1)},
			want{name: "procwatch_state_invalid", value: 1},
		)...)
		if l := logs.line("invalid payload", fmt.Sprintf("version=%d ", st.Version)); l == "" {
			t.Errorf("%s: no log line says version %d is an invalid payload", label, st.Version)
		}
		now, err := os.ReadFile(cache)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(now, cached) {
			t.Errorf("%s: the cache file was rewritten:\n%s\nwas:\n%s", label, now, cached)
		}
	}

	// A good list ends it, and only then is the cache rewritten.
	version := setGlobs(t, op, name, "pw-also")
	a.waitMetrics(t, 10*time.Second,
		want{name: "procwatch_globs", value: 2},
		want{name: "procwatch_state_version", value: float64(version)},
		want{name: "procwatch_state_invalid", value: 0},
	)
	waitCache(t, cache, version)
	c, err := readCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{name, "pw-also"}, c.Payload.Globs); diff != "" {
		t.Errorf("cache globs (-want +got):\n%s", diff)
	}
}

// TestEmptyListWrittenDeliberately: [] is a list, the one way to stop
// watching everything on purpose; it is no invalid payload.
func TestEmptyListWrittenDeliberately(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	name, _ := names("em")
	op := operator(t, cluster.ConnectString(), root, name)
	a := startAgent(t, Config{
		Servers:        []string{cluster.ConnectString()},
		Path:           root,
		SessionTimeout: 4 * time.Second,
		ProcfsRoot:     "/proc",
	})
	a.waitStatus(t, "/readyz", http.StatusOK, 20*time.Second)
	a.waitMetrics(t, 10*time.Second, want{name: "procwatch_globs", value: 1})
	version := setGlobs(t, op)
	a.waitMetrics(t, 10*time.Second,
		want{name: "procwatch_globs", value: 0},
		want{name: "procwatch_state_version", value: float64(version)},
		want{name: "procwatch_state_invalid_payloads_total", value: 0},
		want{name: "procwatch_state_invalid", value: 0},
	)
}

// waitCache waits until the cache file holds version.
func waitCache(t *testing.T, path string, version int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := readCache(path)
		if err == nil && c.Version == version {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache file %s: %+v, %v; want version %d", path, c, err, version)
		}
		time.Sleep(10 * time.Millisecond)
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
