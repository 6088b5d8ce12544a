package procevents

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// openInChild is set in the test binary that TestOpenOutsideTheHostsNetwork
// runs in a network namespace of its own.
const openInChild = "PROCEVENTS_TEST_OPEN_IN_CHILD"

// Open from a network namespace other than the host's fails with
// ErrNamespace and a reason that names it, at once.
func TestOpenOutsideTheHostsNetwork(t *testing.T) {
	if os.Getenv(openInChild) != "" {
		r, err := Open(context.Background())
		if err == nil {
			r.Close()
		}
		fmt.Printf("namespace=%t err=%v\n", errors.Is(err, ErrNamespace), err)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("this test runs itself in a new network namespace with unshare(1): apt-get install util-linux (%v)", err)
	}
	cmd := exec.Command(unshare, "--net", os.Args[0], "-test.run=^TestOpenOutsideTheHostsNetwork$", "-test.count=1")
	cmd.Env = append(os.Environ(), openInChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unshare --net (needs root): %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "namespace=true err=procevents: not in the host's namespaces") ||
		!strings.Contains(string(out), "network namespace") {
		t.Fatalf("Open in a new network namespace; want ErrNamespace naming the network namespace, got:\n%s", out)
	}
	t.Logf("%s", strings.SplitN(string(out), "\n", 2)[0])
}
