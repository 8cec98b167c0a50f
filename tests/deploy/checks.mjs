// The checks behind manifests.test.mjs: each returns a list of problems (strings), empty when
// the input is right, so the broken fixtures can be checked for the reasons they are refused.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments, parse } from "yaml";

// Every YAML document in a file, as plain objects; YAML syntax errors throw.
export function loadYamlDocuments(file) {
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"), { merge: true });
  const out = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS({ maxAliasCount: 100 });
    if (value != null) out.push(value);
  }
  return out;
}

export function loadYaml(file) {
  return parse(fs.readFileSync(file, "utf8"), { merge: true, maxAliasCount: 100 });
}

// ---- Kubernetes: the API schemas -------------------------------------------------------------

// "apps/v1" -> kubernetes-models/apps/v1, "v1" -> kubernetes-models/v1.
async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || !/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) {
    return null;
  }
  try {
    const mod = await import(`kubernetes-models/${apiVersion}`);
    return typeof mod[kind] === "function" ? mod[kind] : null;
  } catch {
    return null;
  }
}

// Schema problems of one object: unknown apiVersion/kind, or what the OpenAPI schema refuses
// (types, required members, enums, formats).
export async function schemaProblems(obj, where) {
  const name = `${where}: ${obj?.kind ?? "?"} ${obj?.metadata?.name ?? "?"}`;
  if (!obj || typeof obj !== "object") return [`${where}: not an object`];
  const Model = await modelClass(obj.apiVersion, obj.kind);
  if (!Model) return [`${name}: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (error) {
    return [`${name}: schema: ${error.message}`];
  }
}

// ---- Kubernetes: our own rules ---------------------------------------------------------------

const byKind = (objects, kind) => objects.filter((o) => o?.kind === kind);
const matches = (selector, labels) =>
  selector && Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

// The preStop hook's sleep in seconds (exec sleep N or the sleep action), 0 without one.
function preStopSleep(container) {
  const hook = container?.lifecycle?.preStop;
  if (hook?.sleep?.seconds) return Number(hook.sleep.seconds);
  const cmd = hook?.exec?.command;
  if (Array.isArray(cmd)) {
    const i = cmd.findIndex((c) => /(^|\/)sleep$/.test(c));
    if (i >= 0 && cmd[i + 1] !== undefined) return Number(cmd[i + 1]);
    const joined = cmd.join(" ").match(/sleep\s+([0-9.]+)/);
    if (joined) return Number(joined[1]);
  }
  return 0;
}

// The value an environment variable gets in a container: env first, then envFrom ConfigMaps.
function envValue(container, objects, name) {
  const direct = container?.env?.find((e) => e.name === name);
  if (direct && direct.value !== undefined) return direct.value;
  for (const from of container?.envFrom ?? []) {
    const cm = from.configMapRef && byKind(objects, "ConfigMap").find((c) => c.metadata?.name === from.configMapRef.name);
    if (cm?.data?.[name] !== undefined) return cm.data[name];
  }
  return undefined;
}

export function ruleProblems(objects) {
  const problems = [];
  const deployments = byKind(objects, "Deployment");
  if (deployments.length !== 1) return [`expected one Deployment, found ${deployments.length}`];
  const dep = deployments[0];
  const depName = dep.metadata?.name;
  const pod = dep.spec?.template?.spec ?? {};
  const podLabels = dep.spec?.template?.metadata?.labels ?? {};
  if (!matches(dep.spec?.selector?.matchLabels, podLabels)) {
    problems.push("Deployment selector does not match its pod template's labels");
  }
  const hpas = byKind(objects, "HorizontalPodAutoscaler");
  const minReplicas = hpas[0]?.spec?.minReplicas ?? dep.spec?.replicas ?? 1;
  if ((dep.spec?.replicas ?? 1) < 2 || minReplicas < 2) problems.push("fewer than 2 replicas");

  const containers = pod.containers ?? [];
  const gw = containers.find((c) => c.name === "portico") ?? containers[0];
  if (!gw) return [...problems, "the Deployment has no container"];
  const portNames = new Map((gw.ports ?? []).map((p) => [p.name, p.containerPort]));
  const probe = (kind, wantPath) => {
    const p = gw[kind]?.httpGet;
    if (!p) return problems.push(`${kind} is not an httpGet probe`);
    if (p.path !== wantPath) problems.push(`${kind} checks ${p.path}, not ${wantPath}`);
    if (typeof p.port === "string" && !portNames.has(p.port)) problems.push(`${kind} names port ${p.port}, which the container lacks`);
  };
  probe("livenessProbe", "/health");
  probe("readinessProbe", "/ready");

  // Security: non-root, read-only root filesystem, no capabilities, no escalation, seccomp.
  const podSc = pod.securityContext ?? {};
  const sc = gw.securityContext ?? {};
  const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  if (runAsNonRoot !== true) problems.push("runAsNonRoot is not true");
  if (!(Number.isInteger(runAsUser) && runAsUser > 0)) problems.push("runAsUser is not a numeric non-root uid");
  if (sc.readOnlyRootFilesystem !== true) problems.push("readOnlyRootFilesystem is not true");
  if (sc.allowPrivilegeEscalation !== false) problems.push("allowPrivilegeEscalation is not false");
  if (sc.privileged === true) problems.push("the container is privileged");
  if (!(sc.capabilities?.drop ?? []).includes("ALL")) problems.push("capabilities do not drop ALL");
  if (sc.capabilities?.add?.length) problems.push("capabilities are added");
  const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
  if (seccomp !== "RuntimeDefault") problems.push(`seccompProfile is ${seccomp ?? "unset"}, not RuntimeDefault`);
  if (sc.readOnlyRootFilesystem === true) {
    const tmp = (gw.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
    const vol = tmp && (pod.volumes ?? []).find((v) => v.name === tmp.name);
    if (!vol?.emptyDir) problems.push("/tmp is not an emptyDir (the root filesystem is read-only)");
  }

  const req = gw.resources?.requests ?? {};
  const lim = gw.resources?.limits ?? {};
  if (!req.cpu || !req.memory) problems.push("cpu and memory requests are not both set");
  if (!lim.memory) problems.push("no memory limit");

  // Graceful shutdown: the kubelet's grace covers preStop + Portico's own drain.
  const graceMs = Number(envValue(gw, objects, "PORTICO_SHUTDOWN_GRACE_MS") ?? 30000);
  const period = pod.terminationGracePeriodSeconds ?? 30;
  const sleep = preStopSleep(gw);
  if (!(period > graceMs / 1000 + sleep)) {
    problems.push(`terminationGracePeriodSeconds ${period} is not more than PORTICO_SHUTDOWN_GRACE_MS/1000 (${graceMs / 1000}) + preStop sleep (${sleep})`);
  }
  if (sleep <= 0) problems.push("no preStop sleep before draining");

  // Settings come from the ConfigMap and Secret that are in the set.
  for (const from of gw.envFrom ?? []) {
    if (from.configMapRef && !byKind(objects, "ConfigMap").some((c) => c.metadata?.name === from.configMapRef.name)) {
      problems.push(`envFrom names ConfigMap ${from.configMapRef.name}, which is missing`);
    }
    if (from.secretRef && !byKind(objects, "Secret").some((s) => s.metadata?.name === from.secretRef.name)) {
      problems.push(`envFrom names Secret ${from.secretRef.name}, which is missing`);
    }
  }
  if (!(gw.envFrom ?? []).some((f) => f.configMapRef)) problems.push("no envFrom ConfigMap");
  if (!(gw.envFrom ?? []).some((f) => f.secretRef)) problems.push("no envFrom Secret");
  for (const secret of byKind(objects, "Secret")) {
    for (const [k, v] of Object.entries({ ...(secret.stringData ?? {}), ...(secret.data ?? {}) })) {
      if (!/REPLACE_ME/.test(String(v))) problems.push(`Secret ${secret.metadata?.name} ${k} is not a placeholder`);
    }
  }
  for (const cm of byKind(objects, "ConfigMap")) {
    for (const k of Object.keys(cm.data ?? {})) {
      if (/MASTER_KEY$|TOKEN$|PASSWORD|^PORTICO_STORE$|^PORTICO_REDIS$/.test(k)) {
        problems.push(`ConfigMap ${cm.metadata?.name} holds the secret setting ${k}`);
      }
    }
  }

  // Selectors of the Service, the PDB and the HPA's target.
  const services = byKind(objects, "Service");
  if (services.length === 0) problems.push("no Service");
  for (const svc of services) {
    if (!matches(svc.spec?.selector, podLabels)) problems.push(`Service ${svc.metadata?.name} selector does not match the Deployment's pod labels`);
    for (const p of svc.spec?.ports ?? []) {
      const ok = typeof p.targetPort === "string" ? portNames.has(p.targetPort)
        : [...portNames.values()].includes(p.targetPort ?? p.port);
      if (!ok) problems.push(`Service ${svc.metadata?.name} port ${p.port} targets ${p.targetPort}, which the container lacks`);
    }
  }
  const pdbs = byKind(objects, "PodDisruptionBudget");
  if (pdbs.length === 0) problems.push("no PodDisruptionBudget");
  for (const pdb of pdbs) {
    if (!matches(pdb.spec?.selector?.matchLabels, podLabels)) problems.push(`PodDisruptionBudget ${pdb.metadata?.name} selector does not match the Deployment's pod labels`);
    if (pdb.spec?.minAvailable !== undefined && typeof pdb.spec.minAvailable === "number" && pdb.spec.minAvailable >= minReplicas) {
      problems.push(`PodDisruptionBudget minAvailable ${pdb.spec.minAvailable} blocks every eviction with ${minReplicas} replicas`);
    }
  }
  if (hpas.length === 0) problems.push("no HorizontalPodAutoscaler");
  for (const hpa of hpas) {
    const t = hpa.spec?.scaleTargetRef ?? {};
    if (t.kind !== "Deployment" || t.name !== depName || t.apiVersion !== dep.apiVersion) {
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata?.name} targets ${t.apiVersion} ${t.kind} ${t.name}, not the Deployment ${depName}`);
    }
    if (!(hpa.spec?.metrics ?? []).some((m) => m.type === "Resource" && m.resource?.name === "cpu")) {
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata?.name} does not scale on CPU`);
    }
    if ((hpa.spec?.maxReplicas ?? 0) < (hpa.spec?.minReplicas ?? 1)) problems.push("HPA maxReplicas below minReplicas");
  }
  return problems;
}

