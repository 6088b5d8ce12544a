package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v2"

	"github.com/procwatch/procwatch/internal/zktest"
)

// runTool runs a program and returns its combined output, failing the test
// if it does not exit 0.
func runTool(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPrometheusConfig(t *testing.T) {
	t.Parallel()
	needTool(t, promtoolBin, "prometheus")
	// check config loads the rule files it names, so this checks both.
	out := runTool(t, repoFile(t, "deploy/prometheus"), promtoolBin, "check", "config", "prometheus.yml")
	if strings.Contains(out, "WARNING") {
		t.Errorf("promtool check config warns:\n%s", out)
	}
	t.Logf("promtool check config:\n%s", out)
}

func TestAlertRules(t *testing.T) {
	t.Parallel()
	needTool(t, promtoolBin, "prometheus")
	dir := repoFile(t, "deploy/prometheus")
	out := runTool(t, dir, promtoolBin, "check", "rules", "procwatch-alerts.yml")
	t.Logf("promtool check rules:\n%s", out)
	// The rules' unit tests: each alert fires when it should, and not
	// before, with the annotations it promises.
	out = runTool(t, dir, promtoolBin, "test", "rules", "procwatch-alerts_test.yml")
	t.Logf("promtool test rules:\n%s", out)

	// Every alert of the issue is there and has a unit test.
	rules, err := os.ReadFile(filepath.Join(dir, "procwatch-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(dir, "procwatch-alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ alert, expr string }{
		{"ProcwatchProcessMissing", "procwatch_glob_processes == 0"},
		{"ProcwatchStateStale", "procwatch_state_stale == 1"},
		{"ProcwatchAgentDown", `up{job=~"procwatch.*"} == 0`},
		{"ProcwatchInvalidPayload", "procwatch_state_invalid == 1 or increase(procwatch_state_invalid_payloads_total[10m]) > 0"},
		{"ProcwatchNoGlobs", "procwatch_globs == 0 and max_over_time(procwatch_globs[1h]) > 0"},
		{"ProcwatchAgentBehind", "procwatch_state_version < on(job) group_left() max by (job) (procwatch_state_version)"},
		{"ProcwatchSkippedGroup", "procwatch_skipped_groups > 0"},
		{"ProcwatchZombiesAccumulating", `procwatch_glob_states{state="zombie"} > (procwatch_glob_states{state="zombie"} offset 10m) and min_over_time(procwatch_glob_states{state="zombie"}[10m]) > 0`},
		{"ProcwatchNearFDLimit", "procwatch_glob_max_fd_ratio > 0.9"},
		{"ProcwatchRestarting", "increase(procwatch_glob_process_starts_total[15m]) > 3"},
	} {
		r := findRule(t, rules, want.alert)
		if r.Expr != want.expr {
			t.Errorf("%s: expr %q; want %q", want.alert, r.Expr, want.expr)
		}
		if !bytes.Contains(tests, []byte("alertname: "+want.alert)) {
			t.Errorf("%s has no unit test in procwatch-alerts_test.yml", want.alert)
		}
	}
	if r := findRule(t, rules, "ProcwatchProcessMissing"); r.For != "1m" {
		t.Errorf("ProcwatchProcessMissing waits %q; want 1m", r.For)
	}
	// Agents are scraped at different moments: right after a write some
	// show the new version and some the old one.
	if r := findRule(t, rules, "ProcwatchAgentBehind"); r.For != "5m" {
		t.Errorf("ProcwatchAgentBehind waits %q; want 5m, beyond a rollout seen across scrapes", r.For)
	}
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert  string `yaml:"alert"`
	Record string `yaml:"record"`
	Expr   string `yaml:"expr"`
	For    string `yaml:"for"`
}

func findRule(t *testing.T, data []byte, alert string) rule {
	t.Helper()
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatal(err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				return r
			}
		}
	}
	t.Fatalf("no alert %s", alert)
	return rule{}
}

