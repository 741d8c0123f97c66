package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/seed-f1b503aa/foresight/config"
)

const (
	manifestDir = "kubernetes"
	// secretTemplate is the Secret with placeholder values; it is checked
	// like the others but deliberately not applied by kustomization.yaml.
	secretTemplate = "secret.example.yaml"
	placeholder    = "REPLACE_ME"
	namespace      = "foresight"
)

// manifests are the decoded objects of deploy/kubernetes, by kind.
type manifests struct {
	files       map[string]bool // every manifest file name
	namespaces  []*corev1.Namespace
	configMaps  []*corev1.ConfigMap
	secrets     []*corev1.Secret
	services    []*corev1.Service
	deployments []*appsv1.Deployment
	pdbs        []*policyv1.PodDisruptionBudget
	netpols     []*networkingv1.NetworkPolicy
}

// splitDocs splits a YAML stream on its "---" separators, dropping empty
// documents.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimRight(sc.Text(), " \t") == "---" {
			flush()
			continue
		}
		cur.Write(sc.Bytes())
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

func stripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// strict decodes one document into v, failing on unknown or duplicate
// fields.
func strict(t *testing.T, where string, doc []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
}

// loadManifests decodes every manifest strictly into the Kubernetes API
// type of its apiVersion and kind; any other kind fails.
func loadManifests(t *testing.T) *manifests {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	yml, _ := filepath.Glob(filepath.Join(manifestDir, "*.yml"))
	if len(yml) > 0 {
		t.Fatalf("use the .yaml extension: %v", yml)
	}
	m := &manifests{files: map[string]bool{}}
	for _, p := range paths {
		name := filepath.Base(p)
		if name == "kustomization.yaml" {
			continue
		}
		m.files[name] = true
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs := splitDocs(b)
		if len(docs) == 0 {
			t.Fatalf("%s: no object", p)
		}
		for i, doc := range docs {
			where := fmt.Sprintf("%s[%d]", p, i)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			switch tm.APIVersion + " " + tm.Kind {
			case "v1 Namespace":
				o := &corev1.Namespace{}
				strict(t, where, doc, o)
				m.namespaces = append(m.namespaces, o)
			case "v1 ConfigMap":
				o := &corev1.ConfigMap{}
				strict(t, where, doc, o)
				m.configMaps = append(m.configMaps, o)
			case "v1 Secret":
				o := &corev1.Secret{}
				strict(t, where, doc, o)
				m.secrets = append(m.secrets, o)
			case "v1 Service":
				o := &corev1.Service{}
				strict(t, where, doc, o)
				m.services = append(m.services, o)
			case "apps/v1 Deployment":
				o := &appsv1.Deployment{}
				strict(t, where, doc, o)
				m.deployments = append(m.deployments, o)
			case "policy/v1 PodDisruptionBudget":
				o := &policyv1.PodDisruptionBudget{}
				strict(t, where, doc, o)
				m.pdbs = append(m.pdbs, o)
			case "networking.k8s.io/v1 NetworkPolicy":
				o := &networkingv1.NetworkPolicy{}
				strict(t, where, doc, o)
				m.netpols = append(m.netpols, o)
			default:
				t.Fatalf("%s: unexpected kind %q of apiVersion %q", where, tm.Kind, tm.APIVersion)
			}
		}
	}
	if len(m.namespaces) != 1 || len(m.configMaps) != 1 || len(m.secrets) != 1 || len(m.services) != 1 ||
		len(m.deployments) != 1 || len(m.pdbs) != 1 || len(m.netpols) > 1 {
		t.Fatalf("want one Namespace, ConfigMap, Secret, Service, Deployment, PodDisruptionBudget and at most one NetworkPolicy; got %d %d %d %d %d %d %d",
			len(m.namespaces), len(m.configMaps), len(m.secrets), len(m.services), len(m.deployments), len(m.pdbs), len(m.netpols))
	}
	return m
}

func (m *manifests) deployment() *appsv1.Deployment { return m.deployments[0] }

func (m *manifests) container(t *testing.T) *corev1.Container {
	t.Helper()
	cs := m.deployment().Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return &cs[0]
}

// httpPort is the container's port named http.
func httpPort(t *testing.T, c *corev1.Container) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == "http" {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port named http: %+v", c.Name, c.Ports)
	return 0
}

