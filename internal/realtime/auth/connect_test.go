package auth

import (
	"context"
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func boolPtr(b bool) *bool { return &b }

func TestVerifyConnectTokenClaims(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name    string
		extra   jwt.MapClaims
		want    ConnectToken
		wantErr error
	}{
		{"info raw JSON", jwt.MapClaims{"info": map[string]any{"name": "A"}},
			ConnectToken{Info: []byte(`{"name":"A"}`)}, nil},
		{"b64info wins over info", jwt.MapClaims{"info": map[string]any{"name": "A"}, "b64info": b64([]byte{0, 1, 2})},
			ConnectToken{Info: []byte{0, 1, 2}}, nil},
		{"bad b64info", jwt.MapClaims{"b64info": "%%%"}, ConnectToken{}, ErrInvalidToken},
		{"info null is absent", jwt.MapClaims{"info": nil}, ConnectToken{}, nil},
		{"channels", jwt.MapClaims{"channels": []string{"news", "chat:1"}},
			ConnectToken{Channels: []string{"news", "chat:1"}}, nil},
		{"channels not strings", jwt.MapClaims{"channels": []int{1}}, ConnectToken{}, ErrInvalidToken},
		{"a null channel", jwt.MapClaims{"channels": []any{"news", nil}}, ConnectToken{}, ErrInvalidToken},
		{"an empty channel", jwt.MapClaims{"channels": []string{""}}, ConnectToken{}, ErrInvalidToken},
		{"subs with options, channels ignored", jwt.MapClaims{
			"channels": []string{"ignored"},
			"subs": map[string]any{
				"news": map[string]any{},
				"chat": map[string]any{
					"info":     map[string]any{"r": 1},
					"b64data":  b64([]byte("bin")),
					"data":     "ignored",
					"override": map[string]any{"presence": map[string]any{"value": true}, "join_leave": map[string]any{"value": false}},
				},
			}},
			ConnectToken{Subs: map[string]SubscribeOptions{
				"news": {},
				"chat": {Info: []byte(`{"r":1}`), Data: []byte("bin"),
					Override: &Override{Presence: boolPtr(true), JoinLeave: boolPtr(false)}},
			}}, nil},
		{"subs bad b64info", jwt.MapClaims{"subs": map[string]any{"c": map[string]any{"b64info": "!"}}}, ConnectToken{}, ErrInvalidToken},
		{"subs bad override shape", jwt.MapClaims{"subs": map[string]any{"c": map[string]any{"override": map[string]any{"presence": true}}}},
			ConnectToken{}, ErrInvalidToken},
		{"meta object", jwt.MapClaims{"meta": map[string]any{"plan": "pro"}}, ConnectToken{Meta: []byte(`{"plan":"pro"}`)}, nil},
		{"meta not an object", jwt.MapClaims{"meta": []int{1}}, ConnectToken{}, ErrInvalidToken},
		{"channel claim rejected", jwt.MapClaims{"channel": "news"}, ConnectToken{}, ErrInvalidToken},
		{"empty channel claim rejected", jwt.MapClaims{"channel": ""}, ConnectToken{}, ErrInvalidToken},
		{"null channel claim is absent", jwt.MapClaims{"channel": nil}, ConnectToken{}, nil},
		{"unknown claims ignored", jwt.MapClaims{"iat": 1, "jti": "x", "whatever": []int{1}}, ConnectToken{}, nil},
	}
	v := newTestVerifier(t, TokenConfig{HMACSecretKey: testSecret}, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := with(jwt.MapClaims{"sub": "u"}, tc.extra)
			got, err := v.VerifyConnectToken(context.Background(), sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims, ""))
			checkOutcome(t, err, tc.wantErr)
			if err != nil {
				return
			}
			tc.want.UserID = "u"
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
