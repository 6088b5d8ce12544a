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
//     event instead of losing anything.
//   - Bad data. A document that is not JSON, does not fit T or fails the
//     validator never crashes anything and never replaces the last good
//     value; the Store marks itself invalid, counts and logs it once per
//     version, and recovers at the next good document. Under
//     WithStrictDecoding so is a document with a key given twice or one
//     that names a field of T only when case is ignored, at any depth.
//   - Sessions. A disconnect longer than the session timeout counts as a lost
//     session. After a loss the Store re-registers its listener node, re-arms
//     its watch, re-reads the document and publishes what changed meanwhile,
//     without any action from the caller. A timer re-verifies the version
//     (default every 5 s), so a watch lost in a reconnect can delay a change
//     but never hide it.
//
// Every blocking method takes a context; every failure that has a class wraps
// one of the sentinel errors (ErrStale, ErrConflict, ...), to be tested with
// errors.Is.
package zkstate
