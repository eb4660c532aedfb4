package version

import "testing"

// An empty version would make connect replies and rpc.Version answer
// nothing, which clients treat as "unknown server".
func TestVersionIsSet(t *testing.T) {
	if Version == "" {
		t.Fatal("version.Version is empty")
	}
}
