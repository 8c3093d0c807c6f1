/**
 * Validates spans against the official Zipkin v2 API definition
 * (`../shared/zipkin-api/zipkin2-api.yaml`, beside the repository root), plus
 * the few things ziptrace promises on top of it.
 *
 * The YAML is Swagger 2. Its `definitions` are JSON Schema (draft 4 flavoured)
 * with a few Swagger-only additions, so they are converted rather than copied:
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
 * apply exactly as written. Note the file's id patterns are unanchored and
 * Span, Endpoint and Annotation allow unknown properties; where that is looser
 * than what ziptrace promises, {@link ziptraceContractErrors} checks it.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/** The repository root: this file is `spec/helpers/zipkin-schema.ts`. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the API definition is read from: beside the clone, as in CI. */
export const ZIPKIN_API_YAML = resolve(REPO_ROOT, '..', 'shared', 'zipkin-api', 'zipkin2-api.yaml');

/** The `$id` the converted definitions are registered under. */
const DOC_ID = 'https://zipkin.io/zipkin2-api.json';

const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63; // exclusive: 2^63 - 1 is not representable as a double
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Keywords of Swagger 2's Schema Object that JSON Schema does not have. */
const SWAGGER_ONLY_DROPPED = new Set(['discriminator', 'xml', 'externalDocs']);

type JsonObject = Record<string, unknown>;

interface Loaded {
  /** The Swagger document as parsed. */
  readonly document: JsonObject;
  /** The converted definitions, as registered with ajv. */
  readonly schema: JsonObject;
  /** Validates the body of `POST /api/v2/spans`. */
  readonly validateSpans: ValidateFunction;
  /** Property names the definition lists, per object definition. */
  readonly knownProperties: Readonly<Record<'Span' | 'Endpoint' | 'Annotation', ReadonlySet<string>>>;
}

let loaded: Loaded | undefined;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

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

  const ajv = new Ajv({ allErrors: true, strict: true, validateFormats: true });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT64_MIN && n < INT64_LIMIT });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX });
  ajv.addFormat('ipv4', { type: 'string', validate: (s: string) => isIPv4(s) });
  ajv.addFormat('ipv6', { type: 'string', validate: (s: string) => isIPv6(s) });
  ajv.addSchema(schema);
  const bodyRef = postSpansBodyRef(document).replace(/^#/, `${DOC_ID}#`);
  const validateSpans = ajv.compile({ $ref: bodyRef });

  const propertiesOf = (name: string): ReadonlySet<string> => {
    const definition = source[name];
    if (!isObject(definition) || !isObject(definition.properties)) throw new Error(`zipkin-schema: definition ${name} has no properties`);
    return new Set(Object.keys(definition.properties));
  };
  loaded = {
    document,
    schema,
    validateSpans,
    knownProperties: { Span: propertiesOf('Span'), Endpoint: propertiesOf('Endpoint'), Annotation: propertiesOf('Annotation') },
  };
  return loaded;
}

/** The converted JSON Schema document (`{ $id, definitions }`), for inspection. */
export function zipkinJsonSchema(): JsonObject {
  return structuredClone(load().schema);
}

/** The `example` span given in the API definition. */
export function zipkinSpanExample(): JsonObject {
  const span = (load().document.definitions as JsonObject).Span;
  if (!isObject(span) || !isObject(span.example)) throw new Error('zipkin-schema: the Span definition has no example');
  return structuredClone(span.example);
}

function formatAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  let detail = '';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'enum') detail = ` (${(params.allowedValues as unknown[]).map(String).join(', ')})`;
  else if (error.keyword === 'additionalProperties') detail = ` (${String(params.additionalProperty)})`;
  return `${where} ${error.message ?? error.keyword}${detail}`;
}

/** Messages from the official definition alone, as ajv gives them. Empty when valid. */
export function officialSchemaErrors(spans: unknown): string[] {
  const { validateSpans } = load();
  if (validateSpans(spans)) return [];
  return (validateSpans.errors ?? []).map(formatAjvError);
}

const TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

/**
 * What ziptrace promises beyond the definition, which is looser in places
 * than a Zipkin server or ziptrace's own contract:
 *
 * - no `null`, no property holding `undefined`, nothing JSON cannot carry
 *   (NaN, Infinity, bigint, functions, symbols) anywhere;
 * - only the properties the definition names, on spans, endpoints and annotations;
 * - ids are exactly 16 or 32 (trace) / 16 (span, parent) lower-case hex, not
 *   all zero (the file's patterns are unanchored, so `x…` padding passes there);
 * - timestamps and durations are safe integers of at least 1 (the file allows
 *   0 and negative timestamps, and int64 beyond what a double holds exactly);
 * - `debug` and `shared` are `true` when present (ziptrace leaves them out otherwise);
 * - `name` and `serviceName` are non-empty when present, `port` is 1 to 65535
 *   (the file says "please don't set to zero"; Zipkin rejects ports over 65535).
 */
