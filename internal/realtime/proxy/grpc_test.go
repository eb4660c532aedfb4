package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/internal/clientheaders"
	"github.com/spindle-rt/spindle/internal/tlsconf"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestGRPCMetadata(t *testing.T) {
	addr, rec := startGRPC(t, &fakeApp{})
	b, err := New(&Config{
		Endpoint:             "grpc://" + addr,
		StaticHTTPHeaders:    map[string]string{"X-Static": "s"},
		HTTPHeaders:          []string{"Authorization", "x-request-id", "COOKIE", "Connection", "User-Agent", "X-Odd", "Bad Name"},
		GRPCMetadata:         []string{"X-Trace"},
		GRPCCredentialsKey:   "X-Api-Key",
		GRPCCredentialsValue: "secret",
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := clientheaders.With(context.Background(), http.Header{
		"Authorization": {"Bearer t"},
		"X-Request-Id":  {"r1"},
		"Cookie":        {"a=1", "b=2"},
		"X-Not-Allowed": {"no"},
		"Connection":    {"Upgrade"},
		"X-Odd":         {"ok", "caf\xc3\xa9"}, // non-ASCII value dropped, not fatal
	})
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-trace", "t1", "x-other", "o"))
	ctx = metadata.AppendToOutgoingContext(ctx, "x-outgoing", "kept")
	if _, err := b.Connect(ctx, &proxypb.ConnectRequest{Client: "c"}); err != nil {
		t.Fatal(err)
	}
	_, md, _, compression := rec.last()
	want := map[string][]string{
		"authorization": {"Bearer t"},
		"x-request-id":  {"r1"},
		"cookie":        {"a=1", "b=2"},
		"x-odd":         {"ok"},
		"x-trace":       {"t1"},
		"x-api-key":     {"secret"},
		"x-outgoing":    {"kept"},
		"x-not-allowed": nil,
		"x-other":       nil,
		"x-static":      nil, // static headers are for HTTP proxies only
		"connection":    nil,
	}
	for k, v := range want {
		if got := md.Get(k); !reflect.DeepEqual(got, v) && !(len(got) == 0 && len(v) == 0) {
			t.Errorf("metadata %s = %q, want %q", k, got, v)
		}
	}
	if compression != "" {
		t.Errorf("compression %q without grpc_compression", compression)
	}
}

func TestGRPCCompression(t *testing.T) {
	addr, rec := startGRPC(t, &fakeApp{})
	b, err := New(&Config{Endpoint: addr, GRPCCompression: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c", Data: []byte(`"` + strings.Repeat("x", 1000) + `"`)})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetResult().GetUser() != "u-c" {
		t.Fatalf("got %v", got)
	}
	if _, _, _, c := rec.last(); c != "gzip" {
		t.Fatalf("request compression %q, want gzip", c)
	}
}

func TestGRPCErrorStatus(t *testing.T) {
	addr, _ := startGRPC(t, &fakeApp{fail: status.Error(codes.PermissionDenied, "nope")})
	b, err := New(&Config{Endpoint: "grpc://" + addr}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Subscribe(context.Background(), &proxypb.SubscribeRequest{Channel: "x"})
	if err == nil {
		t.Fatalf("want error, got %v", resp)
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("status %v lost in wrapping: %v", status.Code(err), err)
	}
	if !strings.Contains(err.Error(), "proxy subscribe grpc://"+addr) {
		t.Errorf("error %q does not name event and endpoint", err)
	}
}

func TestGRPCInvalidCredentials(t *testing.T) {
	for _, cfg := range []Config{
		{Endpoint: "127.0.0.1:1", GRPCCredentialsKey: "bad key", GRPCCredentialsValue: "v"},
		{Endpoint: "127.0.0.1:1", GRPCCredentialsKey: "k", GRPCCredentialsValue: "line\nbreak"},
		{Endpoint: "127.0.0.1:1", GRPCTLS: &tlsconf.Settings{CA: []byte("not a certificate")}},
	} {
		if _, err := New(&cfg, Options{}); err == nil {
			t.Errorf("config %+v: want error", cfg)
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 (for servers unless other
// usages are given) and returns it as a TLS certificate and as PEM.
func selfSigned(t *testing.T, usages ...x509.ExtKeyUsage) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "proxy-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           append([]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, usages...),
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestGRPCTLS(t *testing.T) {
	cert, caPEM := selfSigned(t)
	_, otherPEM := selfSigned(t)
	addr, _ := startGRPC(t, &fakeApp{}, grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"private CA", Config{Endpoint: addr, GRPCTLS: &tlsconf.Settings{CA: caPEM}}, true},
		{"server name checked against the certificate", Config{Endpoint: addr, GRPCTLS: &tlsconf.Settings{CA: caPEM, ServerName: "elsewhere.example"}}, false},
		{"another CA", Config{Endpoint: addr, GRPCTLS: &tlsconf.Settings{CA: otherPEM}}, false},
		{"system roots reject self-signed", Config{Endpoint: addr, GRPCTLS: &tlsconf.Settings{}}, false},
		{"plaintext to TLS server fails", Config{Endpoint: addr}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Timeout = 2 * time.Second
			b, err := New(&tc.cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := b.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c"})
			if tc.ok && (err != nil || resp.GetResult().GetUser() != "u-c") {
				t.Fatalf("got %v, %v", resp, err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("want error, got %v", resp)
			}
		})
	}
}
