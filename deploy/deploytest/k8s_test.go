package deploytest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// workerEnvNames are the worker's environment variables as DESIGN.md names
// them; the ConfigMap sets exactly these.
var workerEnvNames = []string{
	"REDIS_URL", "WORKER_CONCURRENCY", "WORKER_QUEUES", "ESS_ENDPOINT", "ALIBABA_CLOUD_REGION_ID",
	"ESS_QPS", "POLL_INTERVAL", "POLL_TIMEOUT", "MAX_RETRY", "METRICS_ADDR", "SHUTDOWN_TIMEOUT",
	"LOG_LEVEL", "LOG_FORMAT", "NOTIFY_URL", "NOTIFY_SECRET_FILE",
}

// notifySecretDir is where the Deployment mounts the essworker-notify Secret;
// its key secret is the file NOTIFY_SECRET_FILE names.
const notifySecretDir = "/etc/essworker/notify"

// The credentials of the SDK's default chain the Deployment documents: the
// access key (from a Secret) and the OIDC role of RRSA.
var (
	accessKeyEnvNames = []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}
	oidcEnvNames      = []string{"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"}
)

// k8sObject is a decoded manifest: its header and the raw node for kind-specific decoding.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	node yaml.Node
}

// decodeManifests decodes every YAML document of r.
func decodeManifests(r io.Reader) ([]k8sObject, error) {
	dec := yaml.NewDecoder(r)
	var objs []k8sObject
	for {
		var o k8sObject
		err := dec.Decode(&o.node)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if err := o.node.Decode(&o); err != nil {
			return nil, err
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			return nil, fmt.Errorf("a document without apiVersion, kind or metadata.name")
		}
		objs = append(objs, o)
	}
}

type secretKeyRef struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Optional *bool  `yaml:"optional"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Ports   []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *secretKeyRef `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

type deploymentSpec struct {
	Spec struct {
		Replicas int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				ServiceAccountName            string `yaml:"serviceAccountName"`
				TerminationGracePeriodSeconds *int64 `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
					RunAsUser    *int64 `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					Name   string `yaml:"name"`
					Secret *struct {
						SecretName string `yaml:"secretName"`
						Optional   *bool  `yaml:"optional"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type serviceSpec struct {
	Spec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type pdbSpec struct {
	Spec struct {
		MinAvailable any `yaml:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	} `yaml:"spec"`
}

type kustomization struct {
	Namespace string   `yaml:"namespace"`
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

// apiPrefix keys the producer API's objects (label
// app.kubernetes.io/component: api) in loadK8s' map.
const apiPrefix = "api/"

// loadK8s reads deploy/k8s: the kustomization and the objects of every
// resource it lists, by kind (one object of each kind; the producer API's
// under apiPrefix + kind).
func loadK8s(t *testing.T) (kustomization, map[string]k8sObject) {
	t.Helper()
	dir := deployPath(t, "k8s")
	var k kustomization
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &k)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			onDisk = append(onDisk, base)
		}
	}
	listed := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(listed, onDisk) {
		t.Errorf("kustomization resources %v, files %v: list every manifest", listed, onDisk)
	}
	byKind := map[string]k8sObject{}
	for _, name := range k.Resources {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeManifests(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, o := range objs {
			key := o.Kind
			if o.Metadata.Labels["app.kubernetes.io/component"] == "api" {
				key = apiPrefix + o.Kind
			}
			if _, dup := byKind[key]; dup {
				t.Fatalf("two objects of kind %s", key)
			}
			byKind[key] = o
		}
	}
	for _, kind := range []string{"Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
		apiPrefix + "Deployment", apiPrefix + "Service", apiPrefix + "Secret"} {
		if _, ok := byKind[kind]; !ok {
			t.Fatalf("no %s in deploy/k8s", kind)
		}
	}
	return k, byKind
}

