package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spindle-rt/spindle/internal/tlsconf"
)

// Settings are the Redis connection settings as an operator writes them:
// addresses in any of the accepted forms, credentials, TLS files. They
// mirror the configuration's Redis section; FromSettings turns them into
// Options.
type Settings struct {
	Addresses          []string
	Password           string
	User               string
	DB                 int
	Prefix             string
	ConnectTimeout     time.Duration
	IOTimeout          time.Duration
	TLS                TLSFiles
	ClusterAddresses   []string
	SentinelAddresses  []string
	SentinelMasterName string
	SentinelUser       string
	SentinelPassword   string
	// SentinelTLS secures the connections to the sentinels; TLS those to
	// the data servers they point at.
	SentinelTLS TLSFiles
	// MapCleanupInterval and MapCleanupBatchSize tune map key expiry
	// (map_broker.redis cleanup_interval / cleanup_batch_size); zero
	// means the defaults.
	MapCleanupInterval  time.Duration
	MapCleanupBatchSize int
}

// TLSFiles switches TLS on and gives its PEM material: as bytes (Cert, Key,
// CA — what the configuration read, inline or from files) or, when a byte
// field is empty, as the file to read it from.
type TLSFiles struct {
	Enabled  bool
	CertFile string
	KeyFile  string
	CAFile   string

	Cert, Key, CA []byte

	// ServerName overrides the host name expected in the server's
	// certificate; InsecureSkipVerify accepts any certificate.
	ServerName         string
	InsecureSkipVerify bool
}

// FromSettings turns operator settings into Options, so the server can
// build the engine without knowing Redis address syntax. Addresses may
// be host:port, redis://[user:password@]host:port[/db][?db=N&password=P],
// rediss://... (TLS) or unix:///path. Credentials and database given in
// URLs apply to all addresses and must agree with each other and with the
// explicit settings. It fails on unreadable TLS files or bad URLs.
func FromSettings(cfg Settings, presenceTTL, metaTTL time.Duration, nodeID string) (Options, error) {
	o := Options{
		User:                cfg.User,
		Password:            cfg.Password,
		DB:                  cfg.DB,
		Prefix:              cfg.Prefix,
		ConnectTimeout:      cfg.ConnectTimeout,
		IOTimeout:           cfg.IOTimeout,
		SentinelMasterName:  cfg.SentinelMasterName,
		SentinelUser:        cfg.SentinelUser,
		SentinelPassword:    cfg.SentinelPassword,
		PresenceTTL:         presenceTTL,
		HistoryMetaTTL:      metaTTL,
		NodeID:              nodeID,
		MapCleanupInterval:  cfg.MapCleanupInterval,
		MapCleanupBatchSize: cfg.MapCleanupBatchSize,
	}
	m := &urlMerge{user: &o.User, password: &o.Password, db: &o.DB}
	useTLS := cfg.TLS.Enabled
	var err error
	switch {
	case len(cfg.SentinelAddresses) > 0:
		// Sentinel URLs carry sentinel credentials, not the master's.
		sm := &urlMerge{user: &o.SentinelUser, password: &o.SentinelPassword, db: new(int)}
		var t bool
		if o.SentinelAddresses, t, err = parseAddresses(cfg.SentinelAddresses, sm); err != nil {
			return Options{}, err
		}
		if cfg.SentinelTLS.Enabled || t {
			if o.SentinelTLS, err = tlsConfig(cfg.SentinelTLS); err != nil {
				return Options{}, fmt.Errorf("sentinel: %w", err)
			}
		}
	case len(cfg.ClusterAddresses) > 0:
		var t bool
		if o.ClusterAddresses, t, err = parseAddresses(cfg.ClusterAddresses, m); err != nil {
			return Options{}, err
		}
		useTLS = useTLS || t
	default:
		var t bool
		if o.Addresses, t, err = parseAddresses(cfg.Addresses, m); err != nil {
			return Options{}, err
		}
		useTLS = useTLS || t
	}
	if useTLS {
		if o.TLS, err = tlsConfig(cfg.TLS); err != nil {
			return Options{}, err
		}
	}
	return o, nil
}

// urlMerge collects settings found in URLs into the options, refusing
// conflicting values: silently using one of two passwords would make
// failures hard to understand.
type urlMerge struct {
	user, password *string
	db             *int
	dbSet          bool
}

func (m *urlMerge) setString(dst *string, v, what, addr string) error {
	if v == "" {
		return nil
	}
	if *dst != "" && *dst != v {
		return fmt.Errorf("redis address %q: %s differs from the one configured elsewhere", RedactAddress(addr), what)
	}
	*dst = v
	return nil
}

func (m *urlMerge) setDB(v int, addr string) error {
	if (m.dbSet || *m.db != 0) && *m.db != v {
		return fmt.Errorf("redis address %q: database %d differs from %d configured elsewhere", RedactAddress(addr), v, *m.db)
	}
	*m.db = v
	m.dbSet = true
	return nil
}

