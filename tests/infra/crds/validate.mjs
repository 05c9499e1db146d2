// Validates objects against the compiled JSON-schema validators of the published CRDs.
// stdin: [{"module": "<file under node_modules>", "object": {...}}]; stdout: one list of errors per object.
// Run by tests/infra/crds.py (see there for where the schemas come from).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const items = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const item of items) {
  const { validate } = await import(pathToFileURL(resolve(here, "node_modules", item.module)).href);
  const valid = validate(item.object);
  const errors = valid ? [] : validate.errors;
  results.push(errors.map((e) => `${e.instancePath || "/"}: ${e.keyword} ${JSON.stringify(e.params)}`));
}
process.stdout.write(JSON.stringify(results));
