package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/procwatch/procwatch/internal/procevents/bare"
)

// childNetlink is the floor of the agent's process events: a blocking
// recvmsg loop on a connector socket subscribed to process events
// (package bare), which only counts the messages and the exec events among
// them. It prints "ready" once subscribed and, at SIGTERM, "messages N
// execs M" before it exits.
func childNetlink() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	sock, err := bare.Open()
	if err != nil {
		return fmt.Errorf("%w (root or CAP_NET_ADMIN needed before Linux 6.6)", err)
	}
	defer func() { _ = sock.Close() }()
	fmt.Println("ready")
	var messages, execs uint64
	buf := make([]byte, 4096)
	for ctx.Err() == nil {
		n, err := sock.Recv(buf)
		if errors.Is(err, bare.ErrTimeout) {
			continue
		}
		if err != nil {
			return fmt.Errorf("recvmsg: %w", err)
		}
		messages++
		if bare.IsExec(buf[:n]) {
			execs++
		}
	}
	fmt.Printf("messages %d execs %d\n", messages, execs)
	return nil
}

// netlinkFloor is the running floor of the process events section.
type netlinkFloor struct {
	*child
	lines chan string
}

// startNetlinkFloor runs childNetlink from self and waits until it has
// subscribed.
func startNetlinkFloor(self, logDir string) (*netlinkFloor, error) {
	c := &child{name: "bare netlink reader", log: filepath.Join(logDir, "netlink.log")}
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logf.Close() }()
	c.cmd = exec.Command(self)
	c.cmd.Env = append(os.Environ(), ChildEnv+"=netlink")
	c.cmd.Stderr = logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// A pipe of our own rather than StdoutPipe, which Wait closes, maybe
	// before the last line, the counts, is read.
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.cmd.Stdout = w
	err = c.cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = out.Close()
		return nil, err
	}
	f := &netlinkFloor{child: c, lines: make(chan string, 2)}
	go func() {
		defer func() { _ = out.Close() }()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f.lines <- sc.Text()
		}
		close(f.lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case l := <-f.lines:
		if l == "ready" {
			return f, nil
		}
	case <-time.After(30 * time.Second):
	}
	c.stop()
	log, _ := os.ReadFile(c.log)
	return nil, fmt.Errorf("the bare netlink reader did not start; its log:\n%s", strings.TrimSpace(string(log)))
}

// finish stops the floor and returns the counts it printed.
func (f *netlinkFloor) finish() (messages, execs uint64, err error) {
	f.stop()
	for l := range f.lines {
		if _, err := fmt.Sscanf(l, "messages %d execs %d", &messages, &execs); err == nil {
			return messages, execs, nil
		}
	}
	log, _ := os.ReadFile(f.log)
	return 0, 0, fmt.Errorf("the bare netlink reader reported no counts; its log:\n%s", strings.TrimSpace(string(log)))
}
