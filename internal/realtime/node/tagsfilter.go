package node

import (
	"strconv"
	"strings"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// A tags filter lets a subscriber of a map channel receive only the
// publications whose tags match an expression (subscribe request field
// `tf`, namespace option allow_tags_filter). The expression is checked
// once, at subscribe, and compiled into a tree of matchers, so a bad one is
// a clear 107 to that subscriber and matching costs no parsing per
// publication.
//
// Semantics, for a leaf {key, cmp, val, vals}: eq/neq compare strings;
// in/nin test membership in vals; ex/nex test that the tag is present;
// sw/ew/ct are prefix, suffix and substring tests; lt/lte/gt/gte compare
// numbers (a tag or value that is not a number never matches). A tag that
// is absent fails every comparison except neq, nin and nex. Inner nodes:
// op "and" (all children), "or" (any child), "not" (exactly one child,
// negated).

// Limits of one filter, so a subscriber cannot make every publication cost
// an arbitrary amount of work.
const (
	maxFilterNodes = 64
	maxFilterDepth = 8
)

type tagsFilter struct {
	op    string // "", "and", "or", "not"
	key   string
	cmp   string
	val   string
	num   float64
	isNum bool
	vals  map[string]struct{}
	nodes []*tagsFilter
}

// compileTagsFilter validates f; nil compiles to nil (no filter).
func compileTagsFilter(f *clientpb.FilterNode) (*tagsFilter, error) {
	if f == nil {
		return nil, nil
	}
	count := 0
	return compileFilterNode(f, 1, &count)
}

func compileFilterNode(f *clientpb.FilterNode, depth int, count *int) (*tagsFilter, error) {
	*count++
	if *count > maxFilterNodes || depth > maxFilterDepth {
		return nil, ErrorBadRequest
	}
	t := &tagsFilter{op: f.GetOp()}
	switch t.op {
	case "":
		return compileFilterLeaf(t, f)
	case "and", "or", "not":
		if len(f.GetNodes()) == 0 || (t.op == "not" && len(f.GetNodes()) != 1) {
			return nil, ErrorBadRequest
		}
		for _, child := range f.GetNodes() {
			if child == nil {
				return nil, ErrorBadRequest
			}
			c, err := compileFilterNode(child, depth+1, count)
			if err != nil {
				return nil, err
			}
			t.nodes = append(t.nodes, c)
		}
		return t, nil
	}
	return nil, ErrorBadRequest
}

func compileFilterLeaf(t *tagsFilter, f *clientpb.FilterNode) (*tagsFilter, error) {
	t.key, t.cmp, t.val = f.GetKey(), f.GetCmp(), f.GetVal()
	if t.key == "" || len(f.GetNodes()) > 0 {
		return nil, ErrorBadRequest
	}
	switch t.cmp {
	case "eq", "neq", "sw", "ew", "ct", "ex", "nex":
	case "in", "nin":
		if len(f.GetVals()) == 0 {
			return nil, ErrorBadRequest
		}
		t.vals = make(map[string]struct{}, len(f.GetVals()))
		for _, v := range f.GetVals() {
			t.vals[v] = struct{}{}
		}
	case "lt", "lte", "gt", "gte":
		n, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, ErrorBadRequest
		}
		t.num, t.isNum = n, true
	default:
		return nil, ErrorBadRequest
	}
	return t, nil
}

// match evaluates the filter against a publication's tags; a nil filter
// matches everything.
func (t *tagsFilter) match(tags map[string]string) bool {
	if t == nil {
		return true
	}
	switch t.op {
	case "and":
		for _, n := range t.nodes {
			if !n.match(tags) {
				return false
			}
		}
		return true
	case "or":
		for _, n := range t.nodes {
			if n.match(tags) {
				return true
			}
		}
		return false
	case "not":
		return !t.nodes[0].match(tags)
	}
	v, ok := tags[t.key]
	switch t.cmp {
	case "ex":
		return ok
	case "nex":
		return !ok
	case "neq":
		return !ok || v != t.val
	case "nin":
		_, in := t.vals[v]
		return !ok || !in
	}
	if !ok {
		return false
	}
	switch t.cmp {
	case "eq":
		return v == t.val
	case "in":
		_, in := t.vals[v]
		return in
	case "sw":
		return strings.HasPrefix(v, t.val)
	case "ew":
		return strings.HasSuffix(v, t.val)
	case "ct":
		return strings.Contains(v, t.val)
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	switch t.cmp {
	case "lt":
		return n < t.num
	case "lte":
		return n <= t.num
	case "gt":
		return n > t.num
	default: // gte
		return n >= t.num
	}
}
