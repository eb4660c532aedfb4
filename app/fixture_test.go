package app

import (
	"context"
	"strings"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// fullApp registers a service for every event, each answering from the
// request so the tests can see that fields and metadata made it through.
func fullApp(opts Options) (*App, *logBuffer) {
	a, lb := testApp(opts)
	a.HandleConnect(func(_ context.Context, r *ConnectRequest) (*proxypb.ConnectResponse, error) {
		if r.GetName() == "deny" {
			return r.Disconnect(4501, "unauthorized"), nil
		}
		return r.Respond(&proxypb.ConnectResult{User: "56", Data: r.GetData(), Channels: r.GetChannels()}), nil
	})
	a.HandleRefresh(func(_ context.Context, r *RefreshRequest) (*proxypb.RefreshResponse, error) {
		if r.GetUser() == "" {
			return r.Expire(), nil
		}
		return r.Extend(1700000000), nil
	})
	a.HandleSubscribe(func(_ context.Context, r *SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		if strings.HasPrefix(r.GetChannel(), "private:") {
			return r.Deny(403, "permission denied"), nil
		}
		return r.Respond(&proxypb.SubscribeResult{Info: []byte(`{"user":"` + r.GetUser() + `"}`)}), nil
	})
	a.HandlePublish(func(_ context.Context, r *PublishRequest) (*proxypb.PublishResponse, error) {
		if r.GetChannel() == "asis" {
			return r.Allow(), nil
		}
		return r.Rewrite([]byte(`{"wrapped":` + string(r.GetData()) + `}`)), nil
	})
	a.HandleRPC("echo", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer(r.GetData()), nil
	})
	a.HandleRPC("whoami", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte(`{"user":"` + r.GetUser() + `","auth":"` + r.Header().Get("Authorization") + `"}`)), nil
	})
	a.HandleSubRefresh(func(_ context.Context, r *SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
		if r.GetChannel() == "gone" {
			return r.Expire(), nil
		}
		return r.Extend(1800000000), nil
	})
	a.HandleMapPublish(func(_ context.Context, r *MapPublishRequest) (*proxypb.MapPublishResponse, error) {
		if strings.HasPrefix(r.GetKey(), "taken") {
			return r.Deny(1409, "seat taken"), nil
		}
		return r.Respond(&proxypb.MapPublishResult{
			Data: []byte(`{"by":"` + r.GetUser() + `","was":` + string(r.GetData()) + `}`), KeyMode: "if_new",
		}), nil
	})
	a.HandleMapRemove(func(_ context.Context, r *MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
		if r.GetUser() == "" {
			return r.Disconnect(4503, "sign in"), nil
		}
		return r.Respond(&proxypb.MapRemoveResult{Tags: map[string]string{"by": r.GetUser()}}), nil
	})
	a.HandleSharedPollRefresh(func(_ context.Context, r *SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
		if r.GetChannel() == "poll:down" {
			return r.Fail(1500, "store down"), nil
		}
		res := &proxypb.SharedPollRefreshResult{Epoch: "e1"}
		for _, it := range r.GetItems() {
			if strings.HasPrefix(it.GetKey(), "gone") {
				res.Items = append(res.Items, &proxypb.SharedPollRefreshResultItem{Key: it.GetKey(), Removed: true})
				continue
			}
			res.Items = append(res.Items, &proxypb.SharedPollRefreshResultItem{
				Key: it.GetKey(), Data: []byte(`{"key":"` + it.GetKey() + `","auth":"` + r.Header().Get("Authorization") + `"}`), Version: it.GetVersion() + 1,
			})
		}
		return r.Respond(res), nil
	})
	return a, lb
}
