package models

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Client is the one interface every coordinator backend (filesystem,
// ZooKeeper, etcd) implements. Paths are absolute, slash separated node
// names such as "/codis3/demo/topom"; they are never joined with
// filepath.Join. See SPEC-control §1.2 for the exact semantics.
//
// Implementations are safe for concurrent use.
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
