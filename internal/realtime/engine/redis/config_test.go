package redis

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFromSettings(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Settings
		addrs   []string
		user    string
		pass    string
		db      int
		tls     bool
		wantErr string
	}{
		{name: "host:port", cfg: Settings{Addresses: []string{"127.0.0.1:6379"}}, addrs: []string{"127.0.0.1:6379"}},
		{name: "url with db path and password", cfg: Settings{Addresses: []string{"redis://:secret@h1:7000/3"}},
			addrs: []string{"h1:7000"}, pass: "secret", db: 3},
		{name: "url with query db and user", cfg: Settings{Addresses: []string{"redis://bob:pw@h1?db=2"}},
			addrs: []string{"h1:6379"}, user: "bob", pass: "pw", db: 2},
		{name: "query password", cfg: Settings{Addresses: []string{"redis://h1:1?password=p"}}, addrs: []string{"h1:1"}, pass: "p"},
		{name: "rediss means TLS", cfg: Settings{Addresses: []string{"rediss://h1:6380"}}, addrs: []string{"h1:6380"}, tls: true},
		{name: "tls flag", cfg: Settings{Addresses: []string{"h1:1"}, TLS: TLSFiles{Enabled: true}}, addrs: []string{"h1:1"}, tls: true},
		{name: "unix socket", cfg: Settings{Addresses: []string{"unix:///tmp/r.sock"}}, addrs: []string{"/tmp/r.sock"}},
		{name: "shards agree", cfg: Settings{Addresses: []string{"redis://:p@a:1/1", "redis://:p@b:2/1"}},
			addrs: []string{"a:1", "b:2"}, pass: "p", db: 1},
		{name: "explicit settings kept", cfg: Settings{Addresses: []string{"a:1"}, User: "u", Password: "p", DB: 4},
			addrs: []string{"a:1"}, user: "u", pass: "p", db: 4},
		{name: "conflicting passwords", cfg: Settings{Addresses: []string{"redis://:p1@a:1", "redis://:p2@b:1"}}, wantErr: "password differs"},
		{name: "conflicting db", cfg: Settings{Addresses: []string{"redis://a:1/1", "redis://b:1/2"}}, wantErr: "database 2 differs"},
		{name: "url db against explicit db", cfg: Settings{Addresses: []string{"redis://a:1/1"}, DB: 2}, wantErr: "differs"},
		{name: "bad db", cfg: Settings{Addresses: []string{"redis://a:1/x"}}, wantErr: "not a non-negative number"},
		{name: "bad scheme", cfg: Settings{Addresses: []string{"http://a:1"}}, wantErr: "use redis://"},
		{name: "missing port", cfg: Settings{Addresses: []string{"justhost"}}, wantErr: "want host:port"},
		{name: "relative unix path", cfg: Settings{Addresses: []string{"unix://r.sock"}}, wantErr: "absolute"},
		{name: "missing CA file", cfg: Settings{Addresses: []string{"a:1"}, TLS: TLSFiles{Enabled: true, CAFile: "/nonexistent/ca.pem"}}, wantErr: "TLS CA"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := FromSettings(tc.cfg, 2*time.Second, time.Hour, "node-1")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromSettings: %v", err)
			}
			if !slices.Equal(o.Addresses, tc.addrs) || o.User != tc.user || o.Password != tc.pass || o.DB != tc.db {
				t.Errorf("got addrs %v user %q pass %q db %d; want %v %q %q %d",
					o.Addresses, o.User, o.Password, o.DB, tc.addrs, tc.user, tc.pass, tc.db)
			}
			if (o.TLS != nil) != tc.tls {
				t.Errorf("TLS config set = %v, want %v", o.TLS != nil, tc.tls)
			}
			if o.PresenceTTL != 2*time.Second || o.HistoryMetaTTL != time.Hour || o.NodeID != "node-1" {
				t.Errorf("lifetimes/node not passed through: %+v", o)
			}
		})
	}
}

func TestFromSettingsSentinelAndCluster(t *testing.T) {
	o, err := FromSettings(Settings{
		SentinelAddresses:  []string{"redis://:spw@s1:26379", "s2:26379"},
		SentinelMasterName: "mymaster",
		Password:           "masterpw",
	}, 0, 0, "")
	if err != nil {
		t.Fatalf("sentinel: %v", err)
	}
	if !slices.Equal(o.SentinelAddresses, []string{"s1:26379", "s2:26379"}) || o.SentinelPassword != "spw" ||
		o.Password != "masterpw" || o.SentinelMasterName != "mymaster" || len(o.Addresses) != 0 {
		t.Errorf("sentinel options %+v", o)
	}
	o, err = FromSettings(Settings{ClusterAddresses: []string{"redis://c1:7000", "c2:7001"}, Addresses: []string{"ignored:1"}}, 0, 0, "")
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	if !slices.Equal(o.ClusterAddresses, []string{"c1:7000", "c2:7001"}) || len(o.Addresses) != 0 {
		t.Errorf("cluster options %+v", o)
	}
}