// resolvePort turns a port reference (number or container port name) into
// a number.
func resolvePort(t *testing.T, c *corev1.Container, p intstr.IntOrString) int32 {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	t.Fatalf("port %q names no container port", p.StrVal)
	return 0
}

func TestKustomizationListsTheManifests(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(manifestDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
	}
	strict(t, "kustomization.yaml", b, &k)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" || k.Namespace != namespace {
		t.Fatalf("kustomization header %+v", k)
	}
	m := loadManifests(t)
	var want []string
	for f := range m.files {
		if f != secretTemplate {
			want = append(want, f)
		}
	}
	got := slices.Clone(k.Resources)
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("kustomization resources %v, want every manifest but the Secret template: %v", got, want)
	}
	if slices.Contains(k.Resources, secretTemplate) {
		t.Fatal("the Secret template must not be applied with the real resources")
	}
}

func TestManifestsNamespaceAndLabels(t *testing.T) {
	m := loadManifests(t)
	if m.namespaces[0].Name != namespace {
		t.Fatalf("namespace %q", m.namespaces[0].Name)
	}
	if m.namespaces[0].Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Fatalf("namespace labels %v: enforce the restricted pod security standard", m.namespaces[0].Labels)
	}
	for _, o := range []metav1.Object{m.configMaps[0], m.secrets[0], m.services[0], m.deployment(), m.pdbs[0]} {
		if o.GetNamespace() != namespace {
			t.Errorf("%s: namespace %q, want %q", o.GetName(), o.GetNamespace(), namespace)
		}
		if o.GetLabels()["app.kubernetes.io/name"] != "foresight" {
			t.Errorf("%s: labels %v", o.GetName(), o.GetLabels())
		}
	}
}

func TestDeploymentShape(t *testing.T) {
	m := loadManifests(t)
	d := m.deployment()
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Fatalf("replicas %v, want 2", d.Spec.Replicas)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		t.Fatalf("selector %v: %v", d.Spec.Selector, err)
	}
	if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Fatalf("the Deployment's selector %s does not match its pod labels %v", sel, d.Spec.Template.Labels)
	}
	c := m.container(t)
	port := httpPort(t, c)
	if port != 8080 {
		t.Fatalf("container port %d, want 8080 (EXPOSE in the Dockerfile)", port)
	}

	// Probes: HTTP GET on the container's port.
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
		{"livenessProbe", c.LivenessProbe, "/healthz"},
		{"startupProbe", c.StartupProbe, "/healthz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Fatalf("%s: missing or not an HTTP GET", p.name)
		}
		if p.probe.HTTPGet.Path != p.path || resolvePort(t, c, p.probe.HTTPGet.Port) != port {
			t.Fatalf("%s: GET %s on port %v, want %s on %d", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path, port)
		}
		if p.probe.HTTPGet.Scheme != "" && p.probe.HTTPGet.Scheme != corev1.URISchemeHTTP {
			t.Fatalf("%s: scheme %s", p.name, p.probe.HTTPGet.Scheme)
		}
	}
	// /readyz checks the store with a 5 s timeout: the probe must wait longer.
	if c.ReadinessProbe.TimeoutSeconds <= 5 {
		t.Fatalf("readinessProbe timeout %ds: /readyz may take 5 s to time out the store", c.ReadinessProbe.TimeoutSeconds)
	}
	if sp := c.StartupProbe; sp.PeriodSeconds*sp.FailureThreshold < 60 {
		t.Fatalf("startupProbe allows only %ds to start", sp.PeriodSeconds*sp.FailureThreshold)
	}

	// Non-root, read-only, no capabilities.
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Fatalf("pod securityContext %+v: run as a non-root uid", psc)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Fatalf("pod seccompProfile %+v", psc.SeccompProfile)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("container has no securityContext")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Fatal("container: runAsNonRoot must be true")
	case sc.RunAsUser != nil && *sc.RunAsUser == 0:
		t.Fatal("container runs as root")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Fatal("container: readOnlyRootFilesystem must be true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Fatal("container: allowPrivilegeEscalation must be false")
	case sc.Privileged != nil && *sc.Privileged:
		t.Fatal("container is privileged")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Fatalf("container capabilities %+v: drop ALL, add none", sc.Capabilities)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Fatal("the pod does not call the Kubernetes API: do not mount a service account token")
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Fatal("enableServiceLinks must be false: service links inject FORESIGHT_* variables")
	}

	// Resources: requests and limits for CPU and memory, requests below limits.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim || req.Cmp(lim) > 0 || req.IsZero() {
			t.Fatalf("%s: request %v, limit %v", r, req.String(), lim.String())
		}
	}
	// GOMEMLIMIT, when set, sits below the memory limit.
	memLimit := c.Resources.Limits[corev1.ResourceMemory]
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			n := parseGoMemLimit(t, e.Value)
			if n <= 0 || n >= memLimit.Value() {
				t.Fatalf("GOMEMLIMIT %s (%d bytes) must be below the memory limit %s", e.Value, n, memLimit.String())
			}
		}
	}

	// Writable paths are volumes (the root file system is read-only).
	mounts := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm
	}
	for _, p := range []string{"/data", "/tmp"} {
		if vm, ok := mounts[p]; !ok || vm.ReadOnly {
			t.Fatalf("%s: needs a writable volume (mounts %v)", p, c.VolumeMounts)
		}
	}

	// Prometheus scrapes /metrics on the container port.
	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != strconv.Itoa(int(port)) {
		t.Fatalf("scrape annotations %v", ann)
	}

	// Replicas spread over nodes.
	spread := false
	for _, tsc := range spec.TopologySpreadConstraints {
		s, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		if err != nil {
			t.Fatal(err)
		}
		if tsc.TopologyKey == "kubernetes.io/hostname" && s.Matches(labels.Set(d.Spec.Template.Labels)) {
			spread = true
		}
	}
	if spec.Affinity != nil && spec.Affinity.PodAntiAffinity != nil {
		for _, w := range spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			s, err := metav1.LabelSelectorAsSelector(w.PodAffinityTerm.LabelSelector)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Fatalf("anti-affinity selector %s does not match the pods", s)
			}
		}
	}
	if !spread {
		t.Fatal("no topology spread over kubernetes.io/hostname matching the pods")
	}

	// The image is pinned to a tag.
	if tag := imageTag(c.Image); tag == "" || tag == "latest" {
		t.Fatalf("image %q: pin a tag other than latest", c.Image)
	}
}

