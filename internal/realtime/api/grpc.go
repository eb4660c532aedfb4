package api

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// GRPCConfig configures the gRPC server API.
type GRPCConfig struct {
	// Key, when set, must arrive as metadata `authorization: apikey <Key>`
	// on every call (grpc_api_key). Empty means no authentication.
	Key string
	// ErrorMode "transport" returns API errors as gRPC statuses instead of
	// the response's error field (grpc_api_error_mode). Callers can also
	// ask per call with metadata x-centrifugo-error-mode: transport.
	ErrorMode string
	// Logger receives configuration warnings; nil means slog.Default().
	Logger *slog.Logger
}

// RegisterGRPC adds the CentrifugoApi service to s. OSS methods (map
// channels and shared poll among them) run on exec; PRO methods answer
// Unimplemented, as Centrifugo OSS does.
// Authentication is part of the registered service itself, so it holds
// whatever interceptors s was built with and never reaches other services
// on s.
func RegisterGRPC(s *grpc.Server, exec *Executor, cfg GRPCConfig) {
	svc := &grpcService{exec: exec, transport: cfg.ErrorMode == ErrorModeTransport}
	desc := guardedServiceDesc(cfg.Key)
	s.RegisterService(&desc, svc)
	if cfg.Key == "" {
		log := cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Warn("gRPC API has no key (grpc_api_key): any caller that reaches its port can use it")
	}
}

// guardedServiceDesc is the generated service description with every
// method wrapped in the API key check. The check runs before the request
// is decoded, so an unauthenticated caller cannot make the server do any
// work, and it covers the Unimplemented methods as well.
func guardedServiceDesc(key string) grpc.ServiceDesc {
	desc := apipb.CentrifugoApi_ServiceDesc
	if key == "" {
		return desc
	}
	want := "apikey " + key
	wrapped := make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		next := m.Handler
		wrapped[i] = grpc.MethodDesc{
			MethodName: m.MethodName,
			Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
				if !grpcAuthorized(ctx, want) {
					return nil, status.Error(codes.Unauthenticated, "unauthenticated")
				}
				return next(srv, ctx, dec, ic)
			},
		}
	}
	desc.Methods = wrapped
	return desc
}

// grpcAuthorized checks the first authorization metadata value, exactly
// (case-sensitive scheme, one space), in constant time.
func grpcAuthorized(ctx context.Context, want string) bool {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return false
	}
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return false
	}
	return keyEqual(vals[0], want)
}

type grpcService struct {
	apipb.UnimplementedCentrifugoApiServer
	exec      *Executor
	transport bool
}

func (s *grpcService) transportMode(ctx context.Context) bool {
	if s.transport {
		return true
	}
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return false
	}
	vals := md.Get("x-centrifugo-error-mode")
	return len(vals) > 0 && vals[0] == ErrorModeTransport
}

// reply returns resp, or in transport error mode its error as a status.
func reply[R interface{ GetError() *apipb.Error }](s *grpcService, ctx context.Context, resp R) (R, error) {
	if e := resp.GetError(); e != nil && s.transportMode(ctx) {
		var zero R
		return zero, status.Error(grpcCode(e), e.GetMessage())
	}
	return resp, nil
}

// Batch never uses transport error mode: its errors are per command.
func (s *grpcService) Batch(ctx context.Context, req *apipb.BatchRequest) (*apipb.BatchResponse, error) {
	return s.exec.Batch(ctx, req), nil
}

func (s *grpcService) Publish(ctx context.Context, req *apipb.PublishRequest) (*apipb.PublishResponse, error) {
	return reply(s, ctx, s.exec.Publish(ctx, req))
}

func (s *grpcService) Broadcast(ctx context.Context, req *apipb.BroadcastRequest) (*apipb.BroadcastResponse, error) {
	return reply(s, ctx, s.exec.Broadcast(ctx, req))
}

