package appserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// exampleWorker is one of the worker programs users copy
// (examples/workers), as a server.command.
type exampleWorker struct {
	name    string
	command []string
	env     map[string]string
	skip    string // why it cannot run here; "" when it can
}

// exampleWorkers are the Node and PHP examples. The Node one needs the
// protobufjs package: from its own npm ci, or from the e2e suites'
// node_modules (as the e2e harness uses it), else it is skipped, saying
// so. The PHP one needs php-cli only.
func exampleWorkers(t *testing.T) []exampleWorker {
	t.Helper()
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	var out []exampleWorker

	nodeW := exampleWorker{name: "node", command: []string{"node", filepath.Join(repo, "examples/workers/node/worker.js")}}
	if node, err := exec.LookPath("node"); err != nil {
		nodeW.skip = "node not installed"
	} else {
		nodeW.command[0] = node
		nodeW.skip = "protobufjs not installed: npm ci in examples/workers/node or e2e/workers"
		for _, dir := range []string{"examples/workers/node/node_modules", "e2e/workers/node_modules", "e2e/node_modules"} {
			if _, err := os.Stat(filepath.Join(repo, dir, "protobufjs", "package.json")); err == nil {
				nodeW.env = map[string]string{"NODE_PATH": filepath.Join(repo, dir)}
				nodeW.skip = ""
				break
			}
		}
	}
	out = append(out, nodeW)

	phpW := exampleWorker{name: "php", command: []string{"php", filepath.Join(repo, "examples/workers/php/worker.php")}}
	if php, err := exec.LookPath("php"); err != nil {
		phpW.skip = "php-cli not installed"
	} else {
		phpW.command[0] = php
	}
	return append(out, phpW)
}

// TestSharedPollRefreshOnExampleWorkers: `spindle app` wired from a
// .rr.yaml whose server.command is an example worker answers a real gRPC
// SharedPollRefresh — and the same poll over the HTTP variant on the same
// listener — with the example's answer: every requested key gets data
// {"key", "score": the number the key ends with} and version 1, whatever
// version the server sent. This is the worker path of a shared-poll
// channel without the real-time server, whose poller is not in this test.
func TestSharedPollRefreshOnExampleWorkers(t *testing.T) {
	for _, w := range exampleWorkers(t) {
		t.Run(w.name, func(t *testing.T) {
			if w.skip != "" {
				t.Skip(w.skip)
			}
			dir := shortDir(t)
			addr := freeAddr(t)
			var env strings.Builder
			for k, v := range w.env {
				fmt.Fprintf(&env, "    %s: %q\n", k, v)
			}
			rr := fmt.Sprintf("version: '3'\nserver:\n  command: [%q, %q]\n", w.command[0], w.command[1])
			if env.Len() > 0 {
				rr += "  env:\n" + env.String()
			}
			rr += fmt.Sprintf("centrifuge:\n  proxy_address: tcp://%s\n  pool:\n    num_workers: 1\n    destroy_timeout: 5s\n", addr)
			s := serve(t, loadConfig(t, dir, rr))

			req := &proxypb.SharedPollRefreshRequest{Channel: "scores:league", Items: []*proxypb.SharedPollRefreshItem{
				{Key: "match-42"}, {Key: "match-7", Version: 3}, {Key: "final"},
			}}
			want := &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Items: []*proxypb.SharedPollRefreshResultItem{
				{Key: "match-42", Data: []byte(`{"key":"match-42","score":42}`), Version: 1},
				{Key: "match-7", Data: []byte(`{"key":"match-7","score":7}`), Version: 1},
				{Key: "final", Data: []byte(`{"key":"final","score":0}`), Version: 1},
			}}}
			got := sharedPollRefresh(t, addr, req)
			if !proto.Equal(got, want) {
				t.Fatalf("gRPC: got %v, want %v\napp log:\n%s", got, want, s.logs.String())
			}

			body := `{"channel":"scores:league","items":[{"key":"match-42"},{"key":"match-7","version":3}]}`
			hreq, err := http.NewRequestWithContext(ctxFor(t, 5*time.Second), http.MethodPost, "http://"+addr+"/shared_poll_refresh", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			hreq.Header.Set("Content-Type", "application/json")
			hresp, err := http.DefaultClient.Do(hreq)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(hresp.Body)
			hresp.Body.Close()
			wantHTTP := `{"result":{"items":[{"key":"match-42","data":{"key":"match-42","score":42},"version":1},{"key":"match-7","data":{"key":"match-7","score":7},"version":1}]}}`
			if hresp.StatusCode != http.StatusOK || string(out) != wantHTTP {
				t.Fatalf("HTTP: %d %s\nwant %s", hresp.StatusCode, out, wantHTTP)
			}

			// No items: the workers answer an empty result, not an error.
			if got := sharedPollRefresh(t, addr, &proxypb.SharedPollRefreshRequest{Channel: "scores:league"}); got.GetError() != nil || got.GetResult() == nil || len(got.GetResult().GetItems()) != 0 {
				t.Fatalf("no items: %v", got)
			}
			if err := s.stop(t); err != nil {
				t.Fatalf("Serve: %v", err)
			}
		})
	}
}

// sharedPollRefresh calls SharedPollRefresh on the app at addr, waiting
// for the listener and the worker to be up.
func sharedPollRefresh(t *testing.T, addr string, req *proxypb.SharedPollRefreshRequest) *proxypb.SharedPollRefreshResponse {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	resp, err := proxypb.NewCentrifugoProxyClient(cc).SharedPollRefresh(ctxFor(t, 10*time.Second), req, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("SharedPollRefresh: %v", err)
	}
	return resp
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
