package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// printer writes every command's results in the format chosen by -o. Text is
// for people; JSON is for scripts and never mixes in prose: one JSON value per
// command, or one object per line for watch.
type printer interface {
	globs(list []string) error
	// state shows a stored payload; invalid, when set, says why it is no
	// valid document (raw may then be any text).
	state(version int32, raw []byte, invalid string) error
	written(r writeResult) error
	edited(r editResult) error
	members(agents []agentView, current int32) error
	status(st statusView) error
	// groups shows the groups of a document; groupWritten what groups
	// set or rm did; inForce what an agent of some identity would watch.
	groups(d watchlist.Document) error
	groupWritten(r groupResult) error
	inForce(v inForceView) error
	watchStart(root string, version int32, raw json.RawMessage) error
	event(ev zkstate.Event[watchlist.Document]) error
	session(ev zkstate.SessionEvent) error
}

func newPrinter(format string, w io.Writer) (printer, error) {
	switch format {
	case "text":
		return textPrinter{w}, nil
	case "json":
		return jsonPrinter{w}, nil
	}
	return nil, fmt.Errorf("-o %q: want text or json", format)
}

// writeResult is what a globs write or init did.
type writeResult struct {
	verb    string // "add", "rm", "set", "init": how the text printer phrases it
	root    string
	Version int32    `json:"version"`
	Group   string   `json:"group,omitempty"` // the group whose globs were edited; none for the fleet-wide list
	Changed bool     `json:"changed"`
	Globs   []string `json:"globs"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Present are globs add was given that the list already held.
	Present []string `json:"already_present,omitempty"`
	// Missing are globs rm --ignore-missing was given that the list lacked.
	Missing []string `json:"not_present,omitempty"`
	// Replaced is the version of an invalid payload globs set replaced.
	Replaced *int32 `json:"replaced_invalid_version,omitempty"`
	// Secured says who may write a tree init --secure created.
	Secured *securedBy `json:"secured,omitempty"`
}

// resultOf is the result of a globs command's edit of group ("" for the
// fleet-wide list), with the list it left.
func resultOf(verb, group string, e watchlist.Edit, d watchlist.Document) writeResult {
	globs, _ := d.GlobsOf(group)
	return writeResult{verb: verb, Group: group, Changed: e.Changed, Globs: slices.Clone(globs),
		Added: e.Added, Removed: e.Removed, Present: e.Present, Missing: e.Missing}
}

// securedBy names the identities of a secured tree, without secrets.
type securedBy struct {
	Editor string `json:"editor"` // "digest:USER", the only writer of the list
	Agents string `json:"agents"` // "digest:USER", may register under listeners/
}

// editResult is what edit did.
type editResult struct {
	Version int32 `json:"version"`
	Changed bool  `json:"changed"`
	edited  int32
}

type textPrinter struct{ w io.Writer }

func (p textPrinter) globs(list []string) error {
	var b strings.Builder
	for _, g := range list {
		b.WriteString(g)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

func (p textPrinter) state(version int32, raw []byte, invalid string) error {
	mark := ""
	if invalid != "" {
		// The reason is the error's, on stderr; here it is only marked.
		mark = " (invalid)"
	}
	_, err := fmt.Fprintf(p.w, "version %d%s\n%s\n", version, mark, pretty(raw))
	return err
}

func (p textPrinter) written(r writeResult) error {
	var parts []string
	switch r.verb {
	case "init":
		parts = append(parts, fmt.Sprintf("created %s", r.root))
		if r.Secured != nil {
			parts = append(parts, fmt.Sprintf("writable only by %s; agents register as %s", r.Secured.Editor, r.Secured.Agents))
		}
	case "set":
		if r.Replaced != nil {
			parts = append(parts, fmt.Sprintf("replaced the invalid payload of version %d", *r.Replaced))
		} else if r.Changed {
			parts = append(parts, "replaced the list")
		} else {
			parts = append(parts, "the list was already exactly that")
		}
	}
	if len(r.Added) > 0 && r.verb != "init" {
		parts = append(parts, "added "+quoteList(r.Added))
	}
	if len(r.Present) > 0 {
		parts = append(parts, "already present "+quoteList(r.Present))
	}
	if len(r.Removed) > 0 {
		parts = append(parts, "removed "+quoteList(r.Removed))
	}
	if len(r.Missing) > 0 {
		parts = append(parts, "not present "+quoteList(r.Missing))
	}
	if !r.Changed && r.verb != "set" {
		parts = append(parts, "nothing written")
	}
	where := ""
	if r.Group != "" {
		where = " in group " + r.Group
	}
	_, err := fmt.Fprintf(p.w, "%s; %s%s at version %d\n", strings.Join(parts, "; "), plural(len(r.Globs), "glob"), where, r.Version)
	return err
}

func (p textPrinter) edited(r editResult) error {
	var err error
	if r.Changed {
		_, err = fmt.Fprintf(p.w, "saved version %d (you edited version %d)\n", r.Version, r.edited)
	} else {
		_, err = fmt.Fprintf(p.w, "no changes; still at version %d\n", r.Version)
	}
	return err
}

func (p textPrinter) watchStart(root string, version int32, raw json.RawMessage) error {
	var w watchlist.Document
	_ = json.Unmarshal(raw, &w)
	_, err := fmt.Fprintf(p.w, "watching %s at version %d (%s); one line per change until interrupted\n",
		root, version, plural(len(w.Globs), "glob"))
	return err
}

func (p textPrinter) event(ev zkstate.Event[watchlist.Document]) error {
	var b strings.Builder
	tr := fmt.Sprintf("v%d→v%d", ev.FromVersion, ev.ToVersion)
	if ev.Resync {
		fmt.Fprintf(&b, "%s resynced: changes not seen one by one are merged below\n", tr)
	} else if len(ev.Changes) == 0 {
		fmt.Fprintf(&b, "%s rewritten without changes\n", tr)
	}
	for _, c := range ev.Changes {
		fmt.Fprintf(&b, "%s %s\n", tr, c)
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

func (p textPrinter) session(ev zkstate.SessionEvent) error {
	var msg string
	switch ev.Kind {
	case zkstate.SessionDisconnected:
		msg = "disconnected from ZooKeeper; reconnecting"
	case zkstate.SessionReconnected:
		msg = "reconnected to ZooKeeper with the same session; watch resumed, missed changes follow"
	case zkstate.SessionLost:
		msg = "ZooKeeper session lost; changes made meanwhile will be shown merged once it is back"
	case zkstate.SessionReestablished:
		msg = "new ZooKeeper session; resynced, changes made meanwhile follow"
	default:
		return nil
	}
	_, err := fmt.Fprintf(p.w, "-- %s\n", msg)
	return err
}

type jsonPrinter struct{ w io.Writer }

// print writes one indented JSON value: results of one-shot commands.
func (p jsonPrinter) print(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = p.w.Write(append(b, '\n'))
	return err
}

// line writes one compact JSON object per line: watch's stream.
func (p jsonPrinter) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = p.w.Write(append(b, '\n'))
	return err
}

func (p jsonPrinter) globs(list []string) error {
	if list == nil {
		list = []string{}
	}
	return p.print(list)
}

// stateJSON is get's output: the payload as stored, or, for a document
// that is not JSON at all, its text in raw; invalid says why agents reject
// it.
type stateJSON struct {
	Version int32           `json:"version"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Raw     *string         `json:"raw,omitempty"`
	Invalid string          `json:"invalid,omitempty"`
}

