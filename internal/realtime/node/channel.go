package node

import (
	"fmt"
	"regexp"
	"strings"
)

// channelRules resolves a channel name to its namespace options. It is built
// once from the configuration, so lookups on the hot path are a map read.
type channelRules struct {
	maxLength         int
	privatePrefix     string
	namespaceBoundary string
	userBoundary      string
	userSeparator     string
	root              *namespace
	namespaces        map[string]*namespace
}

// namespace is a configured namespace with its compiled regex.
type namespace struct {
	name  string
	opts  ChannelOptions
	regex *regexp.Regexp
}

// channelInfo is what a channel name says about itself.
type channelInfo struct {
	ns *namespace
	// private channels start with the private prefix and need a token.
	private bool
	// rest is the part after "namespace:" (the whole name without one).
	rest string
}

func newChannelRules(c ChannelConfig) (*channelRules, error) {
	r := &channelRules{
		maxLength:         c.MaxLength,
		privatePrefix:     c.PrivatePrefix,
		namespaceBoundary: c.NamespaceBoundary,
		userBoundary:      c.UserBoundary,
		userSeparator:     c.UserSeparator,
		namespaces:        make(map[string]*namespace, len(c.Namespaces)),
	}
	if r.maxLength <= 0 {
		r.maxLength = 255
	}
	if r.namespaceBoundary == "" {
		r.namespaceBoundary = ":"
	}
	if r.userBoundary == "" {
		r.userBoundary = "#"
	}
	if r.userSeparator == "" {
		r.userSeparator = ","
	}
	root, err := newNamespace("", c.WithoutNamespace)
	if err != nil {
		return nil, err
	}
	r.root = root
	for _, ns := range c.Namespaces {
		n, err := newNamespace(ns.Name, ns.ChannelOptions)
		if err != nil {
			return nil, err
		}
		r.namespaces[ns.Name] = n
	}
	return r, nil
}

func newNamespace(name string, opts ChannelOptions) (*namespace, error) {
	n := &namespace{name: name, opts: opts}
	if opts.ChannelRegex != "" {
		re, err := regexp.Compile(opts.ChannelRegex)
		if err != nil {
			return nil, fmt.Errorf("namespace %q channel_regex: %w", name, err)
		}
		n.regex = re
	}
	return n, nil
}

// lookup finds a channel's namespace; an unknown namespace is 102.
func (r *channelRules) lookup(ch string) (channelInfo, *Error) {
	info := channelInfo{}
	name := ch
	if r.privatePrefix != "" && strings.HasPrefix(name, r.privatePrefix) {
		info.private = true
		name = name[len(r.privatePrefix):]
	}
	if i := strings.Index(name, r.namespaceBoundary); i >= 0 {
		ns, ok := r.namespaces[name[:i]]
		if !ok {
			return info, ErrorUnknownChannel
		}
		info.ns = ns
		info.rest = name[i+len(r.namespaceBoundary):]
		return info, nil
	}
	info.ns = r.root
	info.rest = name
	return info, nil
}

// validate checks a client-supplied channel name: length, characters and
// the namespace's regex. It returns the channel's info on success.
func (r *channelRules) validate(ch string) (channelInfo, *Error) {
	if len(ch) > r.maxLength {
		return channelInfo{}, ErrorBadRequest
	}
	info, err := r.lookup(ch)
	if err != nil {
		return info, err
	}
	if info.ns.regex != nil {
		if !info.ns.regex.MatchString(info.rest) {
			return info, ErrorBadRequest
		}
	} else if !isASCII(ch) {
		return info, ErrorBadRequest
	}
	return info, nil
}

// userAllowed reports whether a user-limited channel (name#u1,u2) lists the
// user. ok is false when the channel is not user-limited at all.
func (r *channelRules) userAllowed(ch, user string) (limited, allowed bool) {
	i := strings.LastIndex(ch, r.userBoundary)
	if i < 0 {
		return false, false
	}
	if user == "" {
		return true, false
	}
	for _, u := range strings.Split(ch[i+len(r.userBoundary):], r.userSeparator) {
		if u == user {
			return true, true
		}
	}
	return true, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 127 {
			return false
		}
	}
	return true
}
