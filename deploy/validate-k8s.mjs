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
//  3. the hardening: a pinned image tag (the CMake project VERSION, also the pods'
//     app.kubernetes.io/version), app.kubernetes.io/* labels on every object, a preStop hook
//     that the grace period covers with the drain, topology spread over nodes, a
//     PodDisruptionBudget that lets a drain evict one pod, a NetworkPolicy that opens the
//     control port only to labelled operator pods, and no token Secret outside a `dev`
//     overlay (so `kubectl apply -k deploy/k8s` never deploys a public token).
//
// Usage: node deploy/validate-k8s.mjs [--require-secrets] DIR|FILE.yaml...
//   DIR is a kustomization: its `resources` (files and kustomization dirs) are followed.
//   --require-secrets: the Secrets the pods mount must be among the objects (the dev
//   overlay); without it they may be missing (the base: the operator creates them).
// Packages from deploy/tools/ (`npm ci --prefix deploy/tools`). Exit 0 when everything
// holds; one line per problem.
import { createRequire } from "node:module";
import { existsSync, readFileSync, statSync } from "node:fs";
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

// A kustomization directory → the YAML files its resources name, depth first.
function filesOf(target) {
  if (!statSync(target).isDirectory()) return [target];
  const kfile = path.join(target, "kustomization.yaml");
  if (!existsSync(kfile)) {
    problem(target, "no kustomization.yaml");
    return [];
  }
  const k = YAML.parse(readFileSync(kfile, "utf8"));
  return (k.resources ?? []).flatMap((r) => filesOf(path.join(target, r)));
}
const args = process.argv.slice(2);
const requireSecrets = args.includes("--require-secrets");
const files = args.filter((a) => a !== "--require-secrets").flatMap(filesOf);

// --- 1. schema validation --------------------------------------------------------------
const objects = [];  // { where, obj, file }
for (const file of files) {
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
    objects.push({ where: `${where} ${obj.kind}/${obj.metadata?.name}`, obj, file });
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
    if (!secret) {
      if (requireSecrets) problem(where, `Secret ${volume.secret.secretName} is not among the manifests`);
    } else if (!(key in data)) problem(where, `Secret ${volume.secret.secretName} has no key ${key}`);
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

// --- 3. hardening ----------------------------------------------------------------------
const projectVersion = /project\(reactord VERSION ([0-9.]+)/.exec(
  readFileSync(path.join(here, "..", "CMakeLists.txt"), "utf8"))?.[1];
for (const { where, obj, file } of objects) {
  const labels = obj.metadata?.labels ?? {};
  for (const key of ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of"]) {
    if (!labels[key]) problem(where, `no ${key} label`);
  }
  // Tokens in a manifest are public: only a dev overlay may carry them.
  if (obj.kind === "Secret" && path.basename(path.dirname(file)) !== "dev") {
    problem(where, "a Secret outside a dev overlay: `kubectl apply -k` would deploy its tokens");
  }
}
for (const pod of pods) {
  const { where, spec, container, labels, env } = pod;
  const [, tag] = /:([^:/]+)$/.exec(container.image ?? "") ?? [];
  if (!tag || tag === "latest") problem(where, `image ${container.image} is not pinned to a tag`);
  else if (tag !== projectVersion) problem(where, `image tag ${tag} is not the project VERSION ${projectVersion}`);
  if (labels["app.kubernetes.io/version"] !== tag) {
    problem(where, `pod label app.kubernetes.io/version ${labels["app.kubernetes.io/version"]} is not the image tag ${tag}`);
  }
  // preStop: the endpoints go before the drain starts; grace covers preStop + drain.
  const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
  const pause = preStop[0] === "sleep" ? Number(preStop[1]) : NaN;
  if (!(pause > 0)) problem(where, "no preStop `sleep N` hook (endpoints must go before the drain)");
  const drain = parseSeconds(env.REACTORD_DRAIN_TIMEOUT ?? "30s") ?? 0;
  if (pause > 0 && !((spec.terminationGracePeriodSeconds ?? 30) > pause + drain)) {
    problem(where, `terminationGracePeriodSeconds does not cover preStop ${pause}s + drain ${drain}s`);
  }
  const spread = (spec.topologySpreadConstraints ?? []).filter((c) => matches(c.labelSelector?.matchLabels, labels));
  if (!spread.some((c) => c.topologyKey === "kubernetes.io/hostname")) {
    problem(where, "no topologySpreadConstraint across nodes (kubernetes.io/hostname) selecting the pods");
  }
  const pdbs = ofKind("PodDisruptionBudget").filter((p) => matches(p.obj.spec.selector?.matchLabels, labels));
  const replicas = deployments.find((d) => d.where === where)?.obj.spec.replicas ?? 1;
  if (pdbs.length !== 1) problem(where, `${pdbs.length} PodDisruptionBudgets select the pods (want 1)`);
  else {
    const { minAvailable, maxUnavailable } = pdbs[0].obj.spec;
    if (minAvailable !== undefined && !(minAvailable >= 1 && minAvailable < replicas)) {
      problem(pdbs[0].where, `minAvailable ${minAvailable} with ${replicas} replicas: no eviction possible, or none kept`);
    }
    if (minAvailable === undefined && !(maxUnavailable >= 1)) problem(pdbs[0].where, "maxUnavailable must be >= 1");
  }
  // NetworkPolicy: control only from labelled operator pods; echo open.
  const policies = ofKind("NetworkPolicy").filter((p) => matches(p.obj.spec.podSelector?.matchLabels, labels));
  if (policies.length === 0) problem(where, "no NetworkPolicy selects the pods");
  const portNumber = (p) => (typeof p === "string" ? portOf(container, p)?.containerPort : p);
  let echoOpen = false;
  for (const { where: pw, obj } of policies) {
    for (const rule of obj.spec.ingress ?? []) {
      for (const p of rule.ports ?? []) {
        if (portNumber(p.port) === undefined) problem(pw, `port ${p.port} is not a container port`);
      }
      const ports = (rule.ports ?? []).map((p) => portNumber(p.port));
      const all = ports.length === 0;
      const control = portOf(container, "control")?.containerPort;
      const echo = portOf(container, "echo")?.containerPort;
      const froms = rule.from ?? [];
      if ((all || ports.includes(echo)) && froms.length === 0) echoOpen = true;
      if (all || ports.includes(control)) {
        const onlyOperators = froms.length > 0 && froms.every((f) =>
          Object.keys(f.podSelector?.matchLabels ?? {}).some((k) => /operator/.test(k)) && !f.ipBlock);
        if (!onlyOperators) problem(pw, "an ingress rule opens the control port beyond labelled operator pods");
      }
    }
  }
  if (policies.length && !echoOpen) problem(where, "the NetworkPolicy does not let clients reach the echo port");
}

for (const line of problems) console.error(`validate-k8s: ${line}`);
console.log(`validate-k8s: ${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