func TestOptionsNormalize(t *testing.T) {
	cases := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"nothing", Options{}, "no addresses"},
		{"two kinds", Options{Addresses: []string{"a:1"}, ClusterAddresses: []string{"b:1"}}, "only one"},
		{"sentinel without master", Options{SentinelAddresses: []string{"a:1"}}, "SentinelMasterName"},
		{"empty address", Options{Addresses: []string{" "}}, "empty address"},
		{"braces in cluster prefix", Options{ClusterAddresses: []string{"a:1"}, Prefix: "x{y}"}, "must not contain"},
		{"cluster db", Options{ClusterAddresses: []string{"a:1"}, DB: 1}, "database 0"},
		{"negative db", Options{Addresses: []string{"a:1"}, DB: -1}, "negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tc.o.normalize()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	o, m, err := Options{Addresses: []string{"a:1"}}.normalize()
	if err != nil || m != modeStandalone {
		t.Fatalf("defaults: %v mode %d", err, m)
	}
	if o.Prefix != DefaultPrefix || o.PresenceTTL != DefaultPresenceTTL || o.HistoryMetaTTL != DefaultHistoryMetaTTL ||
		o.IOTimeout != DefaultIOTimeout || o.ConnectTimeout != DefaultConnectTimeout || o.NodeID == "" || o.Logger == nil {
		t.Errorf("defaults not applied: %+v", o)
	}
}

// TestRedactAddress: passwords never reach a log line or an error
// (hardening defect 4).
func TestRedactAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"redis://:s3cret@10.0.0.1:6379/2", "redis://:xxxxx@10.0.0.1:6379/2"},
		{"rediss://bob:s3cret@h:6380", "rediss://bob:xxxxx@h:6380"},
		{"redis://bob@h:1", "redis://bob@h:1"},
		{"redis://h:1?password=s3cret&db=2", "redis://h:1?db=2&password=xxxxx"},
		{"127.0.0.1:6379", "127.0.0.1:6379"},
		{"unix:///run/redis.sock", "unix:///run/redis.sock"},
		{"redis://:s3cr%zzet@h:1", "redis://xxxxx@h:1"},
	}
	for _, tc := range tests {
		if got := RedactAddress(tc.in); got != tc.want {
			t.Errorf("RedactAddress(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSettingsErrorsHideThePassword: every way an address can be refused
// says which address, without its password.
func TestSettingsErrorsHideThePassword(t *testing.T) {
	for _, addrs := range [][]string{
		{"redis://:s3cret@h:1/x"},                          // bad database
		{"redis://:s3cret@h:1", "redis://:other@h:2"},      // passwords differ
		{"redis://:s3cr%zzet@h:1"},                         // unparsable URL
		{"redis://:s3cret@h:1/1", "redis://:s3cret@h:1/2"}, // databases differ
	} {
		_, err := FromSettings(Settings{Addresses: addrs}, 0, 0, "")
		if err == nil {
			t.Fatalf("%v accepted", addrs)
		}
		if strings.Contains(err.Error(), "s3cr") || strings.Contains(err.Error(), "other") {
			t.Errorf("error shows a password: %v", err)
		}
	}
}

// TestTLSFromBytes: PEM the configuration already read (inline or from a
// file) is used as is; files are read only when no bytes are given.
func TestTLSFromBytes(t *testing.T) {
	c, err := tlsConfig(TLSFiles{Enabled: true, CA: []byte("not pem")})
	if err == nil {
		t.Fatalf("a CA without certificates was accepted: %v", c)
	}
	c, err = tlsConfig(TLSFiles{Enabled: true, CAFile: "/nonexistent/ca.pem", Cert: []byte("x"), Key: []byte("y")})
	if err == nil || !strings.Contains(err.Error(), "redis TLS CA") {
		t.Fatalf("want the CA file error first, got %v", err)
	}
	c, err = tlsConfig(TLSFiles{Enabled: true})
	if err != nil || c.MinVersion != tls.VersionTLS12 || len(c.Certificates) != 0 {
		t.Fatalf("plain TLS: %v %v", c, err)
	}
}

// TestSentinelTLS: sentinel_tls secures the connections to the sentinels
// on its own; tls stays the data servers' (Centrifugo keeps the two apart,
// since sentinels and masters often have different certificates).
func TestSentinelTLS(t *testing.T) {
	base := Settings{SentinelAddresses: []string{"s1:26379"}, SentinelMasterName: "m"}
	tests := []struct {
		name                 string
		sentinel, data       TLSFiles
		addrs                []string
		wantSentinel, wantDB bool
		wantName             string
	}{
		{name: "off", wantSentinel: false},
		{name: "sentinels only", sentinel: TLSFiles{Enabled: true, ServerName: "sentinel.internal"}, wantSentinel: true, wantName: "sentinel.internal"},
		{name: "data servers only", data: TLSFiles{Enabled: true}, wantDB: true},
		{name: "rediss:// sentinel address", addrs: []string{"rediss://s1:26379"}, wantSentinel: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			s.SentinelTLS, s.TLS = tc.sentinel, tc.data
			if tc.addrs != nil {
				s.SentinelAddresses = tc.addrs
			}
			o, err := FromSettings(s, 0, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if (o.SentinelTLS != nil) != tc.wantSentinel || (o.TLS != nil) != tc.wantDB {
				t.Fatalf("sentinel TLS %v, data TLS %v; want %v, %v", o.SentinelTLS != nil, o.TLS != nil, tc.wantSentinel, tc.wantDB)
			}
			if o.SentinelTLS != nil && o.SentinelTLS.ServerName != tc.wantName {
				t.Errorf("server name %q, want %q", o.SentinelTLS.ServerName, tc.wantName)
			}
		})
	}
	if _, err := FromSettings(Settings{SentinelAddresses: []string{"s1:1"}, SentinelMasterName: "m", SentinelTLS: TLSFiles{Enabled: true, CA: []byte("x")}}, 0, 0, ""); err == nil || !strings.Contains(err.Error(), "sentinel: redis TLS") {
		t.Fatalf("unusable sentinel CA: %v", err)
	}
}
