package pbjson

import (
	"testing"

	"github.com/spindle-rt/spindle/proto/apipb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

var (
	benchConnectReq = &proxypb.SubscribeRequest{
		Client: "9336a229-2a2c-4c3d-9c0e-6d7b8e3c5a11", Transport: "websocket",
		Protocol: "json", Encoding: "json", User: "56", Channel: "chat:index",
		Data: []byte(`{"room":"index","since":1700000000,"tags":["a","b"]}`),
	}
	benchBatch = []byte(`{"commands":[` +
		`{"publish":{"channel":"news","data":{"text":"hello","n":1},"tags":{"k":"v"}}},` +
		`{"broadcast":{"channels":["a","b","c"],"data":{"text":"hi"},"skip_history":true}},` +
		`{"presence":{"channel":"news"}}],"parallel":false}`)
)

func BenchmarkMarshalProxyRequest(b *testing.B) {
	b.ReportAllocs()
	opt := ProxyUser()
	var buf []byte
	for b.Loop() {
		var err error
		buf, err = AppendMarshal(buf[:0], benchConnectReq, opt)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkUnmarshalProxyResponse(b *testing.B) {
	in := []byte(`{"result":{"user":"56","expire_at":1700000000,"info":{"name":"Alex"},"channels":["personal:56"]}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	var m proxypb.ConnectResponse
	for b.Loop() {
		if err := Unmarshal(in, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalAPIBatch(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBatch)))
	var m apipb.BatchRequest
	for b.Loop() {
		if err := Unmarshal(benchBatch, &m); err != nil {
			b.Fatal(err)
		}
	}
}
