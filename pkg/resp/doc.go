// Package resp is the one RESP codec of the project, shared by the proxy, the
// data server and the tests.
//
//   - Parser reads client requests (multibulk and inline) from an io.Reader
//     into a reusable buffer. The arguments it returns are sub-slices of that
//     buffer: they are valid only until the next call to Next, Fill or
//     ReadCommand. A frame that spans several reads is compacted to the front
//     of the buffer (the only copy); the buffer grows as needed for one frame
//     and shrinks back afterwards. Every length is checked against its limit
//     before anything is allocated, and malformed input produces a
//     *ProtocolError whose text is exactly Redis 7.0's.
//   - The Append* functions write RESP2 replies and commands onto a []byte.
//   - ReplyReader reads replies (RESP2 and the RESP3 types) for clients and
//     tests.
//
// Parser and ReplyReader are not safe for concurrent use; the Append
// functions are pure.
package resp
