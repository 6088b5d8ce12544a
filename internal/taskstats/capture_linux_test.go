package taskstats

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/procwatch/procwatch/internal/nlsock"
)

var updateSeeds = flag.Bool("update-seeds", false, "write the captured messages to testdata")

// TestDecodeCapturedMessages registers a bare socket, runs a shell (one
// thread) and the test binary (many threads), and checks that the
// kernel's exit messages of both decode to what they were. With
// -update-seeds it keeps them in testdata, where TestDecodeTestdata and
// FuzzDecode read them.
func TestDecodeCapturedMessages(t *testing.T) {
	c, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{})
	if err != nil {
		t.Fatalf("a generic netlink socket is needed here: %v", err)
	}
	defer c.Close()
	// Every exit on the host comes to this socket, other test suites'
	// included: a buffer as large as the Reader's keeps them from
	// overrunning it.
	if err := nlsock.SetReadBuffer(c, defaultOptions().ReadBuffer); err != nil {
		t.Fatal(err)
	}
	gc := genetlink.NewConn(c)
	fam, err := gc.GetFamily(familyName)
	if err != nil {
		t.Fatalf("the TASKSTATS family is needed: run the tests as root on the host, on a kernel with CONFIG_TASKSTATS: %v", err)
	}
	src := &genlSource{c: c, gc: gc, fam: fam}
	mask, err := possibleCPUs(defaultOptions().cpuPossible)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.register(mask, false, 1); err != nil {
		t.Fatalf("registering: %v", err)
	}
	defer src.register(mask, true, 2)

	sh := exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done")
	if err := sh.Run(); err != nil {
		t.Fatal(err)
	}
	shPID := uint32(sh.Process.Pid)
	goPID, _ := runBurner(t, 20*time.Millisecond)

	captured := map[string][]byte{}
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	for len(captured) < 3 && ctx.Err() == nil {
		if err := c.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		msgs, err := c.Receive()
		if err != nil {
			if os.IsTimeout(err) {
				continue
			}
			t.Fatalf("receiving: %v", err)
		}
		for _, m := range msgs {
			if m.Header.Type != netlink.HeaderType(fam.ID) {
				continue
			}
			d, err := Decode(m.Data)
			if err != nil {
				t.Fatalf("the kernel's message %x: %v", m.Data, err)
			}
			t.Logf("%+v", d)
			var name string
			switch {
			case d.Task.PID == shPID:
				name = "single-thread"
				if d.Task.Comm != "sh" || d.HasGroup {
					t.Errorf("the shell's exit: %+v", d)
				}
			case d.Task.TGID == goPID && d.HasGroup:
				name = "thread-group"
			case d.Task.TGID == goPID && d.Task.PID != goPID:
				name = "thread"
			default:
				continue
			}
			if _, ok := captured[name]; !ok {
				captured[name] = append([]byte(nil), m.Data...)
			}
		}
	}
	if len(captured) < 3 {
		t.Fatalf("captured %d of 3 kinds of message", len(captured))
	}
	if !*updateSeeds {
		return
	}
	for _, dir := range []string{"testdata", filepath.Join("testdata", "fuzz", "FuzzDecode")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k, b := range captured {
		if err := os.WriteFile(filepath.Join("testdata", k+".bin"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join("testdata", "fuzz", "FuzzDecode", "captured-"+k), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