func TestServiceAndBudgetSelectPods(t *testing.T) {
	m := loadManifests(t)
	d := m.deployment()
	pods := labels.Set(d.Spec.Template.Labels)
	c := m.container(t)
	port := httpPort(t, c)

	svc := m.services[0]
	if len(svc.Spec.Selector) == 0 || !labelSubset(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Fatalf("Service selector %v does not select the pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	if len(svc.Spec.Ports) != 1 || resolvePort(t, c, svc.Spec.Ports[0].TargetPort) != port {
		t.Fatalf("Service ports %+v, want one targeting %d", svc.Spec.Ports, port)
	}

	pdb := m.pdbs[0]
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.String() != "1" || pdb.Spec.MaxUnavailable != nil {
		t.Fatalf("PodDisruptionBudget minAvailable %v maxUnavailable %v, want minAvailable 1", pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable)
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(pods) {
		t.Fatalf("PodDisruptionBudget selector %v does not select the pods %v (%v)", pdb.Spec.Selector, d.Spec.Template.Labels, err)
	}
	if pdb.Spec.MinAvailable.IntValue() >= int(*d.Spec.Replicas) {
		t.Fatal("minAvailable must leave room for one disruption")
	}

	for _, np := range m.netpols {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(pods) {
			t.Fatalf("NetworkPolicy %s selects %s, not the pods (%v)", np.Name, sel, err)
		}
		open := false
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port != nil && resolvePort(t, c, *p.Port) == port {
					open = true
				}
			}
		}
		if !open {
			t.Fatalf("NetworkPolicy %s does not let traffic reach port %d (probes, API, scrapes)", np.Name, port)
		}
	}
}

