package pattern_test

import (
	"fmt"

	"github.com/procwatch/procwatch/internal/pattern"
)

func ExampleParse() {
	for _, g := range []string{"nginx*", "/usr/sbin/*", "cmdline:*kafka*", "user:nginx", "cgroup:system.slice/*", "{a,b"} {
		p, err := pattern.Parse(g)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(g, p.Kind() == pattern.Exe, p.Match("nginx"))
	}
	// Output:
	// nginx* false true
	// /usr/sbin/* true false
	// cmdline:*kafka* false false
	// user:nginx false true
	// invalid glob "cgroup:system.slice/*": a cgroup path starts with '/' (as in /proc/PID/cgroup): write "cgroup:/system.slice/*"
	// invalid glob "{a,b": glob: syntax error at 4: unclosed `{`
}
