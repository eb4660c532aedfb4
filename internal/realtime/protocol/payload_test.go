package protocol

import "testing"

// TestValidJSONPayload: what a JSON text frame can carry. encoding/json's Valid alone
// accepts stray bytes inside strings, which a JSON client then cannot read.
func TestValidJSONPayload(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`{"x":1}`, true},
		{`"é"`, true},
		{`not json`, false},
		{"{\"x\":\"\xff\"}", false},
		{"\xff\x00", false},
	} {
		if got := ValidJSONPayload([]byte(tc.in)); got != tc.want {
			t.Errorf("ValidJSONPayload(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
