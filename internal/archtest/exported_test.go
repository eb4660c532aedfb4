package archtest

import (
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"strings"
	"testing"
)

// publicPackages are the packages users import.
var publicPackages = []string{".", "app", "apiclient", "proto/apipb", "proto/clientpb", "proto/proxypb"}

// TestNoInternalTypeInPublicAPI type-checks the public packages from their
// compiled export data and walks every exported name: a function, method,
// field or type that mentions a type from an internal/ package would be a
// name users can see but never write, so it fails here.
func TestNoInternalTypeInPublicAPI(t *testing.T) {
	args := []string{"-export", "-deps"}
	for _, p := range publicPackages {
		args = append(args, "./"+p)
	}
	exports := map[string]string{}
	for _, p := range listPackages(t, args...) {
		exports[p.ImportPath] = p.Export
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	for _, p := range publicPackages {
		path := module
		if p != "." {
			path += "/" + p
		}
		pkg, err := imp.Import(path)
		if err != nil {
			t.Fatalf("import %s: %v", p, err)
		}
		w := &leakWalker{t: t, seen: map[types.Type]bool{}}
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			obj := scope.Lookup(name)
			if !obj.Exported() {
				continue
			}
			w.where = pkg.Name() + "." + name
			w.walk(obj.Type())
			if tn, ok := obj.(*types.TypeName); ok {
				if named, ok := tn.Type().(*types.Named); ok {
					for i := 0; i < named.NumMethods(); i++ {
						if m := named.Method(i); m.Exported() {
							w.where = pkg.Name() + "." + name + "." + m.Name()
							w.walk(m.Type())
						}
					}
				}
			}
		}
	}
}

// leakWalker reports internal types reachable through exported parts of a
// type. Named types of this module are entered once (their exported fields
// and methods are checked where they are declared); named types of other
// modules are not entered.
type leakWalker struct {
	t     *testing.T
	where string
	seen  map[types.Type]bool
}

func (w *leakWalker) walk(typ types.Type) {
	if w.seen[typ] {
		return
	}
	w.seen[typ] = true
	switch tt := typ.(type) {
	case *types.Named:
		obj := tt.Obj()
		if obj.Pkg() == nil {
			return
		}
		path := obj.Pkg().Path()
		if strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal") {
			w.t.Errorf("%s mentions %s.%s, a type users cannot name", w.where, rel(path), obj.Name())
			return
		}
		if under(path, module) {
			w.walk(tt.Underlying())
		}
		for i := 0; i < tt.TypeArgs().Len(); i++ {
			w.walk(tt.TypeArgs().At(i))
		}
	case *types.Alias:
		w.walk(types.Unalias(tt))
	case *types.Pointer:
		w.walk(tt.Elem())
	case *types.Slice:
		w.walk(tt.Elem())
	case *types.Array:
		w.walk(tt.Elem())
	case *types.Map:
		w.walk(tt.Key())
		w.walk(tt.Elem())
	case *types.Chan:
		w.walk(tt.Elem())
	case *types.Signature:
		for i := 0; i < tt.Params().Len(); i++ {
			w.walk(tt.Params().At(i).Type())
		}
		for i := 0; i < tt.Results().Len(); i++ {
			w.walk(tt.Results().At(i).Type())
		}
	case *types.Struct:
		for i := 0; i < tt.NumFields(); i++ {
			if f := tt.Field(i); f.Exported() || f.Embedded() {
				w.walk(f.Type())
			}
		}
	case *types.Interface:
		for i := 0; i < tt.NumMethods(); i++ {
			if m := tt.Method(i); m.Exported() {
				w.walk(m.Type())
			}
		}
		for i := 0; i < tt.NumEmbeddeds(); i++ {
			w.walk(tt.EmbeddedType(i))
		}
	}
}
