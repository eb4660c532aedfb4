package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/spindle-rt/spindle"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath   string
	Export       string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// listPackages runs `go list -json` with args in the module root and
// decodes its stream of package objects.
func listPackages(t *testing.T, args ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

func under(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }

// Floors, bottom first. A package may import its own floor or lower ones,
// never a higher one. The two wings share floor 2 but may not import each
// other (checked separately).
var floors = []struct {
	name     string
	prefixes []string
}{
	{"leaves", []string{"proto", "internal/clientheaders", "internal/pbjson", "internal/jsonwire", "internal/rraddr", "internal/tlsconf", "internal/fossil", "internal/tracksign", "internal/version", "internal/testredis", "internal/testlog", "internal/testcert", "internal/wstest", "internal/archtest"}},
	{"shared clients", []string{"apiclient"}},
	{"wings", []string{"internal/realtime", "app", "internal/appserver"}},
	{"configuration", []string{"internal/config"}},
	{"applications", []string{"demo"}},
	{"wiring", []string{"internal/wiring", "."}},
	{"commands and examples", []string{"cmd", "examples"}},
}

func floorOf(t *testing.T, p string) int {
	t.Helper()
	best, bestLen := -1, -1
	for i, f := range floors {
		for _, pre := range f.prefixes {
			if (pre == "." && p == ".") || (pre != "." && under(p, pre)) {
				if len(pre) > bestLen {
					best, bestLen = i, len(pre)
				}
			}
		}
	}
	if best < 0 {
		t.Errorf("package %s stands on no floor: add it to floors in this test and to docs/architecture.md", p)
	}
	return best
}

func wingOf(p string) string {
	switch {
	case under(p, "internal/realtime"):
		return "server wing"
	case under(p, "app"), under(p, "internal/appserver"):
		return "app wing"
	}
	return ""
}

func ownImports(p pkg) (build, tests []string) {
	for _, i := range p.Imports {
		if under(i, module) {
			build = append(build, rel(i))
		}
	}
	for _, i := range append(append([]string{}, p.TestImports...), p.XTestImports...) {
		if under(i, module) && i != p.ImportPath {
			tests = append(tests, rel(i))
		}
	}
	return build, tests
}

// TestFloors checks that no import runs back up a floor, that the wings do
// not import each other (tests included), and that no wing package or its
// tests import the configuration loader.
func TestFloors(t *testing.T) {
	for _, p := range listPackages(t, "./...") {
		from := rel(p.ImportPath)
		if under(from, "e2e") {
			continue
		}
		ff := floorOf(t, from)
		build, tests := ownImports(p)
		for _, to := range build {
			if tf := floorOf(t, to); tf > ff {
				t.Errorf("%s (%s) imports %s (%s): an arrow back up a floor", from, floors[ff].name, to, floors[tf].name)
			}
		}
		for _, to := range append(build, tests...) {
			if fw, tw := wingOf(from), wingOf(to); fw != "" && tw != "" && fw != tw {
				t.Errorf("%s (%s) imports %s (%s): the wings meet only in proto/ and the wiring", from, fw, to, tw)
			}
			if wingOf(from) != "" && under(to, "internal/config") {
				t.Errorf("%s imports %s: the wiring maps configuration into each part's own settings", from, to)
			}
		}
	}
}

// TestPublicSurface keeps the importable part of the module to the SDK.
func TestPublicSurface(t *testing.T) {
	want := map[string]bool{".": true, "app": true, "apiclient": true, "proto/apipb": true, "proto/clientpb": true, "proto/proxypb": true}
	for _, p := range listPackages(t, "./...") {
		r := rel(p.ImportPath)
		if under(r, "internal") || under(r, "cmd") || under(r, "examples") || under(r, "e2e") || under(r, "demo") {
			continue
		}
		if !want[r] {
			t.Errorf("%s is importable by users; put it under internal/ or add it to the public SDK on purpose (docs/architecture.md)", r)
		}
		delete(want, r)
	}
	for r := range want {
		t.Errorf("public package %s is missing", r)
	}
}
