package zktest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ErrNotServing is returned by Srvr while a server is up but not serving
// clients, typically an ensemble member during a leader election or without a
// quorum.
var ErrNotServing = errors.New("zktest: server is not currently serving requests")

// SrvrInfo is a server's answer to the "srvr" four-letter command.
type SrvrInfo struct {
	// Version is the build's version, e.g. "3.8.0-${mvngit.commit.id}" for
	// Debian's package (which is why zk.FLWSrvr cannot parse it).
	Version string
	// Mode is "standalone", "leader", "follower" or "observer".
	Mode string
	// Zxid is the last transaction id the server has seen.
	Zxid int64
	// Received and Sent count packets since the server started.
	Received, Sent int64
	// Connections is the number of client connections now open, the srvr
	// probe itself included.
	Connections int64
	// Outstanding is the number of queued requests.
	Outstanding int64
	// NodeCount is the number of znodes.
	NodeCount int64
}

// Srvr sends "srvr" to the server at addr over a plain TCP connection and
// parses the reply. The whole exchange must finish within timeout. A server
// that is up but not serving returns an error wrapping ErrNotServing.
//
// It exists because zk.FLWSrvr rejects the version line of Debian's build.
func Srvr(addr string, timeout time.Duration) (SrvrInfo, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return SrvrInfo{}, fmt.Errorf("zktest: srvr %s: %w", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return SrvrInfo{}, fmt.Errorf("zktest: srvr %s: %w", addr, err)
	}
	if _, err := io.WriteString(conn, "srvr"); err != nil {
		return SrvrInfo{}, fmt.Errorf("zktest: srvr %s: %w", addr, err)
	}
	// The server closes the connection after its reply.
	reply, err := io.ReadAll(conn)
	if err != nil {
		return SrvrInfo{}, fmt.Errorf("zktest: srvr %s: %w", addr, err)
	}
	info, err := parseSrvr(string(reply))
	if err != nil {
		return SrvrInfo{}, fmt.Errorf("zktest: srvr %s: %w", addr, err)
	}
	return info, nil
}

// parseSrvr parses the "Key: value" lines of a srvr reply. Lines it does not
// know, such as the leader's "Proposal sizes", are ignored.
func parseSrvr(reply string) (SrvrInfo, error) {
	if strings.Contains(reply, "not currently serving requests") {
		return SrvrInfo{}, ErrNotServing
	}
	var info SrvrInfo
	var err error
	for line := range strings.SplitSeq(reply, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch key {
		case "Zookeeper version":
			// "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC"
			info.Version, _, _ = strings.Cut(value, ",")
		case "Mode":
			info.Mode = value
		case "Zxid":
			info.Zxid, err = strconv.ParseInt(value, 0, 64) // "0x100000002"
		case "Received":
			info.Received, err = strconv.ParseInt(value, 10, 64)
		case "Sent":
			info.Sent, err = strconv.ParseInt(value, 10, 64)
		case "Connections":
			info.Connections, err = strconv.ParseInt(value, 10, 64)
		case "Outstanding":
			info.Outstanding, err = strconv.ParseInt(value, 10, 64)
		case "Node count":
			info.NodeCount, err = strconv.ParseInt(value, 10, 64)
		}
		if err != nil {
			return SrvrInfo{}, fmt.Errorf("bad %q line in reply: %w", key, err)
		}
	}
	if info.Mode == "" {
		// For example "srvr is not executed because it is not in the whitelist."
		return SrvrInfo{}, fmt.Errorf("no Mode line in reply %q", strings.TrimSpace(reply))
	}
	return info, nil
}
