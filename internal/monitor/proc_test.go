package monitor

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

func TestErrorClasses(t *testing.T) {
	vanished := []error{syscall.ENOENT, syscall.ESRCH, fs.ErrNotExist, &os.PathError{Op: "open", Path: "/proc/1/stat", Err: syscall.ENOENT},
		fmt.Errorf("wrapped: %w", syscall.ESRCH)}
	permission := []error{syscall.EACCES, syscall.EPERM, fs.ErrPermission, &os.PathError{Op: "readlink", Path: "/proc/1/exe", Err: syscall.EACCES}}
	other := []error{syscall.EIO, syscall.EINVAL, errFileTooLong}
	for _, err := range vanished {
		if !isVanished(err) || isPermission(err) {
			t.Errorf("%v: vanished %v, permission %v; want true, false", err, isVanished(err), isPermission(err))
		}
	}
	for _, err := range permission {
		if isVanished(err) || !isPermission(err) {
			t.Errorf("%v: vanished %v, permission %v; want false, true", err, isVanished(err), isPermission(err))
		}
	}
	for _, err := range other {
		if isVanished(err) || isPermission(err) {
			t.Errorf("%v: vanished %v, permission %v; want false, false", err, isVanished(err), isPermission(err))
		}
	}
}
