package monitor

import "errors"

// WatchList is the payload the agents and procctl share through ZooKeeper:
// {"globs": ["systemd*", "rsync*"]}. Fields this version does not know are
// preserved by zkstate, not by this type.
type WatchList struct {
	// Globs are the patterns to watch; see [Compile] for their meaning.
	Globs []string `json:"globs"`
}

// Validate is the strict check for writers: it fails, naming every offending
// glob (each a [*GlobError], so errors.Is(err, ErrInvalidGlob) holds), if any
// glob is invalid. procctl calls it before writing.
//
// Readers should not use it to refuse a payload: the agent keeps the valid
// globs of a list someone else wrote and skips the invalid ones ([Compile]).
// Duplicates are allowed; readers fold them.
func (w WatchList) Validate() error {
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