func TestSecretsAreReferencedNotInlined(t *testing.T) {
	m := loadManifests(t)
	sec := m.secrets[0]
	if len(sec.Data) > 0 {
		t.Fatal("the Secret template uses stringData with placeholders, not data")
	}
	for k, v := range sec.StringData {
		if !strings.Contains(v, placeholder) {
			t.Errorf("Secret key %s holds %q: templates carry %s placeholders only", k, v, placeholder)
		}
	}
	c := m.container(t)
	refs := 0
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			refs++
			if ref.Name != sec.Name {
				t.Errorf("%s: secretKeyRef names Secret %q, the template is %q", e.Name, ref.Name, sec.Name)
			}
			if _, ok := sec.StringData[ref.Key]; !ok {
				t.Errorf("%s: secretKeyRef key %q is not in the Secret template", e.Name, ref.Key)
			}
			continue
		}
		lower := strings.ToLower(e.Name)
		if strings.Contains(lower, "token") || strings.Contains(lower, "secret") || strings.Contains(lower, "dsn") || strings.Contains(lower, "password") {
			t.Errorf("%s is set inline; take it from the Secret", e.Name)
		}
	}
	for _, want := range []string{"FORESIGHT_STORE_INFLUXDB_TOKEN", "FORESIGHT_STATE_DSN", "FORESIGHT_SERVER_INBOUND_SECRET"} {
		if v := envVar(c, want); v == nil || v.ValueFrom == nil || v.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: not taken from the Secret", want)
		}
	}
	if refs == 0 {
		t.Fatal("no secretKeyRef")
	}
	// The configuration in the ConfigMap holds no secret of its own.
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(m.configMaps[0].Data["foresight.yaml"]), &raw); err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]string{{"store", "influxdb", "token"}, {"state", "dsn"}, {"server", "inbound_secret"}} {
		if v := lookup(raw, path...); v != nil && v != "" {
			t.Errorf("the ConfigMap's foresight.yaml sets %s; take it from the Secret", strings.Join(path, "."))
		}
	}
	targets, _ := lookup(raw, "notify", "targets").([]any)
	for _, tg := range targets {
		if m, ok := tg.(map[string]any); ok && m["secret"] != nil && m["secret"] != "" {
			t.Errorf("notify target %v has its secret in the ConfigMap", m["name"])
		}
	}
}

// lookup walks nested YAML mappings.
func lookup(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestConfigMapLoadsAndValidates loads the ConfigMap's foresight.yaml with
// config.Load and the environment the Deployment gives the container
// (Secret values from the template), as the server does at start-up.
func TestConfigMapLoadsAndValidates(t *testing.T) {
	m := loadManifests(t)
	c := m.container(t)
	d := m.deployment()

	// Every FORESIGHT_* variable of the pod is a key the configuration knows.
	known := map[string]bool{"FORESIGHT_CONFIG": true}
	for _, n := range config.EnvNames() {
		known[n] = true
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "FORESIGHT_") && !known[e.Name] {
			t.Errorf("%s is not a configuration variable", e.Name)
		}
	}

	// FORESIGHT_CONFIG points at the mounted ConfigMap key.
	cm := m.configMaps[0]
	cfgPath := envVar(c, "FORESIGHT_CONFIG")
	if cfgPath == nil || cfgPath.Value == "" {
		t.Fatal("FORESIGHT_CONFIG is not set")
	}
	mounted := false
	for _, vm := range c.VolumeMounts {
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
				continue
			}
			for _, it := range v.ConfigMap.Items {
				if filepath.Join(vm.MountPath, it.Path) == cfgPath.Value {
					if _, ok := cm.Data[it.Key]; !ok {
						t.Fatalf("ConfigMap %s has no key %s", cm.Name, it.Key)
					}
					mounted = true
				}
			}
		}
	}
	if !mounted {
		t.Fatalf("FORESIGHT_CONFIG=%s is not a mounted key of ConfigMap %s", cfgPath.Value, cm.Name)
	}

	cfg := loadConfigMapConfig(t, m, podEnviron(t, m))
	if cfg.Store.Backend != "influxdb" || cfg.State.Driver != "postgres" || !cfg.Auth.Enabled {
		t.Fatalf("store %q, state %q, auth %v: want influxdb, postgres, on", cfg.Store.Backend, cfg.State.Driver, cfg.Auth.Enabled)
	}
	if cfg.Store.InfluxDB.Token == "" || cfg.State.DSN == "" || cfg.Server.InboundSecret == "" {
		t.Fatal("the Secret's values do not reach the configuration")
	}
	if cfg.Log.Format != "json" {
		t.Errorf("log.format %q: JSON logs for the cluster's log collector", cfg.Log.Format)
	}

	// The server listens on every interface on the container port.
	host, p, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil {
		t.Fatal(err)
	}
	if host != "0.0.0.0" && host != "" && host != "::" {
		t.Fatalf("server.listen %s: the probes and the Service reach the pod IP, listen on all interfaces", cfg.Server.Listen)
	}
	if p != strconv.Itoa(int(httpPort(t, c))) {
		t.Fatalf("server.listen %s, container port %d", cfg.Server.Listen, httpPort(t, c))
	}
	// With TLS the HTTP probes would fail.
	if cfg.Server.TLSCert != "" {
		t.Fatal("TLS in the pod: switch the probes to HTTPS")
	}

	// Shutdown: the kubelet waits terminationGracePeriodSeconds, which must
	// cover the preStop pause and server.shutdown_timeout.
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil {
		t.Fatal("terminationGracePeriodSeconds is not set (default 30 s)")
	}
	var preStop time.Duration
	if l := c.Lifecycle; l != nil && l.PreStop != nil {
		switch {
		case l.PreStop.Sleep != nil:
			preStop = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
		default:
			t.Fatal("preStop: the image has no shell; use the sleep action")
		}
	}
	if need := preStop + cfg.Server.ShutdownTimeout.D(); time.Duration(*grace)*time.Second <= need {
		t.Fatalf("terminationGracePeriodSeconds %d must exceed preStop %s + server.shutdown_timeout %s", *grace, preStop, cfg.Server.ShutdownTimeout.D())
	}
	if cfg.Server.ShutdownTimeout.D() <= 0 {
		t.Fatal("server.shutdown_timeout must be positive")
	}
}