func (p jsonPrinter) state(version int32, raw []byte, invalid string) error {
	out := stateJSON{Version: version, Invalid: invalid}
	if json.Valid(raw) {
		out.Payload = raw
	} else {
		text := string(raw)
		out.Raw = &text
	}
	return p.print(out)
}

func (p jsonPrinter) written(r writeResult) error {
	if r.Globs == nil {
		r.Globs = []string{}
	}
	return p.print(r)
}

func (p jsonPrinter) edited(r editResult) error { return p.print(r) }

// watchLine is one line of watch -o json; Type says which fields are set:
// "start" (version, payload), "change" (from, to, kind, path, old, new),
// "resync" and "rewrite" (from, to), "session" (state).
type watchLine struct {
	Type    string          `json:"type"`
	Version *int32          `json:"version,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	From    *int32          `json:"from,omitempty"`
	To      *int32          `json:"to,omitempty"`
	Kind    string          `json:"kind,omitempty"`
	Path    *string         `json:"path,omitempty"`
	Old     json.RawMessage `json:"old,omitempty"`
	New     json.RawMessage `json:"new,omitempty"`
	State   string          `json:"state,omitempty"`
}

func (p jsonPrinter) watchStart(_ string, version int32, raw json.RawMessage) error {
	return p.line(watchLine{Type: "start", Version: &version, Payload: raw})
}

func (p jsonPrinter) event(ev zkstate.Event[watchlist.Document]) error {
	from, to := ev.FromVersion, ev.ToVersion
	var buf bytes.Buffer
	inner := jsonPrinter{&buf}
	if ev.Resync {
		if err := inner.line(watchLine{Type: "resync", From: &from, To: &to}); err != nil {
			return err
		}
	} else if len(ev.Changes) == 0 {
		if err := inner.line(watchLine{Type: "rewrite", From: &from, To: &to}); err != nil {
			return err
		}
	}
	for _, c := range ev.Changes {
		path := c.Path
		if err := inner.line(watchLine{Type: "change", From: &from, To: &to, Kind: c.Kind.String(), Path: &path, Old: c.Old, New: c.New}); err != nil {
			return err
		}
	}
	_, err := p.w.Write(buf.Bytes())
	return err
}

func (p jsonPrinter) session(ev zkstate.SessionEvent) error {
	switch ev.Kind {
	case zkstate.SessionDisconnected, zkstate.SessionReconnected, zkstate.SessionLost, zkstate.SessionReestablished:
		return p.line(watchLine{Type: "session", State: ev.Kind.String()})
	}
	return nil
}

// pretty indents a JSON document for people and editors; text that is not
// JSON is returned as it is.
func pretty(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return raw
	}
	return b.Bytes()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
