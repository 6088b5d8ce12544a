package monitor_test

import (
	"fmt"

	"github.com/procwatch/procwatch/internal/monitor"
)

func ExampleCompile() {
	m, invalid := monitor.Compile([]string{
		"kube-controller-manager*", // the full name, not the 15-byte comm
		"/usr/local/bin/*",         // the executable path; '*' stays in one segment
		"cmdline:*--leader-elect*", // the command line, joined by spaces
		"[oops",                    // invalid: skipped and reported
	})
	for _, e := range invalid {
		fmt.Println(e)
	}
	p := monitor.Proc{
		Name:    "kube-controller-manager",
		Comm:    "kube-controller",
		Exe:     "/usr/local/bin/kube-controller-manager",
		Cmdline: []string{"/usr/local/bin/kube-controller-manager", "--leader-elect=true"},
	}
	fmt.Println(m.MatchingGlobs(monitor.TargetOf(&p)))
	// Output:
	// invalid glob "[oops": glob: syntax error at 5: unexpected end of input
	// [kube-controller-manager* /usr/local/bin/* cmdline:*--leader-elect*]
}
