package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// Shared plumbing of the commands that talk to ZooKeeper.

// conn is one invocation's hold on the procwatch state: a session and a
// Store that stays out of the listeners registry, since procctl is not an
// agent and `procctl members` must not list itself.
type conn struct {
	g     *globalOptions
	sess  *zkstate.Session
	store *zkstate.Store[watchlist.Document]
}

// opContext bounds connecting and one operation by --timeout.
func (g *globalOptions) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.timeout)
}

// connect opens a ZooKeeper session, with the credentials and TLS settings
// of the flags. On failure the message says which servers were unreachable
// and, when a dial failed, why; a TLS failure is named as such.
func (g *globalOptions) connect(ctx context.Context) (*zkstate.Session, error) {
	if err := allRefused(ctx, g.zk); err != nil {
		return nil, err
	}
	opts := append(g.zkSecurity.SessionOptions(), zkstate.WithSessionTimeout(g.sessionTimeout))
	sess, err := zkstate.Connect(ctx, []string{g.zk}, opts...)
	if err != nil {
		return nil, &zkError{servers: g.zk, root: g.path, timeout: g.timeout, detail: dialReason(err),
			tls: zkopts.Explain(err), err: err}
	}
	return sess, nil
}

// dialReason extracts the operating system's reason from the last failed
// dial that zkstate wraps ("connection refused", "i/o timeout").
func dialReason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return "i/o timeout"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Error()
	}
	return ""
}

// open connects and opens the existing state; it never creates it (see
// init) and fails with the `procctl init` hint when there is none.
func (g *globalOptions) open(ctx context.Context) (*conn, error) {
	sess, err := g.connect(ctx)
	if err != nil {
		return nil, err
	}
	opts := []zkstate.Option{
		zkstate.WithoutWait(),
		zkstate.WithoutMembership(),
		zkstate.WithLockTimeout(g.lockTimeout(ctx)),
	}
	acls, err := g.inheritedACLs(ctx, sess)
	if err != nil {
		sess.Close()
		return nil, g.zkErr(err)
	}
	if acls != nil {
		opts = append(opts, zkstate.WithACLs(*acls))
	}
	st, err := zkstate.Open[watchlist.Document](ctx, sess, g.path, opts...)
	if err != nil {
		sess.Close()
		return nil, g.zkErr(err)
	}
	return &conn{g: g, sess: sess, store: st}, nil
}

// inheritedACLs returns the ACLs for the nodes a write may create, or nil
// for zkstate's default (open to everyone), which is right for an anonymous
// client: it can only create nodes in an open tree.
//
// With credentials, procctl's own nodes (lock nodes, its write receipt) are
// readable by everyone and writable by its identity only; the directories
// it may have to create (writes/ at the first write to a tree, lock/ or
// listeners/ if someone removed them) take the root's ACL, so that they
// are exactly as open as the tree: in a tree made by `init --secure`, the
// editor's, as zkstate.SecureACLs has them.
func (g *globalOptions) inheritedACLs(ctx context.Context, sess *zkstate.Session) (*zkstate.ACLs, error) {
	own := g.zkSecurity.OwnACL()
	if own == nil {
		return nil, nil
	}
	acl, _, err := sess.GetACL(ctx, g.path)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		// No state: Open says so with the hint to run init.
		return &zkstate.ACLs{Owned: own}, nil
	case err != nil:
		// A refusal wraps zkstate.ErrPermission, which zkErr words.
		return nil, fmt.Errorf("read the ACL of %s: %w", g.path, err)
	}
	for _, a := range acl {
		if a.Scheme == "digest" && strings.HasSuffix(a.ID, ":x") {
			// ZooKeeper hides digests from clients without ADMIN on the
			// node; copying "user:x" would grant a nonexistent identity.
			// Such a client cannot create in a tree made by init --secure
			// anyway; if it somehow can, its directories are its own.
			return &zkstate.ACLs{Listeners: own, Lock: own, Writes: own, Owned: own}, nil
		}
	}
	return &zkstate.ACLs{Listeners: acl, Lock: acl, Writes: acl, Owned: own}, nil
}

