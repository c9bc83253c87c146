package models

import (
	"fmt"
	"path"
)

// CodisDir is the root of every product's nodes (SPEC-control §1.1).
const CodisDir = "/codis3"

// The functions below build store paths by concatenation; they do not
// validate their arguments (Store does). Slot and group ids are zero
// padded to four digits.

// ProductDir is /codis3/{product}.
func ProductDir(product string) string { return CodisDir + "/" + product }

// LockPath is /codis3/{product}/topom, the dashboard lock node.
func LockPath(product string) string { return ProductDir(product) + "/topom" }

// SlotDir is /codis3/{product}/slots.
func SlotDir(product string) string { return ProductDir(product) + "/slots" }

// SlotPath is /codis3/{product}/slots/slot-{sid:%04d}.
func SlotPath(product string, sid int) string {
	return SlotDir(product) + fmt.Sprintf("/slot-%04d", sid)
}

// GroupDir is /codis3/{product}/group.
func GroupDir(product string) string { return ProductDir(product) + "/group" }

// GroupPath is /codis3/{product}/group/group-{gid:%04d}.
func GroupPath(product string, gid int) string {
	return GroupDir(product) + fmt.Sprintf("/group-%04d", gid)
}

// ProxyDir is /codis3/{product}/proxy.
func ProxyDir(product string) string { return ProductDir(product) + "/proxy" }

// ProxyPath is /codis3/{product}/proxy/proxy-{token}.
func ProxyPath(product, token string) string { return ProxyDir(product) + "/proxy-" + token }

// SentinelPath is /codis3/{product}/sentinel.
func SentinelPath(product string) string { return ProductDir(product) + "/sentinel" }

// JodisDir is /jodis/{product}, the directory of the proxies' ephemeral
// Jodis nodes (jodis_compatible = false).
func JodisDir(product string) string { return "/jodis/" + product }

// JodisPath is /jodis/{product}/proxy-{token}.
func JodisPath(product, token string) string { return JodisDir(product) + "/proxy-" + token }

// CodisV1Dir is /zk/codis/db_{product}, the root of a Codis 2.x product.
func CodisV1Dir(product string) string { return "/zk/codis/db_" + product }

// JodisCompatDir is /zk/codis/db_{product}/proxy, the Codis 2.x compatible
// Jodis directory (jodis_compatible = true).
func JodisCompatDir(product string) string { return CodisV1Dir(product) + "/proxy" }

// JodisCompatPath is /zk/codis/db_{product}/proxy/{token}. Unlike the
// normal form there is no "proxy-" prefix (SPEC-control §11.16).
func JodisCompatPath(product, token string) string { return JodisCompatDir(product) + "/" + token }

// baseName is the last element of a slash separated store path.
func baseName(p string) string { return path.Base(p) }
