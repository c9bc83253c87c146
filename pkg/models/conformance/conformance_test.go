package conformance

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	samuelzk "github.com/samuel/go-zookeeper/zk"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/models/etcd"
	"github.com/codisgo/codis/pkg/models/fs"
	"github.com/codisgo/codis/pkg/testenv"
)

func TestMain(m *testing.M) {
	MaybeRunHelper()
	os.Exit(m.Run())
}

func TestFilesystem(t *testing.T) {
	t.Parallel()
	Run(t, Backend{
		Name:          "fs",
		Kind:          "fs",
		Addr:          func(t *testing.T) string { return t.TempDir() },
		ListLeafFails: true,
		ReadDirFails:  true,
		// The filesystem's "unreachable" is a root whose lock another
		// process never releases.
		Unreachable: func(t *testing.T) string {
			root := t.TempDir()
			StartHelper(t, "fsholder", map[string]string{"ADDR": root})
			return root
		},
	})
}

func TestZooKeeper(t *testing.T) {
	t.Parallel()
	srv := testenv.StartZooKeeper(t)
	Run(t, Backend{
		Name:          "zk",
		Kind:          "zk",
		Addr:          func(*testing.T) string { return srv.Addr },
		Ephemeral:     true,
		Unreachable:   func(t *testing.T) string { return testenv.ClosedPort(t) },
		PrivateServer: func(t *testing.T) *testenv.Server { return testenv.StartZooKeeper(t) },
	})
}

func TestZooKeeperWithAuth(t *testing.T) {
	t.Parallel()
	srv := testenv.StartZooKeeper(t)
	Run(t, Backend{
		Name:        "zookeeper",
		Kind:        "zk",
		Addr:        func(*testing.T) string { return srv.Addr },
		Auth:        "codis:secret",
		Ephemeral:   true,
		Unreachable: func(t *testing.T) string { return testenv.ClosedPort(t) },
	})
}

func TestEtcd(t *testing.T) {
	t.Parallel()
	srv := testenv.StartEtcd(t)
	Run(t, Backend{
		Name:          "etcd",
		Kind:          "etcd",
		Addr:          func(*testing.T) string { return srv.Addr },
		Ephemeral:     true,
		ListLeafFails: true,
		ReadDirFails:  true,
		Unreachable:   func(t *testing.T) string { return testenv.ClosedPort(t) },
		PrivateServer: func(t *testing.T) *testenv.Server { return testenv.StartEtcd(t) },
	})
}

// TestCloseStopsGoroutines is not parallel: it counts the goroutines of
// the whole process.
func TestCloseStopsGoroutines(t *testing.T) {
	t.Run("fs", func(t *testing.T) {
		CheckGoroutines(t, Backend{Name: "fs", Addr: func(t *testing.T) string { return t.TempDir() }})
	})
	t.Run("zk", func(t *testing.T) {
		srv := testenv.StartZooKeeper(t)
		CheckGoroutines(t, Backend{Name: "zk", Ephemeral: true, Addr: func(*testing.T) string { return srv.Addr }})
	})
	t.Run("zk-auth", func(t *testing.T) {
		srv := testenv.StartZooKeeper(t)
		CheckGoroutines(t, Backend{Name: "zk", Auth: "u:p", Ephemeral: true, Addr: func(*testing.T) string { return srv.Addr }})
	})
	t.Run("etcd", func(t *testing.T) {
		srv := testenv.StartEtcd(t)
		CheckGoroutines(t, Backend{Name: "etcd", Ephemeral: true, Addr: func(*testing.T) string { return srv.Addr }})
	})
}

