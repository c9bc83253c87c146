package topom

import (
	"context"
	"net"
	"time"
)

// resolveTimeout bounds each host name lookup made for replica-group
// priorities (SPEC-control §5.10).
const resolveTimeout = 50 * time.Millisecond

// resolver maps host:port addresses to the host's first IP, caching the
// answers for the life of one push. It is not safe for concurrent use.
type resolver struct {
	cache map[string]string
}

func newResolver() *resolver { return &resolver{cache: map[string]string{}} }

// hostIP returns the IP (as a string) of addr's host, or "" if it does not
// resolve within resolveTimeout.
func (r *resolver) hostIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip, ok := r.cache[host]; ok {
		return ip
	}
	ip := ""
	if x := net.ParseIP(host); x != nil {
		ip = x.String()
	} else if host != "" {
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		cancel()
		if err == nil && len(ips) != 0 {
			ip = ips[0].IP.String()
		}
	}
	r.cache[host] = ip
	return ip
}
