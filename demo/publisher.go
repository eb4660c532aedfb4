package demo

import (
	"context"
	"fmt"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// Publisher delivers an event to a channel's subscribers. The demo
// depends on nothing else of the real-time server, so the same services
// run in-process under `spindle dev` and as a separate application.
type Publisher interface {
	Publish(ctx context.Context, channel string, data []byte) error
}

// PublisherFunc adapts a function to Publisher.
type PublisherFunc func(ctx context.Context, channel string, data []byte) error

// Publish calls f.
func (f PublisherFunc) Publish(ctx context.Context, channel string, data []byte) error {
	return f(ctx, channel, data)
}

// APIPublisher publishes through the server API (gRPC or HTTP), the way a
// separately running application reaches `spindle server` or Centrifugo.
func APIPublisher(c apiclient.Client) Publisher {
	return PublisherFunc(func(ctx context.Context, channel string, data []byte) error {
		if _, err := c.Publish(ctx, &apipb.PublishRequest{Channel: channel, Data: data}); err != nil {
			return fmt.Errorf("server API publish: %w", err)
		}
		return nil
	})
}
