package compliance

import (
	"fmt"

	"github.com/nudgehq/nudge"
)

// Registry resolves profile names: the built-in us and cn profiles plus the
// lender profiles it was given. The jurisdiction overlays (us-ma, us-wa,
// us-nyc, in) are not in it: they are not profiles a lender or a cadence
// chooses, Decide applies them where the borrower lives. It is read-only and
// safe for concurrent use.
type Registry struct {
	profiles map[string]*Profile
}

// NewRegistry returns a registry of the built-in profiles and the given lender
// profiles; a later profile with the same name replaces an earlier one (and a
// lender profile may shadow a built-in name).
func NewRegistry(profiles ...*Profile) *Registry {
	r := &Registry{profiles: map[string]*Profile{}}
	for _, name := range []string{"us", "cn"} {
		p, _ := Builtin(name)
		r.profiles[name] = p
	}
	for _, p := range profiles {
		if p != nil {
			r.profiles[p.Name] = p
		}
	}
	return r
}

// Lookup returns the profile called name, or an error wrapping ErrUnknownProfile.
func (r *Registry) Lookup(name string) (*Profile, error) {
	if p, ok := r.profiles[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("profile %q: %w", name, ErrUnknownProfile)
}

// DefaultProfileName is the built-in profile for an account no cadence
// names one for: cn for an account in China (its address, or its
// borrower's Asia/Shanghai time zone), us otherwise.
func DefaultProfileName(a nudge.Account) string {
	if (a.Address != nil && a.Address.Country == "CN") || a.Borrower.Timezone == "Asia/Shanghai" {
		return "cn"
	}
	return "us"
}
