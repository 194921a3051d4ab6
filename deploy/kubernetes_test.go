package deploy

// These tests build deploy/kubernetes with kustomize's own library (what `kubectl apply -k` and
// `kustomize build` run) and decode every object strictly into the Kubernetes API types and the
// Prometheus Operator's ServiceMonitor type: an unknown or misspelt field, a wrong type or a kind
// the API does not have fails, as it would fail `kubectl apply --validate=strict`. Then they
// check the promises of the base: non-root, read-only root, probes, resources, secrets only
// by reference, two schedulers, a ServiceMonitor that finds the ports.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// strictDecoder decodes the kinds the base may contain, refusing unknown and duplicate fields.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}

// build runs kustomize on dir, as `kustomize build dir` does, and returns each object's YAML.
func build(t *testing.T, dir string) [][]byte {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out [][]byte
	for _, r := range m.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// decodeAll decodes docs strictly; it returns the objects or the first error.
func decodeAll(dec runtime.Decoder, docs [][]byte) ([]runtime.Object, error) {
	var objs []runtime.Object
	for _, d := range docs {
		obj, gvk, err := dec.Decode(d, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", firstLines(d), err)
		}
		if gvk.Kind == "" {
			return nil, fmt.Errorf("%s: no kind", firstLines(d))
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

func firstLines(b []byte) string {
	lines := strings.SplitN(string(b), "\n", 4)
	return strings.Join(lines[:min(3, len(lines))], " ")
}

// base is the rendered base, decoded.
type base struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	pvcs        map[string]*corev1.PersistentVolumeClaim
	monitors    []*monitoringv1.ServiceMonitor
}

func loadBase(t *testing.T) base {
	t.Helper()
	objs, err := decodeAll(strictDecoder(t), build(t, "kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	b := base{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			b.deployments[o.Name] = o
		case *corev1.Service:
			b.services[o.Name] = o
		case *corev1.ConfigMap:
			b.configMaps[o.Name] = o
		case *corev1.PersistentVolumeClaim:
			b.pvcs[o.Name] = o
		case *monitoringv1.ServiceMonitor:
			b.monitors = append(b.monitors, o)
		default:
			t.Errorf("unexpected object %T in the base", o)
		}
		if m, ok := o.(interface{ GetNamespace() string }); ok && m.GetNamespace() != "reactivator" {
			t.Errorf("%T in namespace %q, want reactivator", o, m.GetNamespace())
		}
	}
	return b
}

func TestKustomizeBuildsValidObjects(t *testing.T) {
	b := loadBase(t)
	for _, name := range []string{"reactivator-worker", "reactivator-scheduler", "reactivator-dash"} {
		if b.deployments[name] == nil {
			t.Errorf("no Deployment %s in %v", name, keys(b.deployments))
		}
	}
	if b.services["reactivator-dash"] == nil || b.services["reactivator-worker-metrics"] == nil {
		t.Errorf("Services = %v, want reactivator-dash and reactivator-worker-metrics", keys(b.services))
	}
	if len(b.monitors) == 0 {
		t.Error("no ServiceMonitor")
	}
}

// TestStrictDecodingCatchesMistakes proves the check can fail: a misspelt field, a field of the
// wrong type and an unknown kind, in a Deployment and in a ServiceMonitor, are each refused.
func TestStrictDecodingCatchesMistakes(t *testing.T) {
	dec := strictDecoder(t)
	docs := build(t, "kubernetes")
	find := func(kind, name string) []byte {
		for _, d := range docs {
			if strings.Contains(string(d), "kind: "+kind+"\n") && strings.Contains(string(d), "name: "+name+"\n") {
				return d
			}
		}
		t.Fatalf("no %s %s in the build", kind, name)
		return nil
	}
	dep, mon := string(find("Deployment", "reactivator-worker")), string(find("ServiceMonitor", "reactivator-dash"))
	for _, tc := range []struct{ name, doc, old, new string }{
		{"misspelt replicas", dep, "replicas:", "replcas:"},
		{"misspelt readOnlyRootFilesystem", dep, "readOnlyRootFilesystem:", "readOnlyRootFileSystem:"},
		{"string replicas", dep, "replicas: 2", "replicas: two"},
		{"unknown kind", dep, "kind: Deployment", "kind: Deploymnet"},
		{"misspelt basicAuth", mon, "basicAuth:", "basicauth:"},
		{"misspelt endpoint port", mon, "port: http", "prot: http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.doc, tc.old) {
				t.Fatalf("the document has no %q", tc.old)
			}
			bad := strings.Replace(tc.doc, tc.old, tc.new, 1)
			if _, err := decodeAll(dec, [][]byte{[]byte(bad)}); err == nil {
				t.Errorf("with %q for %q the document decodes without error", tc.new, tc.old)
			}
		})
	}
	// And the unchanged documents decode.
	if _, err := decodeAll(dec, [][]byte{[]byte(dep), []byte(mon)}); err != nil {
		t.Fatal(err)
	}
}

func TestDeploymentsAreLockedDown(t *testing.T) {
	b := loadBase(t)
	for name, d := range b.deployments {
		pod := d.Spec.Template.Spec
		psc := pod.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("%s: pod securityContext %+v, want runAsNonRoot and a non-zero runAsUser", name, psc)
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s: the service account token is mounted; reactivator never calls the Kubernetes API", name)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s: container securityContext %+v, want a read-only root, no privilege escalation, all capabilities dropped", name, sc)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: resources %+v, want cpu and memory requests and a memory limit", name, c.Resources)
		}
		if !strings.HasPrefix(c.Image, "reactivator:") {
			t.Errorf("%s: image %q, want reactivator:<tag> (kustomize images)", name, c.Image)
		}
		if len(c.Args) == 0 || c.Args[0] != strings.TrimPrefix(name, "reactivator-") {
			t.Errorf("%s: args %v, want the %s command", name, c.Args, strings.TrimPrefix(name, "reactivator-"))
		}
		// Secrets only by reference: no literal value for anything that looks like one.
		for _, e := range c.Env {
			if e.Value != "" && (strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "TOKEN") || strings.Contains(e.Name, "PASSWORD") || e.Name == "REDIS_URL") {
				t.Errorf("%s: env %s has a literal value; take it from a Secret", name, e.Name)
			}
		}
		if !readsSecret(c, "reactivator", "REDIS_URL") {
			t.Errorf("%s: REDIS_URL does not come from the reactivator Secret", name)
		}
		// Every volume a container mounts exists, and the PVCs they claim are in the base.
		for _, m := range c.VolumeMounts {
			i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
			if i < 0 {
				t.Errorf("%s: mounts volume %s, which the pod does not have", name, m.Name)
				continue
			}
			v := pod.Volumes[i]
			if v.PersistentVolumeClaim != nil && b.pvcs[v.PersistentVolumeClaim.ClaimName] == nil {
				t.Errorf("%s: claims %s, which the base does not have", name, v.PersistentVolumeClaim.ClaimName)
			}
			if v.ConfigMap != nil && b.configMaps[v.ConfigMap.Name] == nil {
				t.Errorf("%s: mounts ConfigMap %s, which the base does not have", name, v.ConfigMap.Name)
			}
		}
		if name != "reactivator-scheduler" && (c.LivenessProbe == nil || c.ReadinessProbe == nil) {
			t.Errorf("%s: liveness %v, readiness %v; want both probes", name, c.LivenessProbe, c.ReadinessProbe)
		}
	}

	w := b.deployments["reactivator-worker"]
	if w.Spec.Replicas == nil || *w.Spec.Replicas < 2 {
		t.Errorf("worker replicas = %v, want 2 or more", w.Spec.Replicas)
	}
	wc := w.Spec.Template.Spec.Containers[0]
	if !slices.ContainsFunc(wc.EnvFrom, func(e corev1.EnvFromSource) bool { return e.SecretRef != nil && e.SecretRef.Name == "reactivator" }) {
		t.Errorf("worker envFrom %+v, want the reactivator Secret (REDIS_URL and the providers' credentials)", wc.EnvFrom)
	}
	if g := w.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g <= 40 {
		t.Errorf("worker terminationGracePeriodSeconds = %v, want more than worker --shutdown-timeout (40s)", g)
	}
	if i := slices.Index(wc.Args, "--metrics-addr"); i < 0 || !strings.HasSuffix(wc.Args[i+1], ":9090") {
		t.Errorf("worker args %v, want --metrics-addr …:9090", wc.Args)
	}

	s := b.deployments["reactivator-scheduler"]
	if s.Spec.Replicas == nil || *s.Spec.Replicas != 2 {
		t.Errorf("scheduler replicas = %v, want 2 (one leads by the lock in Redis, one stands by)", s.Spec.Replicas)
	}
	sc := s.Spec.Template.Spec.Containers[0]
	cfg := sc.Args[slices.Index(sc.Args, "--config")+1]
	if !slices.ContainsFunc(sc.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == filepath.Dir(cfg) && m.ReadOnly }) {
		t.Errorf("scheduler --config %s is not on a read-only mount: %+v", cfg, sc.VolumeMounts)
	}
	for _, v := range s.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cm := b.configMaps[v.ConfigMap.Name]
			if cm == nil || cm.Data[filepath.Base(cfg)] == "" {
				t.Errorf("scheduler ConfigMap %s has no %s", v.ConfigMap.Name, filepath.Base(cfg))
			}
		}
	}

	dc := b.deployments["reactivator-dash"].Spec.Template.Spec.Containers[0]
	if !slices.ContainsFunc(dc.EnvFrom, func(e corev1.EnvFromSource) bool { return e.SecretRef != nil && e.SecretRef.Name == "reactivator-dash" }) {
		t.Errorf("dash envFrom %+v, want the reactivator-dash Secret (its basic auth)", dc.EnvFrom)
	}
}

