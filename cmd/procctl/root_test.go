package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// closedPort returns a loopback address where a connection is refused at
// once, like a ZooKeeper that is down. The port is bound (not listening)
// until the test ends, so no other test's server or proxy can take it
// meanwhile, which a listen-and-close port would allow.
func closedPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

// slack is what a loaded machine (the race detector, other test binaries
// starting JVMs) may add to a deadline before a command has printed and
// returned.
const slack = 4 * time.Second

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	// A closed port: none of these may get as far as ZooKeeper, so each must
	// fail fast with exit 2 rather than 1 "unreachable".
	env := envMap{envZK: closedPort(t)}
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown flag", []string{"globs", "list", "--bogus"}, "unknown flag: --bogus"},
		{"unknown global flag", []string{"--nope", "get"}, "unknown flag: --nope"},
		{"add without globs", []string{"globs", "add"}, "requires at least 1 arg(s)"},
		{"rm without globs", []string{"globs", "rm"}, "requires at least 1 arg(s)"},
		{"set without globs", []string{"globs", "set"}, "requires at least 1 arg(s)"},
		{"list with args", []string{"globs", "list", "x"}, `unknown command "x"`},
		{"get with args", []string{"get", "x"}, `unknown command "x"`},
		{"bad output", []string{"-o", "yaml", "globs", "list"}, `-o "yaml": want text or json`},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate" for "procctl"`},
		{"unknown globs command", []string{"globs", "ad"}, `did you mean "add"?`},
		{"misspelt globs command", []string{"globs", "lst"}, `unknown command "lst" for "procctl globs"; did you mean "list"?`},
		{"bad timeout", []string{"--timeout", "0s", "get"}, "--timeout must be positive"},
		{"unparsable timeout", []string{"get", "--timeout", "soon"}, `invalid argument "soon"`},
		{"relative path", []string{"--path", "procwatch", "get"}, `--path: invalid root path "procwatch": it does not start with /`},
		{"trailing slash", []string{"--path", "/procwatch/", "get"}, "it ends with /"},
		{"empty path segment", []string{"--path", "/a//b", "get"}, "it holds an empty segment (//)"},
		{"unknown shell", []string{"completion", "tcsh"}, `invalid argument "tcsh"`},
		{"invalid glob add", []string{"globs", "add", "ok*", "["}, `invalid glob "["`},
		{"invalid glob set", []string{"globs", "set", "{a,b"}, "invalid glob \"{a,b\": syntax error at 4: unclosed `{`"},
		{"invalid glob init", []string{"init", "cmdline:"}, `invalid glob "cmdline:"`},
		{"empty glob", []string{"globs", "add", ""}, `invalid glob "": empty pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := run(t, env, tt.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", r.code, exitUsage, r)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "procctl: ") {
				t.Errorf("stderr does not start with \"procctl: \":\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "zk: ") {
				t.Errorf("stderr has a stack or client jargon:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty:\n%s", r.stdout)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s: a usage error must not wait for ZooKeeper", d)
			}
		})
	}
}

func TestInvalidGlobsAreAllNamed(t *testing.T) {
	t.Parallel()
	r := run(t, envMap{envZK: closedPort(t)}, "globs", "add", "[", "good*", "{x")
	if r.code != exitUsage {
		t.Fatalf("exit %d, want 2\n%s", r.code, r)
	}
	for _, want := range []string{`invalid glob "["`, `invalid glob "{x"`, "nothing was written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "good*") {
		t.Errorf("a valid glob is named as invalid:\n%s", r.stderr)
	}
}

func TestHelpAndCompletion(t *testing.T) {
	t.Parallel()
	env := envMap{}
	r := mustRun(t, env, "globs", "add", "--help")
	for _, want := range []string{"already present", "duplicates among the arguments are folded", "exits with 2"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("globs add --help lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, env, "globs", "rm", "--help")
	if !strings.Contains(r.stdout, "--ignore-missing") || !strings.Contains(r.stdout, "exit 1") {
		t.Errorf("globs rm --help does not document missing globs:\n%s", r.stdout)
	}
	r = mustRun(t, env, "--help")
	if !strings.Contains(r.stdout, `(default "127.0.0.1:2181")`) || !strings.Contains(r.stdout, `(default "/procwatch")`) ||
		!strings.Contains(r.stdout, "[PROCWATCH_ZK]") || !strings.Contains(r.stdout, "(default 10s)") {
		t.Errorf("--help does not show the defaults and environment variables:\n%s", r.stdout)
	}
	// Without a subcommand a group prints its help and succeeds.
	r = mustRun(t, env, "globs")
	if !strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("procctl globs did not print help:\n%s", r.stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := mustRun(t, env, "completion", shell)
		if !strings.Contains(r.stdout, "procctl") || len(r.stdout) < 500 {
			t.Errorf("completion %s: short or foreign script:\n%.300s", shell, r.stdout)
		}
	}
	// The -o flag completes to its two values through cobra's protocol.
	r = mustRun(t, env, "__complete", "globs", "list", "-o", "")
	if !strings.Contains(r.stdout, "text\njson\n") {
		t.Errorf("-o does not complete to text and json:\n%s", r.stdout)
	}
}

func TestUnreachableZooKeeper(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	for _, args := range [][]string{
		{"globs", "list"}, {"globs", "add", "x"}, {"get"}, {"members"}, {"init"}, {"watch"}, {"edit"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := run(t, envMap{envZK: addr, "EDITOR": "false"}, append([]string{"--timeout", "1s"}, args...)...)
			elapsed := time.Since(start)
			if r.code != exitFailure {
				t.Fatalf("exit %d, want 1\n%s", r.code, r)
			}
			want := "procctl: ZooKeeper at " + addr + " is unreachable (connection refused)\n"
			if r.stderr != want {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
			if elapsed > time.Second+slack {
				t.Errorf("took %s with --timeout 1s", elapsed)
			}
		})
	}
}

func TestZKPrecedenceFlagEnvDefault(t *testing.T) {
	t.Parallel()
	envAddr, flagAddr := closedPort(t), closedPort(t)
	r := run(t, envMap{envZK: envAddr}, "--timeout", "500ms", "get")
	if !strings.Contains(r.stderr, "ZooKeeper at "+envAddr+" is unreachable") {
		t.Errorf("env does not beat the default:\n%s", r)
	}
	r = run(t, envMap{envZK: envAddr}, "--timeout", "500ms", "--zk", flagAddr, "get")
	if !strings.Contains(r.stderr, "ZooKeeper at "+flagAddr+" is unreachable") {
		t.Errorf("the flag does not beat env:\n%s", r)
	}
}

// TestInterruptWhileConnecting: cancelling (SIGINT in main) while waiting for
// ZooKeeper says "interrupted", not "unreachable".
func TestInterruptWhileConnecting(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	// A server that never answers: a refusing one would end the command
	// before the cancel, with "connection refused".
	env := envMap{envZK: silentServer(t)}
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, env, "", &stdout, &stderr, "--timeout", "60s", "get")
	}()
	cancel()
	select {
	case code := <-done:
		if code != exitFailure || stderr.String() != "procctl: interrupted\n" {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("get did not end after cancel")
	}
}