// openBounded is open under a context bounded by --timeout, the set-up of
// every command that reads or writes the state once. done closes the
// connection and releases the context.
func (g *globalOptions) openBounded(ctx context.Context) (context.Context, *conn, func(), error) {
	ctx, cancel := g.opContext(ctx)
	c, err := g.open(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, c, func() { c.Close(); cancel() }, nil
}

// readDocument opens the state, reads the newest document
// linearizably and closes: the whole of a command that only shows it.
func (g *globalOptions) readDocument(ctx context.Context) (zkstate.Snapshot[watchlist.Document], error) {
	ctx, c, done, err := g.openBounded(ctx)
	if err != nil {
		return zkstate.Snapshot[watchlist.Document]{}, err
	}
	defer done()
	return c.read(ctx)
}

// lockMargin is how long before the operation's deadline the wait for the
// write lock gives up.
const lockMargin = 250 * time.Millisecond

// lockTimeout makes the wait for the write lock end just before --timeout
// does, so that an operator held up by another writer is told it was the
// lock they waited for (ErrLockTimeout), not only that time ran out.
func (g *globalOptions) lockTimeout(ctx context.Context) time.Duration {
	d := g.timeout
	if dl, ok := ctx.Deadline(); ok {
		if rem := time.Until(dl) - lockMargin; rem > 0 && rem < d {
			d = rem
		}
	}
	return d
}

// Close releases the Store and ends the session, so nothing of this
// invocation (goroutines, ephemeral nodes) outlives it.
func (c *conn) Close() {
	c.store.Close()
	c.sess.Close()
}

// zkErr attaches what a message about a ZooKeeper failure needs; errors that
// already speak to people pass through.
func (g *globalOptions) zkErr(err error) error {
	if err == nil {
		return nil
	}
	var fp forPeople
	if errors.As(err, &fp) {
		return err
	}
	if errors.Is(err, zkstate.ErrPermission) {
		return &permissionError{servers: g.zk, root: g.path, who: g.zkSecurity, err: err}
	}
	return &zkError{servers: g.zk, root: g.path, timeout: g.timeout, err: err}
}

// read returns the newest document, linearizably: an operator who just
// changed the list, or was told an agent did, must see that change.
func (c *conn) read(ctx context.Context) (zkstate.Snapshot[watchlist.Document], error) {
	snap, err := c.store.ConsistentRead(ctx)
	return snap, c.invalidState(err)
}

// update is Store.Update, the way procctl's globs commands write: the
// list's lock and a compare-and-set, so concurrent writers never lose each
// other's changes. A payload another client broke is reported as such (the
// Store cannot update what it cannot decode; globs set and edit can
// replace it).
func (c *conn) update(ctx context.Context, fn func(*watchlist.Document) error) (int32, error) {
	c.warnIfEphemeral(ctx)
	version, err := c.store.Update(ctx, fn)
	return version, c.invalidState(err)
}

// warnIfEphemeral warns before a write when the payload is an ephemeral
// node (someone created it with zkCli's create -e): it vanishes when its
// owner's session ends, and what procctl writes with it. The write goes
// ahead; failing to look is not worth failing the write over.
func (c *conn) warnIfEphemeral(ctx context.Context) {
	path := c.g.path + "/payload"
	ok, st, err := c.sess.Exists(ctx, path)
	if err != nil || !ok {
		return
	}
	if st != nil && st.EphemeralOwner != 0 {
		fmt.Fprintf(c.g.stderr, "procctl: warning: %s is an ephemeral node, owned by ZooKeeper session 0x%x: it vanishes with that session, and what is written now with it; create it as a persistent node (see `procctl init`)\n",
			path, st.EphemeralOwner)
	}
}

// invalidState turns zkstate's report of a rejected document into one for
// people, keeping the stored text for edit; other errors go to zkErr.
func (c *conn) invalidState(err error) error {
	var ip *zkstate.InvalidPayloadError
	if errors.As(err, &ip) && ip.Version >= 0 {
		return &invalidStateError{root: c.g.path, version: ip.Version, reason: whyInvalid(ip.Raw), raw: ip.Raw}
	}
	return c.g.zkErr(err)
}

// decodeDocument checks that doc is a procwatch document: a JSON object
// whose known fields have the right types and which the rules of
// watchlist.Document accept. Unknown fields are fine (a newer version may have written them) and are
// kept by every write. The error completes "the payload is not a valid
// procwatch document: "; a rule of the document comes as a *ruleError.
func decodeDocument(doc []byte) (watchlist.Document, error) {
	var w watchlist.Document
	if !json.Valid(doc) {
		var v any
		err := json.Unmarshal(doc, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return w, fmt.Errorf("not valid JSON: %s", jsonErr(doc, err))
	}
	if t := bytes.TrimSpace(doc); len(t) == 0 || t[0] != '{' {
		if !bytes.Equal(t, []byte("null")) {
			return w, errors.New(`not a JSON object like {"globs": ["sshd"]}`)
		}
	}
	if err := json.Unmarshal(doc, &w); err != nil {
		return w, fmt.Errorf(`not a procwatch document like {"globs": ["sshd"]}: %s`, jsonErr(doc, err))
	}
	w, err := zkstate.Decode[watchlist.Document](doc)
	if err != nil {
		var ip *zkstate.InvalidPayloadError
		if errors.As(err, &ip) {
			err = ip.Reason
		}
		return w, &ruleError{err}
	}
	return w, nil
}

// ruleError is a document that is well-formed JSON of the right shape but
// breaks a rule of the watch list (watchlist.Document.Check, strict decoding).
type ruleError struct{ err error }

func (e *ruleError) Error() string { return e.err.Error() }
func (e *ruleError) Unwrap() error { return e.err }

// whyInvalid says what is wrong with a stored payload.
func whyInvalid(raw []byte) string {
	if _, err := decodeDocument(raw); err != nil {
		return err.Error()
	}
	return "rejected by procwatch"
}

// jsonErr adds the line and column to encoding/json's byte offsets, which is
// what someone looking at an editor needs.
func jsonErr(doc []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset is just past the offending byte; point at the byte,
		// unless the text simply ended.
		off = se.Offset
		if off > 0 && off < int64(len(doc)) {
			off--
		}
	case errors.As(err, &te):
		off = te.Offset
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if te != nil && te.Field != "" && te.Type != nil {
		// encoding/json names Go types; the operator wrote JSON.
		msg = fmt.Sprintf("%q must be %s, not %s", te.Field, jsonKind(te.Type), article(te.Value))
	}
	if off < 0 || off > int64(len(doc)) {
		return msg
	}
	line, col := 1, 1
	for _, b := range doc[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d: %s", line, col, msg)
}

// jsonKind names, in JSON's words, what a value of Go type t is written as.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if e := t.Elem(); e.Kind() != reflect.Uint8 {
			return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(e), "an "), "a ") + "s"
		}
		return "a string"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	default:
		return "a number"
	}
}

// article puts "a" or "an" before a JSON value kind as encoding/json names
// it ("string", "array", "object", "number", "bool").
func article(kind string) string {
	if kind == "" {
		return "something else"
	}
	if strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}
