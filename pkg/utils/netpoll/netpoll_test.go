package netpoll

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pair returns a wrapped server side and the plain client side of a
// loopback TCP connection.
func pair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	w := Wrap(srv)
	if runtime.GOOS == "linux" && !Disabled {
		if _, ok := w.(*Conn); !ok {
			t.Fatalf("Wrap returned %T", w)
		}
	}
	t.Cleanup(func() { w.Close(); cli.Close() })
	return w, cli
}

func TestRequestResponse(t *testing.T) {
	srv, cli := pair(t)
	if srv.LocalAddr().String() != cli.RemoteAddr().String() || srv.RemoteAddr().String() != cli.LocalAddr().String() {
		t.Fatalf("addresses: %v %v / %v %v", srv.LocalAddr(), srv.RemoteAddr(), cli.LocalAddr(), cli.RemoteAddr())
	}
	go func() {
		buf := make([]byte, 16)
		for {
			n, err := srv.Read(buf)
			if err != nil {
				return
			}
			if _, err := srv.Write(bytes.ToUpper(buf[:n])); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64)
	for i := 0; i < 5000; i++ {
		msg := []byte("ping-" + string(rune('a'+i%26)))
		if _, err := cli.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(cli, buf[:len(msg)]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[:len(msg)], bytes.ToUpper(msg)) {
			t.Fatalf("round %d: got %q", i, buf[:len(msg)])
		}
	}
	// Messages longer than the reader's buffer arrive whole over several
	// reads (the "buffer filled, read again" path).
	long := bytes.Repeat([]byte("xyz"), 100000)
	go cli.Write(long)
	got := make([]byte, len(long))
	if _, err := io.ReadFull(cli, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.ToUpper(long)) {
		t.Fatal("long message corrupted")
	}
}

func TestPeerCloseGivesEOF(t *testing.T) {
	srv, cli := pair(t)
	cli.Write([]byte("bye"))
	cli.Close()
	b, err := io.ReadAll(srv)
	if err != nil || string(b) != "bye" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if n, err := srv.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("read after EOF = %d, %v", n, err)
	}
}

func TestCloseWakesBlockedRead(t *testing.T) {
	srv, cli := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := srv.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the reader")
	}
	if err := srv.Close(); err == nil {
		t.Fatal("second Close succeeded")
	}
	if _, err := srv.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	// The descriptor is closed: the peer sees EOF.
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := cli.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("peer read after close: %v", err)
	}
}

func TestReadDeadline(t *testing.T) {
	srv, cli := pair(t)
	srv.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err := srv.Read(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read error %v, want a timeout", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 3*time.Second {
		t.Fatalf("deadline fired after %v", d)
	}
	// Extending the deadline makes the connection usable again.
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	cli.Write([]byte("ok"))
	b := make([]byte, 8)
	if n, err := srv.Read(b); err != nil || string(b[:n]) != "ok" {
		t.Fatalf("read = %q, %v", b[:n], err)
	}
	// A deadline set while a read is blocked wakes it.
	srv.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := srv.Read(b)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	srv.SetReadDeadline(time.Now())
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("deadline did not wake the reader")
	}
}

func TestWriteBlocksUntilPeerReads(t *testing.T) {
	srv, cli := pair(t)
	big := bytes.Repeat([]byte("0123456789"), 2_000_000) // far beyond socket buffers
	done := make(chan error, 1)
	go func() {
		n, err := srv.Write(big)
		if err == nil && n != len(big) {
			err = io.ErrShortWrite
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("write of %d bytes returned early: %v", len(big), err)
	default:
	}
	got := make([]byte, len(big))
	if _, err := io.ReadFull(cli, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("data corrupted")
	}
}

func TestWriteDeadline(t *testing.T) {
	srv, _ := pair(t)
	srv.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	big := make([]byte, 64<<20)
	n, err := srv.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == len(big) {
		t.Fatalf("write = %d, %v; want a timeout", n, err)
	}
}

func TestSyscallConn(t *testing.T) {
	srv, cli := pair(t)
	sc, ok := srv.(syscall.Conn)
	if !ok {
		t.Fatalf("%T is not a syscall.Conn", srv)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int = -1
	rc.Control(func(f uintptr) { fd = int(f) })
	if fd < 0 {
		t.Fatal("no descriptor")
	}
	// A raw read that would block waits for the data.
	go func() {
		time.Sleep(20 * time.Millisecond)
		cli.Write([]byte("peek"))
	}()
	var b [4]byte
	var n int
	err = rc.Read(func(f uintptr) bool {
		var rerr error
		n, _, rerr = syscall.Recvfrom(int(f), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return rerr != syscall.EAGAIN
	})
	if err != nil || string(b[:n]) != "peek" {
		t.Fatalf("raw read = %q, %v", b[:n], err)
	}
	// The peeked bytes are still there for Read.
	buf := make([]byte, 8)
	if n, err := srv.Read(buf); err != nil || string(buf[:n]) != "peek" {
		t.Fatalf("read = %q, %v", buf[:n], err)
	}
}

// Many connections opened, used and closed concurrently (descriptors are
// reused as they go): every reply reaches its own client.
func TestManyConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				c = Wrap(c)
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}(c)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 20; round++ {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					errs <- err
					return
				}
				msg := bytes.Repeat([]byte{byte('A' + g%26)}, 100+g*37+round)
				got := make([]byte, len(msg))
				for i := 0; i < 20; i++ {
					if _, err := c.Write(msg); err != nil {
						errs <- err
						return
					}
					if _, err := io.ReadFull(c, got); err != nil {
						errs <- err
						return
					}
					if !bytes.Equal(got, msg) {
						errs <- errors.New("reply of another connection")
						return
					}
				}
				c.Close()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func BenchmarkPingPong(b *testing.B) {
	srv, cli := pair(b)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := srv.Read(buf)
			if err != nil {
				return
			}
			if _, err := srv.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64)
	msg := []byte("+PING\r\n")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cli.Write(msg)
		io.ReadFull(cli, buf[:len(msg)])
	}
}
