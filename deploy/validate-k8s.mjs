#!/usr/bin/env node
// Validates deploy/k8s/*.yaml offline (kubectl cannot validate without an API server):
//  1. every YAML document against its Kubernetes schema with kubernetes-models' validate()
//     (PodMonitor with @kubernetes-models/prometheus-operator's monitoring.coreos.com/v1);
//  2. the cross-references a schema cannot see but a cluster would trip over: Service and
//     PodMonitor selectors match the pod labels, named ports exist, the probes and the
//     scrape annotations point at the right ports, the Secret holds the token files the
//     container reads, the grace period outlasts the drain timeout, control stays ClusterIP.
// The schemas accept unknown fields (as the API server does without strict field
// validation), so a misspelt field is caught only where check 2 looks at it.
//
// Usage: node deploy/validate-k8s.mjs FILE.yaml...   (packages from deploy/tools/, installed
// by `npm ci --prefix deploy/tools`). Exit 0 when everything holds; one line per problem.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "tools", "package.json"));
const YAML = require("yaml");

// apiVersion → module exporting one model class per kind.
function modelsFor(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return require(`@kubernetes-models/prometheus-operator/${apiVersion}`);
  }
  return require(`kubernetes-models/${apiVersion}`);  // "v1", "apps/v1", ...
}

const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

