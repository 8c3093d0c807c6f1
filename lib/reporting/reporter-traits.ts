/**
 * What a reporter can say about itself to the tracer without the tracer
 * knowing its class: a property under a registered symbol. Registered
 * (`Symbol.for`), so that a reporter made by another copy of ziptrace (the
 * `import` and the `require` of the dual package) is read the same way.
 */

/**
 * Set to `true` on a reporter whose backend has no span shared by two
 * services (OTLP: a span id is one span). A tracer whose reporters all say so
 * defaults to `supportsJoin: false`: its servers start child spans rather
 * than join their caller's.
 */
export const JOINLESS: unique symbol = Symbol.for('ziptrace.reporter.joinless');

/** Whether `reporter` says it cannot show a joined (shared) span: see {@link JOINLESS}. */
export function isJoinless(reporter: unknown): boolean {
  return reporter !== null && typeof reporter === 'object' && (reporter as { [JOINLESS]?: unknown })[JOINLESS] === true;
}
