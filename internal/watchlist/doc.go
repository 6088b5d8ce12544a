// Package watchlist is the document procwatch shares through ZooKeeper and
// everything that is decided from it alone: the fleet-wide globs and the
// groups (roles) beside them, the rules a document must follow to be one
// (Check for every reader, Validate for writers), the edits procctl makes
// (globs add/rm/set of the fleet or of a group, groups set/rm), the labels
// that identify an agent, and targeting: given a document, a hostname and
// labels, the list in force and where each glob of it came from (Resolve).
//
// It is pure: no ZooKeeper, no processes. zkstate stores the document,
// monitor matches the globs in force, and both programs hold the document
// to the rules here, so an agent and procctl can never disagree on what a
// document means.
package watchlist
