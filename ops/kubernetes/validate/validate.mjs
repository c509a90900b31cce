// Validates Kubernetes manifests offline against the JSON schemas that kubernetes-models
// (built-in kinds) and @kubernetes-models/prometheus-operator (ServiceMonitor, PrometheusRule, ...)
// bundle: no cluster, no network.
//   node validate.mjs <manifest.yaml>... [--prometheus-rule <rules.yml>]...
// --prometheus-rule wraps a Prometheus rule file in a PrometheusRule, as docs/kubernetes.md
// shows, and validates that. Prints one line per document and exits 1 if any is invalid or
// of a kind it cannot check.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const packages = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const module = packages[group]
    ? `${packages[group]}/${group}/${version}`
    : `kubernetes-models/${group ? `${group}/` : ""}${version}`;
  const models = await import(module);
  if (!models[kind]) {
    throw new Error(`${module} has no ${kind}`);
  }
  return models[kind];
}

function sources(args) {
  const result = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--prometheus-rule") {
      const file = args[++i];
      const rules = readFileSync(file, "utf8");
      const wrapped = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: grpc-keepalive\nspec:\n"
        + rules.split("\n").map((line) => (line.length > 0 ? `  ${line}` : line)).join("\n");
      result.push([`${file} (as a PrometheusRule)`, wrapped]);
    } else {
      result.push([args[i], readFileSync(args[i], "utf8")]);
    }
  }
  return result;
}

let failures = 0;
let documents = 0;
for (const [file, text] of sources(process.argv.slice(2))) {
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      console.log(`INVALID ${file}: YAML: ${document.errors.map((e) => e.message).join("; ")}`);
      failures++;
      continue;
    }
    const manifest = document.toJS();
    if (manifest == null) {
      continue;
    }
    documents++;
    const what = `${file}: ${manifest.apiVersion} ${manifest.kind} ${manifest.metadata?.name}`;
    try {
      const Model = await modelFor(manifest.apiVersion, manifest.kind);
      new Model(manifest).validate();
      console.log(`valid ${what}`);
    } catch (error) {
      console.log(`INVALID ${what}: ${error.message}`);
      failures++;
    }
  }
}
console.log(`${documents} documents, ${failures} invalid`);
process.exit(failures > 0 || documents === 0 ? 1 : 0);