func TestNewClient(t *testing.T) {
	var bad *models.ErrInvalidCoordinator
	if _, err := models.NewClient("redis", "x", "", 0); !errors.As(err, &bad) || bad.Name != "redis" {
		t.Fatalf("NewClient(redis) = %v; want *ErrInvalidCoordinator", err)
	}
	if _, err := models.NewClient("", "x", "", 0); !errors.As(err, &bad) {
		t.Fatalf("NewClient(\"\") = %v; want *ErrInvalidCoordinator", err)
	}
	for _, name := range []string{"zk", "zookeeper", "etcd", "fs", "filesystem"} {
		for _, auth := range []string{"nopassword", ":password", ":"} {
			c, err := models.NewClient(name, "127.0.0.1:1", auth, 0)
			if name == "fs" || name == "filesystem" {
				// The filesystem ignores auth (SPEC-control §1.5).
				if err != nil {
					t.Errorf("NewClient(%s, auth %q) = %v", name, auth, err)
				} else {
					c.Close()
				}
				continue
			}
			if !errors.Is(err, models.ErrInvalidAuth) || c != nil {
				t.Errorf("NewClient(%s, auth %q) = %v, %v; want nil, ErrInvalidAuth", name, auth, c, err)
			}
		}
		c, err := models.NewClient(name, "127.0.0.1:1", "user:", -time.Second)
		if err != nil || c == nil {
			t.Fatalf("NewClient(%s) = %v, %v", name, c, err)
		}
		c.Close()
	}
	wantType := map[string]string{
		"zk": "*zk.Client", "zookeeper": "*zk.Client", "etcd": "*etcd.Client",
		"fs": "*fs.Client", "filesystem": "*fs.Client",
	}
	for name, typ := range wantType {
		c, err := models.NewClient(name, t.TempDir(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", c); got != typ {
			t.Errorf("NewClient(%s) is %s, want %s", name, got, typ)
		}
		c.Close()
	}
	for _, name := range []string{"zk", "etcd"} {
		if _, err := models.NewClient(name, " , ", "", 0); err == nil {
			t.Errorf("NewClient(%s) with an empty address list succeeded", name)
		}
	}
	if _, err := models.NewClient("fs", "", "", 0); err == nil {
		t.Error("NewClient(fs) with an empty root succeeded")
	}
}

// ---------------------------------------------------------------------
// Filesystem specifics (SPEC-control §1.5 and the waiting-lock departure).

func newFS(t *testing.T, root string, timeout time.Duration) *fs.Client {
	t.Helper()
	c, err := fs.New(root, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestFilesystemLayout(t *testing.T) {
	root := t.TempDir()
	c := newFS(t, root, 0)
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Fatalf("New did I/O: root holds %v", entries)
	}
	if err := c.Update("/codis3/demo/topom", []byte(`{"x": 1}`)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "data", "codis3", "demo", "topom")
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", file, st.Mode().Perm())
	}
	if b, _ := os.ReadFile(file); string(b) != `{"x": 1}` {
		t.Errorf("%s holds %q", file, b)
	}
	for _, d := range []string{"data/codis3", "data/codis3/demo"} {
		if st, err := os.Stat(filepath.Join(root, d)); err != nil || !st.IsDir() || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want a 0755 directory", d, st, err)
		}
	}
	if temps, err := os.ReadDir(filepath.Join(root, "temp")); err != nil || len(temps) != 0 {
		t.Errorf("temp dir: %v, %v; want empty", temps, err)
	}
	lck := filepath.Join(root, "data.lck")
	st, err = os.Stat(lck)
	if err != nil || st.Mode().Perm() != 0o644 || st.Size() != 0 {
		t.Errorf("lock file: %v, %v; want empty, mode 0644", st, err)
	}
	if c.LockPath() != lck {
		t.Errorf("LockPath = %s, want %s", c.LockPath(), lck)
	}
	// A relative root is made absolute.
	wd, _ := os.Getwd()
	rel := newFS(t, "some/dir", 0)
	if rel.Root() != filepath.Join(wd, "some/dir") {
		t.Errorf("Root = %s", rel.Root())
	}
	// Delete is recursive and leaves the parent directory behind.
	if err := c.Update("/codis3/demo/proxy/proxy-1", []byte("p")); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("/codis3/demo/proxy/proxy-1"); err != nil {
		t.Fatal(err)
	}
	if names, err := c.List("/codis3/demo/proxy", true); err != nil || len(names) != 0 {
		t.Errorf("List of emptied dir = %q, %v; want empty", names, err)
	}
	if err := c.Delete("/codis3"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "data", "codis3")); !os.IsNotExist(err) {
		t.Errorf("recursive Delete left %v", err)
	}
	// A file where a directory is needed is an error, not a panic.
	if err := c.Update("/f", []byte("file")); err != nil {
		t.Fatal(err)
	}
	if err := c.Update("/f/child", []byte("x")); err == nil {
		t.Error("Update below a file succeeded")
	}
	if got, err := c.Read("/f/child", false); err != nil || got != nil {
		t.Errorf("Read below a file = %q, %v; want nil, nil", got, err)
	}
	// The root is listable.
	if names, err := c.List("/", true); err != nil || fmt.Sprint(names) != "[/f]" {
		t.Errorf("List(/) = %q, %v", names, err)
	}
}