// readsSecret reports whether container c gets key from Secret name, by secretKeyRef or envFrom.
func readsSecret(c corev1.Container, name, key string) bool {
	for _, e := range c.Env {
		if e.Name == key {
			return e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == name && e.ValueFrom.SecretKeyRef.Key == key
		}
	}
	return slices.ContainsFunc(c.EnvFrom, func(e corev1.EnvFromSource) bool { return e.SecretRef != nil && e.SecretRef.Name == name })
}

// TestServiceMonitorsFindTheirTargets: each ServiceMonitor selects a Service that has the port it
// scrapes, the Service selects pods of a Deployment that exposes it, and the dash's is scraped
// with the dash's basic auth.
func TestServiceMonitorsFindTheirTargets(t *testing.T) {
	b := loadBase(t)
	scraped := map[string]bool{}
	for _, m := range b.monitors {
		for _, ep := range m.Spec.Endpoints {
			found := false
			for _, svc := range b.services {
				if !matches(m.Spec.Selector.MatchLabels, svc.Labels) {
					continue
				}
				i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port })
				if i < 0 {
					continue
				}
				for dname, d := range b.deployments {
					if matches(svc.Spec.Selector, d.Spec.Template.Labels) &&
						slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool {
							return p.Name == svc.Spec.Ports[i].TargetPort.String()
						}) {
						found = true
						scraped[dname] = true
						if dname == "reactivator-dash" && (ep.BasicAuth == nil || ep.BasicAuth.Username.Name != "reactivator-dash" || ep.BasicAuth.Password.Name != "reactivator-dash") {
							t.Errorf("ServiceMonitor %s scrapes the dash without its basic auth (reactivator-dash Secret)", m.Name)
						}
					}
				}
			}
			if !found {
				t.Errorf("ServiceMonitor %s endpoint port %q reaches no container port", m.Name, ep.Port)
			}
			if ep.Path != "/metrics" {
				t.Errorf("ServiceMonitor %s path %q, want /metrics", m.Name, ep.Path)
			}
		}
	}
	for _, want := range []string{"reactivator-worker", "reactivator-dash"} {
		if !scraped[want] {
			t.Errorf("no ServiceMonitor scrapes %s", want)
		}
	}
}

