package netaddr

import (
	"errors"
	"net"
	"strings"
	"testing"
)

type fakeHost struct {
	hostname string
	names    map[string][]net.IP
	ifaddrs  []net.Addr
}

func (f fakeHost) host() *Host {
	return &Host{
		Hostname: func() (string, error) {
			if f.hostname == "" {
				return "", errors.New("no hostname")
			}
			return f.hostname, nil
		},
		LookupIP: func(host string) ([]net.IP, error) {
			ips, ok := f.names[host]
			if !ok {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			return ips, nil
		},
		InterfaceAddrs: func() ([]net.Addr, error) { return f.ifaddrs, nil },
	}
}

func ipnet(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func TestAdvertise(t *testing.T) {
	loopOnly := []net.Addr{ipnet("127.0.0.1/8"), ipnet("::1/128"), ipnet("fe80::1/64")}
	withGlobal := []net.Addr{ipnet("127.0.0.1/8"), ipnet("fe80::1/64"), ipnet("10.1.2.3/8"), ipnet("192.168.0.9/24")}
	globalName := fakeHost{
		hostname: "node1",
		names:    map[string][]net.IP{"node1": {net.ParseIP("127.0.1.1"), net.ParseIP("10.0.0.5")}, "db.example": {net.ParseIP("10.9.9.9")}},
		ifaddrs:  withGlobal,
	}
	loopName := fakeHost{
		hostname: "node2",
		names:    map[string][]net.IP{"node2": {net.ParseIP("127.0.1.1")}},
		ifaddrs:  withGlobal,
	}
	nothing := fakeHost{hostname: "node3", names: map[string][]net.IP{"node3": {net.ParseIP("127.0.1.1")}}, ifaddrs: loopOnly}
	noHostname := fakeHost{ifaddrs: []net.Addr{&net.IPAddr{IP: net.ParseIP("2001:db8::7")}}}

	tests := []struct {
		name     string
		env      fakeHost
		network  string
		listen   string
		hostAddr string
		want     string
		wantErr  string
	}{
		{name: "specified ip kept", env: nothing, network: "tcp", listen: "127.0.0.1:18080", want: "127.0.0.1:18080"},
		{name: "specified ipv6 kept", env: nothing, network: "tcp6", listen: "[::1]:18080", want: "[::1]:18080"},
		{name: "host name kept", env: nothing, network: "tcp", listen: "localhost:18080", want: "localhost:18080"},
		{name: "v4 unspecified -> hostname", env: globalName, network: "tcp4", listen: "0.0.0.0:19000", want: "node1:19000"},
		{name: "v6 unspecified -> hostname", env: globalName, network: "tcp", listen: "[::]:18080", want: "node1:18080"},
		{name: "empty host -> hostname", env: globalName, network: "tcp", listen: ":18080", want: "node1:18080"},
		{name: "loopback hostname -> interface ip", env: loopName, network: "tcp", listen: "[::]:18080", want: "10.1.2.3:18080"},
		{name: "no hostname -> ipv6 interface ip", env: noHostname, network: "tcp", listen: "0.0.0.0:11080", want: "[2001:db8::7]:11080"},
		{name: "nothing global", env: nothing, network: "tcp", listen: "0.0.0.0:11080", wantErr: "no global unicast"},
		{name: "port zero", env: globalName, network: "tcp", listen: "0.0.0.0:0", wantErr: "port is zero"},
		{name: "bad port", env: globalName, network: "tcp", listen: "0.0.0.0:http", wantErr: "invalid port"},
		{name: "port out of range", env: globalName, network: "tcp", listen: "0.0.0.0:70000", wantErr: "invalid port"},
		{name: "missing port", env: globalName, network: "tcp", listen: "0.0.0.0", wantErr: "missing port"},
		{name: "unknown network", env: globalName, network: "udp", listen: "0.0.0.0:1", wantErr: "unknown network"},
		{name: "unix kept", env: nothing, network: "unix", listen: "/tmp/proxy.sock", want: "/tmp/proxy.sock"},
		{name: "unix host addr", env: nothing, network: "unixpacket", listen: "/tmp/p.sock", hostAddr: "/run/p.sock", want: "/run/p.sock"},
		{name: "host addr ip", env: nothing, network: "tcp", listen: "0.0.0.0:18080", hostAddr: "10.0.0.1:28080", want: "10.0.0.1:28080"},
		{name: "host addr name", env: globalName, network: "tcp", listen: "127.0.0.1:18080", hostAddr: "db.example:18080", want: "db.example:18080"},
		{name: "host addr unresolvable", env: globalName, network: "tcp", listen: "0.0.0.0:18080", hostAddr: "nowhere:18080", wantErr: "no such host"},
		{name: "host addr no host", env: globalName, network: "tcp", listen: "0.0.0.0:18080", hostAddr: ":18080", wantErr: "missing host"},
		{name: "host addr unspecified", env: globalName, network: "tcp", listen: "0.0.0.0:18080", hostAddr: "0.0.0.0:18080", wantErr: "unspecified host"},
		{name: "host addr port zero", env: globalName, network: "tcp", listen: "0.0.0.0:18080", hostAddr: "10.0.0.1:0", wantErr: "port is zero"},
		{name: "host addr no port", env: globalName, network: "tcp", listen: "0.0.0.0:18080", hostAddr: "10.0.0.1", wantErr: "missing port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.env.host().Advertise(tc.network, tc.listen, tc.hostAddr)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got %q, want error containing %q", got, tc.wantErr)
				}
				if !errors.Is(err, ErrResolve) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q: want ErrResolve containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSystemSpecifiedAddress(t *testing.T) {
	// A specified IP needs no lookup, so this touches nothing outside the process.
	got, err := Advertise("tcp", "127.0.0.1:31080", "")
	if err != nil || got != "127.0.0.1:31080" {
		t.Fatalf("Advertise = %q, %v", got, err)
	}
	got, err = Advertise("tcp", "0.0.0.0:31080", "127.0.0.2:31081")
	if err != nil || got != "127.0.0.2:31081" {
		t.Fatalf("Advertise with host addr = %q, %v", got, err)
	}
	h := System()
	if h.Hostname == nil || h.LookupIP == nil || h.InterfaceAddrs == nil {
		t.Fatal("System() left a function nil")
	}
}
