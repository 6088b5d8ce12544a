package bench

import (
	"bufio"
	"context"
	"encoding/binary"
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

	"golang.org/x/sys/unix"
)

// The process events connector's constants (linux/connector.h,
// linux/cn_proc.h) the floor needs; internal/procevents keeps its own.
const (
	cnIdxProc         = 1 // CN_IDX_PROC
	cnValProc         = 1 // CN_VAL_PROC
	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN
	procEventExec     = 0x2
	// cnMsgLen is struct cn_msg: id (idx, val), seq, ack, len, flags.
	cnMsgLen = 20
	// netlinkBuffer is the receive buffer the floor asks for, as
	// internal/procevents' default.
	netlinkBuffer = 4 << 20
)

// childNetlink is the floor of the agent's process events: a blocking
// recvmsg loop on a connector socket subscribed to process events, which
// only counts the messages and the exec events among them. It prints
// "ready" once subscribed and, at SIGTERM, "messages N execs M" before it
// exits.
func childNetlink() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return fmt.Errorf("a connector socket (root or CAP_NET_ADMIN needed): %w", err)
	}
	defer func() { _ = unix.Close(fd) }()
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, netlinkBuffer); err != nil {
		return fmt.Errorf("SO_RCVBUFFORCE: %w", err)
	}
	// A receive timeout lets the loop see the signal: closing a netlink
	// socket does not wake a thread blocked in recvmsg on it.
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}); err != nil {
		return fmt.Errorf("SO_RCVTIMEO: %w", err)
	}
	msg := make([]byte, unix.SizeofNlMsghdr+cnMsgLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	cn := msg[unix.SizeofNlMsghdr:]
	ne.PutUint32(cn[0:], cnIdxProc)
	ne.PutUint32(cn[4:], cnValProc)
	ne.PutUint16(cn[16:], 4)
	ne.PutUint32(cn[cnMsgLen:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("subscribing: %w", err)
	}
	fmt.Println("ready")
	var messages, execs uint64
	buf := make([]byte, 4096)
	const whatOff = unix.SizeofNlMsghdr + cnMsgLen // proc_event.what
	for ctx.Err() == nil {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("recvmsg: %w", err)
		}
		messages++
		if n >= whatOff+4 && ne.Uint32(buf[whatOff:]) == procEventExec {
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
