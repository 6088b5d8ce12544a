package watchlist

import (
	"errors"
	"fmt"
	"strings"

	"github.com/procwatch/procwatch/internal/pattern"
)

// MaxGlobs is the most globs one payload may hold, the fleet-wide list and
// every group's globs counted together (duplicates too: the bound is on what
// an agent must read). A payload beyond it is invalid: agents keep their last
// good list and procctl refuses to write it. It bounds what one write costs
// every host at once: a list of 100,000 globs, small enough for ZooKeeper
// (789 KB), took each agent 5.6 s to apply and 700–800 MB of memory, for a
// 55 MB /metrics; at 2,000 globs an agent applies the list in about 0.1 s
// and serves a 1.6 MB /metrics in about 50 ms.
const MaxGlobs = 2000

// ErrGlobsMissing is a payload without a "globs" array ("globs" absent or
// null): whatever it was meant to be, it is not an empty list, which is
// written [].
var ErrGlobsMissing = errors.New(`"globs" is missing or null: the payload must hold an array of globs, [] for none`)

// TooManyGlobsError is a payload holding more than MaxGlobs globs.
type TooManyGlobsError struct{ N int }

// Error says how many globs there are and what the limit is.
func (e *TooManyGlobsError) Error() string {
	return fmt.Sprintf("%d globs in one payload, more than the limit of %d", e.N, MaxGlobs)
}

// Document is the payload the agents and procctl share through ZooKeeper:
// {"globs": ["systemd*", "rsync*"], "groups": {"web": {...}}}. Fields this
// version does not know are preserved by zkstate, not by this type.
type Document struct {
	// Globs are the patterns every agent watches; see package pattern for
	// their meaning. Nil means the document had no list (see Check); empty
	// means [].
	Globs []string `json:"globs"`
	// Groups are the roles of the fleet by name: each adds its globs on
	// the agents its selector picks (see Resolve). A document without
	// groups means what it meant before groups existed.
	Groups map[string]Group `json:"groups,omitempty"`
}

// Check holds a payload to the rules of the document, the ones every reader
// applies: "globs" is present as an array ([] when empty, never absent or
// null, see ErrGlobsMissing) and the payload holds at most MaxGlobs globs
// ([*TooManyGlobsError]). A payload failing it is invalid as a whole; the
// agent keeps its last good list. A key in another case or twice is what
// Check cannot see: see DecodeStrictly. Every zkstate Store of a Document
// applies both (zkstate.Checker, zkstate.StrictDocument), so no program
// that reads the document can forget them.
//
// It does not look at the globs themselves: an invalid glob written around
// procctl is skipped by the agent while the others work.
func (d Document) Check() error {
	if d.Globs == nil {
		return ErrGlobsMissing
	}
	if n := d.globCount(); n > MaxGlobs {
		return &TooManyGlobsError{N: n}
	}
	return nil
}

// globCount is how many globs the payload holds towards MaxGlobs: every
// list it carries counts, so that a list split in parts cannot exceed it.
func (d Document) globCount() int {
	n := len(d.Globs)
	for _, g := range d.Groups {
		n += len(g.Globs)
	}
	return n
}

// Validate is the strict check for writers: Check, then every glob of the
// document (fleet-wide and in groups), failing with an
// [*InvalidGlobsError] that names each invalid one once, then every group
// (a [*GroupError] per bad group: its name, a selector, its host globs and
// labels). procctl calls it before writing anything.
//
// Readers should not use it to refuse a payload: the agent keeps the valid
// globs of a list someone else wrote and skips the invalid ones. Duplicates
// are allowed; readers fold them.
func (d Document) Validate() error {
	if err := d.Check(); err != nil {
		return err
	}
	all := d.Globs
	for _, name := range d.GroupNames() {
		all = append(all[:len(all):len(all)], d.Groups[name].Globs...)
	}
	if err := ValidateGlobs(all); err != nil {
		return err
	}
	var errs []error
	for _, name := range d.GroupNames() {
		if err := d.Groups[name].validate(name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ValidateGlobs checks globs by the rules of package pattern and names
// every invalid one at once (each once), as an [*InvalidGlobsError], so
// that an operator fixes them in one go.
func ValidateGlobs(globs []string) error {
	var bad []*pattern.Error
	seen := make(map[string]struct{}, len(globs))
	for _, g := range globs {
		if _, dup := seen[g]; dup {
			continue
		}
		seen[g] = struct{}{}
		if _, err := pattern.Parse(g); err != nil {
			var pe *pattern.Error
			if !errors.As(err, &pe) {
				pe = &pattern.Error{Glob: g, Reason: err}
			}
			bad = append(bad, pe)
		}
	}
	if len(bad) > 0 {
		return &InvalidGlobsError{Globs: bad}
	}
	return nil
}

// InvalidGlobsError names every invalid glob of a list. It unwraps to the
// [*pattern.Error]s, so errors.Is(err, pattern.ErrInvalid) holds.
type InvalidGlobsError struct {
	// Globs has one entry per distinct invalid glob, in list order.
	Globs []*pattern.Error
}

// Error gives one line per invalid glob.
func (e *InvalidGlobsError) Error() string {
	parts := make([]string, len(e.Globs))
	for i, pe := range e.Globs {
		parts[i] = pe.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap returns the *pattern.Errors.
func (e *InvalidGlobsError) Unwrap() []error {
	errs := make([]error, len(e.Globs))
	for i, pe := range e.Globs {
		errs[i] = pe
	}
	return errs
}

// DecodeStrictly makes every Store of a Document decode it strictly
// (zkstate.StrictDocument): a key given twice, or "GLOBS" for "globs", is
// an invalid document, not a different one.
func (Document) DecodeStrictly() {}
