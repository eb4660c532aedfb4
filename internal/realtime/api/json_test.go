package api

import "reflect"

// equalJSON compares decoded JSON values.
func equalJSON(a, b any) bool { return reflect.DeepEqual(a, b) }
