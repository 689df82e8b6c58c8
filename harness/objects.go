package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

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

// WaitReady waits until obj's Ready condition is True at its current generation, watching it
// (as `kn service create --wait` does) rather than polling, so it returns as soon as the status
// lands. It leaves obj at the last state seen and returns a readable error on timeout.
func (s *Stack) WaitReady(ctx context.Context, obj client.Object, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	key := client.ObjectKeyFromObject(obj)
	list, err := s.listFor(obj)
	if err != nil {
		return err
	}
	var last *duck.Condition
	ready := func() bool {
		st := StatusOf(obj)
		last = ReadyCondition(obj)
		return st != nil && st.ObservedGeneration == obj.GetGeneration() && last.IsTrue()
	}
	for {
		rv := ""
		switch err := s.Client.Get(ctx, key, obj); {
		case err == nil:
			if ready() {
				return nil
			}
			rv = obj.GetResourceVersion()
		case apierrors.IsNotFound(err):
		case ctx.Err() != nil:
			return s.notReady(obj, key, timeout, last)
		default:
			return err
		}
		w, err := s.watcher.Watch(ctx, list, client.InNamespace(key.Namespace),
			client.MatchingFields{"metadata.name": key.Name}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
		if err != nil {
			if ctx.Err() != nil {
				return s.notReady(obj, key, timeout, last)
			}
			return err
		}
		if watchUntilReady(ctx, w, obj, ready) {
			return nil
		}
		if ctx.Err() != nil {
			return s.notReady(obj, key, timeout, last)
		}
		// The watch ended (server timeout, expired resourceVersion): read again and re-watch.
	}
}

// watchUntilReady copies each watched state into obj until ready() holds, the watch ends or
// ctx is done.
func watchUntilReady(ctx context.Context, w watch.Interface, obj client.Object, ready func() bool) bool {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			dst, src := reflect.ValueOf(obj), reflect.ValueOf(ev.Object)
			if src.Type() != dst.Type() { // a watch of obj's list delivers obj's type
				continue
			}
			dst.Elem().Set(src.Elem())
			if ready() {
				return true
			}
		}
	}
}

// listFor returns an empty list of obj's kind, for watching it.
func (s *Stack) listFor(obj client.Object) (client.ObjectList, error) {
	gvk, err := apiutil.GVKForObject(obj, s.Client.Scheme())
	if err != nil {
		return nil, err
	}
	gvk.Kind += "List"
	l, err := s.Client.Scheme().New(gvk)
	if err != nil {
		return nil, fmt.Errorf("no list type for %s: %w", gvk, err)
	}
	list, ok := l.(client.ObjectList)
	if !ok {
		return nil, fmt.Errorf("%T is not a list", l)
	}
	return list, nil
}

func (s *Stack) notReady(obj client.Object, key client.ObjectKey, timeout time.Duration, last *duck.Condition) error {
	if last == nil {
		return fmt.Errorf("%s %s: no Ready condition after %s", kindOf(obj), key, timeout)
	}
	return fmt.Errorf("%s %s: not Ready after %s: Ready=%s reason=%q message=%q", kindOf(obj), key, timeout, last.Status, last.Reason, last.Message)
}

func kindOf(o runtime.Object) string {
	if k := o.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	return fmt.Sprintf("%T", o)
}
