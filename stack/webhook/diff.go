package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// shortDiff lists the leaves that differ between old and new, as they serialise to JSON, in the
// "-old +new" form Knative puts in the details of its immutability errors (§2.2):
//
//	containers[0].image:
//		-: "a"
//		+: "b"
//
// It returns "" when both serialise identically (so 1000m and 1 CPU are equal).
func shortDiff(old, new any) (string, error) {
	a, err := toGeneric(old)
	if err != nil {
		return "", err
	}
	b, err := toGeneric(new)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	diffValues(&sb, "", a, b)
	return sb.String(), nil
}

func toGeneric(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(raw, &out)
	return out, err
}

func diffValues(sb *strings.Builder, path string, a, b any) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		keys := make([]string, 0, len(am)+len(bm))
		for k := range am {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			diffValues(sb, p, am[k], bm[k])
		}
		return
	}
	al, aIsList := a.([]any)
	bl, bIsList := b.([]any)
	if aIsList && bIsList {
		for i := range max(len(al), len(bl)) {
			var x, y any
			if i < len(al) {
				x = al[i]
			}
			if i < len(bl) {
				y = bl[i]
			}
			diffValues(sb, fmt.Sprintf("%s[%d]", path, i), x, y)
		}
		return
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) == string(jb) {
		return
	}
	if path == "" {
		path = "."
	}
	fmt.Fprintf(sb, "%s:\n\t-: %s\n\t+: %s\n", path, ja, jb)
}
