package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/testenv"
)

func buildProxy(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "codis-proxy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestCommandLine(t *testing.T) {
	bin := buildProxy(t)
	out, err := exec.Command(bin, "--default-config").Output()
	if err != nil || !strings.Contains(string(out), `product_name = "codis-demo"`) {
		t.Fatalf("--default-config: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "version: ") {
		t.Fatalf("--version: %v %s", err, out)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "proxy.toml")
	os.WriteFile(conf, []byte("proxy_max_clients = -1\n"), 0o644)
	cmd := exec.Command(bin, "--config", conf)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "proxy_max_clients") {
		t.Fatalf("bad config: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	cmd = exec.Command(bin, "--bogus")
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("bad flag: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
}

// TestFillslotsAndSignal starts the binary with --fillslots, serves a
// request and exits cleanly on SIGTERM, removing its pid file.
func TestFillslotsAndSignal(t *testing.T) {
	redis := testenv.StartRedis(t)
	bin := buildProxy(t)
	dir := t.TempDir()
	pport, aport := testenv.FreePort(t), testenv.FreePort(t)
	conf := filepath.Join(dir, "proxy.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("proxy_addr = \"127.0.0.1:%d\"\nadmin_addr = \"127.0.0.1:%d\"\n", pport, aport)), 0o644)
	var slots []map[string]any
	for i := 0; i < 1024; i++ {
		slots = append(slots, map[string]any{"id": i, "backend_addr": redis.Addr})
	}
	data, _ := json.Marshal(slots)
	sf := filepath.Join(dir, "slots.json")
	os.WriteFile(sf, data, 0o644)
	pidfile := filepath.Join(dir, "proxy.pid")
	cmd := exec.Command(bin, "--config", conf, "--fillslots", sf, "--pidfile", pidfile, "--ncpu", "1", "--max-ncpu", "3", "--product_name", "cli-test")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logs := &testenv.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var conn net.Conn
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", pport)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy not listening: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "SET a b\r\nGET a\r\n")
	r := bufio.NewReader(conn)
	l1, _ := r.ReadString('\n')
	r.ReadString('\n')
	l3, _ := r.ReadString('\n')
	if l1 != "+OK\r\n" || l3 != "b\r\n" {
		t.Fatalf("replies %q %q\n%s", l1, l3, logs.String())
	}
	if _, err := os.Stat(pidfile); err != nil {
		t.Fatalf("pid file: %v", err)
	}
	if !strings.Contains(logs.String(), "ncpu=1 max_ncpu=3") {
		t.Fatalf("GOMAXPROCS bounds not logged:\n%s", logs.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit after SIGTERM\n%s", logs.String())
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Fatalf("pid file left behind: %v", err)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("client connection still open after exit")
	}
}
