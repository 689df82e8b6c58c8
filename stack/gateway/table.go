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

// Table maps hosts to their routes. It is safe for concurrent use: the reconciler writes, the
// data path reads.
type Table struct {
	mu     sync.RWMutex
	byHost map[string]Route
	hosts  map[types.NamespacedName][]string // hosts each ingress owns, to remove stale ones
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{byHost: map[string]Route{}, hosts: map[types.NamespacedName][]string{}}
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
		for _, h := range rule.Hosts {
			h = strings.ToLower(h)
			t.byHost[h] = Route{Ingress: key, Visibility: rule.Visibility, Paths: paths}
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
		if r, ok := t.byHost[h]; ok && r.Ingress == key {
			delete(t.byHost, h)
		}
	}
	delete(t.hosts, key)
}

// Lookup returns the route for host (port stripped, case-insensitive).
func (t *Table) Lookup(host string) (Route, bool) {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.byHost[strings.ToLower(host)]
	return r, ok
}

// Len returns the number of programmed hosts.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byHost)
}
