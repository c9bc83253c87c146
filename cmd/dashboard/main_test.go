package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
	"github.com/codisgo/codis/pkg/topom"
	"github.com/codisgo/codis/pkg/utils/token"
)

// The test binary doubles as codis-dashboard when this variable is set.
const mainEnv = "CODIS_DASHBOARD_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) != "" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func dashboard(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

func runDashboard(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := dashboard(t, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestVersionAndDefaultConfig(t *testing.T) {
	out, _, code := runDashboard(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "version: ") || !strings.Contains(out, "\ncompile: ") {
		t.Fatalf("--version: %d %q", code, out)
	}
	out, _, code = runDashboard(t, "--default-config")
	if code != 0 || out != topom.DefaultConfig {
		t.Fatalf("--default-config: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(conf, []byte("migration_method = \"fast\"\n"), 0o644)
	for _, args := range [][]string{
		{"--nonsense"},
		{"--ncpu=zero"},
		{"--log-level=loud"},
		{"--config=" + conf},
		{"--config=/nonexistent/dashboard.toml"},
		{"--product_name=bad name", "--filesystem=" + t.TempDir()},
		{"--zookeeper=a", "--etcd=b"},
	} {
		_, stderr, code := runDashboard(t, args...)
		if code != 1 || !strings.Contains(stderr, "[PANIC]") && !strings.Contains(stderr, "Usage:") {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestRunShutdownAndRemoveLock(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	addr := freeAddr(t)
	conf := filepath.Join(dir, "dashboard.toml")
	os.WriteFile(conf, []byte("admin_addr = \""+addr+"\"\nunknown_key = 1\n"), 0o644)
	pidfile := filepath.Join(dir, "dashboard.pid")

	client, err := models.NewClient("filesystem", root, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := models.NewStore(client, "prod")
	defer store.Close()
	// A stale lock from a crashed dashboard; --remove-lock clears it.
	if err := store.Acquire(&models.Topom{Token: "stale"}); err != nil {
		t.Fatal(err)
	}

	cmd := dashboard(t, "--config="+conf, "--filesystem="+root, "--product_name=prod",
		"--pidfile="+pidfile, "--remove-lock", "--host-admin=127.0.0.1:1")
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	xauth := token.NewXAuth("prod")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if lock, _ := store.LoadTopom(false); lock != nil && lock.Token != "stale" {
			if lock.AdminAddr != "127.0.0.1:1" {
				t.Fatalf("advertised %q", lock.AdminAddr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard did not take the lock; log:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid, err := os.ReadFile(pidfile)
	if err != nil || string(pid) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("pidfile %q %v", pid, err)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/api/topom/shutdown/"+xauth, nil)
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var reply string
	json.NewDecoder(rsp.Body).Decode(&reply)
	rsp.Body.Close()
	if rsp.StatusCode != 200 || reply != "OK" {
		t.Fatalf("shutdown: %d %q", rsp.StatusCode, reply)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dashboard did not exit")
	}
	if lock, _ := store.LoadTopom(false); lock != nil {
		t.Fatal("lock not released")
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Fatal("pidfile not removed")
	}
	if !strings.Contains(stderr.String(), "unknown_key") {
		t.Fatalf("unknown key not reported:\n%s", stderr.String())
	}
}

func TestSigtermReleasesLock(t *testing.T) {
	root := t.TempDir()
	addr := freeAddr(t)
	cmd := dashboard(t, "--filesystem="+root, "--product_name=sig", "--log-level=debug")
	conf := filepath.Join(t.TempDir(), "d.toml")
	os.WriteFile(conf, []byte("admin_addr = \""+addr+"\"\n"), 0o644)
	cmd.Args = append(cmd.Args, "--config="+conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	client, _ := models.NewClient("filesystem", root, "", 5*time.Second)
	store, _ := models.NewStore(client, "sig")
	defer store.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if lock, _ := store.LoadTopom(false); lock != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dashboard did not exit on SIGTERM")
	}
	if lock, _ := store.LoadTopom(false); lock != nil {
		t.Fatal("lock not released on SIGTERM")
	}
}

// TestLockRemovedExits: on ZooKeeper the lock is an ephemeral node; when
// it is deleted under a running dashboard (codis-admin --remove-lock), the
// dashboard steps down and exits 1 instead of writing on.
func TestLockRemovedExits(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	addr := freeAddr(t)
	conf := filepath.Join(t.TempDir(), "d.toml")
	os.WriteFile(conf, []byte("admin_addr = \""+addr+"\"\n"), 0o644)
	cmd := dashboard(t, "--zookeeper="+zk.Addr, "--product_name=zkp", "--config="+conf)
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	client, err := models.NewClient("zookeeper", zk.Addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := models.NewStore(client, "zkp")
	defer store.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Wait for the acquisition to complete: a lock node removed while
		// the dashboard is still setting its watch is a failed attempt,
		// which it retries, not a lock lost.
		if lock, _ := store.LoadTopom(false); lock != nil && strings.Contains(stderr.String(), "dashboard lock acquired") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lock; log:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := client.Delete(store.LockPath()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if x, ok := err.(*exec.ExitError); !ok || x.ExitCode() != 1 {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("dashboard did not step down; log:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "dashboard lock lost") {
		t.Fatalf("log does not say why:\n%s", stderr.String())
	}
	if lock, _ := store.LoadTopom(false); lock != nil {
		t.Fatalf("lock node recreated: %+v", lock)
	}
}
