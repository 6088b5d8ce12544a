package zkstate

import (
	"github.com/go-zookeeper/zk"
)

// ACLs says which ZooKeeper ACL each node a Store creates receives. The zero
// value, and any field left nil, means world:anyone with every permission,
// ZooKeeper's usual default.
//
// A fleet that must not let everyone who reaches ZooKeeper change what every
// host watches gives the payload, lock/ and writes/ to an editor identity,
// lets agents create and delete their own nodes under listeners/, and keeps
// everything readable: see SecureACLs.
type ACLs struct {
	// Root, Payload, Listeners, Lock and Writes are used when the Store
	// creates those nodes (OpenOrCreate, or the helper nodes missing under an
	// existing root).
	Root, Payload, Listeners, Lock, Writes []zk.ACL
	// Member is this instance's listener node.
	Member []zk.ACL
	// Owned covers the nodes a writing Store makes for itself: its lock
	// nodes and its write receipt.
	Owned []zk.ACL
}

// SecureACLs returns the ACLs of a locked-down tree: anyone may read
// everything; only the editor may change the payload, the lock and the
// receipts; agents may create and delete listener nodes (and own theirs).
// editor and agent are digest identities as ZooKeeper stores them,
// "user:base64(sha1(user:password))"; DigestID computes one.
func SecureACLs(editor, agent string) ACLs {
	read := zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}
	ed := zk.ACL{Perms: zk.PermAll, Scheme: "digest", ID: editor}
	ag := zk.ACL{Perms: zk.PermRead | zk.PermCreate | zk.PermDelete, Scheme: "digest", ID: agent}
	agOwn := zk.ACL{Perms: zk.PermAll, Scheme: "digest", ID: agent}
	editorOnly := []zk.ACL{read, ed}
	return ACLs{
		Root:      editorOnly,
		Payload:   editorOnly,
		Lock:      editorOnly,
		Writes:    editorOnly,
		Listeners: []zk.ACL{read, ed, ag},
		Member:    []zk.ACL{read, ed, agOwn},
		Owned:     editorOnly,
	}
}

// DigestID returns the ZooKeeper digest identity of user and password, as
// used in ACLs: "user:base64(sha1(user:password))".
func DigestID(user, password string) string {
	acl := zk.DigestACL(zk.PermAll, user, password)
	return acl[0].ID
}

// WithACLs sets the ACLs of the nodes the Store creates (default: open to
// everyone).
func WithACLs(a ACLs) Option {
	return func(o *options) { o.acls = a }
}

func orWorld(acl []zk.ACL) []zk.ACL {
	if len(acl) == 0 {
		return zk.WorldACL(zk.PermAll)
	}
	return acl
}
