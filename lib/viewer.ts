/**
 * `ziptrace/viewer`: the local Zipkin-compatible server that `ziptrace serve`
 * runs, for starting it from code (a demo, a test), and the terminal
 * waterfall it prints. A subpath of its own: `import 'ziptrace'` loads none
 * of it.
 *
 * This module only re-exports; each export is documented where it is defined.
 */
export { startViewer } from './viewer/server.js';
export type { Viewer, ViewerOptions } from './viewer/server.js';
export { SpanStore } from './viewer/store.js';
export { analyzeTrace, summarizeTrace } from './viewer/analysis.js';
export { renderTrace } from './viewer/terminal.js';
export { readTraceFile } from './viewer/trace-file.js';
export type { DependencyLink, SpanRow, StoredSpan, TraceHint, TraceQuery, TraceSummary, TraceView } from './viewer/types.js';
