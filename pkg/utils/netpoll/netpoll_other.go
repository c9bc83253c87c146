//go:build !linux

package netpoll

import "net"

func wrap(conn net.Conn) net.Conn { return conn }
