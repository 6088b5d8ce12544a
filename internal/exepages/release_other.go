//go:build !linux

package exepages

// Release is not implemented off Linux; it returns ErrUnsupported.
func Release() (Released, error) { return Released{}, ErrUnsupported }
