package auth

import (
	"context"
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifySubscribeTokenClaims(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	now := testNow.Unix()
	tests := []struct {
		name    string
		claims  jwt.MapClaims
		want    SubscribeToken
		wantErr error
	}{
		{"minimal", jwt.MapClaims{"sub": "u", "channel": "news"}, SubscribeToken{UserID: "u", Channel: "news"}, nil},
		{"anonymous user", jwt.MapClaims{"channel": "news"}, SubscribeToken{Channel: "news"}, nil},
		{"no channel", jwt.MapClaims{"sub": "u"}, SubscribeToken{}, ErrInvalidToken},
		{"empty channel", jwt.MapClaims{"sub": "u", "channel": ""}, SubscribeToken{}, ErrInvalidToken},
		{"channel not a string", jwt.MapClaims{"sub": "u", "channel": 7}, SubscribeToken{}, ErrInvalidToken},
		{"all claims", jwt.MapClaims{
			"sub": "u", "channel": "$private", "client": "c1", "exp": now + 60,
			"info": map[string]any{"a": 1}, "data": []int{1, 2},
			"override": map[string]any{"force_recovery": map[string]any{"value": true}, "force_positioning": map[string]any{"value": true}, "force_push_join_leave": map[string]any{"value": false}},
		}, SubscribeToken{UserID: "u", Channel: "$private", Client: "c1", ExpireAt: now + 60,
			Info: []byte(`{"a":1}`), Data: []byte(`[1,2]`),
			Override: &Override{ForceRecovery: boolPtr(true), ForcePositioning: boolPtr(true), ForcePushJoinLeave: boolPtr(false)}}, nil},
		{"b64 variants win", jwt.MapClaims{"channel": "c", "info": "x", "b64info": b64([]byte("i")), "data": "y", "b64data": b64([]byte("d"))},
			SubscribeToken{Channel: "c", Info: []byte("i"), Data: []byte("d")}, nil},
		{"bad b64data", jwt.MapClaims{"channel": "c", "b64data": "*"}, SubscribeToken{}, ErrInvalidToken},
		{"expire_at overrides exp", jwt.MapClaims{"channel": "c", "exp": now + 5, "expire_at": now + 500},
			SubscribeToken{Channel: "c", ExpireAt: now + 500}, nil},
	}
	v := newTestVerifier(t, TokenConfig{HMACSecretKey: testSecret}, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.VerifySubscribeToken(context.Background(), sign(t, jwt.SigningMethodHS256, []byte(testSecret), tc.claims, ""))
			checkOutcome(t, err, tc.wantErr)
			if err == nil && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSubscribeTokenUsesUserIDClaim(t *testing.T) {
	v := newTestVerifier(t, TokenConfig{HMACSecretKey: testSecret, UserIDClaim: "uid"}, Options{})
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "x", "uid": "real", "channel": "c"}, "")
	got, err := v.VerifySubscribeToken(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != "real" {
		t.Fatalf("UserID = %q, want real", got.UserID)
	}
}

func TestOverrideJSONRoundTrip(t *testing.T) {
	in := Override{Presence: boolPtr(false), ForcePushJoinLeave: boolPtr(true)}
	b, err := in.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"presence":{"value":false},"force_push_join_leave":{"value":true}}`; string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	var out Override
	if err := out.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip = %+v, want %+v", out, in)
	}
}
