// Package nlsock holds what the agent's two netlink readers,
// internal/procevents (the process events connector) and
// internal/taskstats (the exit records), do alike to their sockets, so
// that the rule is written once.
package nlsock
