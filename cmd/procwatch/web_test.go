package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/testutil"
)

// TestSystemdSocketActivation runs the binary as systemd would start it
// for a .socket unit: the listening socket inherited as fd 3, LISTEN_FDS
// and LISTEN_PID set. With --web.systemd-socket it serves on that socket,
// an address it was never told, while ZooKeeper is down.
func TestSystemdSocketActivation(t *testing.T) {
	bin := buildProcwatch(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	// The shell's pid is the agent's once it execs, as LISTEN_PID must be.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, bin,
		"--web.systemd-socket", "--web.listen-address", freeAddr(t), "--zk", freeAddr(t), "--log.format", "json")
	cmd.Env = append(os.Environ(), "PROCWATCH_PATH=/procwatch-socket")
	cmd.ExtraFiles = []*os.File{f}
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The agent holds the socket now.
	f.Close()
	l.Close()
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("procwatch stderr:\n%s", stderr.String())
		}
	}()

	client := &http.Client{Timeout: 2 * time.Second}
	testutil.EventuallySaying(t, 30*time.Second, "/healthz on the inherited socket "+addr, func() (bool, string) {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	}, func() (bool, string) {
		select {
		case <-exited:
			return true, "procwatch exited: " + errString(waitErr)
		default:
			return false, ""
		}
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("procwatch exited with %v after SIGTERM", waitErr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("procwatch still running 15 s after SIGTERM")
	}
}

func errString(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
