// Package zkstate shares one typed Go value between many processes through
// ZooKeeper, as a JSON document, and tells each of them when it changes.
//
// Under a root such as /procwatch it keeps:
//
//	<root>/payload     the JSON document
//	<root>/listeners/  one ephemeral node per live Store (see Member)
//	<root>/lock/       the write lock: ephemeral-sequential nodes, lowest holds it
//	<root>/writes/     one write receipt per writing Store (see receipts.go)
//
// What a Store guarantees:
//
//   - Reads. Read answers from memory and fails with ErrStale when the copy
//     was not verified against the server within the staleness bound
//     (default 30 s); DirtyRead never fails and says how old the copy is.
//     ConsistentRead is linearizable: it confirms the version with a quorum
//     operation (a multi holding a version check), not with sync+get, which
//     ZooKeeper does not make linearizable.
//   - Writes. Update runs a function on a private copy of the newest value and
//     writes the result under a ZooKeeper lock with compare-and-set, fenced
//     by the lock node so that a writer whose session was lost cannot commit.
//     Concurrent updates from any number of processes are applied one after
//     another; none is lost. CompareAndSwap writes only over a given version.
//     Writes larger than the payload limit fail with ErrTooLarge before
//     anything is sent. Fields of the document that T does not know are kept.
//   - Truthful outcomes. A write whose reply was lost with the connection is
//     looked up after reconnecting and reported as done only if it was
//     applied, and never applied twice. ErrUnknownOutcome is returned only
//     when the evidence cannot decide.
//   - Events. Every subscriber receives every change, local or remote, in
//     version order, after it committed, as Added/Modified/Removed changes
//     with JSON Pointer paths. Events chain without gap or repeat; changes
//     the watch did not see one by one arrive merged. A slow subscriber never
//     blocks the engine or other subscribers; on overflow it gets one resync
//     event instead of losing anything. SubscribeWithNotices also delivers,
//     in order with the events, a Notice when the payload is deleted,
//     re-created or holds an invalid version; notices leave the chain as it
//     is.
//   - Bad data. A document that is not JSON, does not fit T or fails T's
//     own Check (Checker) never crashes anything and never replaces the
//     last good value; the Store marks itself invalid, counts and logs it
//     once per version, and recovers at the next good document. Under
//     WithStrictDecoding (or for a StrictDocument) so is a document with a
//     key given twice or one that names a field of T only when case is
//     ignored, at any depth.
//   - Sessions. A disconnect longer than the session timeout counts as a lost
//     session. After a loss the Store re-registers its listener node, re-arms
//     its watch, re-reads the document and publishes what changed meanwhile,
//     without any action from the caller. A timer re-verifies the version
//     (default every 5 s), so a watch lost in a reconnect can delay a change
//     but never hide it.
//   - Members. Each Store's listener node holds its Member fields and what
//     the instance publishes beside them (SetMemberInfo, at most
//     MaxMemberInfo bytes); it is re-created after a session loss or a
//     deletion with the latest info. Members lists the live instances and
//     WatchMembers follows them.
//
// Every blocking method takes a context; every failure that has a class wraps
// one of the sentinel errors (ErrStale, ErrConflict, ...), to be tested with
// errors.Is.
//
// # Layout
//
// One concept per file:
//
//	session.go      Session: the connection, ordered SessionEvents, "disconnected
//	                longer than the timeout means lost", credentials
//	calls.go        the call layer: go-zookeeper's requests as Session methods
//	                with a context first (Get, GetW, Set, Create, Delete, Exists,
//	                ExistsW, Children, ChildrenW, Multi, GetACL, Sync), run in the
//	                Session's wait group so Close waits for them; the retry of
//	                idempotent steps lives here too
//	lock.go         Lock: the lock recipe as a type on a Session (NewLock, Lock,
//	                Unlock, Refence) and its Fence, the check a write carries
//	                into its multi
//	options.go      Option and SessionOption, with their defaults
//	store.go        Store: Open, OpenOrCreate, the tree it needs, Close
//	read.go         Read, DirtyRead, ConsistentRead, and how the copy advances
//	write.go        the write engine behind Update and CompareAndSwap, in named
//	                steps (enter, lock, attempt, commit, settle)
//	receipts.go     write receipts and the resolution of ambiguous writes
//	watch.go        the watch and verify loop, and the rebuild after a lost session
//	events.go       subscribers, per-subscriber queues, resync on overflow
//	notices.go      notices of a deleted, re-created or invalid payload
//	members.go      the listeners registry: registration, Members, WatchMembers
//	membership.go   keeping this instance's listener node in place
//	member_info.go  SetMemberInfo
//	payload.go      decoding and encoding documents, Checker, StrictDocument
//	strict.go       the strict decoding rules
//	diff.go         Change, on top of internal/jsondiff
//	acl.go          the ACLs of the nodes a Store creates
//	stats.go        Stats
//	errors.go       sentinel errors
//
// A Store calls ZooKeeper only through the Session's methods, under a
// context that also ends when the Store closes; the one exception is the
// write's commit, which is never abandoned, since its outcome decides what
// the caller is told.
package zkstate
