// Package zkopts holds the ZooKeeper settings that procwatch and procctl
// share: the defaults of --zk, --path and the session timeouts, the one
// rule by which environment variables stand in for flags (ApplyEnv), and
// the security flags (--zk-auth-file, --zk-tls-ca, --zk-tls-cert,
// --zk-tls-key, --zk-tls-server-name) turned into zkstate session options.
// It also explains connection failures in words.
//
// What it guarantees:
//
//   - Flag > environment > default, in both programs alike; an empty
//     variable is the same as an unset one.
//   - Passwords come only from a file, never from a flag value or an
//     environment variable's value, which `ps` and /proc/PID/environ show.
//     A credentials file (or TLS key) readable by every user of the host is
//     refused with a message saying how to fix it, before anything connects.
//   - No value of this package prints a password: Credentials formats as
//     its scheme and user only, for fmt, %#v and slog alike.
//   - TLS verifies the server's certificate, always: there is no switch to
//     turn verification off. The server name checked is the host of each
//     address dialled, or --zk-tls-server-name. A certificate the client
//     does not trust is reported as such (Explain), not as "unreachable".
//   - With credentials, the nodes a program creates for itself (an agent's
//     listener node, procctl's lock nodes and write receipt) are readable by
//     everyone and writable by that identity only (OwnACL).
package zkopts