// loadConfigMapConfig writes the ConfigMap's foresight.yaml to a temporary
// file and loads it with config.Load and environ.
func loadConfigMapConfig(t *testing.T, m *manifests, environ []string) config.Config {
	t.Helper()
	data, ok := m.configMaps[0].Data["foresight.yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no foresight.yaml", m.configMaps[0].Name)
	}
	path := filepath.Join(t.TempDir(), "foresight.yaml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, environ)
	if err != nil {
		t.Fatalf("foresight.yaml of the ConfigMap with the pod's environment: %v", err)
	}
	return cfg
}

// podEnviron is the container's environment as the server sees it: the
// image's ENV, then the Deployment's literals and the Secret template's
// values.
func podEnviron(t *testing.T, m *manifests) []string {
	t.Helper()
	env := map[string]string{}
	for k, v := range dockerfileEnv(t, readDockerfile(t)) {
		env[k] = v
	}
	sec := m.secrets[0]
	for _, e := range m.container(t).Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = sec.StringData[e.ValueFrom.SecretKeyRef.Key]
		}
	}
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func labelSubset(sub, of map[string]string) bool {
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}

// parseGoMemLimit reads a GOMEMLIMIT value: bytes with an optional B, KiB,
// MiB, GiB or TiB suffix.
func parseGoMemLimit(t *testing.T, s string) int64 {
	t.Helper()
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("GOMEMLIMIT %q: %v", s, err)
	}
	return n * mult
}

// ---- Dockerfile ----------------------------------------------------------

// dockerInstr is one Dockerfile instruction with continuation lines joined.
type dockerInstr struct {
	line int
	cmd  string // upper case
	args string
}

func readDockerfile(t *testing.T) []dockerInstr {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstr
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // comment lines inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatal("Dockerfile ends inside a continued line")
	}
	return out
}

