// Evaluates GitHub Actions expressions with GitHub's own evaluator (@actions/expressions).
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
//   {"id": 1, "kind": "template" | "condition" | "expression", "text": "...",
//    "context": {"github": {...}, ...}, "status": {"success": true, "failure": false, "cancelled": false}}
//   -> {"id": 1, "ok": true, "value": <JSON>, "string": "...", "truthy": true} | {"id": 1, "ok": false, "error": "..."}
// "template": a YAML string with ${{ }} parts (a lone ${{ x }} keeps x's type, otherwise a string).
// "condition": an `if:`; without a status function it means success() && (condition), as on GitHub.
import { createInterface } from "node:readline";
import { Evaluator, Lexer, Parser, data } from "@actions/expressions";
import { truthy } from "@actions/expressions/result";

const CONTEXTS = ["github", "env", "vars", "secrets", "inputs", "steps", "needs", "runner", "job", "jobs", "strategy", "matrix"];
const STATUS_FUNCTIONS = ["success", "failure", "always", "cancelled"];

function statusFunctions(status) {
  const make = (name, value) => ({ name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value) });
  return [
    make("success", status.success),
    make("failure", status.failure),
    make("always", true),
    make("cancelled", status.cancelled),
  ];
}

function parse(text, functions) {
  const lexed = new Lexer(text).lex();
  return new Parser(lexed.tokens, CONTEXTS, functions).parse();
}

function evaluate(expr, context, functions) {
  const implementations = new Map(functions.map((f) => [f.name, f]));
  return new Evaluator(expr, context, implementations).evaluate();
}

function usesStatusFunction(node) {
  if (!node || typeof node !== "object") return false;
  if (node.functionName && STATUS_FUNCTIONS.includes(node.functionName.lexeme.toLowerCase())) return true;
  return Object.values(node).some((child) =>
    Array.isArray(child) ? child.some(usesStatusFunction) : child && typeof child === "object" && child.accept ? usesStatusFunction(child) : false,
  );
}

// Split "a ${{ x }} b" into literal and expression parts; '}}' inside a quoted string does not end one.
function segments(text) {
  const parts = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf("${{", at);
    if (open < 0) {
      parts.push({ literal: text.slice(at) });
      break;
    }
    if (open > at) parts.push({ literal: text.slice(at, open) });
    let i = open + 3;
    let quoted = false;
    for (; i < text.length - 1; i++) {
      if (text[i] === "'") quoted = !quoted;
      else if (!quoted && text[i] === "}" && text[i + 1] === "}") break;
    }
    if (i >= text.length - 1) throw new Error(`Unclosed expression: ${text.slice(open)}`);
    parts.push({ expression: text.slice(open + 3, i).trim() });
    at = i + 2;
  }
  return parts;
}

function template(text, context, functions) {
  const parts = segments(text);
  if (parts.length === 1 && parts[0].expression !== undefined) {
    return evaluate(parse(parts[0].expression, functions), context, functions);
  }
  const pieces = parts.map((p) =>
    p.literal !== undefined ? p.literal : evaluate(parse(p.expression, functions), context, functions).coerceString(),
  );
  return new data.StringData(pieces.join(""));
}

function condition(text, context, functions, status) {
  const trimmed = text.trim();
  const parts = trimmed.includes("${{") ? segments(trimmed) : [{ expression: trimmed }];
  if (parts.length === 1 && parts[0].expression !== undefined) {
    const expr = parse(parts[0].expression === "" ? "''" : parts[0].expression, functions);
    if (!usesStatusFunction(expr) && !status.success) return new data.BooleanData(false);
    return evaluate(expr, context, functions);
  }
  // `if: ${{ a }} && b` is a string template, not an expression: it is truthy when not empty.
  if (!status.success) return new data.BooleanData(false);
  return template(trimmed, context, functions);
}

function answer(request) {
  const context = JSON.parse(JSON.stringify(request.context ?? {}), data.reviver);
  const status = { success: true, failure: false, cancelled: false, ...(request.status ?? {}) };
  const functions = statusFunctions(status);
  let result;
  if (request.kind === "template") result = template(request.text, context, functions);
  else if (request.kind === "condition") result = condition(request.text, context, functions, status);
  else result = evaluate(parse(request.text, functions), context, functions);
  const value = JSON.parse(JSON.stringify(result, data.replacer));
  return { ok: true, value, string: result.coerceString(), truthy: truthy(result) };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  let request = {};
  let reply;
  try {
    request = JSON.parse(line);
    reply = { id: request.id, ...answer(request) };
  } catch (error) {
    reply = { id: request.id, ok: false, error: String(error && error.message ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