// TestKubernetesScrapeConfig checks the Kubernetes scrape job with promtool.
// Debian's Prometheus is built without Kubernetes discovery and rejects
// kubernetes_sd_configs, so the job is checked with its discovery swapped
// for a static target: everything else (relabelling included) is promtool's
// to judge.
func TestKubernetesScrapeConfig(t *testing.T) {
	t.Parallel()
	needTool(t, promtoolBin, "prometheus")
	data, err := os.ReadFile(repoFile(t, "deploy/kubernetes/prometheus-scrape.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var frag struct {
		ScrapeConfigs []yaml.MapSlice `yaml:"scrape_configs"`
	}
	if err := yaml.UnmarshalStrict(data, &frag); err != nil {
		t.Fatal(err)
	}
	if len(frag.ScrapeConfigs) == 0 {
		t.Fatal("no scrape_configs")
	}
	for _, job := range frag.ScrapeConfigs {
		swapped := false
		for i, item := range job {
			switch item.Key {
			case "job_name":
				if name, _ := item.Value.(string); !strings.HasPrefix(name, "procwatch") {
					t.Errorf("job %q: ProcwatchAgentDown only watches jobs named procwatch*", name)
				}
			case "kubernetes_sd_configs":
				job[i] = yaml.MapItem{Key: "static_configs", Value: []any{map[string]any{"targets": []string{"node-a:9256"}}}}
				swapped = true
			}
		}
		if !swapped {
			t.Errorf("job %v has no kubernetes_sd_configs", job)
		}
	}
	out, err := yaml.Marshal(frag)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, "", promtoolBin, "check", "config", file)

	// The annotations the relabelling keeps and reads are the DaemonSet's
	// (Prometheus turns every character outside [a-zA-Z0-9_] into "_").
	ds := kubernetesObjects(t)["DaemonSet/procwatch"]
	for key, value := range ds.Spec.Template.Metadata.Annotations {
		meta := "__meta_kubernetes_pod_annotation_" + regexp.MustCompile(`[^a-zA-Z0-9_]`).ReplaceAllString(key, "_")
		if strings.HasPrefix(key, "prometheus.io/") && !bytes.Contains(data, []byte(meta)) {
			t.Errorf("the pod annotation %s=%s is not used by the scrape job (%s)", key, value, meta)
		}
	}
}

