package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"
)

// probeTimeout bounds the dial of each server in allRefused. A refusal
// comes back within a round trip; a server that takes longer is not
// refusing, and is left to the session's own connecting and --timeout.
const probeTimeout = time.Second

// defaultClientPort is the port the ZooKeeper client adds to an address
// given without one.
const defaultClientPort = "2181"

// refusedError says that every ZooKeeper server refused the connection: no
// server listens on those ports, and waiting for --timeout would not change
// that within the minute.
type refusedError struct {
	servers string
	// refused are the addresses dialled, each of which refused.
	refused []string
}

func (e *refusedError) forPeople() {}

func (e *refusedError) Error() string {
	if len(e.refused) == 1 {
		return fmt.Sprintf("ZooKeeper at %s is unreachable (connection refused)", e.servers)
	}
	per := make([]string, len(e.refused))
	for i, a := range e.refused {
		per[i] = a + ": connection refused"
	}
	return fmt.Sprintf("ZooKeeper at %s is unreachable (every server refused the connection: %s)", e.servers, strings.Join(per, "; "))
}

// allRefused dials every server of the comma-separated list at once and
// returns a *refusedError when each of them refused the connection
// (ECONNREFUSED), nil otherwise: a server that accepts, that does not
// answer within probeTimeout, whose name does not resolve, or a cancelled
// ctx all leave the verdict to the ZooKeeper session and --timeout.
//
// The ZooKeeper client retries a refused server list every second until
// its context ends; an operator who typed the wrong port should hear so at
// once rather than after --timeout. The agent never calls this: it must
// start, serve its cache file and wait while ZooKeeper is down.
func allRefused(ctx context.Context, servers string) error {
	var addrs []string
	for s := range strings.SplitSeq(servers, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(s, defaultClientPort)
		}
		addrs = append(addrs, s)
	}
	if len(addrs) == 0 {
		return nil
	}
	refused := make([]bool, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() {
			d := net.Dialer{Timeout: probeTimeout}
			c, err := d.DialContext(ctx, "tcp", a)
			if err == nil {
				c.Close()
				return
			}
			refused[i] = errors.Is(err, syscall.ECONNREFUSED)
		})
	}
	wg.Wait()
	for _, r := range refused {
		if !r {
			return nil
		}
	}
	if ctx.Err() != nil {
		// Interrupted meanwhile: say that, not "refused".
		return nil
	}
	return &refusedError{servers: servers, refused: addrs}
}
