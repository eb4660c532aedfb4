package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/testlog"
	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// startTLSApp runs a real app whose connect service names the user, on a
// TLS listener with a certificate from ca that requires a client
// certificate from ca; gRPC and HTTPS share the port as in `spindle app`.
func startTLSApp(t *testing.T, ca *testCA) string {
	t.Helper()
	a := app.New(app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a.HandleConnect(func(_ context.Context, r *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
		return r.Respond(&proxypb.ConnectResult{User: "over-tls"}), nil
	})
	certPEM, keyPEM := ca.issue(t, false)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AppendCertsFromPEM(ca.pem)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair},
		ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert, NextProtos: []string{"http/1.1", "h2"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// TestProxyTLS: the grpc.tls and http.tls objects of a proxy reach a
// backend with a private CA that requires a client certificate; without
// the certificate, or trusting another CA, the call fails, the client
// gets the proxy-failure error (temporary 100) and the log says why.
func TestProxyTLS(t *testing.T) {
	ca, otherCA := newTestCA(t, "app CA"), newTestCA(t, "someone else")
	addr := startTLSApp(t, ca)
	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.pem", ca.pem)
	clientCert, clientKey := ca.issue(t, true)
	certFile, keyFile := writeFile(t, dir, "client.crt", clientCert), writeFile(t, dir, "client.key", clientKey)
	full := map[string]any{"enabled": true, "server_ca_pem": caFile, "cert_pem": certFile, "key_pem": keyFile}
	tests := []struct {
		name    string
		connect map[string]any // client.proxy.connect
		wantErr string         // in the log; "" = the app answers
	}{
		{"grpc with private CA and client certificate", map[string]any{"endpoint": "grpc://" + addr, "grpc": map[string]any{"tls": full}}, ""},
		{"https with private CA and client certificate", map[string]any{"endpoint": "https://" + addr + "/connect", "http": map[string]any{"tls": full}}, ""},
		{"https without client certificate", map[string]any{"endpoint": "https://" + addr + "/connect",
			"http": map[string]any{"tls": map[string]any{"enabled": true, "server_ca_pem": string(ca.pem)}}}, "certificate required"},
		{"grpc trusting another CA", map[string]any{"endpoint": "grpc://" + addr,
			"grpc": map[string]any{"tls": map[string]any{"enabled": true, "server_ca_pem": string(otherCA.pem), "cert_pem": certFile, "key_pem": keyFile}}},
			"certificate signed by unknown authority"},
		{"grpc without grpc.tls dials plaintext", map[string]any{"endpoint": "grpc://" + addr}, "error reading server preface"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.connect["enabled"] = true
			tc.connect["timeout"] = "3s"
			var logs testlog.Buffer
			srv := startServerLogged(t, map[string]any{
				"allow_anonymous_connect_without_token": false,
				"client":                                map[string]any{"proxy": map[string]any{"connect": tc.connect}},
			}, Options{}, &logs)
			c := dial(t, srv, wstest.JSON)
			c.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{}})
			r := c.Reply(1)
			if tc.wantErr == "" {
				if r.Connect == nil {
					t.Fatalf("connect = %v, want the app's answer", r)
				}
				return
			}
			if r.Error == nil || r.Error.Code != 100 || !r.Error.Temporary {
				t.Fatalf("connect = %v, want temporary error 100", r)
			}
			logs.WaitFor(t, "command failed", "proxy connect", tc.wantErr)
		})
	}
}
