package rdb_test

import (
	"bytes"
	"fmt"

	"github.com/codisgo/codis/pkg/rdb"
)

func ExampleEncodeDump() {
	obj := rdb.Object{Kind: rdb.KindHash, Hash: []rdb.Field{{Name: []byte("f"), Value: []byte("v")}}}
	payload, err := rdb.EncodeDump(&obj, rdb.DumpVersion)
	if err != nil {
		panic(err)
	}
	back, err := rdb.DecodeDump(payload, rdb.MaxVersionCodis)
	fmt.Println(back.Kind, string(back.Hash[0].Name), string(back.Hash[0].Value), err)
	// Output: hash f v <nil>
}

func ExampleReader() {
	var file bytes.Buffer
	w := rdb.NewWriter(&file, nil)
	w.SelectDB(3)
	w.WriteKey([]byte("greeting"), &rdb.Object{Kind: rdb.KindString, Str: []byte("hello")}, 1700000000000)
	if err := w.Close(); err != nil {
		panic(err)
	}
	err := rdb.NewReader(&file).Run(rdb.Handlers{Key: func(e *rdb.Entry) error {
		fmt.Printf("db%d %s=%s expires %d\n", e.DB, e.Key, e.Value.Str, e.ExpireAt)
		return nil
	}})
	fmt.Println(err)
	// Output:
	// db3 greeting=hello expires 1700000000000
	// <nil>
}
