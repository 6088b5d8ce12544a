package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/zktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRunServesUntilCancelled runs zkdev as the demo does: it must write a
// connect string that reaches a serving ZooKeeper, and, once stopped, leave
// neither the server nor the file behind.
func TestRunServesUntilCancelled(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "zk.addr")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--addr-file", addrFile}, &stdout, &stderr) }()

	var addr string
	deadline := time.Now().Add(60 * time.Second)
	for addr == "" {
		select {
		case code := <-done:
			t.Fatalf("zkdev exited with %d before serving: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no address file after 60s")
		}
		if data, err := os.ReadFile(addrFile); err == nil {
			addr = strings.TrimSpace(string(data))
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	info, err := zktest.Srvr(addr, 5*time.Second)
	if err != nil || info.Mode != "standalone" {
		t.Fatalf("srvr %s: %+v, %v", addr, info, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after cancel; want 0\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("zkdev did not stop within 30s of the cancel")
	}
	if got := strings.TrimSpace(stdout.String()); got != addr {
		t.Errorf("stdout %q; want the connect string %q", got, addr)
	}
	if _, err := os.Stat(addrFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the address file outlived zkdev: %v", err)
	}
	if _, err := zktest.Srvr(addr, time.Second); err == nil {
		t.Errorf("ZooKeeper at %s still answers after zkdev stopped", addr)
	}
}

func TestRunRejectsBadUsage(t *testing.T) {
	for _, args := range [][]string{{"--servers", "2"}, {"extra"}, {"--no-such-flag"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("zkdev %q: exit %d; want 2 (stderr %q)", args, code, stderr.String())
		}
	}
}
