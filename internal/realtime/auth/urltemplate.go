package auth

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// urlTemplate is a JWKS endpoint that may contain {{var}} placeholders,
// letting one server trust many tenants' identity providers; the values
// come from named groups of the issuer/audience regexes.
type urlTemplate struct {
	raw  string
	vars []string // placeholder names in order of first appearance
}

var placeholderRe = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// parseURLTemplate checks that every placeholder can be filled by a named
// group of one of the regexes, so a typo fails at start-up.
func parseURLTemplate(raw string, regexes ...*regexp.Regexp) (*urlTemplate, error) {
	t := &urlTemplate{raw: raw}
	groups := map[string]bool{}
	for _, re := range regexes {
		if re == nil {
			continue
		}
		for _, name := range re.SubexpNames() {
			if name != "" {
				groups[name] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range placeholderRe.FindAllStringSubmatch(raw, -1) {
		name := m[1]
		if !groups[name] {
			return nil, fmt.Errorf("placeholder {{%s}} is not a named group of token issuer_regex or audience_regex", name)
		}
		if !seen[name] {
			seen[name] = true
			t.vars = append(t.vars, name)
		}
	}
	rest := placeholderRe.ReplaceAllString(raw, "x")
	if strings.Contains(rest, "{{") {
		return nil, fmt.Errorf("malformed placeholder in %q: want {{name}} with name of letters, digits, _", raw)
	}
	if _, err := url.Parse(rest); err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	return t, nil
}

// render fills the placeholders; values are path-escaped so a crafted
// issuer cannot change the URL's structure beyond the placeholder.
func (t *urlTemplate) render(vars map[string]string) (string, error) {
	if len(t.vars) == 0 {
		return t.raw, nil
	}
	out := placeholderRe.ReplaceAllStringFunc(t.raw, func(ph string) string {
		name := placeholderRe.FindStringSubmatch(ph)[1]
		return url.PathEscape(vars[name])
	})
	for _, name := range t.vars {
		if vars[name] == "" {
			return "", fmt.Errorf("JWKS URL placeholder {{%s}} has no value in the token's iss/aud", name)
		}
	}
	return out, nil
}
