// Package manifests checks the Kubernetes manifests beside it: each YAML
// document decodes strictly into its k8s.io/api type, as the API server
// would take it (no unknown, misspelt or duplicate field, no YAML 1.1
// boolean where a string belongs), and the objects are wired together:
// the sharded Job's count, the Services the containers call, the Secrets
// and ConfigMaps they read, the image, resources, issuers and audiences.
//
//	go test ./deploy/kubernetes
//	MCPBENCH_IMAGE_TEST=1 go test -run TestImageBuild ./deploy/kubernetes
package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// haproxyImage is the one image besides mcpbench's.
const haproxyImage = "haproxy:2.6"

// completionIndex is the pod annotation an Indexed Job's pods carry.
const completionIndex = "metadata.annotations['batch.kubernetes.io/job-completion-index']"

// kustomization is the part of kustomization.yaml these manifests use.
// Decoded strictly: a field kustomize has that is not here fails the
// test, and belongs here once it is used.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
	Replicas []struct {
		Name  string `json:"name"`
		Count int32  `json:"count"`
	} `json:"replicas"`
}

// objects are the decoded manifests, by kind and name.
type objects struct {
	namespaces  map[string]*corev1.Namespace
	secrets     map[string]*corev1.Secret
	configMaps  map[string]*corev1.ConfigMap
	claims      map[string]*corev1.PersistentVolumeClaim
	services    map[string]*corev1.Service
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
	pods        map[string]*corev1.Pod
}

func newObjects() *objects {
	return &objects{
		namespaces: map[string]*corev1.Namespace{}, secrets: map[string]*corev1.Secret{},
		configMaps: map[string]*corev1.ConfigMap{}, claims: map[string]*corev1.PersistentVolumeClaim{},
		services: map[string]*corev1.Service{}, deployments: map[string]*appsv1.Deployment{},
		jobs: map[string]*batchv1.Job{}, pods: map[string]*corev1.Pod{},
	}
}

// decodeStrict decodes one YAML document into v as kubectl and the API
// server would: YAML to JSON (duplicate keys refused), then JSON with
// case-sensitive field names, unknown and duplicate fields refused.
func decodeStrict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// add decodes one document by its apiVersion and kind.
func (o *objects) add(doc []byte) error {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var name string
	put := func(v any, m func()) error {
		if err := decodeStrict(doc, v); err != nil {
			return fmt.Errorf("%s %s: %w", tm.Kind, tm.Metadata.Name, err)
		}
		m()
		return nil
	}
	name = tm.Metadata.Name
	if name == "" {
		return fmt.Errorf("%s without metadata.name", tm.Kind)
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		v := &corev1.Namespace{}
		return put(v, func() { o.namespaces[name] = v })
	case "v1 Secret":
		v := &corev1.Secret{}
		return put(v, func() { o.secrets[name] = v })
	case "v1 ConfigMap":
		v := &corev1.ConfigMap{}
		return put(v, func() { o.configMaps[name] = v })
	case "v1 PersistentVolumeClaim":
		v := &corev1.PersistentVolumeClaim{}
		return put(v, func() { o.claims[name] = v })
	case "v1 Service":
		v := &corev1.Service{}
		return put(v, func() { o.services[name] = v })
	case "v1 Pod":
		v := &corev1.Pod{}
		return put(v, func() { o.pods[name] = v })
	case "apps/v1 Deployment":
		v := &appsv1.Deployment{}
		return put(v, func() { o.deployments[name] = v })
	case "batch/v1 Job":
		v := &batchv1.Job{}
		return put(v, func() { o.jobs[name] = v })
	}
	return fmt.Errorf("%s %q of apiVersion %q: not a kind this test knows; add it to objects.add", tm.Kind, name, tm.APIVersion)
}

// documents splits a YAML stream into its documents, leaving out empty
// ones (only comments).
func documents(r io.Reader) ([][]byte, error) {
	yr := k8syaml.NewYAMLReader(bufio.NewReader(r))
	var docs [][]byte
	for {
		doc, err := yr.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		empty := true
		for _, l := range strings.Split(string(doc), "\n") {
			if t := strings.TrimSpace(l); t != "" && t != "---" && !strings.HasPrefix(t, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, doc)
		}
	}
}

