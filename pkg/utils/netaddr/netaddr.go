// Package netaddr decides which address a component advertises for a
// listener (SPEC-control §5.3 step 4, SPEC-data §F.2): an explicitly given
// host address (--host-admin / --host-proxy) is used verbatim once checked;
// otherwise the bound address is used, with an unspecified IP (0.0.0.0,
// ::) replaced by the host name or the first global unicast interface IP.
package netaddr

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// ErrResolve is wrapped by every error of this package.
var ErrResolve = errors.New("resolve address")

// Host is the view of the local host used to replace unspecified IPs. The
// functions are injectable for tests; the zero value is not usable, use
// System.
type Host struct {
	// Hostname returns the OS host name.
	Hostname func() (string, error)
	// LookupIP resolves a host name.
	LookupIP func(host string) ([]net.IP, error)
	// InterfaceAddrs lists the addresses of the local interfaces.
	InterfaceAddrs func() ([]net.Addr, error)
}

// System returns a Host backed by the operating system. It does no I/O
// until a method is called.
func System() *Host {
	return &Host{
		Hostname:       os.Hostname,
		LookupIP:       net.LookupIP,
		InterfaceAddrs: net.InterfaceAddrs,
	}
}

// Advertise is System().Advertise.
func Advertise(network, listenAddr, hostAddr string) (string, error) {
	return System().Advertise(network, listenAddr, hostAddr)
}

// Advertise returns the address to publish for a listener of the given
// network ("tcp", "tcp4", "tcp6", "unix" or "unixpacket") bound at
// listenAddr.
//
// If hostAddr is not empty it is returned verbatim, provided it has a host
// that is not an unspecified IP, a non-zero port, and (for tcp networks) a
// host that resolves. Otherwise listenAddr is returned, except that an
// empty or unspecified host is replaced by the OS host name when that name
// resolves to a global unicast IP, or else by the first global unicast IP
// of the local interfaces. Unix socket addresses are returned unchanged.
func (h *Host) Advertise(network, listenAddr, hostAddr string) (string, error) {
	switch network {
	case "unix", "unixpacket":
		if hostAddr != "" {
			return hostAddr, nil
		}
		return listenAddr, nil
	case "tcp", "tcp4", "tcp6":
	default:
		return "", fmt.Errorf("%w %q: unknown network %q", ErrResolve, listenAddr, network)
	}
	if hostAddr != "" {
		if err := h.checkHostAddr(hostAddr); err != nil {
			return "", err
		}
		return hostAddr, nil
	}
	host, port, err := splitPort(listenAddr)
	if err != nil {
		return "", err
	}
	if host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			return listenAddr, nil
		}
	}
	if name := h.globalHostname(); name != "" {
		return net.JoinHostPort(name, port), nil
	}
	if ip := h.firstGlobalIP(); ip != nil {
		return net.JoinHostPort(ip.String(), port), nil
	}
	return "", fmt.Errorf("%w %q: no global unicast host name or interface address to replace the unspecified host",
		ErrResolve, listenAddr)
}

// checkHostAddr validates an explicitly configured advertised address.
func (h *Host) checkHostAddr(addr string) error {
	host, _, err := splitPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("%w %q: missing host", ErrResolve, addr)
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsUnspecified() {
			return fmt.Errorf("%w %q: unspecified host", ErrResolve, addr)
		}
		return nil
	}
	ips, err := h.LookupIP(host)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrResolve, addr, err)
	}
	if len(ips) == 0 {
		return fmt.Errorf("%w %q: host has no IP address", ErrResolve, addr)
	}
	return nil
}

// splitPort splits addr and checks that the port is a number in 1..65535.
func splitPort(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("%w %q: %w", ErrResolve, addr, err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", "", fmt.Errorf("%w %q: invalid port %q", ErrResolve, addr, port)
	}
	if n == 0 {
		return "", "", fmt.Errorf("%w %q: port is zero", ErrResolve, addr)
	}
	return host, port, nil
}

// globalHostname returns the OS host name if it resolves to at least one
// global unicast IP, else "".
func (h *Host) globalHostname() string {
	name, err := h.Hostname()
	if err != nil || name == "" {
		return ""
	}
	ips, err := h.LookupIP(name)
	if err != nil {
		return ""
	}
	for _, ip := range ips {
		if ip.IsGlobalUnicast() {
			return name
		}
	}
	return ""
}

// firstGlobalIP returns the first global unicast interface IP, or nil.
func (h *Host) firstGlobalIP() net.IP {
	addrs, err := h.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if ip != nil && ip.IsGlobalUnicast() {
			return ip
		}
	}
	return nil
}
