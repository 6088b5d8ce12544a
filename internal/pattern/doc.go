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
//     arguments joined by single spaces, where '*' crosses '/'.
//
// The patterns are github.com/gobwas/glob v1 patterns.
package pattern
