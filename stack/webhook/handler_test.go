package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

func request(t *testing.T, op admissionv1.Operation, kind string, raw string, old runtime.Object) admission.Request {
	t.Helper()
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: op,
		Kind:      metav1.GroupVersionKind{Group: "serving.knative.dev", Version: "v1", Kind: kind},
		Object:    runtime.RawExtension{Raw: []byte(raw)},
		UserInfo:  authenticationv1.UserInfo{Username: "alice"},
	}}
	if old != nil {
		b, err := json.Marshal(old)
		if err != nil {
			t.Fatal(err)
		}
		req.OldObject = runtime.RawExtension{Raw: b}
	}
	return req
}

const rawKsvc = `{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"hello","namespace":"default"},
"spec":{"template":{"spec":{"containers":[{"image":"ghcr.io/knative/helloworld-go"}]}}}}`

func TestDefaulter_PatchAppliesKnativeDefaults(t *testing.T) { // §2.1 via the admission handler
	d := &Defaulter{Config: config.NewStore()}
	resp := d.Handle(context.Background(), request(t, admissionv1.Create, "Service", rawKsvc, nil))
	if !resp.Allowed || resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("Handle(ksvc) = allowed %v, patchType %v, result %+v, want an allowed JSON patch", resp.Allowed, resp.PatchType, resp.Result)
	}
	ops, err := json.Marshal(resp.Patches)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.Apply([]byte(rawKsvc))
	if err != nil {
		t.Fatalf("apply %s: %v", ops, err)
	}
	var s servingv1.Service
	if err := json.Unmarshal(patched, &s); err != nil {
		t.Fatal(err)
	}
	rs := s.Spec.Template.Spec
	if *rs.TimeoutSeconds != 300 || *rs.ContainerConcurrency != 0 || rs.Containers[0].Name != "user-container" ||
		len(s.Spec.Traffic) != 1 || *s.Spec.Traffic[0].Percent != 100 || s.Annotations[serving.CreatorAnnotation] != "alice" {
		t.Errorf("patched ksvc = %s, want timeout 300, cc 0, user-container, 100%% latest traffic, creator alice", patched)
	}
}

func TestDefaulter_UnknownFieldDenied(t *testing.T) { // §2.2 strict decoding
	raw := strings.Replace(rawKsvc, `"image"`, `"imag":"x","image"`, 1)
	resp := (&Defaulter{Config: config.NewStore()}).Handle(context.Background(), request(t, admissionv1.Create, "Service", raw, nil))
	if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusBadRequest ||
		!strings.Contains(resp.Result.Message, `unknown field "spec.template.spec.containers[0].imag"`) {
		t.Errorf("Handle(unknown field) = %+v, want a 400 naming spec.template.spec.containers[0].imag", resp.Result)
	}
}

// rawDefaultedKsvc is rawKsvc as the validating webhook sees it: after defaulting.
var rawDefaultedKsvc = strings.Replace(rawKsvc, `"template"`, `"traffic":[{"percent":100,"latestRevision":true}],"template"`, 1)

func TestValidator_DeniesWithKnativeMessage(t *testing.T) {
	if resp := (&Validator{Config: config.NewStore()}).Handle(context.Background(), request(t, admissionv1.Create, "Service", rawDefaultedKsvc, nil)); !resp.Allowed {
		t.Fatalf("Handle(defaulted ksvc) = %+v, want allowed", resp.Result)
	}
	raw := strings.Replace(rawDefaultedKsvc, `"containers"`, `"nodeSelector":{"a":"b"},"containers"`, 1)
	resp := (&Validator{Config: config.NewStore()}).Handle(context.Background(), request(t, admissionv1.Create, "Service", raw, nil))
	want := "validation failed: must not set the field(s): spec.template.spec.nodeSelector"
	if resp.Allowed || resp.Result == nil || resp.Result.Message != want || resp.Result.Code != http.StatusBadRequest {
		t.Errorf("Handle(nodeSelector) = %+v, want 400 %q", resp.Result, want)
	}
}

func TestValidator_ReadsConfigStore(t *testing.T) {
	store := config.NewStore()
	v := &Validator{Config: store}
	raw := strings.Replace(rawDefaultedKsvc, `"containers"`, `"timeoutSeconds":700,"containers"`, 1)
	if resp := v.Handle(context.Background(), request(t, admissionv1.Create, "Service", raw, nil)); resp.Allowed {
		t.Fatalf("Handle(timeout 700) allowed with the default max of 600")
	}
	if err := store.Update(config.DefaultsConfigName, map[string]string{"max-revision-timeout-seconds": "900"}); err != nil {
		t.Fatal(err)
	}
	if resp := v.Handle(context.Background(), request(t, admissionv1.Create, "Service", raw, nil)); !resp.Allowed {
		t.Errorf("Handle(timeout 700) after raising the max = %+v, want allowed", resp.Result)
	}
}

