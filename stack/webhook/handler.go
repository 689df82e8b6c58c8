package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/servingsim/servingsim/stack/config"
)

// Paths the handlers are served on.
const (
	DefaultingPath = "/defaulting"
	ValidationPath = "/validation"
)

// Register adds the defaulting and validation handlers to srv; both read the current config
// snapshot from store on every request.
func Register(srv webhook.Server, store *config.Store) {
	srv.Register(DefaultingPath, &admission.Webhook{Handler: &Defaulter{Config: store}})
	srv.Register(ValidationPath, &admission.Webhook{Handler: &Validator{Config: store}})
}

// Defaulter is the mutating admission handler: it applies SetDefaults and answers with a JSON
// patch (§2.1).
type Defaulter struct{ Config *config.Store }

// Validator is the validating admission handler: it answers with Validate's errors (§2.2).
type Validator struct{ Config *config.Store }

var (
	_ admission.Handler = (*Defaulter)(nil)
	_ admission.Handler = (*Validator)(nil)
)

// Handle implements admission.Handler.
func (d *Defaulter) Handle(_ context.Context, req admission.Request) admission.Response {
	obj, opts, resp := decodeRequest(req, d.Config)
	if resp != nil {
		return *resp
	}
	if err := SetDefaults(obj, opts); err != nil {
		return denied("mutation failed: %v", err)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, out)
}

// Handle implements admission.Handler.
func (v *Validator) Handle(_ context.Context, req admission.Request) admission.Response {
	obj, opts, resp := decodeRequest(req, v.Config)
	if resp != nil {
		return *resp
	}
	if errs := Validate(obj, opts); errs != nil {
		return denied("validation failed: %v", errs)
	}
	return admission.Allowed("")
}

// decodeRequest turns an admission request into the typed object and its Options. A non-nil
// response ends the request: allowed untouched for anything but CREATE/UPDATE of a main
// resource and for objects being deleted (so finalizers can always be removed), denied when the
// object does not decode strictly.
func decodeRequest(req admission.Request, store *config.Store) (runtime.Object, Options, *admission.Response) {
	var opts Options
	allow := admission.Allowed("")
	if req.SubResource != "" || (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		return nil, opts, &allow
	}
	var m metav1.PartialObjectMetadata
	if err := json.Unmarshal(req.Object.Raw, &m); err != nil {
		r := denied("cannot decode incoming new object: %v", err)
		return nil, opts, &r
	}
	if m.DeletionTimestamp != nil {
		return nil, opts, &allow
	}
	gvk := schema.GroupVersionKind{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind}
	obj := newObject(gvk)
	if obj == nil {
		r := denied("unhandled kind %s", gvk)
		return nil, opts, &r
	}
	if err := decodeStrict(req.Object.Raw, obj); err != nil {
		r := denied("cannot decode incoming new object: %v", err)
		return nil, opts, &r
	}
	opts.Config = store.Load()
	opts.User = req.UserInfo.Username
	if req.Operation == admissionv1.Update {
		old := newObject(gvk)
		if err := decodeLenient(req.OldObject.Raw, old); err != nil {
			r := denied("cannot decode incoming old object: %v", err)
			return nil, opts, &r
		}
		opts.Old = old
	}
	return obj, opts, nil
}

// denied is a BadRequest refusal, as Knative's webhook answers.
func denied(format string, args ...any) admission.Response {
	status := apierrors.NewBadRequest(fmt.Sprintf(format, args...)).Status()
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
}
