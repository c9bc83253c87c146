// Package token computes the instance token and the xauth secrets of Codis
// components (SPEC-control §3).
//
// A token identifies one dashboard or proxy instance: it is the MD5 of the
// host's sorted interface MAC addresses plus caller-supplied segments
// (product name and listener addresses), so it is stable across restarts
// on the same host and addresses. An xauth is the truncated SHA-256 of
// segments such as the product name, and guards the REST APIs.
package token

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"sort"
	"strings"
)

// NewToken returns the token for segs, using the MAC addresses of this
// host's interfaces (see HardwareAddrs). If the interfaces cannot be listed
// the token is computed over an empty MAC list.
func NewToken(segs ...string) string {
	macs, _ := HardwareAddrs()
	return FromMACs(macs, segs...)
}

// FromMACs returns the token for the given MAC address strings and
// segments:
//
//	md5hex("Codis-Token@[" + sorted macs joined by " " + "]" + "-{seg}"...)
//
// macs is not modified.
func FromMACs(macs []string, segs ...string) string {
	sorted := append([]string(nil), macs...)
	sort.Strings(sorted)
	var b strings.Builder
	b.WriteString("Codis-Token@[")
	b.WriteString(strings.Join(sorted, " "))
	b.WriteString("]")
	for _, s := range segs {
		b.WriteString("-{")
		b.WriteString(s)
		b.WriteString("}")
	}
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// HardwareAddrs returns the hardware addresses of every network interface
// that has one, formatted as Go prints them (lower-case, colon separated),
// in interface order. Interfaces without a hardware address, such as
// loopback, are skipped.
func HardwareAddrs() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var macs []string
	for _, ifc := range ifs {
		if s := ifc.HardwareAddr.String(); s != "" {
			macs = append(macs, s)
		}
	}
	return macs, nil
}

// NewXAuth returns the xauth secret for segs:
//
//	hex(sha256("Codis-XAuth" + "-[seg]"...)[:16])
//
// The dashboard uses NewXAuth(product_name); a proxy uses
// NewXAuth(product_name, product_auth, token).
func NewXAuth(segs ...string) string {
	var b strings.Builder
	b.WriteString("Codis-XAuth")
	for _, s := range segs {
		b.WriteString("-[")
		b.WriteString(s)
		b.WriteString("]")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}