func decodeSpec(t *testing.T, o k8sObject, v any) {
	t.Helper()
	if err := o.node.Decode(v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Metadata.Name, err)
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// subset reports whether every label of sel is in labels.
func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	k, objs := loadK8s(t)

	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	decodeSpec(t, objs["ConfigMap"], &cm)
	if got, want := slices.Sorted(maps.Keys(cm.Data)), slices.Sorted(slices.Values(workerEnvNames)); !slices.Equal(got, want) {
		t.Errorf("ConfigMap keys %v, want exactly DESIGN.md's %v", got, want)
	}
	flagsSrc, err := os.ReadFile(filepath.Join(repoRoot(t), "cmd", "worker", "flags.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range workerEnvNames {
		if !bytes.Contains(flagsSrc, []byte(strconv.Quote(name))) {
			t.Errorf("cmd/worker does not read %s", name)
		}
	}
	shutdown, err := time.ParseDuration(cm.Data["SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("SHUTDOWN_TIMEOUT: %v", err)
	}
	_, metricsPort, err := net.SplitHostPort(cm.Data["METRICS_ADDR"])
	if err != nil {
		t.Fatalf("METRICS_ADDR: %v", err)
	}

	var d deploymentSpec
	decodeSpec(t, objs["Deployment"], &d)
	pod := d.Spec.Template.Spec
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= shutdown {
		t.Errorf("terminationGracePeriodSeconds must be set and exceed SHUTDOWN_TIMEOUT %v", shutdown)
	}
	if !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
		t.Errorf("selector %v does not match the pod labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels)
	}
	if d.Spec.Replicas < 2 {
		t.Errorf("replicas %d: run at least two workers", d.Spec.Replicas)
	}
	if pod.ServiceAccountName != objs["ServiceAccount"].Metadata.Name {
		t.Errorf("serviceAccountName %q, ServiceAccount %q", pod.ServiceAccountName, objs["ServiceAccount"].Metadata.Name)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(k.Images) != 1 || k.Images[0].Name != c.Image {
		t.Errorf("container image %q is not the kustomization's image %+v", c.Image, k.Images)
	}
	if !slices.Equal(c.Command, []string{"worker"}) {
		t.Errorf("command %v, want [worker]", c.Command)
	}
	if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != metricsPort {
		t.Fatalf("container ports %+v, want one on METRICS_ADDR's port %s", c.Ports, metricsPort)
	}
	portName := c.Ports[0].Name
	for _, p := range []struct {
		kind  string
		probe *probe
		path  string
	}{{"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s httpGet", p.kind)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s path %q, want %s", p.kind, p.probe.HTTPGet.Path, p.path)
		}
		if port := fmt.Sprint(p.probe.HTTPGet.Port); port != portName && port != metricsPort {
			t.Errorf("%s port %s, want %s", p.kind, port, portName)
		}
	}
	sc := c.SecurityContext
	if !isTrue(pod.SecurityContext.RunAsNonRoot) && !isTrue(sc.RunAsNonRoot) {
		t.Error("runAsNonRoot is not set")
	}
	if pod.SecurityContext.RunAsUser != nil && *pod.SecurityContext.RunAsUser == 0 {
		t.Error("runAsUser 0")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		t.Error("readOnlyRootFilesystem is not set")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("capabilities drop %v, want [ALL]", sc.Capabilities.Drop)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("no %s request", r)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("no memory limit")
	}

	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != objs["ConfigMap"].Metadata.Name {
		t.Errorf("envFrom %+v, want the ConfigMap %s", c.EnvFrom, objs["ConfigMap"].Metadata.Name)
	}
	refs := map[string]*secretKeyRef{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			refs[e.Name] = e.ValueFrom.SecretKeyRef
		}
		if strings.HasPrefix(e.Name, "ALIBABA_CLOUD_ACCESS_KEY") && e.Value != "" {
			t.Errorf("%s has a literal value; credentials come from a Secret", e.Name)
		}
	}
	for _, name := range accessKeyEnvNames {
		ref := refs[name]
		if ref == nil || ref.Key != name || !isTrue(ref.Optional) {
			t.Errorf("%s: want an optional secretKeyRef with key %s (optional: RRSA needs no Secret), got %+v", name, name, ref)
		}
	}
	checkNotifySecret(t, d, c, cm.Data, refs)
	manifest, err := os.ReadFile(deployPath(t, "k8s", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range oidcEnvNames {
		if !bytes.Contains(manifest, []byte(name)) {
			t.Errorf("deployment.yaml does not document %s (RRSA)", name)
		}
	}

	var svc serviceSpec
	decodeSpec(t, objs["Service"], &svc)
	if objs["Service"].Metadata.Name != essworkerJob {
		t.Errorf("Service %q: name it %s, the job label the Prometheus Operator gives its targets", objs["Service"].Metadata.Name, essworkerJob)
	}
	if !subset(svc.Spec.Selector, d.Spec.Template.Metadata.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, d.Spec.Template.Metadata.Labels)
	}
	if len(svc.Spec.Ports) != 1 || fmt.Sprint(svc.Spec.Ports[0].TargetPort) != portName || svc.Spec.Ports[0].Name != "metrics" {
		t.Errorf("Service ports %+v, want port metrics to targetPort %s", svc.Spec.Ports, portName)
	}

	var pdb pdbSpec
	decodeSpec(t, objs["PodDisruptionBudget"], &pdb)
	if !maps.Equal(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) {
		t.Errorf("PodDisruptionBudget selector %v, Deployment's %v", pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels)
	}
	if minAvail, err := strconv.Atoi(fmt.Sprint(pdb.Spec.MinAvailable)); err != nil || minAvail < 1 || minAvail >= d.Spec.Replicas {
		t.Errorf("PodDisruptionBudget minAvailable %v: want at least 1 and below replicas %d, so drains can proceed", pdb.Spec.MinAvailable, d.Spec.Replicas)
	}
	if k.Namespace != objs["Namespace"].Metadata.Name {
		t.Errorf("kustomization namespace %q, Namespace %q", k.Namespace, objs["Namespace"].Metadata.Name)
	}
}

// checkNotifySecret checks the notices' settings: off by default (both
// variables empty, so the worker starts without the Secret), the secret as a
// read-only file of the optional essworker-notify Secret, and the path the
// ConfigMap's comment gives under that mount.
func checkNotifySecret(t *testing.T, d deploymentSpec, c container, data map[string]string, refs map[string]*secretKeyRef) {
	t.Helper()
	if data["NOTIFY_URL"] != "" || data["NOTIFY_SECRET_FILE"] != "" {
		t.Errorf("NOTIFY_URL %q, NOTIFY_SECRET_FILE %q: ship notices off (both empty)", data["NOTIFY_URL"], data["NOTIFY_SECRET_FILE"])
	}
	if ref := refs["NOTIFY_URL"]; ref == nil || ref.Name != "essworker-notify" || ref.Key != "NOTIFY_URL" || !isTrue(ref.Optional) {
		t.Errorf("NOTIFY_URL: want an optional secretKeyRef to essworker-notify, got %+v", ref)
	}
	for _, e := range c.Env {
		if e.Name == "NOTIFY_SECRET_FILE" || strings.Contains(e.Name, "SECRET") && e.Value != "" {
			t.Errorf("env %s: the notices' secret comes as a file, not a variable", e.Name)
		}
	}
	volume := ""
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == "essworker-notify" {
			volume = v.Name
			if !isTrue(v.Secret.Optional) {
				t.Errorf("volume %s: the essworker-notify Secret must be optional (notices are)", v.Name)
			}
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == volume && volume != "" {
			mounted = m.MountPath == notifySecretDir && m.ReadOnly
		}
	}
	if !mounted {
		t.Errorf("the essworker-notify Secret is not mounted read-only at %s (volumes %+v, mounts %+v)", notifySecretDir, d.Spec.Template.Spec.Volumes, c.VolumeMounts)
	}
	cm, err := os.ReadFile(deployPath(t, "k8s", "configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(cm, []byte("NOTIFY_SECRET_FILE to "+notifySecretDir+"/secret")) || !bytes.Contains(cm, []byte("--from-literal=secret=")) {
		t.Errorf("configmap.yaml does not say to set NOTIFY_SECRET_FILE to %s/secret and create its Secret", notifySecretDir)
	}
}

// TestKustomizeBuild renders deploy/k8s as `kubectl apply -k` would.
func TestKustomizeBuild(t *testing.T) {
	t.Parallel()
	kubectl := requireTool(t, "kubectl")
	k, _ := loadK8s(t)
	out := runTool(t, t.TempDir(), kubectl, "kustomize", deployPath(t, "k8s"))
	objs, err := decodeManifests(strings.NewReader(out))
	if err != nil {
		t.Fatalf("kubectl kustomize output: %v", err)
	}
	if len(objs) != len(k.Resources) {
		t.Errorf("%d objects rendered, want %d", len(objs), len(k.Resources))
	}
	for _, o := range objs {
		if o.Kind != "Namespace" && o.Metadata.Namespace != k.Namespace {
			t.Errorf("%s %s in namespace %q, want %q", o.Kind, o.Metadata.Name, o.Metadata.Namespace, k.Namespace)
		}
		if o.Kind != "Deployment" {
			continue
		}
		var d deploymentSpec
		decodeSpec(t, o, &d)
		want := k.Images[0].NewName + ":" + k.Images[0].NewTag
		if got := d.Spec.Template.Spec.Containers[0].Image; got != want {
			t.Errorf("rendered image %q, want %q", got, want)
		}
	}
}

// TestKubernetesAPI checks the producer API's manifests: the workers'
// hardening, probes on /healthz and /readyz, the tokens file from its Secret,
// and a Service named after the scrape job the alert rule selects.
func TestKubernetesAPI(t *testing.T) {
	t.Parallel()
	k, objs := loadK8s(t)
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	decodeSpec(t, objs["ConfigMap"], &cm)
	shutdown, err := time.ParseDuration(cm.Data["SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("SHUTDOWN_TIMEOUT: %v", err)
	}
	var d deploymentSpec
	decodeSpec(t, objs[apiPrefix+"Deployment"], &d)
	// The tokens volume, which deploymentSpec leaves out.
	var extra struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						VolumeMounts []struct {
							Name      string `yaml:"name"`
							MountPath string `yaml:"mountPath"`
							ReadOnly  bool   `yaml:"readOnly"`
						} `yaml:"volumeMounts"`
					} `yaml:"containers"`
					Volumes []struct {
						Name   string `yaml:"name"`
						Secret *struct {
							SecretName string `yaml:"secretName"`
						} `yaml:"secret"`
					} `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	decodeSpec(t, objs[apiPrefix+"Deployment"], &extra)
	pod := d.Spec.Template.Spec
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= shutdown {
		t.Errorf("api: terminationGracePeriodSeconds must exceed SHUTDOWN_TIMEOUT %v", shutdown)
	}
	if !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) || d.Spec.Replicas < 2 {
		t.Errorf("api: selector %v, pod labels %v, replicas %d", d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels, d.Spec.Replicas)
	}
	var workers deploymentSpec
	decodeSpec(t, objs["Deployment"], &workers)
	if subset(workers.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
		t.Error("the workers' Deployment selects the API's pods")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("api: %d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Command, []string{"api"}) || len(k.Images) != 1 || c.Image != k.Images[0].Name {
		t.Errorf("api: command %v image %q", c.Command, c.Image)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8088 {
		t.Fatalf("api: ports %+v, want 8088", c.Ports)
	}
	portName := c.Ports[0].Name
	for _, p := range []struct {
		probe *probe
		path  string
	}{{c.LivenessProbe, "/healthz"}, {c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || fmt.Sprint(p.probe.HTTPGet.Port) != portName {
			t.Errorf("api: want a probe on %s port %s, got %+v", p.path, portName, p.probe)
		}
	}
	sc := c.SecurityContext
	if !isTrue(pod.SecurityContext.RunAsNonRoot) || !isTrue(sc.ReadOnlyRootFilesystem) || sc.AllowPrivilegeEscalation == nil ||
		*sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("api: security context %+v, pod %+v: want the workers' hardening", sc, pod.SecurityContext)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("api: resources %+v", c.Resources)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if strings.HasPrefix(e.Name, "ALIBABA_CLOUD_") {
			t.Errorf("api: %s set; the API needs no cloud credentials", e.Name)
		}
	}
	if _, port, err := net.SplitHostPort(env["API_ADDR"]); err != nil || port != "8088" || strings.HasPrefix(env["API_ADDR"], "127.") {
		t.Errorf("api: API_ADDR %q, want all interfaces on 8088", env["API_ADDR"])
	}
	mounts := extra.Spec.Template.Spec.Containers[0].VolumeMounts
	vols := extra.Spec.Template.Spec.Volumes
	secret := objs[apiPrefix+"Secret"]
	if len(mounts) != 1 || !mounts[0].ReadOnly || filepath.Join(mounts[0].MountPath, "tokens") != env["API_TOKENS_FILE"] ||
		len(vols) != 1 || vols[0].Name != mounts[0].Name || vols[0].Secret == nil || vols[0].Secret.SecretName != secret.Metadata.Name {
		t.Errorf("api: mounts %+v, volumes %+v, API_TOKENS_FILE %q: want the Secret %s's tokens key read-only there",
			mounts, vols, env["API_TOKENS_FILE"], secret.Metadata.Name)
	}
	var sec struct {
		StringData map[string]string `yaml:"stringData"`
	}
	decodeSpec(t, secret, &sec)
	for _, line := range strings.Split(sec.StringData["tokens"], "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			t.Errorf("api-secret.yaml ships a client line %q: it must hold none, so nobody runs a published token", l)
		}
	}
	if _, ok := sec.StringData["tokens"]; !ok {
		t.Error("api-secret.yaml has no tokens key")
	}

	var svc serviceSpec
	decodeSpec(t, objs[apiPrefix+"Service"], &svc)
	if objs[apiPrefix+"Service"].Metadata.Name != apiJob {
		t.Errorf("API Service %q: name it %s, the job its alert rule selects", objs[apiPrefix+"Service"].Metadata.Name, apiJob)
	}
	if !subset(svc.Spec.Selector, d.Spec.Template.Metadata.Labels) || subset(svc.Spec.Selector, workers.Spec.Template.Metadata.Labels) {
		t.Errorf("API Service selector %v must select the API's pods only", svc.Spec.Selector)
	}
	if len(svc.Spec.Ports) != 1 || fmt.Sprint(svc.Spec.Ports[0].TargetPort) != portName {
		t.Errorf("API Service ports %+v, want one to %s", svc.Spec.Ports, portName)
	}
}
