package monitor

// UserName names uid as the source's scans name the user of a process:
// through the same passwd lookups and cache.
func (s *LinuxSource) UserName(uid uint32) string { return s.sel.users.name(uid) }
