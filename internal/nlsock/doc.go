// Package nlsock holds what the agent's two netlink readers,
// internal/procevents (the process events connector) and
// internal/taskstats (the exit records), do alike, so that each rule is
// written once: the options they take (Options), the receive buffer
// (SetReadBuffer), reading until the socket breaks (ReadLoop, Receive),
// the counters (Stats), and the bounded, lossy, growable queue between the
// reading goroutine and the consumer (Queue, Forward), which announces
// every gap with one Lost message in its place.
package nlsock
