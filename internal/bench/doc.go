// Package bench measures procwatch against the physical floor of what it
// does, in the same run, so that a ratio still means something on a noisy
// machine. It is what `make bench` (cmd/benchreport) runs.
//
// Every measurement has two sides: the project's figure, through its
// exported API or its built binaries, and a floor, the least any program must
// do for the same result (raw go-zookeeper calls, a bare directory read plus
// one stat read per process, a JSON scanner). The two sides run interleaved,
// A/B/A/B, in one process, against the same ZooKeeper servers, so a burst of
// load from elsewhere on the machine hits both and cancels out of the ratio.
//
// Where a peer does the same job (process-exporter, node_exporter's
// processes collector), it runs beside the agent on the same host and
// workload in the same run, and a row gives the ratio to it as well. A
// missing peer fails its section with how to install it.
//
// The sections:
//
//  1. change propagation (Update returning to every other store's
//     subscriber, against a raw set -> watch -> get loop);
//  2. end to end (procctl globs add -> the agent's /metrics);
//  3. contended writes (Update against a raw get + compare-and-set loop);
//  4. reads (Read, DirtyRead, ConsistentRead against their floors);
//  5. scans of generated procfs trees and of the live host;
//  6. the footprint of a running agent, beside the floor, process-exporter
//     and node_exporter, at 2,000 and 10,000 processes;
//  7. jsondiff.Diff (zkstate's event diff) of a 1 MiB document;
//  8. the agent's CPU under 1,000 process starts a second, with and
//     without process events, against a bare netlink reader.
//
// Nothing here is imported by the programs it measures.
package bench
