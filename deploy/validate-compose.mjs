#!/usr/bin/env node
// Checks deploy/compose.yaml offline (no Docker engine here) for what `docker compose up`
// needs to give a scraping Prometheus with no edits: the files it mounts and the secret
// file exist, reactord reads its token from the attached secret when control is not on
// loopback, Prometheus' scrape target is reactord's service name and metrics port, every
// bind mount exists and Grafana (the mixin's dashboard) is a pinned upstream image.
//
// Usage: node deploy/validate-compose.mjs [--env SERVICE]
//   --env SERVICE  print SERVICE's environment as KEY=VALUE lines (deploy/test-image.sh runs
//                  the image with exactly the compose settings) instead of checking.
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "tools", "package.json"));
const YAML = require("yaml");

const compose = YAML.parse(readFileSync(path.join(here, "compose.yaml"), "utf8"));
const envOf = (service) => {
  const env = compose.services?.[service]?.environment ?? {};
  return Array.isArray(env) ? Object.fromEntries(env.map((e) => e.split(/=(.*)/s, 2))) : env;
};

const args = process.argv.slice(2);
if (args[0] === "--env") {
  for (const [k, v] of Object.entries(envOf(args[1]))) console.log(`${k}=${v}`);
  process.exit(0);
}

const problems = [];
// "${VAR:-default}" → the default (what an unconfigured `docker compose up` uses).
const interpolate = (text) => String(text).replace(/\$\{\w+:-([^}]*)\}/g, "$1");
const fromHere = (p) => path.resolve(here, interpolate(p));

const reactord = compose.services?.reactord;
const prometheus = compose.services?.prometheus;
if (!reactord) problems.push("no reactord service");
if (!prometheus) problems.push("no prometheus service");

if (reactord) {
  const context = fromHere(reactord.build?.context ?? ".");
  const dockerfile = path.resolve(context, reactord.build?.dockerfile ?? "Dockerfile");
  if (!existsSync(dockerfile)) problems.push(`reactord build: ${dockerfile} missing`);
  const env = envOf("reactord");
  const control = env.REACTORD_CONTROL_LISTEN ?? "127.0.0.1:50051";
  if (!/^127\.|^\[::1\]/.test(control)) {
    const tokenFile = env.REACTORD_CONTROL_TOKEN_FILE;
    const attached = (reactord.secrets ?? []).map((s) => (typeof s === "string" ? s : s.source));
    const secret = tokenFile?.match(/^\/run\/secrets\/(.+)$/)?.[1];
    if (!secret || !attached.includes(secret)) {
      problems.push(`control on ${control} needs REACTORD_CONTROL_TOKEN_FILE=/run/secrets/<an attached secret>`);
    } else if (!compose.secrets?.[secret]?.file) {
      problems.push(`secret ${secret} is not a file secret`);
    } else if (!existsSync(fromHere(compose.secrets[secret].file))) {
      problems.push(`secret ${secret}: ${fromHere(compose.secrets[secret].file)} missing`);
    }
  }
  if (!reactord.stop_grace_period) problems.push("reactord: no stop_grace_period (drain needs time)");
}

if (prometheus) {
  const config = (prometheus.volumes ?? [])
    .map((v) => (typeof v === "string" ? v.split(":") : [v.source, v.target]))
    .find(([, target]) => target === "/etc/prometheus/prometheus.yml");
  if (!config) problems.push("prometheus: no /etc/prometheus/prometheus.yml mount");
  else if (!existsSync(fromHere(config[0]))) problems.push(`prometheus: ${config[0]} missing`);
  else {
    const scrape = YAML.parse(readFileSync(fromHere(config[0]), "utf8"));
    const metricsPort = (envOf("reactord").REACTORD_METRICS_LISTEN ?? "127.0.0.1:9464").split(":").pop();
    const targets = (scrape.scrape_configs ?? []).flatMap((j) =>
      (j.static_configs ?? []).flatMap((s) => s.targets ?? []));
    if (!targets.includes(`reactord:${metricsPort}`)) {
      problems.push(`prometheus.yml scrapes ${targets.join(", ")}, not reactord:${metricsPort}`);
    }
  }
}

// Every bind mount of every service (Prometheus' rules, Grafana's provisioning and
// dashboards) names a file or folder that exists; named volumes are declared.
for (const [name, service] of Object.entries(compose.services ?? {})) {
  for (const volume of service.volumes ?? []) {
    const source = typeof volume === "string" ? volume.split(":")[0] : volume.source;
    if (/^[.\/]/.test(source)) {
      if (!existsSync(fromHere(source))) problems.push(`${name}: mount source ${source} missing`);
    } else if (!(source in (compose.volumes ?? {}))) {
      problems.push(`${name}: volume ${source} is not declared`);
    }
  }
}
const grafana = compose.services?.grafana;
if (!grafana) problems.push("no grafana service (the mixin's dashboard)");
else if (!/^grafana\/grafana:\d/.test(grafana.image ?? "")) problems.push(`grafana: image ${grafana.image} is not a pinned grafana/grafana`);

for (const p of problems) console.error(`validate-compose: ${p}`);
console.log(`validate-compose: ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
