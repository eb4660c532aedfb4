package api

import (
	"context"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/node"
)

// Node is what the server API needs from the node. It is an interface so
// the API can be exercised against a stub and so the dependency points
// one way: *node.Node satisfies it, the node knows nothing of the API.
type Node interface {
	Publish(ctx context.Context, ch string, data []byte, o node.PublishOptions) (engine.StreamPosition, error)
	Subscribe(ctx context.Context, user, ch string, o node.SubscribeOptions) error
	Unsubscribe(ctx context.Context, user, ch, client, session string) error
	Disconnect(ctx context.Context, user string, d *node.Disconnect, client string, whitelist []string) error
	Refresh(ctx context.Context, user, client string, expired bool, expireAt int64, info []byte) error
	Presence(ctx context.Context, ch string) (map[string]*engine.ClientInfo, error)
	PresenceStats(ctx context.Context, ch string) (engine.PresenceStats, error)
	History(ctx context.Context, ch string, since *engine.StreamPosition, limit int, reverse bool) ([]*engine.Publication, engine.StreamPosition, error)
	HistoryRemove(ctx context.Context, ch string) error
	Channels(ctx context.Context, pattern string) (map[string]int, error)
	Info(ctx context.Context) ([]node.NodeInfo, error)

	MapPublish(ctx context.Context, ch, key string, data []byte, o node.MapPublishOptions) (engine.MapResult, error)
	MapRemove(ctx context.Context, ch, key, idempotencyKey string) (engine.MapResult, error)
	MapReadState(ctx context.Context, ch string, o node.MapReadStateOptions) (engine.MapState, error)
	MapReadStream(ctx context.Context, ch string, since *engine.StreamPosition, limit int, reverse bool) ([]*engine.Publication, engine.StreamPosition, error)
	MapStats(ctx context.Context, ch string) (int, error)
	MapClear(ctx context.Context, ch string) error

	SharedPollPublish(ctx context.Context, ch, key string, data []byte, version uint64, epoch string) error
}

var _ Node = (*node.Node)(nil)
