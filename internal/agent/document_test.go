package agent_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zktest"
)

// logLine returns the first line of log holding every one of parts, or "".
func logLine(log *testutil.Buffer, parts ...string) string {
	lines, _ := log.Lines()
next:
	for _, ln := range lines {
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
	sleepers(t, name, 1)
	op := operator(t, cluster.ConnectString(), root, name)
	cache := filepath.Join(t.TempDir(), "procwatch.cache")
	cfg := agentConfig(t, root)
	cfg.CacheFile = cache
	a := startReady(t, cfg)
	_, info := op.DirtyRead()
	good := []want{
		{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1},
		{Name: "procwatch_globs", Value: 1},
		{Name: "procwatch_state_version", Value: float64(info.Version)},
	}
	a.WaitMetrics(t, 10*time.Second, append(good, want{Name: "procwatch_state_invalid", Value: 0})...)
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
		a.WaitMetrics(t, 10*time.Second, append(good,
			want{Name: "procwatch_state_invalid_payloads_total", Value: float64(i + 1)},
			want{Name: "procwatch_state_invalid", Value: 1},
		)...)
		if l := logLine(a.Log, "invalid payload", fmt.Sprintf("version=%d ", st.Version)); l == "" {
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
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_globs", Value: 2},
		want{Name: "procwatch_state_version", Value: float64(version)},
		want{Name: "procwatch_state_invalid", Value: 0},
	)
	waitCache(t, cache, version)
	c, err := agent.ReadCache(cache)
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
	a := startReady(t, agentConfig(t, root))
	a.WaitMetrics(t, 10*time.Second, want{Name: "procwatch_globs", Value: 1})
	version := setGlobs(t, op)
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_globs", Value: 0},
		want{Name: "procwatch_state_version", Value: float64(version)},
		want{Name: "procwatch_state_invalid_payloads_total", Value: 0},
		want{Name: "procwatch_state_invalid", Value: 0},
	)
}

// waitCache waits until the cache file holds version.
func waitCache(t *testing.T, path string, version int32) {
	t.Helper()
	testutil.EventuallySaying(t, 10*time.Second, fmt.Sprintf("cache file %s to hold version %d", path, version), func() (bool, string) {
		c, err := agent.ReadCache(path)
		return err == nil && c.Version == version, fmt.Sprintf("%+v, %v", c, err)
	})
}
