package procevents

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// procMsg builds a connector message as the kernel sends it: a cn_msg, a
// proc_event header and the event's data words, padded like the kernel's
// 40-byte proc_event.
func procMsg(what uint32, words ...uint32) []byte {
	data := make([]byte, 24)
	for i, w := range words {
		ne.PutUint32(data[4*i:], w)
	}
	return rawMsg(what, data)
}

func rawMsg(what uint32, data []byte) []byte {
	ev := make([]byte, procEventHead, procEventHead+len(data))
	ne.PutUint32(ev[0:], what)
	ne.PutUint32(ev[4:], 1)
	ne.PutUint64(ev[8:], uint64(90*time.Second))
	ev = append(ev, data...)
	b := make([]byte, cnMsgSize, cnMsgSize+len(ev))
	ne.PutUint32(b[0:], cnIdxProc)
	ne.PutUint32(b[4:], cnValProc)
	ne.PutUint32(b[8:], 7)
	ne.PutUint32(b[12:], 0)
	ne.PutUint16(b[16:], uint16(len(ev)))
	return append(b, ev...)
}

func commMsg(pid, tgid uint32, comm string) []byte {
	data := make([]byte, 24)
	ne.PutUint32(data[0:], pid)
	ne.PutUint32(data[4:], tgid)
	copy(data[8:], comm)
	return rawMsg(procEventComm, data)
}

func TestDecode(t *testing.T) {
	at := 90 * time.Second
	for _, tc := range []struct {
		name string
		in   []byte
		want Event
	}{
		{"fork of a process", procMsg(procEventFork, 10, 10, 11, 11),
			Event{Kind: Fork, Time: at, CPU: 1, ParentPID: 10, ParentTGID: 10, PID: 11, TGID: 11}},
		{"fork of a thread", procMsg(procEventFork, 10, 10, 12, 10),
			Event{Kind: Fork, Time: at, CPU: 1, ParentPID: 10, ParentTGID: 10, PID: 12, TGID: 10}},
		{"exec", procMsg(procEventExec, 11, 11),
			Event{Kind: Exec, Time: at, CPU: 1, PID: 11, TGID: 11}},
		{"exit killed by SIGKILL", procMsg(procEventExit, 11, 11, 9, 17, 10, 10),
			Event{Kind: Exit, Time: at, CPU: 1, PID: 11, TGID: 11, ExitCode: 9, ExitSignal: 17, ParentPID: 10, ParentTGID: 10}},
		{"exit before Linux 4.18, without the parent", rawMsg(procEventExit, procMsg(procEventExit, 11, 11, 0x100, 17)[cnMsgSize+procEventHead:][:16]),
			Event{Kind: Exit, Time: at, CPU: 1, PID: 11, TGID: 11, ExitCode: 0x100, ExitSignal: 17}},
		{"comm", commMsg(11, 11, "kube-controller"),
			Event{Kind: Comm, Time: at, CPU: 1, PID: 11, TGID: 11, Comm: "kube-controller"}},
		{"uid change is another kind", procMsg(0x4, 11, 11, 0, 0),
			Event{Kind: Other, Time: at, CPU: 1, PID: 11, TGID: 11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	other := procMsg(procEventExec, 11, 11)
	ne.PutUint32(other[0:], 4) // CN_IDX_CIFS
	long := procMsg(procEventExec, 11, 11)
	ne.PutUint16(long[16:], 200)
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short connector header", make([]byte, cnMsgSize-1)},
		{"another connector", other},
		{"length past the end", long},
		{"short event header", procMsg(procEventExec)[:cnMsgSize+8]},
		{"fork without its data", rawMsg(procEventFork, make([]byte, 12))},
		{"comm without its name", rawMsg(procEventComm, make([]byte, 8))},
		{"comm without its NUL", commMsg(11, 11, "sixteen-letters!")},
		{"exit without its code", rawMsg(procEventExit, make([]byte, 8))},
		{"exec of pid 0", procMsg(procEventExec, 0, 0)},
		{"exec of a negative pid", procMsg(procEventExec, 0xFFFFFFFF, 0xFFFFFFFF)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := Decode(tc.in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode = %v, %v; want an error wrapping ErrMalformed", got, err)
			}
		})
	}
}

// An answer to a subscription is the reader's business, never an event.
func TestDecodeAnswer(t *testing.T) {
	b := procMsg(procEventNone, 1)
	ne.PutUint32(b[12:], 42)
	m, err := decode(b)
	if err != nil || m.Kind != ack || m.ack != 42 || m.ackErr != 1 {
		t.Fatalf("decode = %+v, %v; want an answer to ack 41 with errno 1", m, err)
	}
	if e, _ := Decode(b); e.Kind != Other {
		t.Fatalf("Decode gives kind %v for an answer; want other", e.Kind)
	}
}

func TestEncodeControlDecodesAsTheKernelReadsIt(t *testing.T) {
	b := encodeControl(procCnMcastListen, 5, 6)
	if len(b) != cnMsgSize+4 || ne.Uint16(b[16:]) != 4 || ne.Uint32(b[cnMsgSize:]) != procCnMcastListen {
		t.Fatalf("encodeControl = %x; want a cn_msg of 4 bytes holding PROC_CN_MCAST_LISTEN", b)
	}
}

func TestIsProcess(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want bool
	}{
		{Event{Kind: Fork, PID: 11, TGID: 11}, true},
		{Event{Kind: Fork, PID: 12, TGID: 11}, false},
		{Event{Kind: Exit, PID: 11, TGID: 11}, true},
		{Event{Kind: Exit, PID: 12, TGID: 11}, false},
		{Event{Kind: Lost}, false},
	} {
		if got := tc.e.IsProcess(); got != tc.want {
			t.Errorf("%v IsProcess = %t; want %t", tc.e, got, tc.want)
		}
	}
}
