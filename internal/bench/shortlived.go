package bench

import (
	"encoding/binary"
	"os"
	"os/exec"
	"runtime"
)

// shortLivedELF is a complete static x86-64 Linux executable of 161 bytes
// that sleeps 2 ms (nanosleep) and exits 0: the short process of section
// 8's load. Started by ForkExec, /bin/true costs this machine 2.1 ms of
// CPU a start (1.9 ms in the child: the dynamic loader and libc's
// start-up), and two cores started at most 600 a second before any agent
// ran; this one costs 0.8 ms (0.57 ms in the child), so the load reaches
// 1,000 a second beside the agents and leaves them the CPU.
func shortLivedELF() []byte {
	code := []byte{
		0x48, 0x8d, 0x3d, 0x12, 0x00, 0x00, 0x00, // lea rdi, [rip+18] (the timespec)
		0x31, 0xf6, // xor esi, esi
		0xb8, 0x23, 0x00, 0x00, 0x00, // mov eax, 35 (nanosleep)
		0x0f, 0x05, // syscall
		0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
		0x31, 0xff, // xor edi, edi
		0x0f, 0x05, // syscall
	}
	code = binary.LittleEndian.AppendUint64(code, 0)         // tv_sec
	code = binary.LittleEndian.AppendUint64(code, 2_000_000) // tv_nsec
	const base, ehsize, phsize = 0x400000, 64, 56
	le := binary.LittleEndian
	b := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = le.AppendUint16(b, 2)                   // e_type: ET_EXEC
	b = le.AppendUint16(b, 0x3e)                // e_machine: x86-64
	b = le.AppendUint32(b, 1)                   // e_version
	b = le.AppendUint64(b, base+ehsize+phsize)  // e_entry: the code, after the headers
	b = le.AppendUint64(b, ehsize)              // e_phoff
	b = le.AppendUint64(b, 0)                   // e_shoff: no sections
	b = le.AppendUint32(b, 0)                   // e_flags
	b = le.AppendUint16(b, ehsize)              // e_ehsize
	b = le.AppendUint16(b, phsize)              // e_phentsize
	b = le.AppendUint16(b, 1)                   // e_phnum
	b = le.AppendUint16(b, 0)                   // e_shentsize
	b = le.AppendUint16(b, 0)                   // e_shnum
	b = le.AppendUint16(b, 0)                   // e_shstrndx
	size := uint64(ehsize + phsize + len(code)) //
	b = le.AppendUint32(b, 1)                   // p_type: PT_LOAD
	b = le.AppendUint32(b, 5)                   // p_flags: read, execute
	b = le.AppendUint64(b, 0)                   // p_offset
	b = le.AppendUint64(b, base)                // p_vaddr
	b = le.AppendUint64(b, base)                // p_paddr
	b = le.AppendUint64(b, size)                // p_filesz
	b = le.AppendUint64(b, size)                // p_memsz
	b = le.AppendUint64(b, 0x1000)              // p_align
	return append(b, code...)
}

// writeShortLived puts the load's program at path and says what it is:
// shortLivedELF on x86-64 Linux, else a symlink to /bin/true.
func writeShortLived(path string) (string, error) {
	_ = os.Remove(path)
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		if err := os.WriteFile(path, shortLivedELF(), 0o755); err != nil {
			return "", err
		}
		return "a static executable of 161 bytes that sleeps 2 ms and exits (internal/bench/shortlived.go)", nil
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		return "", err
	}
	if err := os.Symlink(truePath, path); err != nil {
		return "", err
	}
	return "/bin/true through a symlink", nil
}
