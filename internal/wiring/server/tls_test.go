package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/spindle-rt/spindle/internal/testcert"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// testCA is a throwaway certificate authority for one test.
type testCA struct {
	*testcert.CA
	pem []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca := testcert.NewCA(t, name)
	return &testCA{CA: ca, pem: ca.PEM}
}

// issue signs a leaf certificate: for 127.0.0.1 as a server, or as a
// client; it returns the certificate and key PEM.
func (ca *testCA) issue(t *testing.T, client bool) (certPEM, keyPEM []byte) {
	t.Helper()
	return ca.Issue(t, client)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clientTLS trusts ca and, when given, presents a client certificate.
func clientTLS(t *testing.T, ca *testCA, certPEM, keyPEM []byte) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c
}

// TestTLS (hardening defect 1): tls/tls_cert/tls_key and grpc_api_tls*
// used to be parsed and then ignored, the ports speaking plain text. Now
// the main port speaks HTTPS and WSS, the gRPC API TLS, and a client CA
// makes both require a client certificate.
func TestTLS(t *testing.T) {
	ca := newTestCA(t, "spindle test CA")
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, false)
	certFile, keyFile := writeFile(t, dir, "server.crt", certPEM), writeFile(t, dir, "server.key", keyPEM)
	grpcPort := freePort(t)
	srv := startServerWith(t, map[string]any{
		// v5 keys naming files for the main port ...
		"tls": true, "tls_cert": certFile, "tls_key": keyFile,
		"grpc_api": true, "grpc_api_address": "127.0.0.1", "grpc_api_port": grpcPort, "grpc_api_key": "g",
		"grpc_api_tls": true, "grpc_api_tls_cert": string(certPEM), "grpc_api_tls_key": string(keyPEM), // ... inline PEM for the gRPC API
	}, Options{})
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS(t, ca, nil, nil)}}

	t.Run("https", func(t *testing.T) {
		resp, err := hc.Get("https://" + srv.HTTPAddr() + "/health")
		if err != nil {
			t.Fatalf("https /health: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil {
			t.Fatalf("https /health: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
		}
	})
	t.Run("plain http is refused", func(t *testing.T) {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + srv.HTTPAddr() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Fatal("plain HTTP answered on a TLS port")
			}
		}
	})
	t.Run("wss", func(t *testing.T) {
		d := websocket.Dialer{TLSClientConfig: clientTLS(t, ca, nil, nil), HandshakeTimeout: 5 * time.Second}
		ws, _, err := d.Dial("wss://"+srv.HTTPAddr()+"/connection/websocket", nil)
		if err != nil {
			t.Fatalf("wss dial: %v", err)
		}
		defer ws.Close()
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"connect":{}}`)); err != nil {
			t.Fatal(err)
		}
		_, msg, err := ws.ReadMessage()
		if err != nil || !strings.Contains(string(msg), `"client"`) {
			t.Fatalf("connect over wss: %s %v", msg, err)
		}
	})
	t.Run("grpc api over tls", func(t *testing.T) {
		addr := "127.0.0.1:" + itoa(grpcPort)
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS(t, ca, nil, nil))))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ctx = withAPIKey(ctx, "g")
		if _, err := apipb.NewCentrifugoApiClient(cc).Info(ctx, &apipb.InfoRequest{}); err != nil {
			t.Fatalf("info over TLS: %v", err)
		}
		plain, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		pctx, pcancel := context.WithTimeout(withAPIKey(context.Background(), "g"), 2*time.Second)
		defer pcancel()
		if _, err := apipb.NewCentrifugoApiClient(plain).Info(pctx, &apipb.InfoRequest{}); err == nil {
			t.Fatal("a plaintext gRPC client was answered by the TLS API")
		}
	})
}

// TestMutualTLS: with http_server.tls.client_ca_pem only clients holding a
// certificate from that CA get through.
func TestMutualTLS(t *testing.T) {
	ca, otherCA := newTestCA(t, "spindle test CA"), newTestCA(t, "someone else")
	certPEM, keyPEM := ca.issue(t, false)
	srv := startServerWith(t, map[string]any{
		"http_server": map[string]any{"tls": map[string]any{
			"enabled": true, "cert_pem": string(certPEM), "key_pem": string(keyPEM), "client_ca_pem": string(ca.pem),
		}},
	}, Options{})
	goodCert, goodKey := ca.issue(t, true)
	badCert, badKey := otherCA.issue(t, true)
	for _, tc := range []struct {
		name       string
		cert, key  []byte
		wantAccept bool
	}{
		{"no client certificate", nil, nil, false},
		{"certificate from the client CA", goodCert, goodKey, true},
		{"certificate from another CA", badCert, badKey, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS(t, ca, tc.cert, tc.key)}}
			resp, err := hc.Get("https://" + srv.HTTPAddr() + "/health")
			if err == nil {
				resp.Body.Close()
			}
			if accepted := err == nil && resp.StatusCode == 200; accepted != tc.wantAccept {
				t.Fatalf("accepted = %v (err %v), want %v", accepted, err, tc.wantAccept)
			}
		})
	}
}

// freePort is a TCP port free on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func itoa(n int) string { return strconv.Itoa(n) }

// withAPIKey sends key the way Centrifugo's gRPC API expects it.
func withAPIKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "apikey "+key)
}

// TestGRPCReflection: grpc_api_reflection was parsed and ignored; with it
// on, a reflection client lists the API service.
func TestGRPCReflection(t *testing.T) {
	for _, on := range []bool{true, false} {
		port := freePort(t)
		startServerWith(t, map[string]any{"grpc_api": true, "grpc_api_address": "127.0.0.1", "grpc_api_port": port, "grpc_api_key": "g", "grpc_api_reflection": on}, Options{})
		cc, err := grpc.NewClient("127.0.0.1:"+itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		stream, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
		var listed []string
		if err == nil {
			err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		}
		if err == nil {
			var resp *reflectionpb.ServerReflectionResponse
			if resp, err = stream.Recv(); err == nil {
				for _, s := range resp.GetListServicesResponse().GetService() {
					listed = append(listed, s.GetName())
				}
			}
		}
		cancel()
		cc.Close()
		has := strings.Contains(strings.Join(listed, ","), "CentrifugoApi")
		if on && (err != nil || !has) {
			t.Fatalf("reflection on: services %v, err %v", listed, err)
		}
		if !on && (err == nil || has) {
			t.Fatalf("reflection off, yet it answered: %v", listed)
		}
	}
}