// k8sObject is the part of a Kubernetes object the tests read.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		// A DaemonSet's selector holds matchLabels; a Service's is the
		// labels themselves.
		Selector map[string]any `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// A Service's.
		ServicePort []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type podSpec struct {
	HostPID     bool   `yaml:"hostPID"`
	HostNetwork bool   `yaml:"hostNetwork"`
	DNSPolicy   string `yaml:"dnsPolicy"`
	Containers  []struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Args    []string `yaml:"args"`
		EnvFrom []struct {
			ConfigMapRef struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		Env []struct {
			Name      string `yaml:"name"`
			ValueFrom struct {
				FieldRef struct {
					FieldPath string `yaml:"fieldPath"`
				} `yaml:"fieldRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe probe `yaml:"readinessProbe"`
		LivenessProbe  probe `yaml:"livenessProbe"`
		Security       struct {
			RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
			Privileged               *bool `yaml:"privileged"`
			Capabilities             struct {
				Drop []string `yaml:"drop"`
				Add  []string `yaml:"add"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name     string `yaml:"name"`
		HostPath struct {
			Path string `yaml:"path"`
			Type string `yaml:"type"`
		} `yaml:"hostPath"`
	} `yaml:"volumes"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// kubernetesObjects parses deploy/kubernetes/procwatch.yaml, keyed by
// Kind/name.
func kubernetesObjects(t *testing.T) map[string]k8sObject {
	t.Helper()
	data, err := os.ReadFile(repoFile(t, "deploy/kubernetes/procwatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("procwatch.yaml: %v", err)
		}
		if o.Kind == "" || o.APIVersion == "" || o.Metadata.Name == "" {
			t.Errorf("procwatch.yaml: an object without kind, apiVersion or name: %+v", o)
		}
		objs[o.Kind+"/"+o.Metadata.Name] = o
	}
	return objs
}

// agentFlags returns the long flags procwatch --help lists.
func agentFlags(t *testing.T, b bins) []string {
	t.Helper()
	out, err := exec.Command(b.procwatch, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("procwatch --help: %v\n%s", err, out)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?(--[a-z][a-z.-]*)`).FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	if !slices.Contains(flags, "--path.procfs") {
		t.Fatalf("procwatch --help lists %q, not --path.procfs", flags)
	}
	return flags
}

// agentEnv returns the environment variables procwatch --help says the
// agent reads ("[PROCWATCH_ZK]" after a flag's description).
func agentEnv(t *testing.T, b bins) []string {
	t.Helper()
	out, err := exec.Command(b.procwatch, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("procwatch --help: %v\n%s", err, out)
	}
	var vars []string
	for _, m := range regexp.MustCompile(`\[(PROCWATCH_[A-Z_]+)\]`).FindAllStringSubmatch(string(out), -1) {
		vars = append(vars, m[1])
	}
	if !slices.Contains(vars, "PROCWATCH_ZK") || !slices.Contains(vars, "PROCWATCH_PATH") {
		t.Fatalf("procwatch --help names %q, not PROCWATCH_ZK and PROCWATCH_PATH", vars)
	}
	return vars
}

func TestKubernetesManifest(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	objs := kubernetesObjects(t)
	for _, want := range []string{"Namespace/procwatch", "ConfigMap/procwatch", "ServiceAccount/procwatch", "DaemonSet/procwatch", "Service/procwatch"} {
		if _, ok := objs[want]; !ok {
			t.Errorf("procwatch.yaml has no %s (has %q)", want, sortedKeys(objs))
		}
	}
	for key, o := range objs {
		if o.Kind != "Namespace" && o.Metadata.Namespace != "procwatch" {
			t.Errorf("%s is in namespace %q, not procwatch", key, o.Metadata.Namespace)
		}
	}
	env := agentEnv(t, b)
	for k := range objs["ConfigMap/procwatch"].Data {
		if !slices.Contains(env, k) {
			t.Errorf("ConfigMap key %s is no variable the agent reads (%q)", k, env)
		}
	}

	ds := objs["DaemonSet/procwatch"]
	pod := ds.Spec.Template.Spec
	podLabels := ds.Spec.Template.Metadata.Labels
	if sel := stringMap(ds.Spec.Selector["matchLabels"]); len(sel) == 0 || !hasAll(podLabels, sel) {
		t.Errorf("the DaemonSet's selector %v does not select its pods %v", sel, podLabels)
	}
	if !pod.HostPID {
		t.Error("the DaemonSet does not use the host's PID namespace (hostPID)")
	}
	// The process events connector exists only in the host's network
	// namespace; without it starts and exits are sampled.
	if !pod.HostNetwork {
		t.Error("the DaemonSet does not use the host's network namespace (hostNetwork): no process events there")
	}
	if pod.HostNetwork && pod.DNSPolicy != "ClusterFirstWithHostNet" {
		t.Errorf("dnsPolicy %q with hostNetwork; want ClusterFirstWithHostNet, or cluster names of ZooKeeper do not resolve", pod.DNSPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers; want the agent only", len(pod.Containers))
	}
	c := pod.Containers[0]

	flags := agentFlags(t, b)
	args := map[string]string{}
	for _, a := range c.Args {
		name, value, _ := strings.Cut(a, "=")
		if !slices.Contains(flags, name) {
			t.Errorf("container arg %s: procwatch has no flag %s", a, name)
		}
		args[name] = value
	}

	// The agent's identity for groups: the node's name as its hostname,
	// and only variables the agent reads, the commented-out label example
	// included.
	hostname := ""
	for _, e := range c.Env {
		if !slices.Contains(env, e.Name) {
			t.Errorf("container env %s is no variable the agent reads (%q)", e.Name, env)
		}
		if e.Name == "PROCWATCH_HOSTNAME" {
			hostname = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if hostname != "spec.nodeName" {
		t.Errorf("PROCWATCH_HOSTNAME comes from %q; want the node's name (fieldRef spec.nodeName), which groups select hosts by", hostname)
	}
	manifest, err := os.ReadFile(repoFile(t, "deploy/kubernetes/procwatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*#- name: ([A-Z][A-Z_]*)$`).FindAllStringSubmatch(string(manifest), -1) {
		if !slices.Contains(env, m[1]) {
			t.Errorf("the DaemonSet's example sets %s, which the agent does not read", m[1])
		}
	}

	// /proc from the host, read-only, where --path.procfs points.
	procfs := args["--path.procfs"]
	var procVolume string
	for _, v := range pod.Volumes {
		if v.HostPath.Path == "/proc" {
			procVolume = v.Name
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == procVolume && m.MountPath == procfs {
			mounted = true
			if !m.ReadOnly {
				t.Errorf("the host's /proc is mounted read-write at %s", m.MountPath)
			}
		}
	}
	if procVolume == "" || procfs == "" || !mounted {
		t.Errorf("the host's /proc (volume %q) is not mounted where --path.procfs=%q points", procVolume, procfs)
	}

	// user: globs name the host's users: the host's passwd file, read-only,
	// over the image's, which knows only root, nobody and nonroot.
	passwd := false
	for _, v := range pod.Volumes {
		if v.HostPath.Path != "/etc/passwd" || v.HostPath.Type != "File" {
			continue
		}
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name && m.MountPath == "/etc/passwd" && m.ReadOnly {
				passwd = true
			}
		}
	}
	if !passwd {
		t.Error("the host's /etc/passwd (hostPath, type File) is not mounted read-only at /etc/passwd: user: globs would see uids where the host has names")
	}

	// Least privilege: only the two capabilities the agent needs. The
	// process events need none on Linux 6.6 and later (NET_ADMIN before,
	// which the manifest says how to add, and which is not granted).
	sc := c.Security
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("securityContext.allowPrivilegeEscalation is not false")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("securityContext.readOnlyRootFilesystem is not true")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("the container is privileged")
	}
	if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("capabilities.drop %q; want [ALL]", sc.Capabilities.Drop)
	}
	for _, capability := range sc.Capabilities.Add {
		if capability != "SYS_PTRACE" && capability != "DAC_READ_SEARCH" && capability != "NET_ADMIN" {
			t.Errorf("capabilities.add has %s; the agent needs only SYS_PTRACE, DAC_READ_SEARCH and NET_ADMIN", capability)
		}
	}

	// One port, the same everywhere: the listen address, the container
	// port, the probes, the scrape annotations and the Service.
	_, port, err := net.SplitHostPort(args["--web.listen-address"])
	if err != nil {
		t.Fatalf("--web.listen-address=%q: %v", args["--web.listen-address"], err)
	}
	if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != port {
		t.Errorf("container ports %+v; want %s, where the agent listens", c.Ports, port)
	}
	portName := c.Ports[0].Name
	for _, p := range []struct {
		name  string
		probe probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
		if p.probe.HTTPGet.Path != p.path || (p.probe.HTTPGet.Port != portName && p.probe.HTTPGet.Port != port) {
			t.Errorf("%s probe %+v; want GET %s on %s", p.name, p.probe.HTTPGet, p.path, portName)
		}
	}
	svc := objs["Service/procwatch"]
	for what, ann := range map[string]map[string]string{"pod": ds.Spec.Template.Metadata.Annotations, "Service": svc.Metadata.Annotations} {
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
			t.Errorf("%s annotations %v; want prometheus.io/scrape true, port %s, path /metrics", what, ann, port)
		}
	}
	if len(svc.Spec.ServicePort) != 1 || strconv.Itoa(svc.Spec.ServicePort[0].Port) != port || svc.Spec.ServicePort[0].TargetPort != portName {
		t.Errorf("Service ports %+v; want %s to %s", svc.Spec.ServicePort, port, portName)
	}
	if sel := stringMap(svc.Spec.Selector); len(sel) == 0 || !hasAll(podLabels, sel) {
		t.Errorf("the Service selects %v, not the agents' pods %v", sel, podLabels)
	}
}

