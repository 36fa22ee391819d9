// A minimal Node.js client for the mlzoo sidecar, written from the protocol docs (nbs/serve/02_sidecar.ipynb) alone.
// usage: node serve_node_client.mjs PYTHON MODEL_DIR LM_DIR  -> prints one JSON summary line
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const [python, modelDir, lmDir] = process.argv.slice(2);
const code = "import sys; from mlzoo_nb.serve.sidecar import sidecar_main; sys.exit(sidecar_main(sys.argv[1:]))";
const child = spawn(python, ["-c", code, "--model", `iris=${modelDir}`, "--model", `lm=${lmDir}`], { stdio: ["pipe", "pipe", "inherit"] });

const pending = new Map();   // id -> {resolve, reject, partials}
const order = [];            // ids of final messages, in arrival order
createInterface({ input: child.stdout }).on("line", (line) => {
  const msg = JSON.parse(line);
  const p = pending.get(msg.id);
  if (!p) return;
  if ("partial" in msg) { p.partials.push(msg.partial.text); return; }
  order.push(msg.id);
  pending.delete(msg.id);
  if ("error" in msg) p.resolve({ error: msg.error });
  else p.resolve({ result: msg.result, partials: p.partials });
});

let next = 0;
function request(method, params = {}) {
  const id = `js-${++next}`;
  return new Promise((resolve) => {
    pending.set(id, { resolve, partials: [] });
    child.stdin.write(JSON.stringify({ v: 1, id, method, params }) + "\n");
  });
}

const list = await request("models.list");
const rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]];
const [pred, bad, unknown, gen, health] = await Promise.all([
  request("predict", { model: "iris", inputs: rows }),
  request("predict", { model: "iris", inputs: [[1, 2]] }),
  request("fly"),
  request("generate", { model: "lm", prompt: "hello", max_new_tokens: 6 }),
  request("health"),
]);
child.stdin.end();   // EOF: the sidecar finishes and exits 0
const exitCode = await new Promise((r) => child.on("exit", r));
console.log(JSON.stringify({
  models: list.result.models.map((m) => m.name).sort(),
  labels: pred.result.predictions.map((p) => p.label),
  badCode: bad.error.code, unknownCode: unknown.error.code,
  genText: gen.result.text, genPartials: gen.partials, healthy: health.result.status, exitCode, order,
}));
