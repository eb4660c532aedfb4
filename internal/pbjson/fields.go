package pbjson

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldIndexes caches, per message type, a lookup from JSON key to field so
// decoding a key costs one map probe and no allocation.
var fieldIndexes sync.Map // protoreflect.MessageDescriptor -> map[string]protoreflect.FieldDescriptor

func fieldIndex(md protoreflect.MessageDescriptor) map[string]protoreflect.FieldDescriptor {
	if idx, ok := fieldIndexes.Load(md); ok {
		return idx.(map[string]protoreflect.FieldDescriptor)
	}
	fields := md.Fields()
	idx := make(map[string]protoreflect.FieldDescriptor, 2*fields.Len())
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		// camelCase JSON names first so a proto name always wins a clash.
		idx[fd.JSONName()] = fd
	}
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		idx[string(fd.Name())] = fd
	}
	actual, _ := fieldIndexes.LoadOrStore(md, idx)
	return actual.(map[string]protoreflect.FieldDescriptor)
}

// lookupField finds the field for a JSON key: proto name, then camelCase
// JSON name, then a case-insensitive match as encoding/json would do.
func lookupField(md protoreflect.MessageDescriptor, key []byte) protoreflect.FieldDescriptor {
	if fd, ok := fieldIndex(md)[string(key)]; ok {
		return fd
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if strings.EqualFold(string(fd.Name()), string(key)) {
			return fd
		}
	}
	return nil
}
