// deploy/ checked offline: the Kubernetes manifests against the API schemas (kubernetes-models)
// and our own rules, compose.yaml's shape, nginx.conf, .env.example; and the broken fixtures
// refused for the reasons they were broken for. Run by run.sh (PORTICO_REPO: the repository).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import {
  composeProblems, envExampleProblems, kustomizationProblems, loadYaml, loadYamlDocuments,
  nginxProblems, ruleProblems, schemaProblems,
} from "./checks.mjs";

const repo = process.env.PORTICO_REPO;
const fixtures = process.env.PORTICO_DEPLOY_FIXTURES;
assert.ok(repo && fixtures, "run through tests/deploy/run.sh");
const k8sDir = path.join(repo, "deploy", "kubernetes");
const deployDir = path.join(repo, "deploy");

function loadDir(dir) {
  const objects = [];
  for (const f of fs.readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(f) || f === "kustomization.yaml") continue;
    for (const obj of loadYamlDocuments(path.join(dir, f))) objects.push({ file: f, obj });
  }
  return objects;
}

// Fails with every problem listed, so a broken manifest says why.
const none = (problems, what) => assert.deepEqual(problems, [], `${what}:\n  ${problems.join("\n  ")}`);
// Every pattern is among the problems (the fixture is refused for that reason).
function refusedFor(problems, patterns, what) {
  assert.ok(problems.length > 0, `${what} was accepted`);
  for (const re of patterns) {
    assert.ok(problems.some((p) => re.test(p)), `${what}: no problem matches ${re}; got:\n  ${problems.join("\n  ")}`);
  }
}