// dockerfileEnv returns the ENV of the final stage.
func dockerfileEnv(t *testing.T, ins []dockerInstr) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			clear(env)
		case "ENV":
			for _, f := range strings.Fields(in.args) {
				k, v, ok := strings.Cut(f, "=")
				if !ok {
					t.Fatalf("Dockerfile:%d: write ENV as KEY=value", in.line)
				}
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	return env
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

func imageTag(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[i+1:] // a digest pins it
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if _, tag, ok := strings.Cut(last, ":"); ok {
		return tag
	}
	return ""
}

func TestDockerfile(t *testing.T) {
	ins := readDockerfile(t)
	globalArgs := map[string]string{}
	stages := map[string]bool{}
	var froms []dockerInstr
	lastFrom := -1
	for i, in := range ins {
		switch in.cmd {
		case "ARG":
			if len(froms) == 0 {
				k, v, _ := strings.Cut(in.args, "=")
				globalArgs[k] = v
			}
		case "FROM":
			froms = append(froms, in)
			lastFrom = i
			f := strings.Fields(in.args)
			var image string
			for _, w := range f {
				if !strings.HasPrefix(w, "--") {
					image = w
					break
				}
			}
			image = argRef.ReplaceAllStringFunc(image, func(ref string) string {
				name := argRef.FindStringSubmatch(ref)[1]
				v, ok := globalArgs[name]
				if !ok || v == "" {
					t.Fatalf("Dockerfile:%d: %s has no default", in.line, ref)
				}
				return v
			})
			if !stages[image] && image != "scratch" {
				if tag := imageTag(image); tag == "" || tag == "latest" {
					t.Errorf("Dockerfile:%d: FROM %s: pin a tag other than latest", in.line, image)
				}
			}
			if len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
				stages[f[len(f)-1]] = true
			}
		case "ADD":
			if strings.Contains(in.args, "http://") || strings.Contains(in.args, "https://") || strings.Contains(in.args, "git@") {
				t.Errorf("Dockerfile:%d: ADD from the network; fetch in a build step with a checksum", in.line)
			}
		}
		if strings.Contains(strings.ToLower(in.args), ":latest") {
			t.Errorf("Dockerfile:%d: uses a latest tag", in.line)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("%d FROM: want a multi-stage build", len(froms))
	}

	// The final stage: non-root numeric USER, the port, the entrypoint.
	final := ins[lastFrom:]
	var user, entrypoint string
	var exposes []string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "EXPOSE":
			exposes = append(exposes, strings.Fields(in.args)...)
		case "RUN":
			t.Errorf("Dockerfile:%d: RUN in the final stage (it has no shell)", in.line)
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Fatalf("final stage USER %q: want a numeric non-root uid (Kubernetes checks runAsNonRoot on numbers)", user)
	} else if n != 65532 {
		t.Fatalf("final stage USER %q: want 65532, the uid the manifests run as", user)
	}
	if !slices.Contains(exposes, "8080") {
		t.Fatalf("EXPOSE %v, want 8080", exposes)
	}
	if entrypoint != `["/foresight", "serve"]` {
		t.Fatalf("ENTRYPOINT %s", entrypoint)
	}
	env := dockerfileEnv(t, ins)
	if env["FORESIGHT_SERVER_LISTEN"] != "0.0.0.0:8080" {
		t.Fatalf("final stage ENV %v: FORESIGHT_SERVER_LISTEN=0.0.0.0:8080", env)
	}

	// The binary is static: cgo off where it is built.
	cgoOff := false
	for _, in := range ins[:lastFrom] {
		if (in.cmd == "ENV" || in.cmd == "RUN" || in.cmd == "ARG") && regexp.MustCompile(`\bCGO_ENABLED=0\b`).MatchString(in.args) {
			cgoOff = true
		}
	}
	if !cgoOff {
		t.Fatal("the build stage does not set CGO_ENABLED=0")
	}
	// The build uses a module cache mount and builds the command.
	build := ""
	for _, in := range ins[:lastFrom] {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	if !strings.Contains(build, "--mount=type=cache,target=/go/pkg/mod") || !strings.Contains(build, "./cmd/foresight") {
		t.Fatalf("go build step %q: cache the module download and build ./cmd/foresight", build)
	}
}

// TestDockerIgnoreKeepsTheBuildInputs checks the context filter does not
// drop what the build needs (sources, go.mod, embedded files).
func TestDockerIgnoreKeepsTheBuildInputs(t *testing.T) {
	b, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, keep := range []string{"go.mod", "go.sum", "cmd", "api", "engine", "web", "web/dist", "config/example.yaml", "calendar/default.yaml", "storage/state/migrations"} {
		for _, p := range patterns {
			if p == keep || p == "*" || p == "**" || strings.HasPrefix(keep, p+"/") {
				t.Errorf("Dockerfile.dockerignore pattern %q drops %s, which the build needs", p, keep)
			}
		}
	}
	for _, must := range []string{".git", ".influxdb", "data"} {
		if !slices.Contains(patterns, must) {
			t.Errorf("Dockerfile.dockerignore should leave %s out of the context", must)
		}
	}
}
