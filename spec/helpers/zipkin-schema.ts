/**
 * Validates spans as ziptrace emits them, against:
 *
 * 1. ziptrace's own JSON Schema for Zipkin v2 spans (`zipkin-v2-span.schema.ts`),
 *    always: the official definition's constraints plus ziptrace's stricter
 *    promises; and beside it what JSON Schema cannot say (no property holding
 *    `undefined`, plain objects only, nothing JSON cannot carry);
 * 2. Zipkin's official API definition (`../shared/zipkin-api/zipkin2-api.yaml`,
 *    beside the repository root, as in CI) when it is there. A plain clone
 *    has no `../shared`: then this check is skipped, and the run says so once
 *    (`zipkin-api-notice.ts`).
 *
 * The official YAML is Swagger 2. Its `definitions` are JSON Schema (draft 4
 * flavoured) with a few Swagger-only additions, so they are converted rather
 * than copied:
 *
 * - `#/definitions/X` refs point into one registered document, so any
 *   definition can be compiled on its own;
 * - siblings of a `$ref` are dropped, as Swagger 2 says they are ignored (here
 *   they are only descriptions);
 * - `example` becomes JSON Schema's `examples`, `x-*` extensions are dropped;
 * - the formats the file uses (`int64`, `int32`, `ipv4`, `ipv6`) are registered
 *   with real validators, and ajv runs in strict mode, so an unknown keyword or
 *   format in a future copy of the file fails loudly instead of being skipped.
 *
 * Nothing in the definition is loosened: `required`, `enum`, `pattern`,
 * `minLength`/`maxLength`, `minimum`, `uniqueItems` and `additionalProperties`
 * apply exactly as written.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { OFFICIAL_DEFINITION_PRESENT, OFFICIAL_DEFINITION_SKIPPED, ZIPKIN_API_YAML } from './zipkin-api.js';
import { ZIPKIN_V2_SPANS_SCHEMA_ID, type ZipkinV2Definition, zipkinV2SpansSchema } from './zipkin-v2-span.schema.js';

export { OFFICIAL_DEFINITION_PRESENT, OFFICIAL_DEFINITION_SKIPPED, officialTitle, ZIPKIN_API_YAML } from './zipkin-api.js';

/** The `$id` the converted official definitions are registered under. */
const DOC_ID = 'https://zipkin.io/zipkin2-api.json';

const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63; // exclusive: 2^63 - 1 is not representable as a double
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Keywords of Swagger 2's Schema Object that JSON Schema does not have. */
const SWAGGER_ONLY_DROPPED = new Set(['discriminator', 'xml', 'externalDocs']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An ajv in strict mode, knowing the formats both schemas use, keeping the failing data for messages. */
function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, validateFormats: true, verbose: true });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT64_MIN && n < INT64_LIMIT });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX });
  ajv.addFormat('ipv4', { type: 'string', validate: (s: string) => isIPv4(s) });
  ajv.addFormat('ipv6', { type: 'string', validate: (s: string) => isIPv6(s) });
  return ajv;
}

function formatAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  let detail = '';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'enum') detail = ` (${(params.allowedValues as unknown[]).map(String).join(', ')})`;
  else if (error.keyword === 'const') detail = ` (${JSON.stringify(params.allowedValue)})`;
  else if (error.keyword === 'additionalProperties') detail = ` (${String(params.additionalProperty)})`;
  if (['pattern', 'const', 'minimum', 'maximum', 'minLength', 'maxLength', 'format'].includes(error.keyword)) {
    detail += `, got ${preview(error.data, 80)}`;
  }
  return `${where} ${error.message ?? error.keyword}${detail}`;
}

