package procevents

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

var updateSeeds = flag.Bool("update-seeds", false, "write the captured messages to testdata/fuzz/FuzzDecode")

// TestDecodeCapturedMessages reads the kernel's own messages off a bare
// socket (a fork, exec, comm change and exit of a shell it starts, and the
// answer to its subscription) and checks that each decodes to what
// happened. With -update-seeds it keeps them as FuzzDecode's seeds.
func TestDecodeCapturedMessages(t *testing.T) {
	c, err := netlink.Dial(unix.NETLINK_CONNECTOR, &netlink.Config{Groups: cnIdxProc})
	if err != nil {
		t.Fatalf("process events are needed here: run the tests as root on the host: %v", err)
	}
	defer c.Close()
	const nonceAck = 0x5eed
	if _, err := c.Send(netlink.Message{Header: netlink.Header{Type: netlink.Done}, Data: encodeControl(procCnMcastListen, 1, nonceAck)}); err != nil {
		t.Fatalf("subscribing: %v", err)
	}
	defer c.Send(netlink.Message{Header: netlink.Header{Type: netlink.Done}, Data: encodeControl(procCnMcastIgnore, 2, nonceAck)})

	cmd := exec.Command("/bin/sh", "-c", "printf captured > /proc/self/comm")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}

	captured := map[Kind][]byte{}
	if err := c.SetReadDeadline(time.Now().Add(liveWait)); err != nil {
		t.Fatal(err)
	}
	for len(captured) < 5 {
		msgs, err := c.Receive()
		if err != nil {
			t.Fatalf("receiving, with %d of 5 kinds captured: %v", len(captured), err)
		}
		for _, m := range msgs {
			d, err := decode(m.Data)
			if err != nil {
				t.Fatalf("the kernel's message %x: %v", m.Data, err)
			}
			mine := d.PID == pid && d.TGID == pid
			switch {
			case d.Kind == ack && d.ack == nonceAck+1:
				if d.ackErr != 0 {
					t.Fatalf("the kernel refused the subscription: errno %d", d.ackErr)
				}
			case d.Kind == Fork && mine:
				if d.ParentTGID != int32(os.Getpid()) {
					t.Errorf("fork of %d: parent %d; want this test, %d", pid, d.ParentTGID, os.Getpid())
				}
			case d.Kind == Exec && mine:
			case d.Kind == Comm && mine:
				if d.Comm != "captured" {
					t.Errorf("comm event %v; want comm %q", d.Event, "captured")
				}
			case d.Kind == Exit && mine:
				if s := d.Status(); !s.Exited() || s.ExitStatus() != 0 {
					t.Errorf("exit event %v; want a clean exit", d.Event)
				}
			default:
				continue
			}
			if _, ok := captured[d.Kind]; !ok {
				captured[d.Kind] = append([]byte(nil), m.Data...)
			}
		}
	}
	if !*updateSeeds {
		return
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, b := range captured {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, "captured-"+k.String()), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