// holdLock takes the lock file's flock as another holder would.
func holdLock(t *testing.T, c *fs.Client) (release func()) {
	t.Helper()
	if err := os.MkdirAll(c.Root(), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(c.LockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

func TestFilesystemLockTimeout(t *testing.T) {
	c := newFS(t, t.TempDir(), 500*time.Millisecond)
	release := holdLock(t, c)
	defer release()
	start := time.Now()
	_, err := c.Read("/x", false)
	elapsed := time.Since(start)
	if !errors.Is(err, fs.ErrLockTimeout) || !strings.Contains(err.Error(), c.LockPath()) {
		t.Fatalf("Read with the lock held = %v; want ErrLockTimeout naming %s", err, c.LockPath())
	}
	if elapsed < 500*time.Millisecond || elapsed > 3*time.Second {
		t.Fatalf("gave up after %v, timeout 500ms", elapsed)
	}
}

func TestFilesystemLockWait(t *testing.T) {
	c := newFS(t, t.TempDir(), 10*time.Second)
	release := holdLock(t, c)
	time.AfterFunc(300*time.Millisecond, release)
	start := time.Now()
	if err := c.Update("/waited", []byte("ok")); err != nil {
		t.Fatalf("Update while the lock was briefly held: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
		t.Fatalf("Update did not wait for the lock (%v)", elapsed)
	}
	got, err := c.Read("/waited", true)
	if err != nil || string(got) != "ok" {
		t.Fatalf("Read = %q, %v", got, err)
	}
}

func TestFilesystemLockContent(t *testing.T) {
	// While an operation holds the lock the file names the holder
	// ({"now": ..., "pid": N}, 4-space indented); it is empty otherwise.
	root := t.TempDir()
	c := newFS(t, root, 5*time.Second)
	big := make([]byte, 1<<20)
	done := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := c.Update("/big", big); err != nil {
				done <- err
				return
			}
		}
	}()
	lck := filepath.Join(root, "data.lck")
	want := fmt.Sprintf("{\n    \"now\": \"%d-", time.Now().Year())
	pid := fmt.Sprintf("\n    \"pid\": %d\n}", os.Getpid())
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(lck)
		if strings.HasPrefix(string(b), want) && strings.HasSuffix(string(b), pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never saw the holder record in %s; last content %q", lck, b)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(lck); err != nil || st.Size() != 0 {
		t.Fatalf("lock file after release: %v, %v; want empty", st, err)
	}
}

func TestFilesystemDeadHolder(t *testing.T) {
	// A holder killed with SIGKILL loses its flock; a waiting operation
	// then proceeds.
	root := t.TempDir()
	c := newFS(t, root, 20*time.Second)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	h := StartHelper(t, "fsholder", map[string]string{"ADDR": root})
	time.AfterFunc(300*time.Millisecond, func() { h.Kill(t) })
	start := time.Now()
	if err := c.Update("/n", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("Update did not wait for the holder (%v)", d)
	}
	mustRead(t, c, "/n", []byte("after"))
}

func TestFilesystemTwoProcesses(t *testing.T) {
	root := t.TempDir()
	const n = 150
	base := "/codis3/shared"
	var helpers []*Helper
	for w := range 2 {
		helpers = append(helpers, StartHelper(t, "fswriter", map[string]string{
			"ADDR": root, "PATH": base, "WRITER": fmt.Sprint(w), "N": fmt.Sprint(n),
		}))
	}
	// Meanwhile this process reads the shared counter.
	c := newFS(t, root, 30*time.Second)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	reads := 0
	go func() {
		for {
			select {
			case <-stop:
				readErr <- nil
				return
			default:
			}
			data, err := c.Read(base+"/counter", false)
			if err == nil && data != nil {
				_, err = CheckRecord(base+"/counter", data)
			}
			if err != nil {
				readErr <- err
				return
			}
			reads++
		}
	}()
	for w, h := range helpers {
		out, err := h.Wait(t, 120*time.Second)
		if err != nil || !strings.Contains(out, "done") {
			t.Fatalf("writer %d: %q, %v", w, out, err)
		}
	}
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatalf("concurrent reader: %v", err)
	}
	t.Logf("%d concurrent reads of the counter, all complete", reads)
	for w := range 2 {
		names, err := c.List(fmt.Sprintf("%s/w%d", base, w), true)
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != n+1 {
			t.Fatalf("writer %d: %d nodes, want %d", w, len(names), n+1)
		}
		for i := range n {
			p := fmt.Sprintf("%s/w%d/created-%04d", base, w, i)
			data, err := c.Read(p, true)
			if err != nil {
				t.Fatal(err)
			}
			if r, err := CheckRecord(p, data); err != nil || r.Writer != w || r.Seq != i {
				t.Fatalf("%s = writer %d step %d, %v", p, r.Writer, r.Seq, err)
			}
		}
		p := fmt.Sprintf("%s/w%d/updated", base, w)
		data, _ := c.Read(p, true)
		if r, err := CheckRecord(p, data); err != nil || r.Writer != w || r.Seq != n-1 {
			t.Fatalf("%s = writer %d step %d, %v; want the last step", p, r.Writer, r.Seq, err)
		}
	}
	data, _ := c.Read(base+"/counter", true)
	if r, err := CheckRecord(base+"/counter", data); err != nil || r.Seq != n-1 {
		t.Fatalf("counter = step %d, %v; want the last step of some writer", r.Seq, err)
	}
	if temps, _ := os.ReadDir(filepath.Join(root, "temp")); len(temps) != 0 {
		t.Fatalf("%d temp files left behind", len(temps))
	}
}

// ---------------------------------------------------------------------
// ZooKeeper ACLs (SPEC-control §1.3).

func digestID(user, password string) string {
	sum := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// rawZK returns a go-zookeeper connection, authenticated if auth != "".
func rawZK(t *testing.T, addr, auth string) *samuelzk.Conn {
	t.Helper()
	conn, events, err := samuelzk.Connect([]string{addr}, 5*time.Second, samuelzk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	deadline := time.After(10 * time.Second)
	for ready := false; !ready; {
		select {
		case ev := <-events:
			ready = ev.State == samuelzk.StateHasSession
		case <-deadline:
			t.Fatal("raw zk connection: no session")
		}
	}
	go func() {
		for range events {
		}
	}()
	if auth != "" {
		if err := conn.AddAuth("digest", []byte(auth)); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func TestZooKeeperACL(t *testing.T) {
	srv := testenv.StartZooKeeper(t)
	raw := rawZK(t, srv.Addr, "codis:secret")
	root := Root(t)

	check := func(p string, scheme, id string, perms int32) {
		t.Helper()
		acl, _, err := raw.GetACL(p)
		if err != nil {
			t.Fatalf("GetACL(%s): %v", p, err)
		}
		if len(acl) != 1 || acl[0].Scheme != scheme || acl[0].ID != id || acl[0].Perms != perms {
			t.Fatalf("ACL of %s = %+v; want [{%d %s %s}]", p, acl, perms, scheme, id)
		}
	}
	const rwa = samuelzk.PermRead | samuelzk.PermWrite | samuelzk.PermAdmin

	open, err := models.NewClient("zk", srv.Addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := open.Create(root+"/open/dir/node", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := open.CreateEphemeral(root+"/open/eph", []byte("x")); err != nil {
		t.Fatal(err)
	}
	check(root+"/open/dir/node", "world", "anyone", rwa)
	check(root+"/open/eph", "world", "anyone", rwa)
	check(root+"/open/dir", "world", "anyone", samuelzk.PermAll)
	check(root+"/open", "world", "anyone", samuelzk.PermAll)

	authed, err := models.NewClient("zk", srv.Addr, "codis:secret", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer authed.Close()
	id := digestID("codis", "secret")
	if err := authed.Create(root+"/auth/dir/node", []byte("secret data")); err != nil {
		t.Fatal(err)
	}
	if err := authed.Update(root+"/auth/dir/updated", []byte("u")); err != nil {
		t.Fatal(err)
	}
	if _, err := authed.CreateEphemeral(root+"/auth/eph", []byte("e")); err != nil {
		t.Fatal(err)
	}
	check(root+"/auth/dir/node", "digest", id, rwa)
	check(root+"/auth/dir/updated", "digest", id, rwa)
	check(root+"/auth/eph", "digest", id, rwa)
	check(root+"/auth/dir", "digest", id, samuelzk.PermAll)
	check(root+"/auth", "digest", id, samuelzk.PermAll)
	mustRead(t, authed, root+"/auth/dir/node", []byte("secret data"))

	// Data nodes have no create/delete permission: children cannot be
	// added below them, not even by their owner.
	if err := authed.Create(root+"/auth/dir/node/child", nil); !errors.Is(err, samuelzk.ErrNoAuth) {
		t.Fatalf("Create below a data node = %v; want ErrNoAuth", err)
	}

	// Without auth, or with another password, the data is off limits.
	wrong, err := models.NewClient("zk", srv.Addr, "codis:wrong", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	for name, c := range map[string]models.Client{"no auth": open, "wrong password": wrong} {
		if err := c.Update(root+"/auth/dir/node", []byte("overwrite")); !errors.Is(err, samuelzk.ErrNoAuth) {
			t.Errorf("%s: Update of an authenticated node = %v; want ErrNoAuth", name, err)
		}
		if _, err := c.Read(root+"/auth/dir/node", true); !errors.Is(err, samuelzk.ErrNoAuth) {
			t.Errorf("%s: Read of an authenticated node = %v; want ErrNoAuth", name, err)
		}
	}
	mustRead(t, authed, root+"/auth/dir/node", []byte("secret data"))
	// An auth failure is about the node, not the connection: the client
	// keeps working afterwards.
	if err := open.Update(root+"/open/dir/node", []byte("y")); err != nil {
		t.Fatalf("no-auth client after ErrNoAuth: %v", err)
	}
}

// ---------------------------------------------------------------------
// etcd specifics.

func TestEtcdDirectories(t *testing.T) {
	srv := testenv.StartEtcd(t)
	c, err := etcd.New(srv.Addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Update("/a/b/c/d", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := c.Update("/a/b/e", []byte("y")); err != nil {
		t.Fatal(err)
	}
	names, err := c.List("/a/b", true)
	if err != nil || fmt.Sprint(names) != "[/a/b/c /a/b/e]" {
		t.Fatalf("List(/a/b) = %q, %v", names, err)
	}
	if _, err := c.Read("/a/b/c", false); !errors.Is(err, etcd.ErrNotFile) || err.Error() != "etcd: not a file: /a/b/c" {
		t.Fatalf("Read of a dir = %v", err)
	}
	if _, err := c.List("/a/b/e", false); !errors.Is(err, etcd.ErrNotDir) || !strings.HasPrefix(err.Error(), "etcd: not a dir") {
		t.Fatalf("List of a file = %v", err)
	}
	if names, err := c.List("/", true); err != nil || fmt.Sprint(names) != "[/a]" {
		t.Fatalf("List(/) = %q, %v", names, err)
	}
	// Keys are stored verbatim.
	out, err := exec.Command("etcdctl", "--endpoints", srv.Addr, "get", "/a/b/e", "--print-value-only").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "y" {
		t.Fatalf("etcdctl get /a/b/e = %q, %v", out, err)
	}
}

func TestEtcdAuth(t *testing.T) {
	testenv.Require(t, "etcdctl")
	srv := testenv.StartEtcd(t)
	ctl := func(args ...string) {
		t.Helper()
		cmd := exec.Command("etcdctl", append([]string{"--endpoints", srv.Addr}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("etcdctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ctl("user", "add", "root:rootpw", "--interactive=false")
	ctl("auth", "enable")

	good, err := models.NewClient("etcd", srv.Addr, "root:rootpw", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if err := good.Create("/codis3/demo/topom", []byte("t")); err != nil {
		t.Fatalf("authenticated Create: %v", err)
	}
	if _, err := good.CreateEphemeral("/jodis/demo/proxy-1", []byte("j")); err != nil {
		t.Fatalf("authenticated CreateEphemeral: %v", err)
	}
	mustRead(t, good, "/codis3/demo/topom", []byte("t"))

	anon, err := models.NewClient("etcd", srv.Addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := anon.Read("/codis3/demo/topom", true); err == nil {
		t.Fatal("unauthenticated Read succeeded with auth enabled")
	}
	if err := anon.Update("/codis3/demo/topom", []byte("x")); err == nil {
		t.Fatal("unauthenticated Update succeeded with auth enabled")
	}
	wrong, err := models.NewClient("etcd", srv.Addr, "root:nope", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if _, err := wrong.Read("/codis3/demo/topom", true); err == nil {
		t.Fatal("Read with a wrong password succeeded")
	}
	mustRead(t, good, "/codis3/demo/topom", []byte("t"))
}
