// Package fence is the lock-and-fence contract shared by the coordinator
// backends (pkg/models/fs, zk, etcd) and pkg/models, which re-exports it
// as models.Lock and models.ErrLockLost. It exists so the backends, which
// cannot import pkg/models, can return the same Lock type.
//
// A Lock is an exclusive lock node plus a fencing token: every write made
// through the Lock is conditional, on the coordinator itself, on the lock
// node still being the one this Lock created. A holder that lost the lock
// (its ZooKeeper session expired, its etcd lease ran out, the node was
// deleted with --remove-lock, another holder took it) can therefore never
// write over its successor, even if it has not noticed the loss yet.
package fence

import "errors"

// ErrLockLost is wrapped by every fenced write, and by Release, made
// after the lock stopped being held.
var ErrLockLost = errors.New("lock lost")

// Lock is an exclusive lock node held by one coordinator client. Its
// methods are safe for concurrent use. The lock goes away when its client
// is closed; Release deletes it explicitly.
type Lock interface {
	// Path is the lock node.
	Path() string
	// Done is closed when the lock is (or may be) lost: the node was
	// deleted or changed, the session or lease ended, Release was called
	// or the client was closed. It never reopens; a lost lock is never
	// regained (acquire a new one).
	Done() <-chan struct{}
	// Update creates or overwrites a persistent node, like Client.Update,
	// only if the lock is still held; otherwise it fails with an error
	// wrapping ErrLockLost and writes nothing.
	Update(path string, data []byte) error
	// Delete removes a node, like Client.Delete, only if the lock is still
	// held; otherwise it fails with an error wrapping ErrLockLost.
	Delete(path string) error
	// Release deletes the lock node if it is still held and stops the
	// Lock; later fenced writes fail with ErrLockLost. Releasing a lock
	// that was lost fails with ErrLockLost and leaves the node (which is
	// someone else's, or gone) alone. A second Release returns nil.
	Release() error
}

// HeldError is the error AcquireLock returns when the lock node exists.
// It unwraps to the backend's "already exists" error, so it matches
// io/fs.ErrExist with errors.Is.
type HeldError struct {
	// Path is the lock node.
	Path string
	// Ephemeral is set when the existing node is bound to its holder's
	// session or lease (so it disappears when the holder dies) rather than
	// persistent (a filesystem lock, or one left by an original Codis
	// dashboard, which stays until deleted).
	Ephemeral bool
	// Err is the backend's error.
	Err error
}

func (e *HeldError) Error() string { return e.Err.Error() }
func (e *HeldError) Unwrap() error { return e.Err }