// kustomization.yaml lists exactly the manifests in the directory.
export function kustomizationProblems(dir) {
  const k = loadYaml(path.join(dir, "kustomization.yaml"));
  const problems = [];
  if (k?.kind !== "Kustomization") problems.push("kustomization.yaml is not a Kustomization");
  const listed = new Set(k?.resources ?? []);
  const present = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
  for (const f of listed) if (!present.includes(f)) problems.push(`kustomization.yaml lists ${f}, which is missing`);
  for (const f of present) if (!listed.has(f)) problems.push(`kustomization.yaml does not list ${f}`);
  return problems;
}

// ---- Compose ---------------------------------------------------------------------------------

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
// The address each of our images binds, from its environment in the compose file.
const BIND_VARS = ["PORTICO_HOST", "LB_HOST", "POSTGRES_HOST", "REDIS_HOST"];

function envMap(env) {
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => { const i = e.indexOf("="); return i < 0 ? [e, ""] : [e.slice(0, i), e.slice(i + 1)]; }));
  }
  return env ?? {};
}

// `compose` is the parsed file, `dir` the directory it lives in (build contexts are relative).
export function composeProblems(compose, dir) {
  const problems = [];
  const version = String(compose?.version ?? "");
  if (version && !/^3(\.\d+)?$/.test(version)) problems.push(`compose file format ${version} is not 3.x`);
  const services = compose?.services ?? {};
  const names = Object.keys(services);
  for (const want of ["portico-a", "portico-b", "nginx", "postgres", "redis"]) {
    if (!names.includes(want)) problems.push(`no service ${want}`);
  }
  const ports = new Map();
  for (const [name, svc] of Object.entries(services)) {
    if (svc?.network_mode !== "host") problems.push(`${name}: network_mode is ${svc?.network_mode ?? "unset"}, not host`);
    if (svc?.ports) problems.push(`${name}: publishes ports (meaningless with host networking; bind 127.0.0.1 instead)`);
    if (svc?.networks) problems.push(`${name}: joins networks (there is no bridge)`);
    const env = envMap(svc?.environment);
    const binds = BIND_VARS.filter((v) => v in env);
    if (binds.length === 0) problems.push(`${name}: sets no bind address (${BIND_VARS.join(", ")})`);
    for (const v of binds) {
      if (!LOOPBACK.has(String(env[v]))) problems.push(`${name}: ${v} is ${env[v]}, not loopback`);
    }
    for (const v of ["PORTICO_PORT", "LB_PORT", "POSTGRES_PORT", "REDIS_PORT"]) {
      if (v in env) {
        const p = String(env[v]);
        if (ports.has(p)) problems.push(`${name}: port ${p} is also ${ports.get(p)}'s`);
        ports.set(p, name);
      }
    }
    const hasOwnCheck = svc?.healthcheck && !svc.healthcheck.disable;
    if (!hasOwnCheck) problems.push(`${name}: no healthcheck`);
    const build = typeof svc?.build === "string" ? { context: svc.build } : svc?.build;
    if (!build) {
      problems.push(`${name}: not built locally (no image can be pulled here)`);
    } else {
      if (build.network !== "host") problems.push(`${name}: build.network is not host`);
      const dockerfile = path.join(dir, build.context ?? ".", build.dockerfile ?? "Dockerfile");
      if (!fs.existsSync(dockerfile)) {
        problems.push(`${name}: no Dockerfile at ${dockerfile}`);
      } else {
        const text = fs.readFileSync(dockerfile, "utf8");
        if (/^#\s*syntax=/m.test(text)) problems.push(`${name}: Dockerfile has a # syntax= line (BuildKit would pull a frontend)`);
        for (const m of text.matchAll(/^FROM\s+(\S+)/gim)) {
          const from = m[1];
          const stage = [...text.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((s) => s[1]);
          if (!/^debian:bookworm(-slim)?$/.test(from) && !stage.includes(from)) {
            problems.push(`${name}: FROM ${from} (only debian:bookworm and -slim exist here)`);
          }
        }
        if (!/^HEALTHCHECK\s/m.test(text) && !svc?.healthcheck?.test) problems.push(`${name}: neither the image nor compose has a health check command`);
      }
    }
  }
  const dependsOn = (svc, dep) => {
    const d = services[svc]?.depends_on;
    return !Array.isArray(d) && d?.[dep]?.condition === "service_healthy";
  };
  for (const replica of ["portico-a", "portico-b"]) {
    for (const dep of ["postgres", "redis"]) {
      if (services[replica] && !dependsOn(replica, dep)) problems.push(`${replica} does not wait for ${dep} to be healthy`);
    }
    if (services.nginx && !dependsOn("nginx", replica)) problems.push(`nginx does not wait for ${replica} to be healthy`);
  }
  return problems;
}

// nginx.conf (a template the nginx image renders): loopback listen, both replicas, SSE-safe.
// The text of the block `header {` ... up to its closing brace on a line of its own.
function block(text, header) {
  const start = text.search(header);
  if (start < 0) return "";
  const end = text.slice(start).search(/^\s*\}\s*$/m);
  return end < 0 ? "" : text.slice(start, start + end);
}

export function nginxProblems(text, entrypointText) {
  const problems = [];
  const upstream = block(text, /upstream\s+portico\s*\{/);
  if (!/server\s+\$\{PORTICO_A\}[\s\S]*server\s+\$\{PORTICO_B\}/.test(upstream)) problems.push("nginx.conf: missing an upstream with both replicas");
  if (!/\bkeepalive\s+\d+;/.test(upstream)) problems.push("nginx.conf: missing upstream keepalive");
  const need = [
    [/listen\s+\$\{LB_HOST\}:\$\{LB_PORT\}/, "listens on ${LB_HOST}:${LB_PORT}"],
    [/proxy_http_version\s+1\.1;/, "proxy_http_version 1.1 (keepalive to the replicas)"],
    [/proxy_set_header\s+Connection\s+"";/, 'proxy_set_header Connection ""'],
    [/proxy_buffering\s+off;/, "proxy_buffering off (SSE)"],
    [/proxy_read_timeout\s+\d+s;/, "proxy_read_timeout"],
    [/proxy_connect_timeout\s+\d+s;/, "proxy_connect_timeout"],
    [/location\s+=\s+\/health\s*\{[^}]*proxy_pass\s+http:\/\/portico;/s, "/health passed through"],
  ];
  for (const [re, what] of need) if (!re.test(text)) problems.push(`nginx.conf: missing ${what}`);
  if (/proxy_next_upstream[^;]*non_idempotent/.test(text)) problems.push("nginx.conf: retries POSTs (non_idempotent)");
  if (/underscores_in_headers\s+off|proxy_pass_request_headers\s+off/.test(text)) problems.push("nginx.conf: drops request headers");
  const used = new Set([...text.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]));
  const list = entrypointText.match(/envsubst\s+'([^']*)'/);
  const rendered = new Set(list ? [...list[1].matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]) : []);
  for (const v of used) if (!rendered.has(v)) problems.push(`nginx.conf: \${${v}} is not filled in by the entrypoint`);
  return problems;
}

// Every variable compose.yaml requires (${VAR:?...}) is in .env.example, with no value for
// the secrets.
export function envExampleProblems(composeText, envText) {
  const problems = [];
  const defined = new Map();
  for (const line of envText.split("\n")) {
    const m = line.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (m) defined.set(m[1], m[2]);
  }
  const used = new Set([...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}/g)].map((m) => m[1]));
  for (const v of used) if (!defined.has(v)) problems.push(`.env.example does not document ${v}`);
  for (const m of composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)) {
    if (defined.get(m[1])) problems.push(`.env.example gives the secret ${m[1]} a value`);
  }
  return problems;
}
