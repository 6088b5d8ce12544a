// Package pattern is the syntax of procwatch's process globs: what makes a
// glob valid and which property of a process it is matched against. It is
// the one definition both sides use: the watch list's validation (procctl
// refuses an invalid glob before writing it) and the monitor's matching
// (the agent skips one somebody else wrote), so the two can never disagree
// on what a glob means.
//
// A glob is one of:
//
//   - a pattern without '/', matched against the process name (the full
//     name, not the kernel's 15-byte comm);
//   - a pattern containing '/', matched against the executable path with
//     shell semantics: '*' and '?' stay within a path segment and "**/"
//     spans segments ("/usr/sbin/*", "/opt/**/bin/java"); a pattern such as
//     "{nginx,/usr/sbin/apache2}" is therefore a path pattern as a whole;
//   - "cmdline:" followed by a pattern matched against the command line, its
//     arguments joined by single spaces, where '*' crosses '/';
//   - "user:" followed by a pattern matched against the name of the
//     process's real user, or its numeric uid when it has no name
//     ("user:postgres", "user:10[0-9][0-9]");
//   - "unit:" followed by a pattern matched against the systemd unit the
//     process runs in ("unit:nginx.service", "unit:session-*.scope");
//   - "cgroup:" followed by a pattern matched against the process's cgroup
//     v2 path with the path semantics above ("cgroup:/system.slice/*",
//     "cgroup:/kubepods.slice/**").
//
// A prefix followed by nothing is invalid, and so is a user, unit or cgroup
// pattern that could never match what it selects: one starting or ending
// with whitespace, a unit pattern with '/', a cgroup pattern starting with a
// literal other than '/'.
//
// The patterns are github.com/gobwas/glob v1 patterns.
package pattern
