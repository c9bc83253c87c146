package models

import (
	"errors"
	"sort"
	"strings"
	"sync"
)

// memClient is a small in-memory Client for Store tests (the real backends
// are tested in their own packages). It follows SPEC-control §1.2: Create
// fails on an existing node, Delete ignores a missing one, Read/List with
// must=false return nil for missing nodes, List returns sorted full paths.
// fail injects an error for "op path" keys such as "read /codis3/p/topom".
type memClient struct {
	mu     sync.Mutex
	nodes  map[string][]byte
	fail   map[string]error
	closed bool
}

var (
	errMemExists   = errors.New("node already exists")
	errMemNotFound = errors.New("node does not exist")
	errMemClosed   = errors.New("use of closed mem client")
	errMemNotSupp  = errors.New("not supported")
)

func newMemClient() *memClient {
	return &memClient{nodes: make(map[string][]byte), fail: make(map[string]error)}
}

func (c *memClient) check(op, path string) error {
	if c.closed {
		return errMemClosed
	}
	if err := c.fail[op+" "+path]; err != nil {
		return err
	}
	return nil
}

func (c *memClient) Create(path string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check("create", path); err != nil {
		return err
	}
	if _, ok := c.nodes[path]; ok {
		return errMemExists
	}
	c.nodes[path] = append([]byte{}, data...)
	return nil
}

func (c *memClient) Update(path string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check("update", path); err != nil {
		return err
	}
	c.nodes[path] = append([]byte{}, data...)
	return nil
}

func (c *memClient) Delete(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check("delete", path); err != nil {
		return err
	}
	delete(c.nodes, path)
	return nil
}

func (c *memClient) Read(path string, must bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check("read", path); err != nil {
		return nil, err
	}
	b, ok := c.nodes[path]
	if !ok {
		if must {
			return nil, errMemNotFound
		}
		return nil, nil
	}
	return append([]byte{}, b...), nil
}

func (c *memClient) List(path string, must bool) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check("list", path); err != nil {
		return nil, err
	}
	prefix := path + "/"
	seen := make(map[string]bool)
	for p := range c.nodes {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			name, _, _ := strings.Cut(rest, "/")
			seen[prefix+name] = true
		}
	}
	if len(seen) == 0 {
		if _, ok := c.nodes[path]; !ok && must {
			return nil, errMemNotFound
		}
		return nil, nil
	}
	list := make([]string, 0, len(seen))
	for p := range seen {
		list = append(list, p)
	}
	sort.Strings(list)
	return list, nil
}

func (c *memClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func (c *memClient) CreateEphemeral(string, []byte) (<-chan struct{}, error) {
	return nil, errMemNotSupp
}

func (c *memClient) CreateEphemeralInOrder(string, []byte) (<-chan struct{}, string, error) {
	return nil, "", errMemNotSupp
}

func (c *memClient) WatchInOrder(string) (<-chan struct{}, []string, error) {
	return nil, nil, errMemNotSupp
}

func (c *memClient) get(path string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.nodes[path]
	return string(b), ok
}

func (c *memClient) put(path, data string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[path] = []byte(data)
}

func (c *memClient) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

var _ Client = (*memClient)(nil)