func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestSecretExample: the example decodes, holds no value for a secret, and has every key the base
// references by secretKeyRef or the ServiceMonitor's basic auth.
func TestSecretExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("kubernetes", "secret.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll(strictDecoder(t), splitDocs(raw))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]*corev1.Secret{}
	for _, o := range objs {
		s, ok := o.(*corev1.Secret)
		if !ok {
			t.Fatalf("secret.example.yaml holds a %T", o)
		}
		secrets[s.Name] = s
		for k, v := range s.StringData {
			if v != "" && k != "REACTIVATOR_DASH_USER" {
				t.Errorf("secret.example.yaml gives %s/%s a value; leave secrets empty in the example", s.Name, k)
			}
		}
		if len(s.Data) > 0 {
			t.Errorf("secret.example.yaml: %s has data; use empty stringData", s.Name)
		}
	}
	has := func(name, key string) bool {
		s := secrets[name]
		if s == nil {
			return false
		}
		_, ok := s.StringData[key]
		return ok
	}
	b := loadBase(t)
	for dname, d := range b.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		for _, e := range c.Env {
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && !has(r.SecretKeyRef.Name, r.SecretKeyRef.Key) {
				t.Errorf("%s reads %s/%s, which secret.example.yaml lacks", dname, r.SecretKeyRef.Name, r.SecretKeyRef.Key)
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil && secrets[e.SecretRef.Name] == nil {
				t.Errorf("%s reads the Secret %s, which secret.example.yaml lacks", dname, e.SecretRef.Name)
			}
		}
	}
	for _, m := range b.monitors {
		for _, ep := range m.Spec.Endpoints {
			if ba := ep.BasicAuth; ba != nil && (!has(ba.Username.Name, ba.Username.Key) || !has(ba.Password.Name, ba.Password.Key)) {
				t.Errorf("ServiceMonitor %s reads %+v, which secret.example.yaml lacks", m.Name, ba)
			}
		}
	}
}

func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range strings.Split(string(b), "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(d))
		if err == nil && string(j) != "null" {
			out = append(out, []byte(d))
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
