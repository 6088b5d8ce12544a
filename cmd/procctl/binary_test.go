package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBinary runs the built procctl as a separate process: main's wiring,
// the exit codes and both output formats, as an operator's shell sees them.
func TestBinary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")

	r := runBinary(t, env, "init", "sshd", "nginx*")
	if r.code != 0 || r.stdout != "created /procwatch; 2 globs at version 0\n" || r.stderr != "" {
		t.Errorf("init: %s", r)
	}
	r = runBinary(t, env, "globs", "add", "cron")
	if r.code != 0 || r.stdout != `added "cron"; 3 globs at version 1`+"\n" {
		t.Errorf("add: %s", r)
	}
	r = runBinary(t, env, "globs", "list")
	if r.code != 0 || r.stdout != "sshd\nnginx*\ncron\n" {
		t.Errorf("list: %s", r)
	}
	r = runBinary(t, env, "globs", "list", "-o", "json")
	var list []string
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || !slices.Equal(list, []string{"sshd", "nginx*", "cron"}) {
		t.Errorf("list json: %s", r)
	}
	r = runBinary(t, env, "get", "-o", "json")
	var got struct {
		Version int32 `json:"version"`
		Payload struct {
			Globs []string `json:"globs"`
		} `json:"payload"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || got.Version != 1 || len(got.Payload.Globs) != 3 {
		t.Errorf("get json: %s", r)
	}
	// Flags beat the environment in the real process too.
	r = runBinary(t, env, "--path", "/elsewhere", "get")
	if r.code != 1 || r.stderr != "procctl: no procwatch state at /elsewhere — run `procctl init`\n" {
		t.Errorf("get elsewhere: %s", r)
	}

	_, before := f.payload("/procwatch")
	r = runBinary(t, env, "globs", "add", "fine", "[nope")
	if r.code != 2 || r.stdout != "" || r.stderr != "procctl: invalid glob \"[nope\": syntax error at 5: unexpected end of input; nothing was written\n" {
		t.Errorf("invalid glob: %s", r)
	}
	if _, after := f.payload("/procwatch"); after != before {
		t.Errorf("invalid glob moved the version %d -> %d", before, after)
	}
	r = runBinary(t, env, "globs", "rm", "absent")
	if r.code != 1 || !strings.Contains(r.stderr, `not in the glob list at /procwatch: "absent"`) {
		t.Errorf("rm absent: %s", r)
	}
	r = runBinary(t, env, "globs", "list", "--bogus")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown flag: --bogus") {
		t.Errorf("unknown flag: %s", r)
	}

	start := time.Now()
	r = runBinary(t, envMap{envZK: closedPort(t)}, "--timeout", "1s", "globs", "list")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "procctl: ZooKeeper at 127.0.0.1:") || !strings.Contains(r.stderr, "is unreachable (connection refused)\n") {
		t.Errorf("unreachable: %s", r)
	}
	if d := time.Since(start); d > time.Second+slack {
		t.Errorf("unreachable took %s with --timeout 1s", d)
	}
	if strings.Contains(r.stderr, "goroutine") {
		t.Errorf("a Go stack reached the operator:\n%s", r.stderr)
	}
}

// TestConcurrentAddsFromManyProcesses starts 16 procctl processes at once,
// each adding its own glob: every write goes through the lock and
// compare-and-set, so none is lost.
func TestConcurrentAddsFromManyProcesses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	bin := procctlBinary(t)

	const n = 16
	cmds := make([]*exec.Cmd, n)
	outs := make([]strings.Builder, n)
	for i := range cmds {
		cmds[i] = exec.Command(bin, "--timeout", "60s", "globs", "add", fmt.Sprintf("proc-%02d*", i))
		cmds[i].Env = binaryEnv(env)
		cmds[i].Stdout = &outs[i]
		cmds[i].Stderr = &outs[i]
	}
	// Start them all before waiting for any.
	var ready, wg sync.WaitGroup
	gate := make(chan struct{})
	errs := make([]error, n)
	for i, cmd := range cmds {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready.Done()
			<-gate
			errs[i] = cmd.Run()
		}()
	}
	ready.Wait()
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}

	want := []string{"sshd"}
	for i := range n {
		want = append(want, fmt.Sprintf("proc-%02d*", i))
	}
	got := decodeJSON[[]string](t, mustRun(t, env, "globs", "list", "-o", "json"))
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("globs after 16 concurrent adds (-want +got):\n%s", diff)
	}
	if _, v := f.payload("/procwatch"); v != n {
		t.Errorf("payload version %d, want %d: one write per process", v, n)
	}
}