// RedactAddress hides the credentials an address may carry
// (redis://user:PASSWORD@host, ?password=…), so it can appear in logs and
// errors: operators paste these lines into tickets.
func RedactAddress(addr string) string {
	const hidden = "xxxxx"
	if u, err := url.Parse(addr); err == nil && u.Scheme != "" && u.Host != "" {
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), hidden)
			}
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", hidden)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	// Not a URL we can take apart: hide everything between the scheme and
	// the last '@', and any password= value.
	if i, j := strings.Index(addr, "://"), strings.LastIndex(addr, "@"); i >= 0 && j > i {
		addr = addr[:i+3] + hidden + addr[j:]
	}
	if i := strings.Index(strings.ToLower(addr), "password="); i >= 0 {
		end := strings.IndexAny(addr[i:], "&#")
		if end < 0 {
			end = len(addr) - i
		}
		addr = addr[:i] + "password=" + hidden + addr[i+end:]
	}
	return addr
}

// parseAddresses converts configured addresses to the dialable form
// rueidis takes and reports whether any asked for TLS.
func parseAddresses(in []string, m *urlMerge) ([]string, bool, error) {
	out := make([]string, 0, len(in))
	useTLS := false
	for _, raw := range in {
		addr := strings.TrimSpace(raw)
		lower := strings.ToLower(addr)
		switch {
		case strings.HasPrefix(lower, "unix://"):
			path := addr[len("unix://"):]
			if path == "" || path[0] != '/' {
				return nil, false, fmt.Errorf("redis address %q: want unix:///absolute/path", RedactAddress(raw))
			}
			out = append(out, path)
		case strings.HasPrefix(lower, "redis://"), strings.HasPrefix(lower, "rediss://"):
			hostPort, t, err := parseURL(addr, m)
			if err != nil {
				return nil, false, err
			}
			useTLS = useTLS || t
			out = append(out, hostPort)
		case strings.Contains(addr, "://"):
			return nil, false, fmt.Errorf("redis address %q: use redis://, rediss://, unix:// or host:port", RedactAddress(raw))
		default:
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return nil, false, fmt.Errorf("redis address %q: want host:port: %w", RedactAddress(raw), err)
			}
			out = append(out, addr)
		}
	}
	return out, useTLS, nil
}

// parseURL reads a redis:// or rediss:// URL.
func parseURL(addr string, m *urlMerge) (string, bool, error) {
	u, err := url.Parse(addr)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", false, fmt.Errorf("redis address %q: %w", RedactAddress(addr), err)
	}
	useTLS := strings.EqualFold(u.Scheme, "rediss")
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", false, fmt.Errorf("redis address %q: missing host", RedactAddress(addr))
	}
	if port == "" {
		port = "6379"
	}
	if u.User != nil {
		if err := m.setString(m.user, u.User.Username(), "user", addr); err != nil {
			return "", false, err
		}
		if p, ok := u.User.Password(); ok {
			if err := m.setString(m.password, p, "password", addr); err != nil {
				return "", false, err
			}
		}
	}
	q := u.Query()
	if err := m.setString(m.password, q.Get("password"), "password", addr); err != nil {
		return "", false, err
	}
	dbText := strings.Trim(u.Path, "/")
	if v := q.Get("db"); v != "" {
		dbText = v
	}
	if dbText != "" {
		db, err := strconv.Atoi(dbText)
		if err != nil || db < 0 {
			return "", false, fmt.Errorf("redis address %q: database %q is not a non-negative number", RedactAddress(addr), dbText)
		}
		if err := m.setDB(db, addr); err != nil {
			return "", false, err
		}
	}
	return net.JoinHostPort(host, port), useTLS, nil
}

// tlsConfig builds the client TLS configuration from PEM bytes, or from
// files where no bytes are given.
func tlsConfig(t TLSFiles) (*tls.Config, error) {
	s := tlsconf.Settings{Cert: t.Cert, Key: t.Key, CA: t.CA, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	var err error
	if s.CA == nil && t.CAFile != "" {
		if s.CA, err = os.ReadFile(t.CAFile); err != nil {
			return nil, fmt.Errorf("redis TLS CA: %w", err)
		}
	}
	if s.Cert == nil && s.Key == nil && (t.CertFile != "" || t.KeyFile != "") {
		if s.Cert, err = os.ReadFile(t.CertFile); err == nil {
			s.Key, err = os.ReadFile(t.KeyFile)
		}
		if err != nil {
			return nil, fmt.Errorf("redis TLS client certificate: %w", err)
		}
	}
	c, err := tlsconf.Client(s)
	if err != nil {
		return nil, fmt.Errorf("redis TLS: %w", err)
	}
	return c, nil
}