func (s *grpcService) Subscribe(ctx context.Context, req *apipb.SubscribeRequest) (*apipb.SubscribeResponse, error) {
	return reply(s, ctx, s.exec.Subscribe(ctx, req))
}

func (s *grpcService) Unsubscribe(ctx context.Context, req *apipb.UnsubscribeRequest) (*apipb.UnsubscribeResponse, error) {
	return reply(s, ctx, s.exec.Unsubscribe(ctx, req))
}

func (s *grpcService) Disconnect(ctx context.Context, req *apipb.DisconnectRequest) (*apipb.DisconnectResponse, error) {
	return reply(s, ctx, s.exec.Disconnect(ctx, req))
}

func (s *grpcService) Presence(ctx context.Context, req *apipb.PresenceRequest) (*apipb.PresenceResponse, error) {
	return reply(s, ctx, s.exec.Presence(ctx, req))
}

func (s *grpcService) PresenceStats(ctx context.Context, req *apipb.PresenceStatsRequest) (*apipb.PresenceStatsResponse, error) {
	return reply(s, ctx, s.exec.PresenceStats(ctx, req))
}

func (s *grpcService) History(ctx context.Context, req *apipb.HistoryRequest) (*apipb.HistoryResponse, error) {
	return reply(s, ctx, s.exec.History(ctx, req))
}

func (s *grpcService) HistoryRemove(ctx context.Context, req *apipb.HistoryRemoveRequest) (*apipb.HistoryRemoveResponse, error) {
	return reply(s, ctx, s.exec.HistoryRemove(ctx, req))
}

func (s *grpcService) Info(ctx context.Context, req *apipb.InfoRequest) (*apipb.InfoResponse, error) {
	return reply(s, ctx, s.exec.Info(ctx, req))
}

func (s *grpcService) RPC(ctx context.Context, req *apipb.RPCRequest) (*apipb.RPCResponse, error) {
	return reply(s, ctx, s.exec.RPC(ctx, req))
}

func (s *grpcService) Refresh(ctx context.Context, req *apipb.RefreshRequest) (*apipb.RefreshResponse, error) {
	return reply(s, ctx, s.exec.Refresh(ctx, req))
}

func (s *grpcService) Channels(ctx context.Context, req *apipb.ChannelsRequest) (*apipb.ChannelsResponse, error) {
	return reply(s, ctx, s.exec.Channels(ctx, req))
}

func (s *grpcService) MapPublish(ctx context.Context, req *apipb.MapPublishRequest) (*apipb.MapPublishResponse, error) {
	return reply(s, ctx, s.exec.MapPublish(ctx, req))
}

func (s *grpcService) MapRemove(ctx context.Context, req *apipb.MapRemoveRequest) (*apipb.MapRemoveResponse, error) {
	return reply(s, ctx, s.exec.MapRemove(ctx, req))
}

func (s *grpcService) MapReadState(ctx context.Context, req *apipb.MapReadStateRequest) (*apipb.MapReadStateResponse, error) {
	return reply(s, ctx, s.exec.MapReadState(ctx, req))
}

func (s *grpcService) MapReadStream(ctx context.Context, req *apipb.MapReadStreamRequest) (*apipb.MapReadStreamResponse, error) {
	return reply(s, ctx, s.exec.MapReadStream(ctx, req))
}

func (s *grpcService) MapStats(ctx context.Context, req *apipb.MapStatsRequest) (*apipb.MapStatsResponse, error) {
	return reply(s, ctx, s.exec.MapStats(ctx, req))
}

func (s *grpcService) MapClear(ctx context.Context, req *apipb.MapClearRequest) (*apipb.MapClearResponse, error) {
	return reply(s, ctx, s.exec.MapClear(ctx, req))
}

func (s *grpcService) SharedPollPublish(ctx context.Context, req *apipb.SharedPollPublishRequest) (*apipb.SharedPollPublishResponse, error) {
	return reply(s, ctx, s.exec.SharedPollPublish(ctx, req))
}
