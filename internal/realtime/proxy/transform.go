package proxy

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// statusTransforms maps an HTTP status to an application answer, so that
// backends (or gateways in front of them) can deny with a plain 403 and
// the client still sees a meaningful error or disconnect instead of a
// temporary internal error.
type statusTransforms map[int]StatusCodeTransform

func newStatusTransforms(list []StatusCodeTransform) statusTransforms {
	if len(list) == 0 {
		return nil
	}
	m := make(statusTransforms, len(list))
	for _, t := range list {
		if t.ToError == nil && t.ToDisconnect == nil {
			continue
		}
		if _, dup := m[t.StatusCode]; !dup { // first one wins
			m[t.StatusCode] = t
		}
	}
	return m
}

var (
	errorDesc      = (*proxypb.Error)(nil).ProtoReflect().Descriptor()
	disconnectDesc = (*proxypb.Disconnect)(nil).ProtoReflect().Descriptor()
)

// apply fills resp's error / disconnect field for status; false when no
// transform matches. SharedPollRefreshResponse has no disconnect field (a
// poll has no connection to close), so a to_disconnect transform leaves it
// untouched and the status stays a failed call.
func (ts statusTransforms) apply(status int, resp proto.Message) bool {
	t, ok := ts[status]
	if !ok {
		return false
	}
	m := resp.ProtoReflect()
	fields := m.Descriptor().Fields()
	set := false
	if t.ToError != nil {
		e := &proxypb.Error{Code: t.ToError.Code, Message: t.ToError.Message, Temporary: t.ToError.Temporary}
		set = setMessage(m, fields.ByName("error"), errorDesc, e) || set
	}
	if t.ToDisconnect != nil {
		d := &proxypb.Disconnect{Code: t.ToDisconnect.Code, Reason: t.ToDisconnect.Reason}
		set = setMessage(m, fields.ByName("disconnect"), disconnectDesc, d) || set
	}
	return set
}

// setMessage sets field fd of m to v after checking the types line up, so
// a future response type without the field cannot make it panic.
func setMessage(m protoreflect.Message, fd protoreflect.FieldDescriptor, want protoreflect.MessageDescriptor, v proto.Message) bool {
	if fd == nil || fd.Message() == nil || fd.Message().FullName() != want.FullName() || fd.IsList() || fd.IsMap() {
		return false
	}
	m.Set(fd, protoreflect.ValueOfMessage(v.ProtoReflect()))
	return true
}
