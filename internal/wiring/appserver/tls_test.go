package appserver

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"

	"github.com/spindle-rt/spindle/internal/testcert"
	"github.com/spindle-rt/spindle/proto/apipb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// pemFiles writes PEM blobs into dir and returns their paths.
func pemFiles(t *testing.T, dir string, blobs map[string][]byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, b := range blobs {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	return out
}

// TestProxyListenerTLS: with centrifuge.proxy_tls the proxy listener
// speaks TLS on its one port, gRPC and HTTPS alike, and with client_ca it
// answers only callers holding a certificate from that CA.
func TestProxyListenerTLS(t *testing.T) {
	ca := testcert.NewCA(t, "app CA")
	srvCert, srvKey := ca.Issue(t, false)
	cliCert, cliKey := ca.Issue(t, true)
	dir := shortDir(t)
	f := pemFiles(t, dir, map[string][]byte{"ca.pem": ca.PEM, "app.crt": srvCert, "app.key": srvKey})
	addr := freeAddr(t)
	serve(t, loadConfig(t, dir, "centrifuge:\n  proxy_address: tcp://"+addr+
		"\n  proxy_tls:\n    cert: "+f["app.crt"]+"\n    key: "+f["app.key"]+"\n    client_ca: "+f["ca.pem"]+"\n"))

	pair, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	withCert := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	noCert := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}

	grpcConnect := func(creds credentials.TransportCredentials) (*proxypb.ConnectResponse, error) {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		var resp *proxypb.ConnectResponse
		for deadline := time.Now().Add(5 * time.Second); ; {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			resp, err = proxypb.NewCentrifugoProxyClient(cc).Connect(ctx, &proxypb.ConnectRequest{Client: "c1"})
			cancel()
			if err == nil || time.Now().After(deadline) || !strings.Contains(err.Error(), "connection refused") {
				return resp, err
			}
		}
	}
	t.Run("grpc with a client certificate", func(t *testing.T) {
		resp, err := grpcConnect(credentials.NewTLS(withCert))
		if err != nil || resp.GetError().GetCode() != 108 {
			t.Fatalf("connect = %v, %v; want the app's answer (108: no services)", resp, err)
		}
	})
	t.Run("https with a client certificate", func(t *testing.T) {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: withCert, ForceAttemptHTTP2: true}}
		resp, err := hc.Post("https://"+addr+"/connect", "application/json", strings.NewReader(`{"client":"c1"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil {
			t.Fatalf("POST /connect = %d (TLS %v), want 200 over TLS", resp.StatusCode, resp.TLS != nil)
		}
	})
	for name, creds := range map[string]credentials.TransportCredentials{
		"grpc without a client certificate": credentials.NewTLS(noCert),
		"plaintext grpc":                    insecure.NewCredentials(),
	} {
		t.Run(name, func(t *testing.T) {
			if resp, err := grpcConnect(creds); err == nil {
				t.Fatalf("connect = %v, want the listener to refuse", resp)
			}
		})
	}
}

// tlsAPI is a server API that records the client certificate of each
// Info call.
type tlsAPI struct {
	apipb.UnimplementedCentrifugoApiServer
	clientCerts chan int
}

func (a *tlsAPI) Info(ctx context.Context, _ *apipb.InfoRequest) (*apipb.InfoResponse, error) {
	n := 0
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			n = len(ti.State.PeerCertificates)
		}
	}
	a.clientCerts <- n
	return &apipb.InfoResponse{Result: &apipb.InfoResult{}}, nil
}

// TestAPIClientTLS: centrifuge.tls keeps RoadRunner's meaning — the app's
// server-API client presents key and cert as its client certificate over
// TLS — and Spindle's ca and server_name let it trust a private CA under
// another name.
func TestAPIClientTLS(t *testing.T) {
	ca := testcert.NewCA(t, "server CA")
	apiCert, apiKey := ca.Issue(t, false, "centrifugo.internal")
	cliCert, cliKey := ca.Issue(t, true)
	pair, err := tls.X509KeyPair(apiCert, apiKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := &tlsAPI{clientCerts: make(chan int, 1)}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair},
		ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})))
	apipb.RegisterCentrifugoApiServer(gs, api)
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)

	dir := shortDir(t)
	f := pemFiles(t, dir, map[string][]byte{"ca.pem": ca.PEM, "c.crt": cliCert, "c.key": cliKey})
	call := func(tlsSection string) error {
		cfg := loadConfig(t, dir, "centrifuge:\n  grpc_api_address: "+ln.Addr().String()+"\n  api_timeout: 3s\n"+tlsSection)
		srv, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		_, err = srv.api.Info(context.Background(), &apipb.InfoRequest{})
		return err
	}
	if err := call("  tls:\n    key: " + f["c.key"] + "\n    cert: " + f["c.crt"] + "\n    ca: " + f["ca.pem"] + "\n    server_name: centrifugo.internal\n"); err != nil {
		t.Fatalf("API over TLS with a client certificate: %v", err)
	}
	if n := <-api.clientCerts; n == 0 {
		t.Fatal("the API saw no client certificate")
	}
	for name, section := range map[string]string{
		"no tls section":           "",
		"system roots (RR's only)": "  tls:\n    key: " + f["c.key"] + "\n    cert: " + f["c.crt"] + "\n",
		"no client certificate":    "  tls:\n    ca: " + f["ca.pem"] + "\n    server_name: centrifugo.internal\n",
		"name not in the cert":     "  tls:\n    key: " + f["c.key"] + "\n    cert: " + f["c.crt"] + "\n    ca: " + f["ca.pem"] + "\n    server_name: elsewhere.internal\n",
	} {
		t.Run(name, func(t *testing.T) {
			if err := call(section); err == nil {
				t.Fatal("the API call succeeded; want the TLS handshake to fail")
			}
		})
	}
}
