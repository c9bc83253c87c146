package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Marshal encodes v the way every Codis component writes JSON: 4-space
// indentation, no prefix, no trailing newline, and Go's HTML-safe escaping
// (&, <, > become \u0026, \u003c, \u003e).
func Marshal(v any) ([]byte, error) {
	return json.MarshalIndent(v, "", "    ")
}

// Encode is Marshal for values that always encode: the models of this
// package and plain data built from strings, numbers, bools, slices, maps
// with string keys and structs of those. Encoding anything else (channels,
// functions, NaN, cycles) is a programming error and panics; use Marshal
// when v may not be encodable.
func Encode(v any) []byte {
	b, err := Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("models: encode %T: %v", v, err))
	}
	return b
}

// Decode unmarshals data read from path into v (a non-nil pointer). Missing
// fields keep their zero values and unknown fields are ignored. Invalid
// data gives a *DecodeError naming path, e.g.
// "decode /codis3/p/group/group-0001: invalid character 'x' ...".
func Decode(path string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return &DecodeError{Path: path, Err: err}
	}
	return nil
}

// decodeAny decodes one JSON value with numbers kept as json.Number, so
// that large integers survive a decode/encode round trip. Trailing data
// after the value is an error, as with Decode.
func decodeAny(path string, data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, &DecodeError{Path: path, Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &DecodeError{Path: path, Err: errors.New("invalid data after top-level value")}
	}
	return v, nil
}
