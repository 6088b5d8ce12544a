// Package e2e holds procwatch's end-to-end tests and the checks of what
// deploy/ and the Dockerfile ship. It has no code of its own; everything is
// in its tests.
//
// The tests run the real programs, built the way the Dockerfile builds them
// (static binaries): a real ZooKeeper from internal/zktest, agents as
// separate processes, procctl as an operator runs it, a second ZooKeeper
// client (kazoo, from python3-kazoo) writing the payload around procctl, and
// Debian's Prometheus scraping the agents with the alert rules of
// deploy/prometheus loaded. The deploy files are checked by the tools that
// consume them where this machine has them (promtool, systemd-analyze,
// ZooKeeper itself) and by parsing otherwise, and every metric name they
// use is checked against what a running agent exports.
//
// A missing tool (prometheus, promtool, python3-kazoo, systemd-analyze,
// zookeeper) fails the tests with a pointer to `make deps`; nothing is
// skipped.
package e2e
