package main
import (
_ "github.com/coder/websocket"
_ "github.com/gorilla/websocket"
_ "github.com/golang-jwt/jwt/v5"
_ "github.com/spf13/cobra"
_ "github.com/prometheus/client_golang/prometheus"
_ "google.golang.org/grpc"
_ "google.golang.org/protobuf/proto"
_ "gopkg.in/yaml.v3"
_ "github.com/BurntSushi/toml"
_ "github.com/google/uuid"
_ "github.com/gobwas/glob"
)
func main(){}
