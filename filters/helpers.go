package filters

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/conf"
)

// helperArity gives the number of arguments a user writes for each of our
// helper functions (min, max). Calls are checked before expr's checker
// sees them, because some are rewritten to take an implicit field.
var helperArity = map[string][2]int{
	"matches":          {2, 2},
	"contains":         {2, 2},
	"cidr":             {2, 2},
	"since":            {1, 1},
	"before":           {1, 1},
	"after":            {1, 1},
	"isServiceAccount": {0, 1},
	"isSystem":         {0, 1},
	"isHuman":          {0, 1},
}

// helperUsage shows each helper's form in error hints.
var helperUsage = map[string]string{
	"matches":          `matches(user, "^system:")`,
	"contains":         `contains(userAgent, "kubectl")`,
	"cidr":             `cidr(sourceIP, "10.0.0.0/8")`,
	"since":            `since("1h")`,
	"before":           `before("2026-11-25T10:00:00Z")`,
	"after":            `after("30m")`,
	"isServiceAccount": `isServiceAccount() or isServiceAccount(impersonatedUser)`,
	"isSystem":         `isSystem() or isSystem(effectiveUser)`,
	"isHuman":          `isHuman() or isHuman(effectiveUser)`,
}

// functionNames lists the functions a filter may call, for did-you-mean
// hints: our helpers and the expr builtins users are likely to want.
var functionNames = []string{
	"matches", "contains", "hasPrefix", "hasSuffix", "lower", "upper", "cidr",
	"since", "before", "after", "duration", "date", "now", "isServiceAccount",
	"isSystem", "isHuman", "len", "any", "all", "none", "one", "filter",
	"count", "trim", "split", "join", "indexOf", "keys", "values", "int",
	"string", "first", "last", "startsWith", "endsWith",
}

// isServiceAccount reports whether u is a service account user name.
func isServiceAccount(u string) bool { return strings.HasPrefix(u, "system:serviceaccount:") }

// isSystem reports whether u is a Kubernetes system identity: any
// "system:" user (nodes, kube-* components, the API server itself) except
// system:anonymous and service accounts outside kube-system, kube-public
// and kube-node-lease.
func isSystem(u string) bool {
	if !strings.HasPrefix(u, "system:") || u == "system:anonymous" {
		return false
	}
	if rest, ok := strings.CutPrefix(u, "system:serviceaccount:"); ok {
		ns, _, _ := strings.Cut(rest, ":")
		return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease"
	}
	return true
}

// isHuman reports whether u looks like a person: not empty (a 401) and not
// a "system:" identity (which covers system:anonymous, nodes, components
// and every service account).
func isHuman(u string) bool { return u != "" && !strings.HasPrefix(u, "system:") }

// parseAgo parses a duration for since/before/after: a Go duration
// ("90s", "1h30m") or a number of days ("7d").
func parseAgo(s string) (time.Duration, bool) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, true
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.ParseFloat(n, 64); err == nil && days >= 0 && days < 1e5 {
			return time.Duration(days * float64(24*time.Hour)), true
		}
	}
	return 0, false
}

// parseInstant parses the argument of since/before/after: an RFC 3339
// time, a date (2026-11-25, midnight UTC), or a duration meaning that long
// before now.
func parseInstant(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, ok := parseAgo(s); ok {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (\"1h\", \"7d\") nor an RFC 3339 time (\"2026-11-25T10:00:00Z\")", s)
}

// instantOf converts a since/before/after argument to a time.
func instantOf(arg any, now time.Time) (time.Time, error) {
	switch a := arg.(type) {
	case string:
		return parseInstant(a, now)
	case time.Duration:
		return now.Add(-a), nil
	case time.Time:
		return a, nil
	}
	return time.Time{}, fmt.Errorf("want a duration or a time, got %T", arg)
}

// cidrOf parses a CIDR argument; a bare address is a /32 or /128.
func cidrOf(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is not a CIDR such as \"10.0.0.0/8\"", s)
}

// inCIDR reports whether ip is inside p; a bad ip is not.
func inCIDR(ip string, p netip.Prefix) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return false
	}
	a = a.Unmap()
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Contains(a.WithZone(""))
}

// timeCompare is what since/before/after do with the event time t and
// the instant t0. Events without a time never match.
func timeCompare(name string, t, t0 time.Time) bool {
	if t.IsZero() {
		return false
	}
	switch name {
	case "since":
		return !t.Before(t0)
	case "before":
		return t.Before(t0)
	}
	return t.After(t0)
}

var errArgs = errors.New("wrong arguments")

// helperOptions returns the expr options that define our functions. The
// CIDRs seen as literals at compile time are parsed once into prefixes.
func helperOptions(now time.Time, prefixes map[string]netip.Prefix) []expr.Option {
	timeFn := func(name string) expr.Option {
		return expr.Function(name, func(p ...any) (any, error) {
			t, ok := p[1].(time.Time)
			if !ok {
				return false, errArgs
			}
			t0, err := instantOf(p[0], now)
			if err != nil {
				return false, fmt.Errorf("%s: %w", name, err)
			}
			return timeCompare(name, t, t0), nil
		},
			new(func(string, time.Time) bool),
			new(func(time.Duration, time.Time) bool),
			new(func(time.Time, time.Time) bool))
	}
	userFn := func(name string, fn func(string) bool) expr.Option {
		return expr.Function(name, func(p ...any) (any, error) {
			s, _ := p[0].(string)
			return fn(s), nil
		}, new(func(string) bool))
	}
	return []expr.Option{
		expr.Function("now", func(...any) (any, error) { return now, nil }, new(func() time.Time)),
		timeFn("since"), timeFn("before"), timeFn("after"),
		userFn("isServiceAccount", isServiceAccount),
		userFn("isSystem", isSystem),
		userFn("isHuman", isHuman),
		expr.Function("cidr", func(p ...any) (any, error) {
			ip, _ := p[0].(string)
			c, _ := p[1].(string)
			pre, ok := prefixes[c]
			if !ok {
				var err error
				if pre, err = cidrOf(c); err != nil {
					return false, fmt.Errorf("cidr: %w", err)
				}
			}
			return inCIDR(ip, pre), nil
		}, new(func(string, string) bool)),
	}
}

// newConfig returns an expr configuration with the vocabulary and helpers.
func newConfig(now time.Time, prefixes map[string]netip.Prefix) *conf.Config {
	cfg := conf.CreateNew()
	expr.Env(env{})(cfg)
	for _, o := range helperOptions(now, prefixes) {
		o(cfg)
	}
	// repeat can build strings of any size at compile time; a filter
	// has no use for it.
	delete(cfg.Builtins, "repeat")
	return cfg
}
