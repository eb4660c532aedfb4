// Package archtest holds no code, only tests that keep the module's shape
// as docs/architecture.md draws it: which packages are public, which floor
// each package stands on, that the two wings never import each other, that
// configuration stays out of both, and that no public name leaks an
// internal type. They read the real import graph with `go list`, so they
// fail the moment a change breaks a rule, not when a reviewer notices.
package archtest