function preview(value: unknown, max: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch {
    text = undefined;
  }
  text ??= String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * What a schema validates: the same value with prototype-less objects made
 * plain (ziptrace builds tags that way; ajv's uniqueItems compares with
 * `valueOf`, which they lack). Nothing else changes: `undefined`, NaN, bigint
 * and other objects stay for the checks to see.
 */
function forSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(forSchema);
  const proto = value !== null && typeof value === 'object' ? (Object.getPrototypeOf(value) as unknown) : undefined;
  if (proto === null || proto === Object.prototype) {
    const out: JsonObject = {};
    // defineProperty, so that an own `__proto__` key stays a key.
    for (const key of Object.keys(value as JsonObject)) {
      Object.defineProperty(out, key, { value: forSchema((value as JsonObject)[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

// --- ziptrace's own schema ---------------------------------------------------

const ownAjv = newAjv();
ownAjv.addSchema(zipkinV2SpansSchema);
const validateOwnSpans = ownAjv.getSchema(ZIPKIN_V2_SPANS_SCHEMA_ID)!;

/** A validator for one definition of ziptrace's schema (`Span`, `Endpoint`, `Annotation`, `Tags`). */
export function ownSchemaValidator(definition: ZipkinV2Definition): ValidateFunction {
  const validate = ownAjv.getSchema(`${ZIPKIN_V2_SPANS_SCHEMA_ID}#/definitions/${definition}`);
  if (validate === undefined) throw new Error(`zipkin-schema: ziptrace's schema has no definition ${definition}`);
  return validate;
}

/** Messages from ziptrace's own JSON Schema alone, as ajv gives them. Empty when valid. */
export function ownSchemaErrors(spans: unknown): string[] {
  if (validateOwnSpans(forSchema(spans))) return [];
  return (validateOwnSpans.errors ?? []).map(formatAjvError);
}

/**
 * What JSON Schema cannot say, as a schema validates JSON values and these
 * are JavaScript ones: no `null`, no property holding `undefined` (JSON drops
 * it; ziptrace leaves the property out), nothing JSON cannot carry (NaN,
 * Infinity, bigint, functions, symbols), only plain (or prototype-less)
 * objects, anywhere. (`null` breaks the schemas too; it is named here plainly.)
 */
export function jsonValueErrors(spans: unknown): string[] {
  const problems: string[] = [];
  walkValues(spans, '', problems);
  return problems;
}

function walkValues(value: unknown, at: string, problems: string[]): void {
  const where = at === '' ? '(root)' : at;
  if (value === null) problems.push(`${where} is null: ziptrace leaves absent fields out`);
  else if (value === undefined) problems.push(`${where} is undefined: ziptrace leaves absent fields out`);
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems.push(`${where} is ${value}, which JSON cannot carry`);
  } else if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
    problems.push(`${where} is a ${typeof value}, which JSON cannot carry`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => walkValues(item, `${at}/${i}`, problems));
  } else if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) problems.push(`${where} is not a plain object`);
    for (const key of Object.keys(value)) walkValues((value as JsonObject)[key], `${at}/${key}`, problems);
  }
}

/** Everything ziptrace's own checks find: its schema's messages, then the JSON-value ones. Empty when valid. */
export function ziptraceSchemaErrors(spans: unknown): string[] {
  return [...ownSchemaErrors(spans), ...jsonValueErrors(spans)];
}

// --- the official definition, where it is beside the repository -------------

interface Loaded {
  /** The Swagger document as parsed. */
  readonly document: JsonObject;
  /** The converted definitions, as registered with ajv. */
  readonly schema: JsonObject;
  /** Validates the body of `POST /api/v2/spans`. */
  readonly validateSpans: ValidateFunction;
  /** The ajv the definitions are registered with. */
  readonly ajv: Ajv;
}

let loaded: Loaded | undefined;

/** Rewrites one Swagger Schema Object (and the schemas inside it) as JSON Schema. */
function convertSchema(node: unknown, at: string, definitions: JsonObject): JsonObject {
  if (!isObject(node)) throw new Error(`zipkin-schema: ${at} is not a schema object`);
  if (typeof node.$ref === 'string') {
    const match = /^#\/definitions\/([^/]+)$/.exec(node.$ref);
    if (match === null || !(match[1]! in definitions)) throw new Error(`zipkin-schema: ${at} has an unresolvable $ref ${node.$ref}`);
    // Swagger 2: "any properties added [beside $ref] SHALL be ignored".
    return { $ref: `${DOC_ID}#/definitions/${match[1]}` };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-') || SWAGGER_ONLY_DROPPED.has(key)) continue;
    switch (key) {
      case 'example':
        out.examples = [value];
        break;
      case 'properties': {
        if (!isObject(value)) throw new Error(`zipkin-schema: ${at}.properties is not an object`);
        const properties: JsonObject = {};
        for (const [name, schema] of Object.entries(value)) properties[name] = convertSchema(schema, `${at}.properties.${name}`, definitions);
        out.properties = properties;
        break;
      }
      case 'items':
        out.items = Array.isArray(value)
          ? value.map((schema, i) => convertSchema(schema, `${at}.items[${i}]`, definitions))
          : convertSchema(value, `${at}.items`, definitions);
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof value === 'boolean' ? value : convertSchema(value, `${at}.additionalProperties`, definitions);
        break;
      case 'allOf':
        if (!Array.isArray(value)) throw new Error(`zipkin-schema: ${at}.allOf is not an array`);
        out.allOf = value.map((schema, i) => convertSchema(schema, `${at}.allOf[${i}]`, definitions));
        break;
      default:
        // Everything else is JSON Schema as is (type, format, enum, pattern,
        // lengths, minimum, required, uniqueItems, title, description...).
        // Anything ajv does not know makes strict mode throw at compile time.
        out[key] = value;
    }
  }
  return out;
}

/** The `$ref` of the `POST /spans` body in the file, i.e. what a collector accepts. */
function postSpansBodyRef(document: JsonObject): string {
  const paths = document.paths;
  const post = isObject(paths) && isObject(paths['/spans']) ? paths['/spans'].post : undefined;
  const parameters = isObject(post) && Array.isArray(post.parameters) ? post.parameters : [];
  const body = parameters.find((p): p is JsonObject => isObject(p) && p.in === 'body');
  const ref = body !== undefined && isObject(body.schema) ? body.schema.$ref : undefined;
  if (typeof ref !== 'string') throw new Error('zipkin-schema: no body schema for POST /spans in the API definition');
  return ref;
}

function load(): Loaded {
  if (loaded !== undefined) return loaded;
  if (!OFFICIAL_DEFINITION_PRESENT) {
    throw new Error(`zipkin-schema: the official Zipkin API definition is not available (${OFFICIAL_DEFINITION_SKIPPED}: ${ZIPKIN_API_YAML}); guard this check with OFFICIAL_DEFINITION_PRESENT`);
  }
  let text: string;
  try {
    text = readFileSync(ZIPKIN_API_YAML, 'utf8');
  } catch (error) {
    throw new Error(`zipkin-schema: cannot read the Zipkin API definition at ${ZIPKIN_API_YAML} (expected beside the repository root): ${String(error)}`);
  }
  const document: unknown = parse(text);
  if (!isObject(document) || document.swagger !== '2.0' || !isObject(document.definitions)) {
    throw new Error(`zipkin-schema: ${ZIPKIN_API_YAML} is not a Swagger 2.0 document with definitions`);
  }
  const source = document.definitions;
  const definitions: JsonObject = {};
  for (const [name, schema] of Object.entries(source)) definitions[name] = convertSchema(schema, `definitions.${name}`, source);
  const schema: JsonObject = { $id: DOC_ID, definitions };

  const ajv = newAjv();
  ajv.addSchema(schema);
  const bodyRef = postSpansBodyRef(document).replace(/^#/, `${DOC_ID}#`);
  const validateSpans = ajv.compile({ $ref: bodyRef });
  loaded = { document, schema, validateSpans, ajv };
  return loaded;
}

/** The official definitions converted to JSON Schema (`{ $id, definitions }`), for inspection. Needs the definition present. */
export function zipkinJsonSchema(): JsonObject {
  return structuredClone(load().schema);
}

/** The `example` span given in the official definition. Needs the definition present. */
export function zipkinSpanExample(): JsonObject {
  const span = (load().document.definitions as JsonObject).Span;
  if (!isObject(span) || !isObject(span.example)) throw new Error('zipkin-schema: the Span definition has no example');
  return structuredClone(span.example);
}

/** A validator for one of the official definitions (`Span`, `Endpoint`, …). Needs the definition present. */
export function officialSchemaValidator(definition: string): ValidateFunction {
  const validate = load().ajv.getSchema(`${DOC_ID}#/definitions/${definition}`);
  if (validate === undefined) throw new Error(`zipkin-schema: the official definition has no ${definition}`);
  return validate;
}

/** Messages from the official definition alone, as ajv gives them. Empty when valid. Needs the definition present. */
export function officialSchemaErrors(spans: unknown): string[] {
  const { validateSpans } = load();
  if (validateSpans(forSchema(spans))) return [];
  return (validateSpans.errors ?? []).map(formatAjvError);
}

// --- both ---------------------------------------------------------------------

/**
 * Every problem with a list of spans: ziptrace's own schema's and JSON checks'
 * (prefixed `ziptrace:`), and, where the official definition is beside the
 * repository, the official definition's (prefixed `zipkin2-api.yaml:`).
 * Empty when the spans are fit to send.
 */
export function zipkinSpanSchemaErrors(spans: unknown): string[] {
  return [
    ...ziptraceSchemaErrors(spans).map((message) => `ziptrace: ${message}`),
    ...(OFFICIAL_DEFINITION_PRESENT ? officialSchemaErrors(spans).map((message) => `zipkin2-api.yaml: ${message}`) : []),
  ];
}

/** Throws an Error listing every problem when `spans` is not a valid `POST /api/v2/spans` body from ziptrace. */
export function validateZipkinSpans(spans: unknown): void {
  const errors = zipkinSpanSchemaErrors(spans);
  if (errors.length === 0) return;
  throw new Error(`invalid Zipkin v2 spans (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n  - ${errors.join('\n  - ')}\nspans: ${preview(spans, 2000)}`);
}
