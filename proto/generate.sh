#!/usr/bin/env bash
# Regenerates the Go code from our .proto files. Needs Debian's
# protobuf-compiler and protoc-gen-go / protoc-gen-go-grpc on PATH
# (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#  google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2).
set -euo pipefail
cd "$(dirname "$0")"
PATH="$PATH:$(go env GOPATH)/bin"
for f in *.proto; do
  protoc --go_out=. --go_opt=module=github.com/spindle-rt/spindle/proto \
    --go-grpc_out=. --go-grpc_opt=module=github.com/spindle-rt/spindle/proto "$f"
done
