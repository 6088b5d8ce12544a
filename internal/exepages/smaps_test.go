package exepages

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A statically linked binary, a dynamically linked one's relocated
// read-only segment (with anonymous pages), its writable data, a shared
// mapping and a path with a space.
const sampleSmaps = `00400000-00c00000 r-xp 00000000 08:01 1234 /usr/bin/procwatch
Size:               8192 kB
Rss:                7600 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw
00c00000-01200000 r--p 00800000 08:01 1234 /usr/bin/procwatch
Rss:                2800 kB
Anonymous:             0 kB
01200000-01210000 r--p 00e00000 08:01 1234 /usr/bin/procwatch
Rss:                  64 kB
Anonymous:            16 kB
01210000-01240000 rw-p 00e10000 08:01 1234 /usr/bin/procwatch
Rss:                 192 kB
Anonymous:           192 kB
01240000-01250000 r--s 00000000 08:01 1234 /usr/bin/procwatch
Rss:                  64 kB
Anonymous:             0 kB
01250000-01260000 r--p 00000000 08:01 1234 /usr/bin/procwatch
Rss:                   0 kB
Anonymous:             0 kB
7f0000000000-7f0000100000 r-xp 00000000 08:01 99 /opt/my tools/lib.so
Rss:                 100 kB
Anonymous:             0 kB
7f0000100000-7f0000200000 rw-p 00000000 00:00 0
Rss:                  40 kB
Anonymous:            40 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  12 kB
`

func TestParseSmaps(t *testing.T) {
	maps, err := parseSmaps([]byte(sampleSmaps))
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 9 {
		t.Fatalf("parsed %d mappings, want 9", len(maps))
	}
	if got, want := maps[6].path, "/opt/my tools/lib.so"; got != want {
		t.Errorf("path with a space: %q, want %q", got, want)
	}
	if maps[7].path != "" || maps[8].path != "[stack]" {
		t.Errorf("paths of anonymous mappings: %q, %q", maps[7].path, maps[8].path)
	}
	if maps[0].start != 0x400000 || maps[0].end != 0xc00000 || maps[0].rss != 7600<<10 {
		t.Errorf("first mapping: %+v", maps[0])
	}
}

func TestReleasablePicksOnlyCleanReadOnlyMappingsOfTheExecutable(t *testing.T) {
	maps, err := parseSmaps([]byte(sampleSmaps))
	if err != nil {
		t.Fatal(err)
	}
	var got []uintptr
	for _, m := range releasable(maps, "/usr/bin/procwatch") {
		got = append(got, m.start)
	}
	// Not: the segment with anonymous pages, the writable one, the shared
	// one, one with nothing resident, nor any other file's.
	if diff := cmp.Diff([]uintptr{0x400000, 0xc00000}, got); diff != "" {
		t.Errorf("releasable (-want +got):\n%s", diff)
	}
}

func TestParseSmapsRejectsMalformedInput(t *testing.T) {
	for name, in := range map[string]string{
		"field first":   "Rss: 4 kB\n",
		"bad range":     "zz-10 r--p 0 08:01 1 /x\n",
		"reversed":      "20-10 r--p 0 08:01 1 /x\n",
		"short header":  "10-20 r--p\n",
		"bad rss value": "10-20 r--p 0 08:01 1 /x\nRss: many kB\n",
	} {
		if _, err := parseSmaps([]byte(in)); err == nil {
			t.Errorf("%s: parsed %q without an error", name, in)
		}
	}
}
