package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/testutil"
)

// TestStartupPagesReleased: once its first list is in force (here from the
// cache file, with ZooKeeper unreachable), the agent gives back the pages
// of its executable that start-up touched, and says so at debug level; in
// steady state fewer of them are resident than were released.
func TestStartupPagesReleased(t *testing.T) {
	bin := buildProcwatch(t)
	cache := filepath.Join(t.TempDir(), "cache.json")
	doc := `{"root": "/procwatch", "version": 3, "saved_at": "2026-12-01T00:00:00Z", "payload": {"globs": ["procwatch*"]}}`
	if err := os.WriteFile(cache, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--zk", "127.0.0.1:1", "--web.listen-address", addr, "--cache-file", cache,
		"--collect.process-events=false", "--log.level", "debug", "--log.format", "json")
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("procwatch stderr:\n%s", stderr.String())
		}
	}()

	var released struct {
		Mappings int   `json:"mappings"`
		Bytes    int64 `json:"bytes"`
	}
	testutil.EventuallySaying(t, 30*time.Second, "the release to be logged", func() (bool, string) {
		for line := range strings.Lines(stderr.String()) {
			if strings.Contains(line, "released start-up pages") {
				return json.Unmarshal([]byte(line), &released) == nil, line
			}
		}
		return false, "not yet"
	})
	if released.Mappings == 0 || released.Bytes == 0 {
		t.Fatalf("released %+v, want some pages", released)
	}
	// A scrape runs the code that steady state runs.
	scrapeWhenUp(t, addr, &stderr)
	resident := readOnlyResident(t, cmd.Process.Pid, bin)
	t.Logf("released %d KiB in %d mappings; %d KiB resident after a scrape", released.Bytes>>10, released.Mappings, resident>>10)
	if resident == 0 {
		t.Fatalf("no mapping of %s found in /proc/%d/smaps", bin, cmd.Process.Pid)
	}
	if resident >= released.Bytes {
		t.Errorf("%d KiB of the executable's read-only pages resident after the release, %d KiB before it", resident>>10, released.Bytes>>10)
	}
}

// readOnlyResident sums the Rss of pid's read-only mappings of exe.
func readOnlyResident(t *testing.T, pid int, exe string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sum int64
	var inExe bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 6 && strings.Contains(fields[0], "-"):
			inExe = fields[5] == exe && fields[1][1] == '-'
		case inExe && fields[0] == "Rss:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			sum += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}
