// Package models holds the Codis topology: the JSON models stored in the
// coordinator (Topom, Proxy, Group, SlotMapping, Sentinel), the Slot pushed
// to proxies, the Jodis node, the ConfigV3 dump format, the store path
// layout and Store, a typed view of one product's nodes on top of the
// coordinator Client interface.
//
// Wire compatibility. Every type encodes exactly as SPEC-control §2: same
// field names, same order, same omitempty rules. Encode produces the
// 4-space indented, Go-escaped JSON that the original components write,
// and Decode accepts any valid JSON, including missing and unknown fields.
// Paths are built by string concatenation (never filepath.Join) as listed
// in SPEC-control §1.1.
//
// Concurrency. Model values are plain data and are not safe for concurrent
// mutation; use the Clone methods to hand out snapshots. A Store is safe
// for concurrent use as long as its Client is (every backend is).
//
// The dashboard lock. Locker (implemented by every backend) creates the
// lock node /codis3/{product}/topom: ephemeral on ZooKeeper and etcd (it
// ends with the holder's session or lease), persistent on the filesystem.
// The returned Lock fences writes: Store.Fenced(lock) gives a Store whose
// writes the coordinator applies only while the lock node is still the one
// that Lock created, and which otherwise fail with ErrLockLost.
//
// Errors. Invalid ids, names and configs are reported with the sentinels in
// errors.go (test with errors.Is); the message texts match the original
// Codis where one existed, typos included ("gorup-%04d is promoting").
package models
