// Package watchlist is the document procwatch shares through ZooKeeper: the
// list of globs every agent watches, the rules a document must follow to be
// one, and the edits procctl makes to it. It is pure: no ZooKeeper, no
// processes. zkstate stores the document, monitor matches its globs, and
// both programs hold it to the rules here.
package watchlist
