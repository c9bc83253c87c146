package ha

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/gomodule/redigo/redis"
)

// Timeouts of the SHUTDOWN connection: the dial is short, the command may
// take long (a server with save points writes its RDB before exiting).
const (
	shutdownDialTimeout = time.Second
	shutdownTimeout     = 30 * time.Minute
)

// shutdownServer connects to addr (AUTH auth when not empty) and sends
// SHUTDOWN. A server that exits closes the connection without replying;
// that is success. An error reply or a failed connection is returned.
func shutdownServer(ctx context.Context, addr, auth string) error {
	opts := []redis.DialOption{
		redis.DialConnectTimeout(shutdownDialTimeout),
		redis.DialReadTimeout(shutdownTimeout),
		redis.DialWriteTimeout(shutdownTimeout),
	}
	if auth != "" {
		opts = append(opts, redis.DialPassword(auth))
	}
	c, err := redis.DialContext(ctx, "tcp", addr, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = redis.DoContext(c, ctx, "SHUTDOWN")
	if err == nil || connClosed(err) {
		return nil
	}
	return err
}

// connClosed reports whether err is the server closing the connection.
func connClosed(err error) bool {
	var re redis.Error
	if errors.As(err, &re) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
