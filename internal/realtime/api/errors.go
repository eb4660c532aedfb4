package api

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"

	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// The server API's error codes and messages (Centrifugo's API set, which
// differs from the client protocol's in wording: 104 is "not found").
// Exported so API clients and tests can compare codes without magic numbers.
const (
	CodeInternal              uint32 = 100
	CodeUnauthorized          uint32 = 101
	CodeUnknownChannel        uint32 = 102
	CodeNotFound              uint32 = 104
	CodeBadRequest            uint32 = 107
	CodeNotAvailable          uint32 = 108
	CodeUnrecoverablePosition uint32 = 112
	CodeConflict              uint32 = 113
)

func apiError(code uint32, msg string) *apipb.Error {
	return &apipb.Error{Code: code, Message: msg}
}

func errInternal() *apipb.Error   { return apiError(CodeInternal, "internal server error") }
func errNotFound() *apipb.Error   { return apiError(CodeNotFound, "not found") }
func errBadRequest() *apipb.Error { return apiError(CodeBadRequest, "bad request") }

// toAPIError converts a node error into the API error a caller sees. Node
// errors keep their code and message; anything else is an internal error
// whose cause only goes to the log (reported by the caller via internal).
func toAPIError(err error) (apiErr *apipb.Error, internal bool) {
	var ne *node.Error
	if errors.As(err, &ne) {
		if ne.Code == CodeNotFound {
			return errNotFound(), false
		}
		return apiError(ne.Code, ne.Message), false
	}
	return errInternal(), true
}

// httpStatus is the HTTP status an error gets in transport error mode.
func httpStatus(e *apipb.Error) int {
	switch e.GetCode() {
	case CodeUnknownChannel, CodeNotFound:
		return http.StatusNotFound
	case CodeBadRequest, CodeNotAvailable:
		return http.StatusBadRequest
	case CodeUnrecoverablePosition:
		return http.StatusRequestedRangeNotSatisfiable
	case CodeConflict:
		return http.StatusConflict
	default:
		return http.StatusInternalServerError
	}
}

// grpcCode is the gRPC status code an error gets in transport error mode.
func grpcCode(e *apipb.Error) codes.Code {
	switch e.GetCode() {
	case CodeUnknownChannel, CodeNotFound:
		return codes.NotFound
	case CodeBadRequest, CodeNotAvailable:
		return codes.InvalidArgument
	case CodeUnrecoverablePosition:
		return codes.OutOfRange
	case CodeConflict:
		return codes.AlreadyExists
	default:
		return codes.Internal
	}
}

// ErrorModeTransport is the error mode value (config or per-request
// header/metadata) that turns API errors into HTTP or gRPC statuses
// instead of an `error` field in a successful response.
const ErrorModeTransport = "transport"