func TestHandlers_SkipDeletesStatusAndTerminating(t *testing.T) {
	bad := strings.Replace(rawKsvc, `"containers"`, `"nodeSelector":{"a":"b"},"containers"`, 1)
	terminating := strings.Replace(bad, `"namespace":"default"`, `"namespace":"default","deletionTimestamp":"2026-01-01T00:00:00Z"`, 1)
	status := request(t, admissionv1.Update, "Service", bad, nil)
	status.SubResource = "status"
	for name, req := range map[string]admission.Request{
		"delete":      request(t, admissionv1.Delete, "Service", bad, nil),
		"status":      status,
		"terminating": request(t, admissionv1.Update, "Service", terminating, nil),
	} {
		for hname, h := range map[string]admission.Handler{"defaulter": &Defaulter{Config: config.NewStore()}, "validator": &Validator{Config: config.NewStore()}} {
			if resp := h.Handle(context.Background(), req); !resp.Allowed || len(resp.Patches) != 0 {
				t.Errorf("%s.Handle(%s) = allowed %v with %d patches, want allowed untouched", hname, name, resp.Allowed, len(resp.Patches))
			}
		}
	}
}

func TestValidator_UpdateUsesOldObject(t *testing.T) { // §2.2 Revision spec is immutable
	old := &servingv1.Revision{}
	if err := json.Unmarshal([]byte(`{"metadata":{"name":"r-1"},"spec":{"containers":[{"name":"user-container","image":"a"}]}}`), old); err != nil {
		t.Fatal(err)
	}
	raw := `{"metadata":{"name":"r-1"},"spec":{"containers":[{"name":"user-container","image":"b"}]}}`
	resp := (&Validator{Config: config.NewStore()}).Handle(context.Background(), request(t, admissionv1.Update, "Revision", raw, old))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "Immutable fields changed (-old +new): spec") {
		t.Errorf("Handle(revision image change) = %+v, want the immutability error", resp.Result)
	}
}

func TestWebhookConfigurations(t *testing.T) {
	m := MutatingWebhookConfiguration()
	v := ValidatingWebhookConfiguration()
	if len(m.Webhooks) != 1 || len(v.Webhooks) != 1 {
		t.Fatalf("webhooks = %d mutating, %d validating, want 1 each", len(m.Webhooks), len(v.Webhooks))
	}
	mw, vw := m.Webhooks[0], v.Webhooks[0]
	if p := *mw.ClientConfig.Service.Path; p != DefaultingPath {
		t.Errorf("mutating path = %q, want %q", p, DefaultingPath)
	}
	if p := *vw.ClientConfig.Service.Path; p != ValidationPath {
		t.Errorf("validating path = %q, want %q", p, ValidationPath)
	}
	for _, svc := range []string{mw.ClientConfig.Service.Namespace + "/" + mw.ClientConfig.Service.Name,
		vw.ClientConfig.Service.Namespace + "/" + vw.ClientConfig.Service.Name} {
		if svc != "knative-serving/webhook" {
			t.Errorf("client service = %s, want knative-serving/webhook", svc)
		}
	}
	var mres, vres []string
	for _, r := range mw.Rules {
		mres = append(mres, r.APIGroups[0]+"/"+strings.Join(r.Resources, ","))
		if len(r.Operations) != 2 {
			t.Errorf("mutating operations = %v, want CREATE, UPDATE", r.Operations)
		}
	}
	for _, r := range vw.Rules {
		vres = append(vres, r.APIGroups[0]+"/"+strings.Join(r.Resources, ","))
	}
	wantM := "serving.knative.dev/services,configurations,revisions,routes autoscaling.internal.knative.dev/podautoscalers"
	if got := strings.Join(mres, " "); got != wantM {
		t.Errorf("mutating rules = %s, want %s", got, wantM)
	}
	if got, want := strings.Join(vres, " "), "serving.knative.dev/services,configurations,revisions,routes"; got != want {
		t.Errorf("validating rules = %s, want %s", got, want)
	}
	if *mw.FailurePolicy != "Fail" || *vw.FailurePolicy != "Fail" || *mw.SideEffects != "None" || *vw.SideEffects != "None" {
		t.Errorf("failurePolicy/sideEffects = %s/%s, %s/%s, want Fail/None", *mw.FailurePolicy, *mw.SideEffects, *vw.FailurePolicy, *vw.SideEffects)
	}
}
