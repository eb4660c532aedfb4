package spindle_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spindle-rt/spindle"
	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// Run the real-time server and the application that decides connects in
// one Go program. The configuration is what `spindle server` reads; the
// app answers the connect proxy in-process, so its endpoint is never
// dialled. A WebSocket client then connects as the SDK would.
func Example() {
	a := app.New(app.Options{Logger: slog.New(slog.DiscardHandler)})
	a.HandleConnect(func(ctx context.Context, r *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
		// The user is the app's to decide; data reaches the client in its
		// connect reply.
		return r.Respond(&proxypb.ConnectResult{User: "42", Data: []byte(`{"greeting":"hello, 42"}`)}), nil
	})
	srv, err := spindle.New(spindle.Options{
		ConfigFile: "config.json",
		Config: []byte(`{
			"address": "127.0.0.1",
			"port": 0,
			"api_insecure": true,
			"proxy_connect_endpoint": "grpc://in-process:1"
		}`),
		App:    a,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Listen(); err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+"/connection/websocket", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"connect":{}}`))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		fmt.Println(err)
		return
	}
	var reply struct {
		Connect struct {
			Client string          `json:"client"`
			Data   json.RawMessage `json:"data"`
		} `json:"connect"`
	}
	_ = json.Unmarshal(msg, &reply)
	fmt.Println("connected:", reply.Connect.Client != "", string(reply.Connect.Data))
	_ = ws.Close()

	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// connected: true {"greeting":"hello, 42"}
	// stopped: <nil>
}