export function ziptraceContractErrors(spans: unknown): string[] {
  const problems: string[] = [];
  walkValues(spans, '', problems);
  if (!Array.isArray(spans)) return problems;
  const known = load().knownProperties;
  spans.forEach((span: unknown, i) => {
    const at = `/${i}`;
    if (!isObject(span)) return;
    unknownKeys(span, known.Span, at, 'Span', problems);
    checkId(span.traceId, TRACE_ID, `${at}/traceId`, '16 or 32', problems);
    checkId(span.id, SPAN_ID, `${at}/id`, '16', problems);
    if ('parentId' in span) checkId(span.parentId, SPAN_ID, `${at}/parentId`, '16', problems);
    if ('timestamp' in span) checkMicros(span.timestamp, `${at}/timestamp`, problems);
    if ('duration' in span) checkMicros(span.duration, `${at}/duration`, problems);
    if ('name' in span && span.name === '') problems.push(`${at}/name is empty: leave it out instead`);
    for (const flag of ['debug', 'shared'] as const) {
      if (flag in span && span[flag] !== true) problems.push(`${at}/${flag} is ${JSON.stringify(span[flag])}: ziptrace sets it to true or leaves it out`);
    }
    for (const side of ['localEndpoint', 'remoteEndpoint'] as const) {
      const endpoint = span[side];
      if (!isObject(endpoint)) continue;
      unknownKeys(endpoint, known.Endpoint, `${at}/${side}`, 'Endpoint', problems);
      if ('serviceName' in endpoint && endpoint.serviceName === '') problems.push(`${at}/${side}/serviceName is empty: leave it out instead`);
      if ('port' in endpoint) {
        const port = endpoint.port;
        if (!(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) {
          problems.push(`${at}/${side}/port must be an integer from 1 to 65535, got ${String(port)}`);
        }
      }
    }
    if (Array.isArray(span.annotations)) {
      span.annotations.forEach((annotation: unknown, j) => {
        if (!isObject(annotation)) return;
        unknownKeys(annotation, known.Annotation, `${at}/annotations/${j}`, 'Annotation', problems);
        if ('timestamp' in annotation) checkMicros(annotation.timestamp, `${at}/annotations/${j}/timestamp`, problems);
      });
    }
    if (isObject(span.tags)) {
      for (const key of Object.keys(span.tags)) {
        if (typeof span.tags[key] !== 'string') problems.push(`${at}/tags/${key} must be a string, got ${typeof span.tags[key]}`);
      }
    }
  });
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

function unknownKeys(object: JsonObject, known: ReadonlySet<string>, at: string, definition: string, problems: string[]): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) problems.push(`${at}/${key} is not a property of Zipkin's ${definition}`);
  }
}

function checkId(id: unknown, pattern: RegExp, at: string, length: string, problems: string[]): void {
  if (typeof id !== 'string') return; // the schema reports a missing or non-string id
  if (!pattern.test(id)) problems.push(`${at} must be exactly ${length} lower-case hex characters, got ${JSON.stringify(id)}`);
  else if (ALL_ZERO.test(id)) problems.push(`${at} must not be all zeros`);
}

function checkMicros(value: unknown, at: string, problems: string[]): void {
  if (typeof value !== 'number') return; // the schema reports the type
  if (!Number.isSafeInteger(value) || value < 1) problems.push(`${at} must be a whole number of microseconds from 1 to 2^53-1, got ${value}`);
}

/**
 * Every problem with a list of spans: the official definition's (prefixed
 * `zipkin2-api.yaml:`) and ziptrace's contract's (prefixed `ziptrace:`).
 * Empty when the spans are fit to send.
 */
export function zipkinSpanSchemaErrors(spans: unknown): string[] {
  return [
    ...officialSchemaErrors(spans).map((message) => `zipkin2-api.yaml: ${message}`),
    ...ziptraceContractErrors(spans).map((message) => `ziptrace: ${message}`),
  ];
}

/** Throws an Error listing every problem when `spans` is not a valid `POST /api/v2/spans` body from ziptrace. */
export function validateZipkinSpans(spans: unknown): void {
  const errors = zipkinSpanSchemaErrors(spans);
  if (errors.length === 0) return;
  let preview: string;
  try {
    preview = JSON.stringify(spans, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
  } catch {
    preview = String(spans);
  }
  if (preview !== undefined && preview.length > 2000) preview = `${preview.slice(0, 2000)}…`;
  throw new Error(`invalid Zipkin v2 spans (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n  - ${errors.join('\n  - ')}\nspans: ${preview}`);
}
