package models

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/models/fence"
)

// Client is the one interface every coordinator backend (filesystem,
// ZooKeeper, etcd) implements. Paths are absolute, slash separated node
// names such as "/codis3/demo/topom"; they are never joined with
// filepath.Join. See SPEC-control §1.2 for the exact semantics.
//
// Implementations are safe for concurrent use. The three backends also
// implement Locker: the dashboard lock, bound to the client's session on
// ZooKeeper and etcd, with writes fenced by it.
type Client interface {
	// Create makes a persistent node and fails if it already exists.
	// Missing parents are created.
	Create(path string, data []byte) error
	// Update creates or overwrites a persistent node; parents are created.
	Update(path string, data []byte) error
	// Delete removes a node; a missing node is not an error.
	Delete(path string) error
	// Read returns a node's data. A missing node gives (nil, nil) unless
	// must is set, in which case it is an error.
	Read(path string, must bool) ([]byte, error)
	// List returns the full paths (path + "/" + name) of the children of
	// path. A missing directory gives (nil, nil) unless must is set.
	List(path string, must bool) ([]string, error)
	// Close releases the client; it is idempotent and every later call
	// fails with "use of closed {zk|etcd|fs} client".
	Close() error

	// CreateEphemeral creates a node bound to this client's liveness (a
	// ZooKeeper session, an etcd lease). The returned channel is closed
	// when the node is changed or deleted or liveness is lost.
	CreateEphemeral(path string, data []byte) (<-chan struct{}, error)
	// CreateEphemeralInOrder creates a sequential ephemeral node under dir
	// and returns its path.
	CreateEphemeralInOrder(dir string, data []byte) (<-chan struct{}, string, error)
	// WatchInOrder returns the sorted child paths of dir and a channel
	// closed when the children change.
	WatchInOrder(dir string) (<-chan struct{}, []string, error)
}

// Lock is an exclusive lock node with fenced writes; see package
// pkg/models/fence for the contract. Obtain one with Store.AcquireLock (or
// Locker.AcquireLock).
type Lock = fence.Lock

// ErrLockLost is wrapped by every fenced write (and Release) made after the
// lock stopped being held.
var ErrLockLost = fence.ErrLockLost

// LockHeldError is the error (wrapped) of AcquireLock when the lock node
// exists; it matches io/fs.ErrExist. Its Ephemeral field tells whether the
// existing node will disappear with its holder's session or lease.
type LockHeldError = fence.HeldError

// ErrLockNotSupported is wrapped by Store.AcquireLock when the client is
// not a Locker.
var ErrLockNotSupported = errors.New("coordinator client does not support locks")

// Locker is implemented by every coordinator backend (fs, zk, etcd); it is
// separate from Client so that other Client implementations keep working.
//
// AcquireLock creates the lock node path with data and fails (with a
// *LockHeldError, matching io/fs.ErrExist) when it exists. Writes made through the
// returned Lock are fenced: they succeed only while the lock node is still
// the one this call created, checked by the coordinator in the same
// transaction as the write (ZooKeeper: a multi that checks the lock node
// and its parent's version; etcd: a transaction comparing the key's
// revision; filesystem: a content check under the global flock).
//
// On ZooKeeper and etcd the lock node is ephemeral: it is bound to the
// client's session or lease, so it disappears when the holder closes its
// client, crashes, or stays unreachable past the session timeout / lease
// TTL (the client timeout); EphemeralLocks reports true. On the
// filesystem it is a persistent node, as in the original Codis, and a
// crashed holder's lock stays until it is deleted (--remove-lock).
type Locker interface {
	AcquireLock(path string, data []byte) (Lock, error)
	EphemeralLocks() bool
}

// DefaultClientTimeout is used when a caller passes a timeout <= 0.
const DefaultClientTimeout = 5 * time.Second

// ErrInvalidAuth is returned for an auth string that is not user:password
// with a non-empty user.
var ErrInvalidAuth = errors.New("invalid auth")

// CoordinatorNames lists the accepted coordinator names.
var CoordinatorNames = []string{"zk", "zookeeper", "etcd", "fs", "filesystem"}

// ErrInvalidCoordinator reports a coordinator name that is not one of
// CoordinatorNames.
type ErrInvalidCoordinator struct{ Name string }

func (e *ErrInvalidCoordinator) Error() string {
	return fmt.Sprintf("invalid coordinator name = %s (valid: %s)", e.Name, strings.Join(CoordinatorNames, ", "))
}
