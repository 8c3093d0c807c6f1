// examples/demo.ts: `npm run demo`. A viewer, three traced services, a few requests, their traces as waterfalls.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { renderTrace, startViewer, type TraceView, type Viewer } from 'ziptrace/viewer';

const args = process.argv.slice(2);
const exitWhenDone = args.includes('--exit'); // for scripts and the spec that runs the demo
const port = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : 9411; // 0: any free port
const color = process.stdout.isTTY === true && !process.env.NO_COLOR;

// The viewer: ours, or the one (ziptrace serve, or Zipkin) already on the port.
let viewer: Viewer | undefined;
let viewerUrl = `http://127.0.0.1:${port}`;
try {
  viewer = await startViewer({ port });
  viewerUrl = viewer.url;
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  const answer = await fetch(`${viewerUrl}/api/v2/services`).catch(() => undefined);
  if (answer?.ok !== true) throw new Error(`port ${port} is taken by something that is not a Zipkin-compatible server; try npm run demo -- --port 9412`);
  console.log(`using the viewer already on ${viewerUrl}`);
}

// The services, each its own process (its own tracer and service name), on loopback ports of their choosing.
const children: ChildProcess[] = [];
async function startService(role: string, peers: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [new URL('./demo-services.js', import.meta.url).pathname, role, viewerUrl, JSON.stringify(peers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return `http://127.0.0.1:${/listening (\d+)/.exec(line)![1]}`;
}
const worker = await startService('worker');
const users = await startService('users', { worker });
const gateway = await startService('gateway', { users, worker });

// A few requests: a checkout, one whose payment fails, and one that shows an N+1 query pattern.
const traceIds: string[] = [];
for (const path of ['/checkout/42', '/checkout/13', '/orders/42']) {
  const response = await fetch(`${gateway}${path}`);
  await response.text();
  console.log(`GET ${path} → ${response.status}`);
  traceIds.push(response.headers.get('x-trace-id')!);
}

// Each trace as a waterfall, once all its spans have reached the viewer (a span count that stays put).
async function settledTrace(traceId: string): Promise<TraceView> {
  let last = -1;
  for (let attempt = 0; attempt < 100; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const response = await fetch(`${viewerUrl}/ziptrace/api/trace/${traceId}`);
    if (!response.ok) continue;
    const view = (await response.json()) as TraceView;
    if (view.spanCount === last) return view;
    last = view.spanCount;
  }
  throw new Error(`trace ${traceId} never settled in the viewer`);
}
console.log('');
for (const traceId of traceIds) console.log(renderTrace(await settledTrace(traceId), { width: Math.min(process.stdout.columns || 100, 120), color }) + '\n');

console.log(`See them in the viewer: ${viewerUrl}/#/trace/${traceIds[0]}`);
console.log(`The service map: ${viewerUrl}/#/dependencies`);

async function stop(): Promise<void> {
  await Promise.all(children.map((child) => {
    child.kill('SIGTERM');
    return child.exitCode === null && child.signalCode === null ? once(child, 'exit') : undefined;
  }));
  await viewer?.close();
}

if (exitWhenDone) await stop();
else {
  console.log('Serving until Ctrl-C.');
  // Ctrl-C reaches this process twice (from the terminal and from npm run's script): stop once.
  let stopping: Promise<void> | undefined;
  const onSignal = (): void => void (stopping ??= stop().then(() => process.exit(0)));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