// parse decodes every document of a YAML stream into o.
func (o *objects) parse(name string, r io.Reader) error {
	docs, err := documents(r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	for _, d := range docs {
		if err := o.add(d); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// manifestFiles are the YAML files beside this test but kustomization.yaml.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	if len(files) == 0 {
		t.Fatal("no manifests beside the test")
	}
	return files
}

func loadKustomization(t *testing.T) *kustomization {
	t.Helper()
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := decodeStrict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	return &k
}

// loadObjects decodes every manifest file; a document that does not
// decode strictly fails the test.
func loadObjects(t *testing.T) *objects {
	t.Helper()
	o := newObjects()
	for _, f := range manifestFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.parse(f, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// container is one container of a pod template, with where it is.
type container struct {
	where  string // Deployment/mcp, container mcp
	c      *corev1.Container
	pod    *corev1.PodSpec
	labels map[string]string
}

func (o *objects) containers() []container {
	var cs []container
	addPod := func(kind, name string, spec *corev1.PodSpec, labels map[string]string) {
		for i := range spec.InitContainers {
			c := &spec.InitContainers[i]
			cs = append(cs, container{fmt.Sprintf("%s/%s, init container %s", kind, name, c.Name), c, spec, labels})
		}
		for i := range spec.Containers {
			c := &spec.Containers[i]
			cs = append(cs, container{fmt.Sprintf("%s/%s, container %s", kind, name, c.Name), c, spec, labels})
		}
	}
	for _, n := range sortedKeys(o.deployments) {
		d := o.deployments[n]
		addPod("Deployment", n, &d.Spec.Template.Spec, d.Spec.Template.Labels)
	}
	for _, n := range sortedKeys(o.jobs) {
		j := o.jobs[n]
		addPod("Job", n, &j.Spec.Template.Spec, j.Spec.Template.Labels)
	}
	for _, n := range sortedKeys(o.pods) {
		p := o.pods[n]
		addPod("Pod", n, &p.Spec, p.Labels)
	}
	return cs
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// flag returns the value of --name in args, as "--name v" or "--name=v".
func flag(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// words are a container's command, args and literal env values: where
// it names services, variables and secrets.
func (c container) words() []string {
	w := slices.Concat(c.c.Command, c.c.Args)
	for _, e := range c.c.Env {
		if e.Value != "" {
			w = append(w, e.Value)
		}
	}
	return w
}

func (c container) env(name string) *corev1.EnvVar {
	for i := range c.c.Env {
		if c.c.Env[i].Name == name {
			return &c.c.Env[i]
		}
	}
	return nil
}

var (
	urlRE     = regexp.MustCompile(`https?://([^/\s"']+)`)
	serviceRE = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?:([0-9]+)$`)
	// A host:port in HAProxy's configuration, as server lines write it.
	cfgServiceRE = regexp.MustCompile(`\b([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:([0-9]+)\b`)
	varRE        = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	envSecretRE  = regexp.MustCompile(`(?:^|:)env:([A-Za-z_][A-Za-z0-9_]*)$`)
	shardRE      = regexp.MustCompile(`^\$\(JOB_COMPLETION_INDEX\)/([0-9]+)$`)
	slotsRE      = regexp.MustCompile(`(?m)^\s*server-template\s+\S+\s+([0-9]+)\s+([a-z0-9-]+)\.`)
)

// check returns every wiring mistake in o. image is what mcpbench's
// containers must run: the kustomize image name, or, rendered, its new
// name and tag.
func check(o *objects, k *kustomization, image string) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if _, ok := o.namespaces[k.Namespace]; !ok {
		bad("no Namespace %q, the kustomization's namespace", k.Namespace)
	}
	checkNamespaces(o, k.Namespace, bad)

	for _, n := range sortedKeys(o.deployments) {
		d := o.deployments[n]
		if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 || !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			bad("Deployment/%s: spec.selector.matchLabels must be set and be among the pod template's labels", n)
		}
	}

	for _, c := range o.containers() {
		checkContainer(o, c, image, k.Namespace, bad)
	}
	for _, n := range sortedKeys(o.configMaps) {
		for key, v := range o.configMaps[n].Data {
			for _, m := range cfgServiceRE.FindAllStringSubmatch(v, -1) {
				port, _ := strconv.Atoi(m[3])
				checkService(o, fmt.Sprintf("ConfigMap/%s %s", n, key), m[1], m[2], int32(port), k.Namespace, bad)
			}
		}
	}
	checkShards(o, bad)
	checkAuth(o, bad)

	slots := map[string]int{} // the headless Service each server-template fills, and its slots
	for _, cm := range o.configMaps {
		for _, m := range slotsRE.FindAllStringSubmatch(cm.Data["haproxy.cfg"], -1) {
			slots[m[2]], _ = strconv.Atoi(m[1])
		}
	}
	for _, r := range k.Replicas {
		d, ok := o.deployments[r.Name]
		if !ok {
			bad("kustomization replicas: no Deployment %q", r.Name)
			continue
		}
		for svc, n := range slots {
			if s, ok := o.services[svc]; ok && subset(s.Spec.Selector, d.Spec.Template.Labels) && int(r.Count) > n {
				bad("kustomization replicas: %d of %s, but HAProxy's server-template has %d slots for them", r.Count, r.Name, n)
			}
		}
	}
	return errs
}

func checkNamespaces(o *objects, ns string, bad func(string, ...any)) {
	meta := map[string]string{}
	for n, v := range o.secrets {
		meta["Secret/"+n] = v.Namespace
	}
	for n, v := range o.configMaps {
		meta["ConfigMap/"+n] = v.Namespace
	}
	for n, v := range o.claims {
		meta["PersistentVolumeClaim/"+n] = v.Namespace
	}
	for n, v := range o.services {
		meta["Service/"+n] = v.Namespace
	}
	for n, v := range o.deployments {
		meta["Deployment/"+n] = v.Namespace
	}
	for n, v := range o.jobs {
		meta["Job/"+n] = v.Namespace
	}
	for n, v := range o.pods {
		meta["Pod/"+n] = v.Namespace
	}
	for _, n := range sortedKeys(meta) {
		if meta[n] != "" && meta[n] != ns {
			bad("%s: namespace %q, not %q", n, meta[n], ns)
		}
	}
}

func checkContainer(o *objects, c container, image, ns string, bad func(string, ...any)) {
	if c.c.Image != image && c.c.Image != haproxyImage {
		bad("%s: image %q, not %q (kustomization images:) or %q", c.where, c.c.Image, image, haproxyImage)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.c.Resources.Requests[r]; !ok || q.IsZero() {
			bad("%s: no %s request", c.where, r)
		}
		if q, ok := c.c.Resources.Limits[r]; !ok || q.IsZero() {
			bad("%s: no %s limit", c.where, r)
		}
	}
	// Variables: every $(VAR) an argument expands, and every env:NAME
	// secret reference, is a variable the container defines. Kubernetes
	// leaves an undefined $(VAR) as it is, silently.
	for _, w := range slices.Concat(c.c.Command, c.c.Args) {
		for _, m := range varRE.FindAllStringSubmatch(w, -1) {
			if c.env(m[1]) == nil {
				bad("%s: %q uses $(%s), which its env does not define", c.where, w, m[1])
			}
		}
		if m := envSecretRE.FindStringSubmatch(w); m != nil {
			if e := c.env(m[1]); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				bad("%s: %q reads env:%s, which its env does not take from a Secret", c.where, w, m[1])
			}
		}
	}
	for _, e := range c.c.Env {
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			if s, ok := o.secrets[r.Name]; !ok {
				bad("%s: env %s: no Secret %q", c.where, e.Name, r.Name)
			} else if _, ok := s.Data[r.Key]; !ok {
				if _, ok := s.StringData[r.Key]; !ok {
					bad("%s: env %s: Secret %s has no key %q", c.where, e.Name, r.Name, r.Key)
				}
			}
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			if cm, ok := o.configMaps[r.Name]; !ok {
				bad("%s: env %s: no ConfigMap %q", c.where, e.Name, r.Name)
			} else if _, ok := cm.Data[r.Key]; !ok {
				bad("%s: env %s: ConfigMap %s has no key %q", c.where, e.Name, r.Name, r.Key)
			}
		}
	}
	for _, m := range c.c.VolumeMounts {
		var vol *corev1.Volume
		for i := range c.pod.Volumes {
			if c.pod.Volumes[i].Name == m.Name {
				vol = &c.pod.Volumes[i]
			}
		}
		switch {
		case vol == nil:
			bad("%s: mounts volume %q, which the pod does not have", c.where, m.Name)
		case vol.ConfigMap != nil:
			if _, ok := o.configMaps[vol.ConfigMap.Name]; !ok {
				bad("%s: volume %s: no ConfigMap %q", c.where, m.Name, vol.ConfigMap.Name)
			}
		case vol.Secret != nil:
			if _, ok := o.secrets[vol.Secret.SecretName]; !ok {
				bad("%s: volume %s: no Secret %q", c.where, m.Name, vol.Secret.SecretName)
			}
		case vol.PersistentVolumeClaim != nil:
			if _, ok := o.claims[vol.PersistentVolumeClaim.ClaimName]; !ok {
				bad("%s: volume %s: no PersistentVolumeClaim %q", c.where, m.Name, vol.PersistentVolumeClaim.ClaimName)
			}
		}
	}
	// URLs name Services, in full: NAME.NAMESPACE.svc:PORT.
	for _, w := range c.words() {
		for _, m := range urlRE.FindAllStringSubmatch(w, -1) {
			sm := serviceRE.FindStringSubmatch(m[1])
			if sm == nil {
				bad("%s: %q: the host must be a Service, as NAME.%s.svc:PORT", c.where, w, ns)
				continue
			}
			port, _ := strconv.Atoi(sm[6])
			checkService(o, c.where, sm[1], sm[3], int32(port), ns, bad)
		}
	}
	// A server listens on all addresses, on a port the pod declares.
	if len(c.c.Args) > 0 && c.c.Args[0] == "serve" {
		addr, ok := flag(c.c.Args, "--addr")
		host, port, err := net.SplitHostPort(addr)
		if !ok || err != nil || host != "0.0.0.0" {
			bad("%s: serve needs --addr 0.0.0.0:PORT to be reached from other pods, not %q", c.where, addr)
		} else if !slices.ContainsFunc(c.c.Ports, func(p corev1.ContainerPort) bool { return strconv.Itoa(int(p.ContainerPort)) == port }) {
			bad("%s: listens on %s, which is not among its container ports", c.where, port)
		}
	}
}

// checkService checks that host ns/name:port, named by where, is a
// Service with that port whose selector picks a Deployment's pods, with a
// container port to match.
func checkService(o *objects, where, name, svcNS string, port int32, ns string, bad func(string, ...any)) {
	if svcNS != ns {
		bad("%s: Service %s.%s: not in namespace %s", where, name, svcNS, ns)
		return
	}
	s, ok := o.services[name]
	if !ok {
		bad("%s: no Service %q", where, name)
		return
	}
	var sp *corev1.ServicePort
	for i := range s.Spec.Ports {
		if s.Spec.Ports[i].Port == port {
			sp = &s.Spec.Ports[i]
		}
	}
	if sp == nil {
		bad("%s: Service %s has no port %d", where, name, port)
		return
	}
	if len(s.Spec.Selector) == 0 {
		bad("%s: Service %s has no selector", where, name)
		return
	}
	for _, dn := range sortedKeys(o.deployments) {
		t := o.deployments[dn].Spec.Template
		if !subset(s.Spec.Selector, t.Labels) {
			continue
		}
		target := sp.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(sp.Port)
		}
		for _, c := range t.Spec.Containers {
			for _, cp := range c.Ports {
				if (target.Type == intstr.Int && cp.ContainerPort == target.IntVal) || (target.Type == intstr.String && cp.Name == target.StrVal) {
					return
				}
			}
		}
		bad("%s: Service %s port %d targets %s, which Deployment %s's containers do not declare", where, name, port, target.String(), dn)
		return
	}
	bad("%s: Service %s selects %v, which no Deployment's pods carry", where, name, s.Spec.Selector)
}

// checkShards checks the sharded Job, and the Job that merges its
// shards.
func checkShards(o *objects, bad func(string, ...any)) {
	var load *batchv1.Job
	var loadC *corev1.Container
	for _, n := range sortedKeys(o.jobs) {
		j := o.jobs[n]
		for i := range j.Spec.Template.Spec.Containers {
			if _, ok := flag(j.Spec.Template.Spec.Containers[i].Args, "--shard"); ok {
				if load != nil {
					bad("Job/%s: a second sharded Job beside %s", n, load.Name)
				}
				load, loadC = j, &j.Spec.Template.Spec.Containers[i]
			}
		}
	}
	if load == nil {
		bad("no Job runs mcpbench load --shard")
		return
	}
	where := "Job/" + load.Name
	s := load.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		bad("%s: completionMode must be Indexed", where)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism {
		bad("%s: completions and parallelism must both be set, and equal: every shard runs at once", where)
	}
	shard, _ := flag(loadC.Args, "--shard")
	m := shardRE.FindStringSubmatch(shard)
	n := 0
	if m == nil {
		bad("%s: --shard %q: want $(JOB_COMPLETION_INDEX)/N", where, shard)
	} else {
		n, _ = strconv.Atoi(m[1])
		if s.Completions == nil || int(*s.Completions) != n {
			bad("%s: --shard .../%d, but completions is %v: they must agree", where, n, deref(s.Completions))
		}
	}
	if e := (container{c: loadC}).env("JOB_COMPLETION_INDEX"); e == nil || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != completionIndex {
		bad("%s: JOB_COMPLETION_INDEX must come from the downward API, fieldPath %s", where, completionIndex)
	}
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		bad("%s: backoffLimit must be 0: a shard run again would miss its schedule", where)
	}
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		bad("%s: restartPolicy must be Never", where)
	}
	if v, ok := flag(loadC.Args, "--start-at"); !ok || v == "" {
		bad("%s: no --start-at: the shards would not start together", where)
	}
	out, ok := flag(loadC.Args, "-o")
	if !ok || !strings.Contains(out, "$(JOB_COMPLETION_INDEX)") {
		bad("%s: -o %q: each shard needs a results directory of its own, named by $(JOB_COMPLETION_INDEX)", where, out)
		return
	}
	claim := func(j *batchv1.Job, c *corev1.Container) string {
		for _, m := range c.VolumeMounts {
			if !strings.HasPrefix(out, m.MountPath+"/") {
				continue
			}
			for _, v := range j.Spec.Template.Spec.Volumes {
				if v.Name == m.Name && v.PersistentVolumeClaim != nil {
					return v.PersistentVolumeClaim.ClaimName
				}
			}
		}
		return ""
	}
	c := claim(load, loadC)
	if c == "" {
		bad("%s: -o %s is not on a PersistentVolumeClaim", where, out)
	} else if pvc, ok := o.claims[c]; ok && !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		bad("PersistentVolumeClaim/%s: the shards' pods write it at once, from any node: ReadWriteMany", c)
	}

	// The merge names each shard's directory, no more, no fewer.
	var want []string
	for i := range n {
		want = append(want, strings.ReplaceAll(out, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i)))
	}
	merged := false
	for _, jn := range sortedKeys(o.jobs) {
		j := o.jobs[jn]
		for i := range j.Spec.Template.Spec.Containers {
			mc := &j.Spec.Template.Spec.Containers[i]
			if len(mc.Args) == 0 || mc.Args[0] != "merge" {
				continue
			}
			merged = true
			var dirs []string
			for k := 1; k < len(mc.Args); k++ {
				if mc.Args[k] == "-o" || mc.Args[k] == "--out" {
					k++
					continue
				}
				dirs = append(dirs, mc.Args[k])
			}
			if !slices.Equal(dirs, want) {
				bad("Job/%s: merges %v, but the shards write %v", jn, dirs, want)
			}
			if got := claim(j, mc); got != c {
				bad("Job/%s: reads the shards from claim %q, not %q", jn, got, c)
			}
			if j.Spec.Suspend == nil || !*j.Spec.Suspend {
				bad("Job/%s: must be suspended until the shards are done", jn)
			}
		}
	}
	if !merged {
		bad("no Job runs mcpbench merge")
	}
}

// checkAuth checks that tokens line up: the authorization server's
// issuer is what the protected servers trust, and the servers' audience
// is the URL the generators call.
func checkAuth(o *objects, bad func(string, ...any)) {
	issuers := map[string]bool{}
	var servers, loads []container
	for _, c := range o.containers() {
		a := c.c.Args
		switch {
		case len(a) >= 2 && a[0] == "serve" && a[1] == "authserver":
			iss, ok := flag(a, "--issuer")
			if !ok {
				bad("%s: no --issuer: the issuer would be its listening address, which other pods cannot reach", c.where)
			}
			issuers[iss] = true
		case len(a) >= 1 && a[0] == "serve":
			if mode, _ := flag(a, "--auth"); mode == "jwt" || mode == "introspect" {
				servers = append(servers, c)
			}
		case len(a) >= 1 && a[0] == "load":
			if _, ok := flag(a, "--client"); ok {
				loads = append(loads, c)
			}
		}
	}
	for _, s := range servers {
		if iss, _ := flag(s.c.Args, "--issuer"); !issuers[iss] {
			bad("%s: --issuer %q is no authorization server's --issuer (%v)", s.where, iss, sortedKeys(issuers))
		}
		aud, ok := flag(s.c.Args, "--audience")
		if !ok {
			bad("%s: no --audience: the audience would be its listening address, not the URL the generators call", s.where)
			continue
		}
		for _, l := range loads {
			if !slices.Contains(l.c.Args, aud) {
				bad("%s: --audience %q is not the URL %s calls", s.where, aud, l.where)
			}
		}
	}
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestManifestsDecodeStrictly(t *testing.T) {
	o := loadObjects(t)
	if len(o.deployments) == 0 || len(o.jobs) == 0 || len(o.services) == 0 {
		t.Fatalf("too few objects: %d Deployments, %d Jobs, %d Services", len(o.deployments), len(o.jobs), len(o.services))
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	k := loadKustomization(t)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: apiVersion %q, kind %q", k.APIVersion, k.Kind)
	}
	for _, err := range listed(manifestFiles(t), k.Resources) {
		t.Error(err)
	}
}

// listed compares the manifest files with the kustomization's resources.
func listed(files, resources []string) []error {
	var errs []error
	for _, f := range files {
		if !slices.Contains(resources, f) {
			errs = append(errs, fmt.Errorf("kustomization.yaml: resources does not list %s", f))
		}
	}
	for _, r := range resources {
		if !slices.Contains(files, r) {
			errs = append(errs, fmt.Errorf("kustomization.yaml: resources lists %s, which is not a manifest here", r))
		}
	}
	return errs
}

func TestWiring(t *testing.T) {
	k := loadKustomization(t)
	if len(k.Images) != 1 {
		t.Fatalf("kustomization.yaml: want the one image, mcpbench, in images:, got %d", len(k.Images))
	}
	for _, err := range check(loadObjects(t), k, k.Images[0].Name) {
		t.Error(err)
	}
}

// TestRendered renders the kustomization with kubectl, where it is
// installed, and checks what a cluster would get.
func TestRendered(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: the kustomization is not rendered")
	}
	out, err := exec.Command(kubectl, "kustomize", ".").Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, stderr(err))
	}
	o := newObjects()
	if err := o.parse("kubectl kustomize", bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	k := loadKustomization(t)
	img := k.Images[0]
	for _, err := range check(o, k, img.NewName+":"+img.NewTag) {
		t.Error(err)
	}
	for _, c := range o.containers() {
		if c.c.Image == img.Name {
			t.Errorf("%s: image %q not replaced by kustomize", c.where, c.c.Image)
		}
	}
	for _, r := range k.Replicas {
		if d := o.deployments[r.Name]; d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != r.Count {
			t.Errorf("Deployment %s: rendered replicas are not the kustomization's %d", r.Name, r.Count)
		}
	}
	for n, d := range o.deployments {
		if d.Namespace != k.Namespace {
			t.Errorf("Deployment %s: rendered in namespace %q", n, d.Namespace)
		}
	}
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// TestHAProxyConfig checks haproxy.cfg with haproxy -c, where HAProxy is
// installed, as written and with the session-affinity lines uncommented.
func TestHAProxyConfig(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed (make tools-haproxy)")
	}
	cfg := loadObjects(t).configMaps["haproxy"].Data["haproxy.cfg"]
	sticky := regexp.MustCompile(`(?m)^(\s*)# (stick\b.*)$`).ReplaceAllString(cfg, "$1$2")
	if sticky == cfg {
		t.Error("haproxy.cfg: no commented stick lines for session affinity")
	}
	for name, c := range map[string]string{"as written": cfg, "with session affinity": sticky} {
		f := filepath.Join(t.TempDir(), "haproxy.cfg")
		if err := os.WriteFile(f, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(haproxy, "-c", "-f", f).CombinedOutput(); err != nil {
			t.Errorf("haproxy -c, %s: %v\n%s", name, err, out)
		}
	}
}

// TestREADMEManifests decodes the YAML blocks of README.md strictly.
func TestREADMEManifests(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md: no yaml blocks")
	}
	for _, m := range blocks {
		if err := newObjects().parse("README.md", bytes.NewReader(m[1])); err != nil {
			t.Error(err)
		}
	}
}

// TestContainerfileCopiesEveryPackage checks that the Containerfile's
// COPY lines hold every package of this module that cmd/mcpbench imports.
func TestContainerfileCopiesEveryPackage(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root := filepath.Join("..", "..")
	cf, err := os.ReadFile(filepath.Join(root, "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range regexp.MustCompile(`(?m)^COPY\s+(\S+)\s+(\S+)\s*$`).FindAllStringSubmatch(string(cf), -1) {
		if m[1] == m[2] {
			dirs = append(dirs, m[1])
		}
	}
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./cmd/mcpbench")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr(err))
	}
	const module = "github.com/mcpbench/mcpbench/"
	for _, p := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(p, module)
		if !ok {
			continue
		}
		top, _, _ := strings.Cut(rel, "/")
		if !slices.Contains(dirs, top) {
			t.Errorf("Containerfile: cmd/mcpbench imports %s, but no COPY %s %s", p, top, top)
		}
	}
}

// TestStrictDecodingRefuses shows the decoder refuses what kubectl
// would, or would take silently wrong.
func TestStrictDecodingRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"unknown field", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: x
          image: mcpbench
          imagePullPolcy: Always
`},
		{"field at the wrong level", `
apiVersion: batch/v1
kind: Job
metadata: {name: x}
spec:
  template:
    spec:
      backoffLimit: 0
      containers: [{name: x, image: mcpbench}]
`},
		{"wrong case", `
apiVersion: v1
kind: Service
metadata: {name: x}
spec:
  Selector: {a: b}
`},
		{"duplicate key", `
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data:
  RATE: "1"
  RATE: "2"
`},
		{"YAML 1.1 boolean for a string", `
apiVersion: v1
kind: Pod
metadata: {name: x}
spec:
  containers: [{name: x, image: mcpbench, args: [--progress, off]}]
`},
		{"unknown kind", `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: x}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := newObjects().parse(tc.name, strings.NewReader(tc.doc)); err == nil {
				t.Error("decoded without error")
			}
		})
	}
}

// TestCheckFindsMistakes breaks the real manifests one way at a time and
// expects check to say so.
func TestCheckFindsMistakes(t *testing.T) {
	loadC := func(o *objects) *corev1.Container { return &o.jobs["load"].Spec.Template.Spec.Containers[0] }
	setArg := func(args []string, name, v string) {
		for i := range args {
			if args[i] == name {
				args[i+1] = v
			}
		}
	}
	for _, tc := range []struct {
		name, want string
		breakIt    func(o *objects, k *kustomization)
	}{
		{"completions differ from --shard N", "must agree", func(o *objects, k *kustomization) {
			three := int32(3)
			o.jobs["load"].Spec.Completions, o.jobs["load"].Spec.Parallelism = &three, &three
		}},
		{"parallelism differs", "must both be set, and equal", func(o *objects, k *kustomization) {
			one := int32(1)
			o.jobs["load"].Spec.Parallelism = &one
		}},
		{"not Indexed", "Indexed", func(o *objects, k *kustomization) {
			nonIndexed := batchv1.NonIndexedCompletion
			o.jobs["load"].Spec.CompletionMode = &nonIndexed
		}},
		{"index not from the annotation", "downward API", func(o *objects, k *kustomization) {
			loadC(o).Env[0].ValueFrom.FieldRef.FieldPath = "metadata.name"
		}},
		{"retries", "backoffLimit", func(o *objects, k *kustomization) {
			six := int32(6)
			o.jobs["load"].Spec.BackoffLimit = &six
		}},
		{"merge misses a shard", "merges", func(o *objects, k *kustomization) {
			c := &o.jobs["merge"].Spec.Template.Spec.Containers[0]
			c.Args = slices.DeleteFunc(c.Args, func(a string) bool { return a == "/results/shard-3" })
		}},
		{"Service port changed", "has no port 8080", func(o *objects, k *kustomization) {
			o.services["lb"].Spec.Ports[0].Port = 8081
		}},
		{"Service selects nothing", "no Deployment's pods carry", func(o *objects, k *kustomization) {
			o.services["authserver"].Spec.Selector["app.kubernetes.io/component"] = "auth"
		}},
		{"target port not declared", "do not declare", func(o *objects, k *kustomization) {
			o.deployments["mcp"].Spec.Template.Spec.Containers[0].Ports[0].Name = "web"
		}},
		{"short host name", "the host must be a Service", func(o *objects, k *kustomization) {
			setArg(loadC(o).Args, "--mcp", "http://lb:8080/mcp")
		}},
		{"Service missing", `no Service "lb"`, func(o *objects, k *kustomization) {
			delete(o.services, "lb")
		}},
		{"undefined $(VAR)", "does not define", func(o *objects, k *kustomization) {
			c := loadC(o)
			c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "RATE" })
		}},
		{"env:NAME secret not given", "does not take from a Secret", func(o *objects, k *kustomization) {
			c := &o.deployments["authserver"].Spec.Template.Spec.Containers[0]
			c.Env = nil
		}},
		{"no requests", "no cpu request", func(o *objects, k *kustomization) {
			o.deployments["mcp"].Spec.Template.Spec.Containers[0].Resources.Requests = nil
		}},
		{"foreign image", "not \"mcpbench\"", func(o *objects, k *kustomization) {
			o.deployments["mcp"].Spec.Template.Spec.Containers[0].Image = "mcpbench:latest"
		}},
		{"Secret key missing", "has no key", func(o *objects, k *kustomization) {
			o.secrets["mcpbench-client"].StringData = nil
		}},
		{"ConfigMap missing", "no ConfigMap", func(o *objects, k *kustomization) {
			delete(o.configMaps, "load")
		}},
		{"issuer mismatch", "is no authorization server's --issuer", func(o *objects, k *kustomization) {
			setArg(o.deployments["mcp"].Spec.Template.Spec.Containers[0].Args, "--issuer", "http://authserver.mcpbench.svc:9001")
		}},
		{"audience is not the URL called", "is not the URL", func(o *objects, k *kustomization) {
			setArg(o.deployments["mcp"].Spec.Template.Spec.Containers[0].Args, "--audience", "http://mcp.mcpbench.svc:8080/mcp")
		}},
		{"authorization server without --issuer", "no --issuer", func(o *objects, k *kustomization) {
			c := &o.deployments["authserver"].Spec.Template.Spec.Containers[0]
			i := slices.Index(c.Args, "--issuer")
			c.Args = slices.Delete(c.Args, i, i+2)
		}},
		{"server on loopback", "--addr 0.0.0.0:PORT", func(o *objects, k *kustomization) {
			setArg(o.deployments["mcp"].Spec.Template.Spec.Containers[0].Args, "--addr", "127.0.0.1:8080")
		}},
		{"HAProxy names a missing port", "has no port 8443", func(o *objects, k *kustomization) {
			cm := o.configMaps["haproxy"]
			cm.Data["haproxy.cfg"] = strings.ReplaceAll(cm.Data["haproxy.cfg"], "svc.cluster.local:8080", "svc.cluster.local:8443")
		}},
		{"more replicas than HAProxy slots", "slots", func(o *objects, k *kustomization) {
			k.Replicas[0].Count = 17
		}},
		{"claim not ReadWriteMany", "ReadWriteMany", func(o *objects, k *kustomization) {
			o.claims["results"].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
		}},
		{"wrong namespace", "namespace", func(o *objects, k *kustomization) {
			o.services["lb"].Namespace = "default"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, k := loadObjects(t), loadKustomization(t)
			if errs := check(o, k, k.Images[0].Name); len(errs) != 0 {
				t.Fatalf("the manifests as they are: %v", errs)
			}
			tc.breakIt(o, k)
			errs := check(o, k, k.Images[0].Name)
			if !slices.ContainsFunc(errs, func(e error) bool { return strings.Contains(e.Error(), tc.want) }) {
				t.Errorf("want an error saying %q, got %v", tc.want, errs)
			}
		})
	}
	t.Run("manifest not listed", func(t *testing.T) {
		errs := listed([]string{"a.yaml", "b.yaml"}, []string{"a.yaml", "c.yaml"})
		if len(errs) != 2 {
			t.Errorf("want b.yaml unlisted and c.yaml missing, got %v", errs)
		}
	})
}

// TestImageBuild runs make image, with MCPBENCH_IMAGE_TEST=1 only: it
// takes a minute or more and pulls the base images.
func TestImageBuild(t *testing.T) {
	if os.Getenv("MCPBENCH_IMAGE_TEST") != "1" {
		t.Skip("set MCPBENCH_IMAGE_TEST=1 to build the image")
	}
	tool, err := exec.LookPath("podman")
	if err != nil {
		if tool, err = exec.LookPath("docker"); err != nil {
			t.Skip("neither podman nor docker is installed")
		}
		if out, err := exec.Command(tool, "info").CombinedOutput(); err != nil {
			t.Skipf("docker cannot reach its daemon: %s", lastLine(out))
		}
	}
	cmd := exec.Command("make", "image", "IMAGE=mcpbench:test")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	// A registry that cannot be reached is this machine's limit, not the
	// Containerfile's mistake.
	if m := regexp.MustCompile(`.*(pinging container registry|no such host|failed to resolve|dial tcp|TLS handshake timeout|i/o timeout|connection refused).*`).Find(out); m != nil {
		t.Skipf("%s cannot pull the base images here: %s", filepath.Base(tool), m)
	}
	t.Fatalf("make image: %v\n%s", err, out)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
