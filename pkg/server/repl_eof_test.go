package server

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
)

// A replica must not ACK while a diskless transfer is still running: a
// master starts the stream on the first ACK, so the stream would follow
// the EOF mark at once and the replica, which looks for the mark at the
// end of what it read, would never find it. The master here is the test:
// it sends the RDB slowly, over more than the replica's ACK period, and
// fails on any ACK before the mark; then it streams a SET.
func TestReplNoAckDuringDisklessTransfer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var body bytes.Buffer
	w := rdb.NewWriter(&body, nil)
	w.WriteStandardAux("7.0.15", time.Now(), 0)
	w.SelectDB(0)
	w.WriteKey([]byte("before"), &rdb.Object{Kind: rdb.KindString, Str: []byte("sync")}, 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mark := strings.Repeat("0123456789", 4)
	errc := make(chan error, 1)
	go func() {
		errc <- func() error {
			conn, err := ln.Accept()
			if err != nil {
				return err
			}
			defer conn.Close()
			p := resp.NewParser(bufio.NewReader(conn))
			next := func() ([][]byte, error) {
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				return p.ReadCommand()
			}
			// Handshake: PING, REPLCONF..., PSYNC.
			for {
				argv, err := next()
				if err != nil {
					return fmt.Errorf("handshake: %w", err)
				}
				switch strings.ToUpper(string(argv[0])) {
				case "PING":
					conn.Write([]byte("+PONG\r\n"))
				case "REPLCONF":
					conn.Write([]byte("+OK\r\n"))
				case "PSYNC", "SYNC":
					fmt.Fprintf(conn, "+FULLRESYNC %s 0\r\n$EOF:%s\r\n", strings.Repeat("a", 40), mark)
					goto transfer
				default:
					return fmt.Errorf("unexpected %q during the handshake", argv[0])
				}
			}
		transfer:
			// Half the RDB, then a pause longer than the ACK period during
			// which nothing may arrive from the replica.
			data := body.Bytes()
			conn.Write(data[:len(data)/2])
			_ = conn.SetReadDeadline(time.Now().Add(2500 * time.Millisecond))
			var one [1]byte
			if n, err := conn.Read(one[:]); n > 0 {
				return fmt.Errorf("the replica wrote %q during the transfer", one[:n])
			} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				return fmt.Errorf("during the transfer: %v", err)
			}
			conn.Write(data[len(data)/2:])
			conn.Write([]byte(mark))
			// Now the first ACK, then the stream.
			argv, err := next()
			if err != nil {
				return fmt.Errorf("waiting for the first ACK: %w", err)
			}
			if len(argv) < 2 || !strings.EqualFold(string(argv[0]), "replconf") || !strings.EqualFold(string(argv[1]), "ack") {
				return fmt.Errorf("first message after the mark: %q", argv)
			}
			conn.Write(resp.AppendCommandStrings(nil, "SET", "after", "stream"))
			time.Sleep(3 * time.Second) // keep the link until the test has checked
			return nil
		}()
	}()
	r := startReplicaOf(t, ln.Addr().String())
	c := dial(t, ourAddr(r))
	checkFor(t, 15*time.Second, func() error {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
		default:
		}
		if got := c.do("GET", "after"); got.Str != "stream" {
			return fmt.Errorf("GET after = %s", got)
		}
		return nil
	})
	c.expect(`"sync"`, "GET", "before")
}
