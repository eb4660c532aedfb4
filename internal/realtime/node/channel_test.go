package node

import (
	"testing"
	"time"
)

func testRules(t testing.TB) *channelRules {
	t.Helper()
	r, err := newChannelRules(ChannelConfig{
		MaxLength: 32, PrivatePrefix: "$", NamespaceBoundary: ":", UserBoundary: "#", UserSeparator: ",",
		WithoutNamespace: ChannelOptions{Presence: true},
		Namespaces: []Namespace{
			{Name: "chat", ChannelOptions: ChannelOptions{HistorySize: 10, HistoryTTL: time.Minute}},
			{Name: "strict", ChannelOptions: ChannelOptions{ChannelRegex: `^[a-z0-9]+$`}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestChannelLookup(t *testing.T) {
	r := testRules(t)
	tests := []struct {
		ch       string
		wantNS   string
		private  bool
		rest     string
		wantCode uint32
	}{
		{ch: "news", wantNS: "", rest: "news"},
		{ch: "chat:room1", wantNS: "chat", rest: "room1"},
		{ch: "chat:a:b", wantNS: "chat", rest: "a:b"},
		{ch: "$chat:secret", wantNS: "chat", private: true, rest: "secret"},
		{ch: "$news", wantNS: "", private: true, rest: "news"},
		{ch: "nope:room", wantCode: 102},
		{ch: ":room", wantCode: 102},
	}
	for _, tt := range tests {
		t.Run(tt.ch, func(t *testing.T) {
			info, err := r.lookup(tt.ch)
			if tt.wantCode != 0 {
				if err == nil || err.Code != tt.wantCode {
					t.Fatalf("lookup(%q) error = %v, want code %d", tt.ch, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("lookup(%q): %v", tt.ch, err)
			}
			if info.ns.name != tt.wantNS || info.private != tt.private || info.rest != tt.rest {
				t.Fatalf("lookup(%q) = ns %q private %v rest %q, want %q %v %q", tt.ch, info.ns.name, info.private, info.rest, tt.wantNS, tt.private, tt.rest)
			}
		})
	}
}

func TestChannelValidate(t *testing.T) {
	r := testRules(t)
	tests := []struct {
		ch       string
		wantCode uint32
	}{
		{"news", 0},
		{"chat:room", 0},
		{"strict:abc1", 0},
		{"strict:ABC", 107},
		{"strict:ключ", 107},
		{"новости", 107},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 107}, // 33 > 32
		{"nope:x", 102},
	}
	for _, tt := range tests {
		_, err := r.validate(tt.ch)
		var got uint32
		if err != nil {
			got = err.Code
		}
		if got != tt.wantCode {
			t.Errorf("validate(%q) = %d, want %d", tt.ch, got, tt.wantCode)
		}
	}
}

func TestUserLimitedChannels(t *testing.T) {
	r := testRules(t)
	tests := []struct {
		ch, user         string
		limited, allowed bool
	}{
		{"dialog#1,2", "1", true, true},
		{"dialog#1,2", "2", true, true},
		{"dialog#1,2", "3", true, false},
		{"dialog#1,2", "", true, false},
		{"a#b#42", "42", true, true},
		{"a#b#42", "b", true, false},
		{"plain", "1", false, false},
	}
	for _, tt := range tests {
		limited, allowed := r.userAllowed(tt.ch, tt.user)
		if limited != tt.limited || allowed != tt.allowed {
			t.Errorf("userAllowed(%q, %q) = %v %v, want %v %v", tt.ch, tt.user, limited, allowed, tt.limited, tt.allowed)
		}
	}
}

func FuzzChannelName(f *testing.F) {
	for _, s := range []string{"news", "chat:room", "$chat:x", "a#1,2", "strict:ABC", ":", "$", "#", "\xff", "chat:#42"} {
		f.Add(s, "42")
	}
	r := testRules(f)
	f.Fuzz(func(t *testing.T, ch, user string) {
		info, err := r.validate(ch)
		if err == nil && info.ns == nil {
			t.Fatalf("validate(%q) succeeded without a namespace", ch)
		}
		if err == nil && len(ch) > r.maxLength {
			t.Fatalf("validate(%q) accepted a name over the length limit", ch)
		}
		limited, allowed := r.userAllowed(ch, user)
		if allowed && !limited {
			t.Fatalf("userAllowed(%q) allowed a channel that is not user-limited", ch)
		}
	})
}