test("every manifest in deploy/kubernetes parses and passes the Kubernetes API schema", async () => {
  const objects = loadDir(k8sDir);
  const kinds = objects.map((o) => o.obj.kind).sort();
  assert.deepEqual(kinds, ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret", "Service"]);
  const problems = [];
  for (const { file, obj } of objects) problems.push(...(await schemaProblems(obj, file)));
  none(problems, "schema problems");
});

test("the manifests keep our rules (probes, security, grace period, selectors, secrets)", () => {
  none(ruleProblems(loadDir(k8sDir).map((o) => o.obj)), "rule problems");
});

test("kustomization.yaml lists exactly the manifests", () => {
  none(kustomizationProblems(k8sDir), "kustomization problems");
});

test("a manifest that breaks the schema is refused by the schema validator", async () => {
  const objects = loadYamlDocuments(path.join(fixtures, "broken-schema.yaml"));
  const problems = [];
  for (const obj of objects) problems.push(...(await schemaProblems(obj, "broken-schema.yaml")));
  refusedFor(problems, [
    /spec\/replicas must be integer/,
    /containers\/0 must have required property .?name/,
    /unknown apiVersion\/kind policy\/v1\/PodDisruptionBudgett/,
    /targetPort must (be string|be integer|match exactly one)/,
  ], "broken-schema.yaml");
});

test("manifests that pass the schema but break our rules are refused for each rule", async () => {
  const objects = loadYamlDocuments(path.join(fixtures, "broken-rules.yaml"));
  const schema = [];
  for (const obj of objects) schema.push(...(await schemaProblems(obj, "broken-rules.yaml")));
  none(schema, "broken-rules.yaml is meant to pass the schema");
  refusedFor(ruleProblems(objects), [
    /livenessProbe checks \/healthz, not \/health/,
    /readinessProbe checks \/health, not \/ready/,
    /runAsNonRoot is not true/,
    /runAsUser is not a numeric non-root uid/,
    /readOnlyRootFilesystem is not true/,
    /capabilities do not drop ALL/,
    /terminationGracePeriodSeconds 30 is not more than PORTICO_SHUTDOWN_GRACE_MS\/1000 \(30\)/,
    /Service portico selector does not match/,
    /PodDisruptionBudget portico selector does not match/,
    /HorizontalPodAutoscaler portico targets apps\/v1 Deployment gateway/,
    /Secret portico-secrets PORTICO_MASTER_KEY is not a placeholder/,
  ], "broken-rules.yaml");
});

test("deploy/compose.yaml: every service host-networked, loopback only, built locally, healthy in order", () => {
  none(composeProblems(loadYaml(path.join(deployDir, "compose.yaml")), deployDir), "compose problems");
});

test("a compose file with a bridge network and published ports is refused", () => {
  refusedFor(composeProblems(loadYaml(path.join(fixtures, "compose-bridge.yaml")), fixtures), [
    /portico-a: network_mode is unset, not host/,
    /portico-a: publishes ports/,
    /portico-b: PORTICO_HOST is 0\.0\.0\.0, not loopback/,
    /redis: not built locally/,
    /nginx does not wait for portico-b to be healthy/,
  ], "compose-bridge.yaml");
});

test("deploy/nginx/nginx.conf: loopback listener, both replicas, keepalive, unbuffered", () => {
  const conf = fs.readFileSync(path.join(deployDir, "nginx", "nginx.conf"), "utf8");
  const entry = fs.readFileSync(path.join(deployDir, "images", "nginx", "entrypoint.sh"), "utf8");
  none(nginxProblems(conf, entry), "nginx problems");
  refusedFor(nginxProblems(conf.replace("proxy_buffering off;", "proxy_buffering on;").replace("server ${PORTICO_B}", "server ${PORTICO_C}"), entry),
    [/proxy_buffering off/, /both replicas/, /PORTICO_C/], "a buffering nginx.conf");
});

test("deploy/.env.example documents every variable compose.yaml uses, secrets empty", () => {
  const composeText = fs.readFileSync(path.join(deployDir, "compose.yaml"), "utf8");
  const envText = fs.readFileSync(path.join(deployDir, ".env.example"), "utf8");
  none(envExampleProblems(composeText, envText), ".env.example problems");
  refusedFor(envExampleProblems(composeText, envText.replace(/^REDIS_PORT=.*$/m, "").replace(/^POSTGRES_PASSWORD=$/m, "POSTGRES_PASSWORD=hunter2")),
    [/does not document REDIS_PORT/, /gives the secret POSTGRES_PASSWORD a value/], "a bad .env.example");
});

// docker-compose's own parser and schema, when it is installed (.ci/run's compose smoke test
// installs it); skipped otherwise.
const dockerCompose = ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"].find((p) => fs.existsSync(p));
test("docker-compose config accepts deploy/compose.yaml", { skip: !dockerCompose && "docker-compose is not installed" }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "portico-compose-"));
  try {
    const env = fs.readFileSync(path.join(deployDir, ".env.example"), "utf8")
      .replace(/^(PORTICO_MASTER_KEY|PORTICO_ADMIN_TOKEN|POSTGRES_PASSWORD|REDIS_PASSWORD)=$/gm, "$1=placeholder");
    fs.writeFileSync(path.join(tmp, "env"), env);
    const run = spawnSync(dockerCompose, ["-f", path.join(deployDir, "compose.yaml"), "--env-file", path.join(tmp, "env"), "config", "-q"],
      { encoding: "utf8", env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` } });
    assert.equal(run.status, 0, `docker-compose config: ${run.stderr}`);
    // Without the secrets it refuses to start.
    fs.writeFileSync(path.join(tmp, "env"), fs.readFileSync(path.join(deployDir, ".env.example"), "utf8"));
    const bare = spawnSync(dockerCompose, ["-f", path.join(deployDir, "compose.yaml"), "--env-file", path.join(tmp, "env"), "config", "-q"],
      { encoding: "utf8", env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` } });
    assert.notEqual(bare.status, 0, "docker-compose config passed without the secrets");
    assert.match(bare.stderr, /set PORTICO_MASTER_KEY in deploy\/\.env/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
