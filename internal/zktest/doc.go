// Package zktest starts real ZooKeeper servers, from Debian's zookeeper
// package, for tests and for the local demo. Nothing is mocked: procwatch's
// guarantees are about what a real ensemble does when members crash, leaders
// move and sessions expire, so the tests must meet the real thing.
//
// What it guarantees:
//
//   - Every member runs in its own temporary directory (dataDir, zoo.cfg, myid,
//     log file) on loopback ports that no other cluster holds, in this process
//     or in any other process using zktest, so parallel tests and parallel
//     test binaries (go test ./...) never collide. The directories live under
//     $TMPDIR/zktest-<uid>; those of a killed test binary are removed by the
//     next one.
//   - Start returns only once every member answers "srvr" with its final mode
//     (standalone, or leader/follower for an ensemble); a failure says why and
//     carries the tail of the server log.
//   - No java process outlives the test binary: Close kills every member and
//     waits for it to be reaped, tests register Close with t.Cleanup, and the
//     kernel kills each server with SIGKILL if the test binary dies first
//     (Pdeathsig, see process.go).
//   - Missing java or zookeeper.jar is a test failure naming `make deps`, never
//     a skip: a skipped integration test lets CI pass without testing anything.
//
// WithTLS adds a secure client port to every member (ZooKeeper's Netty
// factory, PEM keystores); NewCA makes the certificates for it in the test's
// temporary directory.
//
// Proxy sits between a client and the servers to reproduce partitions (Cut),
// silent network loss (Blackhole) and, through it, session expiry.
package zktest
