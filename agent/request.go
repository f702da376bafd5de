package agent

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/template"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// chooseScopes checks the requested scopes against the provider's. No scopes
// means the provider's defaults; required scopes are always added, because the
// agent cannot identify the account without them.
func chooseScopes(p oauthflow.Provider, requested []string) ([]string, error) {
	known := make(map[string]relayproto.Scope, len(p.Scopes))
	for _, s := range p.Scopes {
		known[s.Name] = s
	}
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, name := range requested {
		if _, ok := known[name]; !ok {
			return nil, fmt.Errorf("%w: %s offers no scope %q (it offers %v)", ErrBadRequest, p.Name, name, scopeNames(p))
		}
		add(name)
	}
	for _, s := range p.Scopes {
		if s.Required || (len(requested) == 0 && s.Default) {
			add(s.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: choose at least one scope of %v", ErrBadRequest, scopeNames(p))
	}
	return out, nil
}

func scopeNames(p oauthflow.Provider) []string {
	names := make([]string, len(p.Scopes))
	for i, s := range p.Scopes {
		names[i] = s.Name
	}
	return names
}

// checkFields checks the extra Connect fields: unknown names are refused,
// required ones must have a value, a select takes only its options, and
// missing optional ones get their default.
func checkFields(p oauthflow.Provider, given map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(p.Fields))
	declared := make(map[string]bool, len(p.Fields))
	for _, f := range p.Fields {
		declared[f.Name] = true
		v, ok := given[f.Name]
		if !ok || v == "" {
			v = f.Default
		}
		switch {
		case v == "" && f.Required:
			return nil, fmt.Errorf("%w: field %q is required", ErrBadRequest, f.Name)
		case v != "" && f.Kind == "select" && !slices.Contains(f.Options, v):
			return nil, fmt.Errorf("%w: field %q must be one of %v, not %q", ErrBadRequest, f.Name, f.Options, v)
		case len(v) > 256:
			return nil, fmt.Errorf("%w: field %q is longer than 256 bytes", ErrBadRequest, f.Name)
		}
		if v != "" {
			out[f.Name] = v
		}
	}
	for name := range given {
		if !declared[name] {
			return nil, fmt.Errorf("%w: %s has no field %q", ErrBadRequest, p.Name, name)
		}
	}
	return out, nil
}

// renderAPIBase fills the extra fields into the provider's api_base
// ({{.fields.environment}}) and checks that the result is an allowed host.
// The rendered URL is pinned on the connection.
func renderAPIBase(p oauthflow.Provider, fields map[string]string) (string, error) {
	if !strings.Contains(p.APIBase, "{{") {
		return p.APIBase, nil
	}
	t, err := template.New("api_base").Option("missingkey=error").Parse(p.APIBase)
	if err != nil {
		return "", fmt.Errorf("%s's api_base template: %w", p.Name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]any{"fields": fields}); err != nil {
		return "", fmt.Errorf("%w: %s's api_base needs a field: %w", ErrBadRequest, p.Name, err)
	}
	u, err := url.Parse(b.String())
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("%w: %s's api_base %q is not an absolute URL", ErrBadRequest, p.Name, b.String())
	}
	if err := p.CheckAllowed(u); err != nil {
		return "", fmt.Errorf("%w: %s's api_base: %w", ErrBadRequest, p.Name, err)
	}
	return b.String(), nil
}