// --- 1. schema validation --------------------------------------------------------------
const objects = [];  // { where, obj }
for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(readFileSync(file, "utf8"));
  docs.forEach((doc, i) => {
    const where = `${path.basename(file)}#${i}`;
    if (doc.errors.length) return problem(where, `YAML: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj === null) return;  // empty document
    if (obj.kind === "Kustomization") return;  // kustomize's file, no cluster object
    if (!obj.apiVersion || !obj.kind) return problem(where, "no apiVersion/kind");
    let Model;
    try {
      Model = modelsFor(obj.apiVersion)[obj.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) return problem(where, `no schema for ${obj.apiVersion} ${obj.kind}`);
    try {
      new Model(obj).validate();
    } catch (e) {
      return problem(where, `${obj.kind} ${obj.metadata?.name}: ${e.message}`);
    }
    objects.push({ where: `${where} ${obj.kind}/${obj.metadata?.name}`, obj });
  });
}

// --- 2. cross-references ---------------------------------------------------------------
const ofKind = (kind) => objects.filter((o) => o.obj.kind === kind);
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const parseSeconds = (text) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text));
  if (!m) return undefined;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? "s"];
};
const portOf = (container, nameOrNumber) =>
  (container.ports ?? []).find((p) => p.name === nameOrNumber || p.containerPort === nameOrNumber);
const hostPort = (address) => Number(String(address).split(":").pop());

const deployments = ofKind("Deployment");
if (deployments.length === 0) problem("k8s", "no Deployment");
const pods = [];  // { where, labels, spec, container, env }
for (const { where, obj } of deployments) {
  const tpl = obj.spec.template;
  if (!matches(obj.spec.selector.matchLabels, tpl.metadata?.labels)) {
    problem(where, "spec.selector does not match the pod template's labels");
  }
  const container = tpl.spec.containers.find((c) => c.name === "reactord");
  if (!container) {
    problem(where, "no container named reactord");
    continue;
  }
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  pods.push({ where, labels: tpl.metadata.labels, spec: tpl.spec, container, env });

  // Ports named in the pod match the addresses reactord is told to listen on.
  for (const [name, variable] of [["echo", "REACTORD_LISTEN"], ["control", "REACTORD_CONTROL_LISTEN"],
                                  ["metrics", "REACTORD_METRICS_LISTEN"]]) {
    const port = portOf(container, name);
    if (!port) problem(where, `container has no port named ${name}`);
    else if (env[variable] && hostPort(env[variable]) !== port.containerPort) {
      problem(where, `port ${name} is ${port.containerPort} but ${variable}=${env[variable]}`);
    }
  }
  // A non-loopback control address needs a token file (reactord refuses otherwise).
  if (env.REACTORD_CONTROL_LISTEN && !/^127\.|^\[::1\]/.test(env.REACTORD_CONTROL_LISTEN) &&
      !env.REACTORD_CONTROL_TOKEN_FILE) {
    problem(where, "control listens beyond loopback without REACTORD_CONTROL_TOKEN_FILE");
  }
  // Native gRPC probes on the control (health) port.
  const control = portOf(container, "control")?.containerPort;
  for (const probe of ["readinessProbe", "livenessProbe"]) {
    const grpc = container[probe]?.grpc;
    if (!grpc) problem(where, `${probe} is not a native gRPC probe`);
    else if (grpc.port !== control) problem(where, `${probe} port ${grpc.port} is not control ${control}`);
  }
  // The kubelet must not SIGKILL a pod that is still draining.
  const drain = parseSeconds(env.REACTORD_DRAIN_TIMEOUT ?? "30s");
  const grace = tpl.spec.terminationGracePeriodSeconds ?? 30;
  if (drain === undefined) problem(where, `REACTORD_DRAIN_TIMEOUT=${env.REACTORD_DRAIN_TIMEOUT} unreadable`);
  else if (!(grace > drain)) problem(where, `terminationGracePeriodSeconds ${grace} <= drain timeout ${drain}s`);
  // Liveness must outlast a drain (NOT_SERVING on purpose) so a draining pod is not restarted.
  const live = container.livenessProbe;
  if (live && drain !== undefined && (live.periodSeconds ?? 10) * (live.failureThreshold ?? 3) <= drain) {
    problem(where, "livenessProbe would restart a pod before its drain timeout ends");
  }
  if (!container.resources?.requests || !container.resources?.limits) {
    problem(where, "container has no resource requests/limits");
  }
  if (tpl.spec.securityContext?.runAsNonRoot !== true) problem(where, "pod is not runAsNonRoot");
  // Prometheus annotations name the metrics port.
  const ann = tpl.metadata.annotations ?? {};
  if (ann["prometheus.io/scrape"] !== "true") problem(where, "no prometheus.io/scrape annotation");
  if (Number(ann["prometheus.io/port"]) !== portOf(container, "metrics")?.containerPort) {
    problem(where, `prometheus.io/port ${ann["prometheus.io/port"]} is not the metrics port`);
  }
  // Token files come from a mounted Secret that holds them.
  for (const variable of ["REACTORD_CONTROL_TOKEN_FILE", "REACTORD_CONTROL_VIEWER_TOKEN_FILE"]) {
    const file = env[variable];
    if (!file) continue;
    const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(m.mountPath + "/"));
    const volume = mount && tpl.spec.volumes?.find((v) => v.name === mount.name);
    if (!volume?.secret) {
      problem(where, `${variable}=${file} is not on a mounted Secret volume`);
      continue;
    }
    const secret = ofKind("Secret").find((s) => s.obj.metadata.name === volume.secret.secretName);
    const key = file.slice(mount.mountPath.length + 1);
    const data = { ...(secret?.obj.data ?? {}), ...(secret?.obj.stringData ?? {}) };
    if (!secret) problem(where, `Secret ${volume.secret.secretName} is not among the manifests`);
    else if (!(key in data)) problem(where, `Secret ${volume.secret.secretName} has no key ${key}`);
  }
}

const podsMatching = (selector) => pods.filter((p) => matches(selector, p.labels));
for (const { where, obj } of ofKind("Service")) {
  const selected = podsMatching(obj.spec.selector);
  if (selected.length === 0) problem(where, "selector matches no pod template");
  for (const port of obj.spec.ports) {
    for (const pod of selected) {
      if (!portOf(pod.container, port.targetPort ?? port.port)) {
        problem(where, `targetPort ${port.targetPort} is not a container port`);
      }
    }
    const isControl = selected.some((p) => portOf(p.container, port.targetPort)?.name === "control");
    if (isControl && (obj.spec.type ?? "ClusterIP") !== "ClusterIP") {
      problem(where, "the control port must only be exposed by a ClusterIP Service");
    }
  }
}
if (!ofKind("Service").some((s) => (s.obj.spec.type ?? "ClusterIP") === "ClusterIP" &&
                               s.obj.spec.ports.some((p) => p.targetPort === "control"))) {
  problem("k8s", "no ClusterIP Service for the control port");
}
for (const { where, obj } of ofKind("PodMonitor")) {
  const selected = podsMatching(obj.spec.selector.matchLabels);
  if (selected.length === 0) problem(where, "selector matches no pod template");
  for (const endpoint of obj.spec.podMetricsEndpoints ?? []) {
    if (!selected.every((p) => portOf(p.container, endpoint.port))) {
      problem(where, `port ${endpoint.port} is not a container port`);
    }
  }
}

for (const line of problems) console.error(`validate-k8s: ${line}`);
console.log(`validate-k8s: ${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