// stringMap converts a YAML mapping of strings, as decoded into an any, to
// a map; anything else gives nil.
func stringMap(v any) map[string]string {
	var m map[string]string
	switch v := v.(type) {
	case map[any]any:
		for k, val := range v {
			ks, ok1 := k.(string)
			vs, ok2 := val.(string)
			if !ok1 || !ok2 {
				return nil
			}
			if m == nil {
				m = map[string]string{}
			}
			m[ks] = vs
		}
	case map[string]any:
		for k, val := range v {
			vs, ok := val.(string)
			if !ok {
				return nil
			}
			if m == nil {
				m = map[string]string{}
			}
			m[k] = vs
		}
	}
	return m
}

// hasAll reports whether labels has every key and value of sel.
func hasAll(labels, sel map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestSystemdUnit checks the unit with systemd's own parser. systemd-analyze
// verify refuses an ExecStart whose binary does not exist, so it checks a
// copy pointing at the built agent; it reports unknown keys and bad values
// as warnings, which fail the test too.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is missing: run `make deps` (apt-get install systemd)")
	}
	unit, err := os.ReadFile(repoFile(t, "deploy/systemd/procwatch.service"))
	if err != nil {
		t.Fatal(err)
	}
	const installed = "/usr/local/bin/procwatch"
	if !bytes.Contains(unit, []byte("ExecStart="+installed+" ")) {
		t.Fatalf("the unit does not start %s", installed)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "procwatch.service")
	if err := os.WriteFile(file, bytes.ReplaceAll(unit, []byte(installed), []byte(b.procwatch)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", file)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	settings := unitSettings(t, unit)
	for key, want := range map[string]string{
		"Restart":                  "always",
		"EnvironmentFile":          "/etc/default/procwatch",
		"NoNewPrivileges":          "yes",
		"ProtectSystem":            "strict",
		"ProtectHome":              "yes",
		"AmbientCapabilities":      "CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_NET_ADMIN",
		"CapabilityBoundingSet":    "CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_NET_ADMIN",
		"StateDirectory":           "procwatch",
		"RestartPreventExitStatus": "2",
		// AF_NETLINK: the process events connector.
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
	} {
		if got := settings[key]; got != want {
			t.Errorf("%s=%q; want %q", key, got, want)
		}
	}
	// These would hide the very processes the agent is for.
	for key, bad := range map[string]string{"ProtectProc": "invisible", "ProcSubset": "pid", "PrivateUsers": "yes"} {
		if settings[key] == bad {
			t.Errorf("%s=%s hides other users' processes from the agent", key, bad)
		}
	}
	flags := agentFlags(t, b)
	for _, f := range strings.Fields(settings["ExecStart"])[1:] {
		name, _, _ := strings.Cut(f, "=")
		if strings.HasPrefix(name, "--") && !slices.Contains(flags, name) {
			t.Errorf("ExecStart passes %s: procwatch has no such flag", name)
		}
	}

	// The example environment file sets only what the agent and the unit
	// read, commented-out examples included.
	envFile, err := os.ReadFile(repoFile(t, "deploy/systemd/procwatch.env"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^PROCWATCH_LABELS=`).Match(envFile) {
		t.Error("procwatch.env does not show PROCWATCH_LABELS, the host's labels for groups")
	}
	known := append(agentEnv(t, b), "PROCWATCH_ARGS")
	for _, m := range regexp.MustCompile(`(?m)^#?([A-Z][A-Z_]*)=`).FindAllStringSubmatch(string(envFile), -1) {
		if !slices.Contains(known, m[1]) {
			t.Errorf("procwatch.env sets %s, which neither the agent nor the unit reads", m[1])
		}
	}
	// So do the unit's commented-out credential settings, which must also
	// pass systemd-analyze once enabled.
	for _, m := range regexp.MustCompile(`(?m)^#Environment=([A-Z_]+)=`).FindAllStringSubmatch(string(unit), -1) {
		if !slices.Contains(known, m[1]) {
			t.Errorf("the unit's example sets %s, which the agent does not read", m[1])
		}
	}
	enabled := regexp.MustCompile(`(?m)^#((?:LoadCredential|Environment)=)`).ReplaceAll(unit, []byte("$1"))
	if err := os.WriteFile(file, bytes.ReplaceAll(enabled, []byte(installed), []byte(b.procwatch)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(analyze, "verify", file)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify, with the credential examples enabled: %v\n%s", err, out)
	}
}

// unitSettings returns the key=value settings of a unit file (the last
// value of a repeated key).
func unitSettings(t *testing.T, unit []byte) map[string]string {
	t.Helper()
	settings := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("unit line %q is no key=value", line)
		}
		settings[k] = v
	}
	return settings
}

// TestZooKeeperExampleConfig starts the example three-server ensemble with
// ZooKeeper itself, on this machine: the example's hosts and ports become
// free loopback ports and its dataDir a temporary directory per server;
// every other setting is the example's. The servers must elect a leader and
// serve, which also proves the four-letter commands the example enables
// answer.
func TestZooKeeperExampleConfig(t *testing.T) {
	t.Parallel()
	const jar = "/usr/share/java/zookeeper.jar"
	needTool(t, jar, "zookeeper")
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatal("java is missing: run `make deps` (apt-get install zookeeper)")
	}
	example, err := os.ReadFile(repoFile(t, "deploy/zookeeper/zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}

	serverLine := regexp.MustCompile(`^server\.(\d+)=([^:]+):(\d+):(\d+)$`)
	var ids []string
	for _, line := range strings.Split(string(example), "\n") {
		if m := serverLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			ids = append(ids, m[1])
		}
	}
	if !slices.Equal(ids, []string{"1", "2", "3"}) {
		t.Fatalf("the example has servers %q; want 1, 2 and 3", ids)
	}
	type server struct{ dir, client, quorum, election string }
	servers := map[string]*server{}
	for _, id := range ids {
		servers[id] = &server{dir: t.TempDir(), client: freeAddr(t), quorum: freeAddr(t), election: freeAddr(t)}
	}
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

	for _, id := range ids {
		s := servers[id]
		var cfg strings.Builder
		for _, line := range strings.Split(string(example), "\n") {
			trimmed := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(trimmed, "dataDir="):
				line = "dataDir=" + s.dir
			case strings.HasPrefix(trimmed, "clientPort="):
				line = "clientPort=" + port(s.client) + "\nclientPortAddress=127.0.0.1"
			case serverLine.MatchString(trimmed):
				m := serverLine.FindStringSubmatch(trimmed)
				o := servers[m[1]]
				line = fmt.Sprintf("server.%s=127.0.0.1:%s:%s", m[1], port(o.quorum), port(o.election))
			}
			cfg.WriteString(line + "\n")
		}
		if err := os.WriteFile(filepath.Join(s.dir, "myid"), []byte(id+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(s.dir, "zoo.cfg")
		if err := os.WriteFile(file, []byte(cfg.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		startProc(t, "zookeeper "+id, []string{java, "-Xmx128m", "-XX:+UseSerialGC",
			"-cp", jar + ":/usr/share/java/slf4j-simple.jar",
			"org.apache.zookeeper.server.quorum.QuorumPeerMain", file})
	}

	eventually(t, 60*time.Second, "the example ensemble to elect a leader", func() (bool, string) {
		modes := map[string]int{}
		var seen []string
		for _, id := range ids {
			info, err := zktest.Srvr(servers[id].client, time.Second)
			if err != nil {
				seen = append(seen, id+": "+err.Error())
				continue
			}
			modes[info.Mode]++
			seen = append(seen, id+": "+info.Mode)
		}
		return modes["leader"] == 1 && modes["follower"] == 2, strings.Join(seen, ", ")
	})
}

// exportedNames scrapes a running agent, set up so that every series it can
// export is present (a glob that matches a process, a group that applies to
// the agent, a list verified with ZooKeeper), and returns the names of its
// metric families with, for
// histograms and summaries, the names of their series (_bucket, _sum,
// _count), which is what PromQL selects.
func exportedNames(t *testing.T) (families map[string]*dto.MetricFamily, names []string) {
	t.Helper()
	b := binaries(t)
	zk := zktest.Start(t, 1)
	servers := zk.ConnectString()
	name := fmt.Sprintf("procwatch-e2e-metrics-%d", os.Getpid())
	sleeper(t, name)
	runProcctl(t, b, servers, "init", name)
	// procwatch_group_applies has a series per group applying to the
	// agent, none without one. "*" selects whatever the agent's hostname.
	kazooSet(t, servers, "/procwatch/payload", fmt.Appendf(nil, `{"globs": [%q], "groups": {"e2e": {"hosts": ["*"], "globs": [%q]}}}`, name, name))
	// --collect.pss: the README documents procwatch_glob_proportional_memory_bytes,
	// which only such an agent exports.
	a := startAgent(t, b, "agent", servers, "/procwatch", "--collect.pss")
	eventually(t, 20*time.Second, "every series of the agent", func() (bool, string) {
		var err error
		families, err = a.scrape()
		if err != nil {
			return false, err.Error()
		}
		oldest := families["procwatch_glob_oldest_start_time_seconds"]
		_, age := families["procwatch_state_age_seconds"]
		_, groups := families["procwatch_group_applies"]
		return oldest != nil && len(oldest.Metric) == 1 && age && groups, fmt.Sprintf("%d families", len(families))
	}, a.proc)
	for n, f := range families {
		names = append(names, n)
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names = append(names, n+"_bucket", n+"_sum", n+"_count")
		case dto.MetricType_SUMMARY:
			names = append(names, n+"_sum", n+"_count")
		}
	}
	slices.Sort(names)
	return families, names
}

// prometheusSeries are the series Prometheus itself adds to every target.
var prometheusSeries = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling", "scrape_series_added"}

// TestDeployUsesExportedMetrics checks every metric name the alert rules,
// the Grafana dashboard and the README use against what a running agent
// exports, and that the README lists every procwatch metric.
func TestDeployUsesExportedMetrics(t *testing.T) {
	t.Parallel()
	families, exported := exportedNames(t)
	known := append(slices.Clone(exported), prometheusSeries...)

	check := func(t *testing.T, where string, exprs map[string]string) {
		t.Helper()
		if len(exprs) == 0 {
			t.Fatalf("%s: no expressions found", where)
		}
		used := 0
		for what, expr := range exprs {
			names := metricNames(expr)
			if len(names) == 0 && !strings.Contains(expr, "time()") {
				t.Errorf("%s: %s uses no metric: %s", where, what, expr)
			}
			for _, n := range names {
				used++
				if !slices.Contains(known, n) {
					t.Errorf("%s: %s uses %s, which the agent does not export: %s", where, what, n, expr)
				}
			}
		}
		t.Logf("%s: %d expressions checked, %d metric uses", where, len(exprs), used)
	}

	t.Run("alert rules", func(t *testing.T) {
		data, err := os.ReadFile(repoFile(t, "deploy/prometheus/procwatch-alerts.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var rf ruleFile
		if err := yaml.Unmarshal(data, &rf); err != nil {
			t.Fatal(err)
		}
		exprs := map[string]string{}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				exprs[r.Alert+r.Record] = r.Expr
			}
		}
		check(t, "procwatch-alerts.yml", exprs)
	})

	t.Run("dashboard", func(t *testing.T) {
		data, err := os.ReadFile(repoFile(t, "deploy/grafana/procwatch-dashboard.json"))
		if err != nil {
			t.Fatal(err)
		}
		var dash any
		if err := json.Unmarshal(data, &dash); err != nil {
			t.Fatalf("the dashboard is not JSON: %v", err)
		}
		exprs := map[string]string{}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				if e, ok := v["expr"].(string); ok {
					exprs[path+".expr"] = e
				}
				// Template variables: query is a string, or an object
				// holding one; only label_values and metric queries
				// name metrics ("prometheus" names the data source type).
				if v["type"] == "query" {
					switch q := v["query"].(type) {
					case string:
						exprs[path+".query"] = q
					case map[string]any:
						exprs[path+".query"], _ = q["query"].(string)
					}
				}
				for k, c := range v {
					walk(path+"."+k, c)
				}
			case []any:
				for i, c := range v {
					walk(fmt.Sprintf("%s[%d]", path, i), c)
				}
			}
		}
		walk("dashboard", dash)
		check(t, "procwatch-dashboard.json", exprs)
	})

	t.Run("README", func(t *testing.T) {
		data, err := os.ReadFile(repoFile(t, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		readme := string(data)
		// Every procwatch metric the agent exports is documented...
		for n := range families {
			if strings.HasPrefix(n, "procwatch_") && !strings.Contains(readme, "`"+n+"`") && !strings.Contains(readme, "`"+n+"{") {
				t.Errorf("README.md does not list the metric %s", n)
			}
		}
		// ...and every metric the README names is exported.
		for _, m := range regexp.MustCompile("`(procwatch_[a-z_]+)").FindAllStringSubmatch(readme, -1) {
			if !slices.Contains(exported, m[1]) {
				t.Errorf("README.md names %s, which the agent does not export", m[1])
			}
		}
		// And its PromQL examples only use exported metrics.
		exprs := map[string]string{}
		for i, m := range regexp.MustCompile(`(?m)^\s+expr: (.+)$`).FindAllStringSubmatch(readme, -1) {
			exprs[fmt.Sprintf("example %d", i+1)] = m[1]
		}
		check(t, "README.md", exprs)
	})
}

// TestREADMEStartsWithMakeRunAndTest holds the README to its first promise:
// before anything else, two commands, one to see procwatch work and one to
// test it.
func TestREADMEStartsWithMakeRunAndTest(t *testing.T) {
	data, err := os.ReadFile(repoFile(t, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 5)
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "```") || lines[1] != "make run" || lines[2] != "make test" || lines[3] != "```" {
		t.Errorf("README.md starts with %q; want a code block of make run and make test", lines[:min(4, len(lines))])
	}
}
