package monitor

import (
	"errors"
	"fmt"
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

func (e *TooManyGlobsError) Error() string {
	return fmt.Sprintf("%d globs in one payload, more than the limit of %d", e.N, MaxGlobs)
}

// WatchList is the payload the agents and procctl share through ZooKeeper:
// {"globs": ["systemd*", "rsync*"]}. Fields this version does not know are
// preserved by zkstate, not by this type.
type WatchList struct {
	// Globs are the patterns to watch; see [Compile] for their meaning.
	// Nil means the document had no list (see Check); empty means [].
	Globs []string `json:"globs"`
}

// Check holds a payload to the rules of the document, the ones every reader
// applies: "globs" is present as an array ([] when empty, never absent or
// null, see ErrGlobsMissing) and the payload holds at most MaxGlobs globs
// ([*TooManyGlobsError]). A payload failing it is invalid as a whole; the
// agent keeps its last good list. Decode payloads strictly too (zkstate's
// WithStrictDecoding): a key in another case or twice is what Check cannot
// see.
//
// It does not look at the globs themselves: an invalid glob written around
// procctl is skipped by the agent ([Compile]) while the others work.
func (w WatchList) Check() error {
	if w.Globs == nil {
		return ErrGlobsMissing
	}
	if n := w.globCount(); n > MaxGlobs {
		return &TooManyGlobsError{N: n}
	}
	return nil
}

// globCount is how many globs the payload holds towards MaxGlobs: every
// list it carries counts, so that a list split in parts cannot exceed it.
func (w WatchList) globCount() int {
	return len(w.Globs)
}

// Validate is the strict check for writers: Check, then every glob (each
// failure a [*GlobError], so errors.Is(err, ErrInvalidGlob) holds, naming
// every offending glob). procctl calls it before writing.
//
// Readers should not use it to refuse a payload: the agent keeps the valid
// globs of a list someone else wrote and skips the invalid ones ([Compile]).
// Duplicates are allowed; readers fold them.
func (w WatchList) Validate() error {
	if err := w.Check(); err != nil {
		return err
	}
	var errs []error
	seen := make(map[string]struct{}, len(w.Globs))
	for _, g := range w.Globs {
		if _, dup := seen[g]; dup {
			continue
		}
		seen[g] = struct{}{}
		if err := ValidateGlob(g); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
