package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/duck"
)

var codecs = serializer.NewCodecFactory(apis.NewScheme(), serializer.EnableStrict)

// DecodeYAML decodes a multi-document YAML stream (e.g. Knative's docs) into typed objects.
// source names the input in errors.
func DecodeYAML(source string, data []byte) ([]client.Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []client.Object
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i, err)
		}
		co, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("%s: document %d: %T is not an object", source, i, obj)
		}
		out = append(out, co)
	}
}

// Apply creates objs in namespace ns (objects without a namespace get ns).
func (s *Stack) Apply(ctx context.Context, ns string, objs ...client.Object) error {
	for _, o := range objs {
		if o.GetNamespace() == "" {
			o.SetNamespace(ns)
		}
		if err := s.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("create %s %s/%s: %w", kindOf(o), o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

// ReadyCondition returns the Ready condition of a Knative object, or nil.
func ReadyCondition(obj client.Object) *duck.Condition {
	st := StatusOf(obj)
	if st == nil {
		return nil
	}
	return st.GetCondition(duck.ConditionReady)
}

// StatusOf returns the duck Status of a Knative object, or nil for other kinds.
func StatusOf(obj client.Object) *duck.Status {
	if o, ok := obj.(duck.Object); ok {
		return o.GetStatus()
	}
	return nil
}

// WaitReady polls obj until its Ready condition is True and observedGeneration is current,
// returning the last state seen and a readable error on timeout or Ready=False.
func (s *Stack) WaitReady(ctx context.Context, obj client.Object, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	key := client.ObjectKeyFromObject(obj)
	var last *duck.Condition
	for {
		err := s.Client.Get(ctx, key, obj)
		if err == nil {
			st := StatusOf(obj)
			last = ReadyCondition(obj)
			if st != nil && st.ObservedGeneration == obj.GetGeneration() && last.IsTrue() {
				return nil
			}
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				return fmt.Errorf("%s %s: no Ready condition after %s", kindOf(obj), key, timeout)
			}
			return fmt.Errorf("%s %s: not Ready after %s: Ready=%s reason=%q message=%q", kindOf(obj), key, timeout, last.Status, last.Reason, last.Message)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func kindOf(o runtime.Object) string {
	if k := o.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	return fmt.Sprintf("%T", o)
}
