package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/testcert"
	"github.com/spindle-rt/spindle/internal/testlog"
	"github.com/spindle-rt/spindle/internal/version"
)

// TestCLI runs the command line as a user types it and checks what they
// read: the output, or the error main prints after "spindle: ".
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"token_hmac_secret_key": "s3cret", "api_key": "k"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	toml := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(toml, []byte("port = 8000\nprot = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// checkconfig opens every certificate, key and CA (hardening issue:
	// cert paths were never opened).
	ca := testcert.NewCA(t, "cli CA")
	certPEM, keyPEM := ca.Issue(t, false)
	otherCert, _ := testcert.NewCA(t, "other").Issue(t, false)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certFile, keyFile, otherFile := write("app.crt", certPEM), write("app.key", keyPEM), write("other.crt", otherCert)
	proxyCA := write("proxyca.json", []byte(`{"api_key": "k", "token_hmac_secret_key": "s3cret-s3cret-s3cret-s3cret-s3cret",
 "client": {"proxy": {"connect": {"enabled": true, "endpoint": "grpc://127.0.0.1:10001",
  "grpc": {"tls": {"enabled": true, "server_ca_pem": "`+filepath.Join(dir, "missing-ca.pem")+`"}}}}}}`))
	appTLS := write("tls.rr.yaml", []byte("centrifuge:\n  proxy_tls:\n    cert: "+otherFile+"\n    key: "+keyFile+"\n  tls:\n    cert: "+certFile+"\n    key: "+keyFile+"\n"))
	badRate := filepath.Join(dir, "rate.json")
	if err := os.WriteFile(badRate, []byte(`{"client": {"rate_limit": {"client_command": {"enabled": true,
  "rpc": {"enabled": true, "buckets": [{"interval": "1s", "rate": 0}]}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantOut string // in stdout
		wantErr string // in the returned error; "" means success
	}{
		{"--version", []string{"--version"}, "spindle " + version.Version + "\n", ""},
		{"version command", []string{"version"}, "spindle " + version.Version + "\n", ""},
		{"mistyped command", []string{"serve"}, "", `unknown command "serve" for "spindle"; did you mean server?`},
		{"mistyped command with a flag of the real one", []string{"serve", "-c", cfg}, "", "did you mean server?"},
		{"one edit away", []string{"sever"}, "", "did you mean server?"},
		{"no such command at all", []string{"frobnicate"}, "", `unknown command "frobnicate"`},
		{"server help has a description", []string{"server", "--help"}, "Centrifugo-style configuration", ""},
		{"port is a number on server", []string{"server", "-c", cfg, "-p", "eighty"}, "", `invalid argument "eighty" for "-p, --port"`},
		{"port is a number on dev", []string{"dev", "-p", "eighty"}, "", `invalid argument "eighty" for "-p, --port"`},
		{"bad log format", []string{"server", "-c", cfg, "--log-format", "xml"}, "", `--log-format "xml": use text or json`},
		{"gentoken without a user", []string{"gentoken", "-c", cfg}, "", "gentoken needs --user"},
		{"gentoken for a user", []string{"gentoken", "-c", cfg, "-u", "42"}, "eyJ", ""},
		{"gentoken anonymous on purpose", []string{"gentoken", "-c", cfg, "-u", ""}, "eyJ", ""},
		{"gensubtoken without a user", []string{"gensubtoken", "-c", cfg, "-s", "news"}, "", "gensubtoken needs --user"},
		{"checkconfig takes -c", []string{"checkconfig", "-c", cfg}, "configuration is valid", ""},
		{"toml errors name the line", []string{"checkconfig", "-c", toml}, "", "config.toml:2: unknown key \"prot\""},
		{"bad command rate named by key", []string{"checkconfig", "-c", badRate}, "", "rate.json:2: client.rate_limit.client_command.rpc.buckets[0].rate: must be at least 1, got 0"},
		{"missing config named once", []string{"checkconfig", "-c", filepath.Join(dir, "none.json")}, "", "none.json: cannot read config file: no such file or directory"},
		{"checkconfig opens a proxy CA file", []string{"checkconfig", "-c", proxyCA}, "", "client.proxy.connect.grpc.tls.server_ca_pem: invalid PEM data"},
		{"checkconfig --app checks a mismatched pair", []string{"checkconfig", "-c", cfg, "--app", appTLS}, "", "centrifuge.proxy_tls.key: error create x509 key pair"},
		// Used to read until the process ran out of memory (hardening defect 6).
		{"endless config file", []string{"checkconfig", "-c", "/dev/zero"}, "", "/dev/zero: cannot read config file: larger than 8 MiB"},
		{"app: endless config file", []string{"app", "-c", "/dev/zero"}, "", "/dev/zero: cannot read config file: larger than 8 MiB"},
		{"app: missing config named once", []string{"app", "-c", filepath.Join(dir, "none.yaml")}, "", "none.yaml: cannot read config file: no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(tc.args, &out, &errOut)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("spindle %s: %v\n%s", strings.Join(tc.args, " "), err, errOut.String())
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("spindle %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.wantErr)
				}
				if n := strings.Count(err.Error(), filepath.Base(firstPath(tc.args))); firstPath(tc.args) != "" && n > 1 {
					t.Fatalf("the path appears %d times in %q", n, err)
				}
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("spindle %s printed %q, want %q in it", strings.Join(tc.args, " "), out.String(), tc.wantOut)
			}
		})
	}
}

// firstPath is the -c argument of args, if any.
func firstPath(args []string) string {
	for i, a := range args {
		if a == "-c" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// TestWarningsOnce: a configuration warning reaches the user once, as a
// log line in the chosen format, not also as plain text or as a second
// log line from the part that has the problem.
func TestWarningsOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	// No api_key: the configuration warns that the HTTP API refuses all.
	if err := os.WriteFile(cfg, []byte(`{"token_hmac_secret_key": "s", "address": "127.0.0.1", "port": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRootCommand()
	errOut := &testlog.Buffer{}
	root.SetOut(io.Discard)
	root.SetErr(errOut)
	root.SetArgs([]string{"server", "-c", cfg, "--log-format", "json"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), "spindle server started") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start:\n%s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
	logs := errOut.String()
	if n := strings.Count(logs, "api_key"); n != 1 {
		t.Fatalf("the api_key warning appears %d times:\n%s", n, logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("not a JSON log line with --log-format json: %q", line)
		}
	}
}
