package procevents

import (
	"encoding/binary"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startLoad runs the load generator at perSecond process starts per second
// until the benchmark ends.
func startLoad(b *testing.B, perSecond int) {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), loadChild+"="+strconv.Itoa(perSecond))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("load generator: %v", err)
		}
	})
}

// cpuTime is this process's user and system CPU so far.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareReader is the floor: a blocking recvmsg loop on a raw connector
// socket that only counts bytes, with the same receive buffer.
type bareReader struct {
	fd       int
	messages atomic.Uint64
	bytes    atomic.Uint64
	stop     atomic.Bool
	done     sync.WaitGroup
}

func openBare(b *testing.B) *bareReader {
	b.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		b.Fatalf("a raw connector socket (root needed): %v", err)
	}
	must := func(what string, err error) {
		if err != nil {
			unix.Close(fd)
			b.Fatalf("bare reader: %s: %v", what, err)
		}
	}
	must("bind", unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}))
	must("SO_RCVBUFFORCE", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, defaultOptions().readBuffer))
	// A receive timeout lets the loop see stop: closing a netlink socket
	// does not wake a thread blocked in recvmsg on it.
	must("SO_RCVTIMEO", unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}))
	ctl := encodeControl(procCnMcastListen, 1, 1)
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(ctl))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.SizeofNlMsghdr+len(ctl)))
	binary.NativeEndian.PutUint16(msg[4:], unix.NLMSG_DONE)
	msg = append(msg, ctl...)
	must("subscribe", unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}))
	r := &bareReader{fd: fd}
	r.done.Go(func() {
		buf := make([]byte, messageBuffer)
		for !r.stop.Load() {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err == nil {
				r.messages.Add(1)
				r.bytes.Add(uint64(n))
			}
		}
	})
	return r
}

func (r *bareReader) close() {
	r.stop.Store(true)
	r.done.Wait()
	unix.Close(r.fd)
}

// BenchmarkCPUAt1000StartsPerSecond measures, in one run and under one
// load of 1,000 process starts per second from another process, this
// process's CPU with no reader, with the bare recvmsg loop, and with a
// Reader and a consumer that counts what it delivers. Each iteration is
// one window of each; run it with -benchtime=5x.
func BenchmarkCPUAt1000StartsPerSecond(b *testing.B) {
	const window = time.Second
	startLoad(b, 1000)
	var idle, bare, reader time.Duration
	var bareMsgs, events uint64
	measure := func(run func()) time.Duration {
		start := cpuTime(b)
		run()
		return cpuTime(b) - start
	}
	for b.Loop() {
		idle += measure(func() { time.Sleep(window) })

		br := openBare(b)
		bare += measure(func() { time.Sleep(window) })
		br.close()
		bareMsgs += br.messages.Load()

		r := openLive(b)
		var n atomic.Uint64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range r.Events() {
				n.Add(1)
			}
		}()
		reader += measure(func() { time.Sleep(window) })
		r.Close()
		<-done
		events += n.Load()
		if st := r.Stats(); st.Dropped+st.Overruns != 0 {
			b.Errorf("losses under the load: %+v", st)
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(per(idle), "idle-cpu-ms/s")
	b.ReportMetric(per(bare), "bare-cpu-ms/s")
	b.ReportMetric(per(reader), "reader-cpu-ms/s")
	b.ReportMetric(float64(bareMsgs)/float64(b.N), "bare-msgs/s")
	b.ReportMetric(float64(events)/float64(b.N), "reader-events/s")
	if bare > 0 {
		b.ReportMetric(float64(reader)/float64(bare), "reader/bare")
	}
}
