package proxypb

// GetDisconnect is always nil: a shared-poll refresh is the server polling
// for a channel, with no client connection to close, so the response has
// no disconnect field (Centrifugo's schema: result and error only). The
// method exists so that every proxy response has the same accessors and
// code that handles any of them (the app SDK's Reply, interceptors that
// check GetError and GetDisconnect) takes this one as well. Hand-written,
// beside the generated code; proto/generate.sh leaves it alone.
func (*SharedPollRefreshResponse) GetDisconnect() *Disconnect { return nil }
