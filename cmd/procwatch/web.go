package main

import (
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"
	"github.com/spf13/pflag"

	"github.com/procwatch/procwatch/internal/agent"
)

// webFlags are exporter-toolkit's web flags, with the names, defaults and
// help of its kingpinflag package (which node_exporter uses), on cobra's
// flag set: the toolkit's FlagConfig points at their values.
type webFlags struct {
	listen  []string
	systemd bool
	config  string
	web.FlagConfig
}

// register adds the flags to f and binds FlagConfig to them.
func (w *webFlags) register(f *pflag.FlagSet) {
	w.FlagConfig = web.FlagConfig{WebListenAddresses: &w.listen, WebSystemdSocket: &w.systemd, WebConfigFile: &w.config}
	f.StringSliceVar(&w.listen, "web.listen-address", []string{agent.DefaultListenAddress},
		"addresses on which to expose metrics and the web interface, comma separated or repeated; examples: :9256 or [::1]:9256 for http, vsock://:9256 for vsock")
	// The toolkit offers socket activation on Linux only.
	if runtime.GOOS == "linux" {
		f.BoolVar(&w.systemd, "web.systemd-socket", false, "use systemd socket activation listeners instead of port listeners (Linux only)")
	}
	f.StringVar(&w.config, "web.config.file", "",
		"path to the exporter-toolkit web configuration that can enable TLS or authentication; see https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md")
}

// check refuses settings the web server could never start with. They are
// checked before anything starts: a typo in them is a configuration error
// (exit 2, which the systemd unit does not restart), not a failure to
// retry every few seconds for ever. A busy port stays the server's to
// report: that is an operational failure (exit 1).
func (w *webFlags) check() error {
	if !w.systemd {
		if len(w.listen) == 0 {
			return fmt.Errorf("--web.listen-address: %w", web.ErrNoListeners)
		}
		for _, addr := range w.listen {
			if err := checkListenAddress(addr); err != nil {
				return fmt.Errorf("--web.listen-address %q: %w", addr, err)
			}
		}
	}
	if w.config != "" {
		if err := web.Validate(w.config); err != nil {
			return fmt.Errorf("--web.config.file %q: %w", w.config, err)
		}
	}
	return nil
}

// checkListenAddress refuses an address the toolkit could never listen
// on, such as "bogus" or ":http-alt-typo", in the two forms it takes:
// host:port for TCP and vsock://:port for vsock.
func checkListenAddress(addr string) error {
	if strings.HasPrefix(addr, "vsock://") {
		u, err := url.Parse(addr)
		if err != nil {
			return err
		}
		_, port, err := net.SplitHostPort(u.Host)
		if err != nil {
			return fmt.Errorf("want vsock://:PORT (%w)", err)
		}
		if _, err := strconv.ParseUint(port, 10, 32); err != nil {
			return fmt.Errorf("vsock port %q: want a number", port)
		}
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, such as :9256 (%w)", err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("port %q: %w", port, err)
	}
	return nil
}
