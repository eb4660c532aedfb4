package auth

import (
	"encoding/json"
	"fmt"
)

// Override lets a token (or a proxy) change a namespace's channel options
// for one subscription. A nil field keeps the namespace setting; a non-nil
// one forces the given value.
type Override struct {
	Presence           *bool
	JoinLeave          *bool
	ForceRecovery      *bool
	ForcePositioning   *bool
	ForcePushJoinLeave *bool
}

// boolValue is the protobuf BoolValue JSON shape Centrifugo uses for
// overrides: {"value": true}.
type boolValue struct {
	Value bool `json:"value"`
}

// overrideJSON is the wire shape of Override.
type overrideJSON struct {
	Presence           *boolValue `json:"presence,omitempty"`
	JoinLeave          *boolValue `json:"join_leave,omitempty"`
	ForceRecovery      *boolValue `json:"force_recovery,omitempty"`
	ForcePositioning   *boolValue `json:"force_positioning,omitempty"`
	ForcePushJoinLeave *boolValue `json:"force_push_join_leave,omitempty"`
}

// UnmarshalJSON accepts the Centrifugo wire shape
// {"presence":{"value":true}, ...} so that tokens minted by existing
// backends keep working.
func (o *Override) UnmarshalJSON(b []byte) error {
	var w overrideJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode override: %w", err)
	}
	*o = Override{
		Presence:           fromBoolValue(w.Presence),
		JoinLeave:          fromBoolValue(w.JoinLeave),
		ForceRecovery:      fromBoolValue(w.ForceRecovery),
		ForcePositioning:   fromBoolValue(w.ForcePositioning),
		ForcePushJoinLeave: fromBoolValue(w.ForcePushJoinLeave),
	}
	return nil
}

// MarshalJSON writes the same wire shape UnmarshalJSON reads, so tokens
// generated here are understood by Centrifugo too.
func (o Override) MarshalJSON() ([]byte, error) {
	return json.Marshal(overrideJSON{
		Presence:           toBoolValue(o.Presence),
		JoinLeave:          toBoolValue(o.JoinLeave),
		ForceRecovery:      toBoolValue(o.ForceRecovery),
		ForcePositioning:   toBoolValue(o.ForcePositioning),
		ForcePushJoinLeave: toBoolValue(o.ForcePushJoinLeave),
	})
}

func fromBoolValue(v *boolValue) *bool {
	if v == nil {
		return nil
	}
	b := v.Value
	return &b
}

func toBoolValue(b *bool) *boolValue {
	if b == nil {
		return nil
	}
	return &boolValue{Value: *b}
}
