package deploy

// kubeconform validates the built base here, offline. Its usual schemas (the Kubernetes OpenAPI
// turned into JSON Schema) are downloaded from the internet, which CI cannot reach, so this test
// writes its own: generated from the same Go types the API server decodes into (k8s.io/api and
// the Prometheus Operator's), with additionalProperties false on every object, as kubeconform's
// -strict schemas have. They know every field and its type, but not which fields are required.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	kcresource "github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// schemaKinds are the kinds the base may hold, with the Go type of each.
var schemaKinds = []struct {
	apiVersion, kind string
	typ              reflect.Type
}{
	{"apps/v1", "Deployment", reflect.TypeFor[appsv1.Deployment]()},
	{"v1", "Service", reflect.TypeFor[corev1.Service]()},
	{"v1", "ConfigMap", reflect.TypeFor[corev1.ConfigMap]()},
	{"v1", "Secret", reflect.TypeFor[corev1.Secret]()},
	{"v1", "PersistentVolumeClaim", reflect.TypeFor[corev1.PersistentVolumeClaim]()},
	{"monitoring.coreos.com/v1", "ServiceMonitor", reflect.TypeFor[monitoringv1.ServiceMonitor]()},
}

// Types whose JSON form is not their Go structure.
var (
	quantityType = reflect.TypeFor[resource.Quantity]()
	intOrString  = reflect.TypeFor[intstr.IntOrString]()
	timeTypes    = []reflect.Type{reflect.TypeFor[metav1.Time](), reflect.TypeFor[metav1.MicroTime]()}
	rawTypes     = []reflect.Type{reflect.TypeFor[runtime.RawExtension](), reflect.TypeFor[json.RawMessage]()}
	unmarshaler  = reflect.TypeFor[json.Unmarshaler]()
)

// jsonSchema returns the JSON Schema of Go type t as encoding/json (and so the API server) reads it.
func jsonSchema(t reflect.Type, path map[reflect.Type]bool) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == quantityType:
		return map[string]any{"type": []string{"string", "number"}}
	case t == intOrString:
		return map[string]any{"type": []string{"string", "integer"}}
	case containsType(timeTypes, t):
		return map[string]any{"type": []string{"string", "null"}}
	case containsType(rawTypes, t), path[t]:
		return map[string]any{}
	case t.Kind() != reflect.Struct && reflect.PointerTo(t).Implements(unmarshaler):
		return map[string]any{} // its own JSON form: accept any
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": []string{"string", "null"}} // base64
		}
		return map[string]any{"type": []string{"array", "null"}, "items": jsonSchema(t.Elem(), path)}
	case reflect.Map:
		return map[string]any{"type": []string{"object", "null"}, "additionalProperties": jsonSchema(t.Elem(), path)}
	case reflect.Struct:
		path[t] = true
		defer delete(path, t)
		props := map[string]any{}
		addFields(t, path, props)
		return map[string]any{"type": []string{"object", "null"}, "properties": props, "additionalProperties": false}
	}
	return map[string]any{}
}

// addFields adds the JSON properties of struct t to props, inlined structs included.
func addFields(t reflect.Type, path map[reflect.Type]bool, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") || (f.Anonymous && name == "") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, path, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = jsonSchema(f.Type, path)
	}
}

func containsType(ts []reflect.Type, t reflect.Type) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// schemaDir writes a schema per kind as kubeconform's -schema-location template below names it.
func schemaDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range schemaKinds {
		group, version, ok := strings.Cut(k.apiVersion, "/")
		if !ok {
			group, version = k.apiVersion, k.apiVersion // kubeconform's Group for "v1" is "v1"
		}
		s := jsonSchema(k.typ, map[reflect.Type]bool{})
		props := s["properties"].(map[string]any)
		props["apiVersion"] = map[string]any{"type": "string", "enum": []string{k.apiVersion}}
		props["kind"] = map[string]any{"type": "string", "enum": []string{k.kind}}
		s["required"] = []string{"apiVersion", "kind", "metadata"}
		s["type"] = "object"
		b, err := json.MarshalIndent(s, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		name := strings.ToLower(k.kind) + "_" + group + "_" + version + ".json"
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// kubeconform returns a kubeconform validator, -strict, that reads only the generated schemas.
func kubeconform(t *testing.T) validator.Validator {
	t.Helper()
	dir := schemaDir(t)
	v, err := validator.New([]string{dir + "/{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json"},
		validator.Opts{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestKubeconform(t *testing.T) {
	v := kubeconform(t)
	docs := build(t, "kubernetes")
	raw, err := os.ReadFile(filepath.Join("kubernetes", "secret.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, splitDocs(raw)...)
	for _, d := range docs {
		r := v.ValidateResource(kcresource.Resource{Path: "kustomize build", Bytes: d})
		if r.Status != validator.Valid {
			t.Errorf("kubeconform: %s: status %d: %v", firstLines(d), r.Status, r.Err)
		}
	}

	// It can fail: the same mistakes as the strict decoding's, and a required field missing.
	dep := ""
	mon := ""
	for _, d := range docs {
		switch {
		case strings.Contains(string(d), "kind: Deployment\n") && strings.Contains(string(d), "name: reactivator-worker\n"):
			dep = string(d)
		case strings.Contains(string(d), "kind: ServiceMonitor\n") && strings.Contains(string(d), "name: reactivator-dash\n"):
			mon = string(d)
		}
	}
	for _, tc := range []struct{ name, doc, old, new string }{
		{"misspelt replicas", dep, "replicas:", "replcas:"},
		{"misspelt readOnlyRootFilesystem", dep, "readOnlyRootFilesystem:", "readOnlyRootFileSystem:"},
		{"string replicas", dep, "replicas: 2", "replicas: two"},
		{"misspelt basicAuth", mon, "basicAuth:", "basicauth:"},
		{"misspelt endpoint port", mon, "port: http", "prot: http"},
		{"no metadata", dep, "metadata:", "metadatum:"},
	} {
		if !strings.Contains(tc.doc, tc.old) {
			t.Fatalf("%s: the document has no %q", tc.name, tc.old)
		}
		bad := strings.Replace(tc.doc, tc.old, tc.new, 1)
		if r := v.ValidateResource(kcresource.Resource{Path: tc.name, Bytes: []byte(bad)}); r.Status != validator.Invalid {
			t.Errorf("kubeconform %s: status %d (%v), want invalid", tc.name, r.Status, r.Err)
		}
	}
}
