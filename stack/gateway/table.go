package gateway

import (
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
)

// Route is one host's programmed rule: which ingress it came from and its paths, in the order
// the gateway matches them (header-matching paths first).
type Route struct {
	Ingress    types.NamespacedName
	Visibility netv1alpha1.IngressVisibility
	Paths      []netv1alpha1.HTTPIngressPath
}

// hostRoutes holds a host's rules by visibility. With the default domain svc.cluster.local a
// route's external host equals one of its cluster-local hosts, so one host can carry both.
type hostRoutes struct {
	external, local       Route
	hasExternal, hasLocal bool
}

// Table maps hosts to their routes. It is safe for concurrent use: the reconciler writes, the
// data path reads.
type Table struct {
	mu     sync.RWMutex
	byHost map[string]*hostRoutes
	hosts  map[types.NamespacedName][]string // hosts each ingress owns, to remove stale ones
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{byHost: map[string]*hostRoutes{}, hosts: map[types.NamespacedName][]string{}}
}

// Set replaces every host of ing with its current rules.
func (t *Table) Set(ing *netv1alpha1.Ingress) {
	key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removeLocked(key)
	var owned []string
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		paths := append([]netv1alpha1.HTTPIngressPath(nil), rule.HTTP.Paths...)
		// More specific matches first: header matches, then longer path prefixes.
		sort.SliceStable(paths, func(i, j int) bool {
			if len(paths[i].Headers) != len(paths[j].Headers) {
				return len(paths[i].Headers) > len(paths[j].Headers)
			}
			return len(paths[i].Path) > len(paths[j].Path)
		})
		route := Route{Ingress: key, Visibility: rule.Visibility, Paths: paths}
		for _, h := range rule.Hosts {
			h = strings.ToLower(h)
			e := t.byHost[h]
			if e == nil {
				e = &hostRoutes{}
				t.byHost[h] = e
			}
			if rule.Visibility == netv1alpha1.IngressVisibilityClusterLocal {
				e.local, e.hasLocal = route, true
			} else { // ExternalIP, also the API default when unset
				e.external, e.hasExternal = route, true
			}
			owned = append(owned, h)
		}
	}
	t.hosts[key] = owned
}

// Delete removes every host of the ingress.
func (t *Table) Delete(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removeLocked(key)
}

func (t *Table) removeLocked(key types.NamespacedName) {
	for _, h := range t.hosts[key] {
		e, ok := t.byHost[h]
		if !ok {
			continue
		}
		// Another ingress may have claimed the host since; only drop what key owns.
		if e.hasExternal && e.external.Ingress == key {
			e.external, e.hasExternal = Route{}, false
		}
		if e.hasLocal && e.local.Ingress == key {
			e.local, e.hasLocal = Route{}, false
		}
		if !e.hasExternal && !e.hasLocal {
			delete(t.byHost, h)
		}
	}
	delete(t.hosts, key)
}

// Lookup returns the route for host (port stripped, case-insensitive), whatever its
// visibility; the ExternalIP rule wins when a host has both.
func (t *Table) Lookup(host string) (Route, bool) {
	e, ok := t.entry(host)
	switch {
	case !ok:
		return Route{}, false
	case e.hasExternal:
		return e.external, true
	default:
		return e.local, e.hasLocal
	}
}

// LookupExternal returns the ExternalIP route for host: what the external listener serves.
func (t *Table) LookupExternal(host string) (Route, bool) {
	e, ok := t.entry(host)
	if !ok || !e.hasExternal {
		return Route{}, false
	}
	return e.external, true
}

// LookupInternal returns the route the internal (cluster-local) listener serves for host: the
// ClusterLocal rule, else the ExternalIP one. Like Kourier's internal gateway it serves every
// host, so in-cluster clients can also call a Service by its external URL.
func (t *Table) LookupInternal(host string) (Route, bool) {
	e, ok := t.entry(host)
	switch {
	case !ok:
		return Route{}, false
	case e.hasLocal:
		return e.local, true
	default:
		return e.external, e.hasExternal
	}
}

// entry returns a copy of host's routes, read under the lock.
func (t *Table) entry(host string) (hostRoutes, bool) {
	host = stripPort(host)
	t.mu.RLock()
	defer t.mu.RUnlock()
	e, ok := t.byHost[strings.ToLower(host)] // ToLower does not allocate for lower-case hosts
	if !ok {
		return hostRoutes{}, false
	}
	return *e, true
}

// stripPort drops a trailing ":port", leaving bracketed IPv6 literals whole.
func stripPort(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	return host
}

// Len returns the number of programmed hosts.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byHost)
}
