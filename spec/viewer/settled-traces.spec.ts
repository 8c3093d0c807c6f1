/**
 * When a trace counts as complete for the terminal: quiet for settleMs, again
 * when more spans come, early when too many wait, all of them at flush.
 */
import { describe, expect, it } from 'vitest';
import { SettledTraces } from '../../lib/viewer/settled-traces.js';

describe('SettledTraces', () => {
  it('reports a trace once it has been quiet for settleMs, each arrival restarting its wait', () => {
    const settled: string[] = [];
    const traces = new SettledTraces(100, (id) => settled.push(id));
    traces.touched(['a', 'b'], 1000);
    traces.touched(['a'], 1050);
    traces.sweep(1099);
    expect(settled).toEqual([]);
    traces.sweep(1100);
    expect(settled).toEqual(['b']);
    traces.sweep(1150);
    expect(settled).toEqual(['b', 'a']);
    traces.touched(['a'], 2000); // more spans after it was reported: reported again
    traces.sweep(2100);
    expect(settled).toEqual(['b', 'a', 'a']);
    traces.stop();
  });

  it('reports the oldest waiting trace early when more than max wait, and every waiting one at flush', () => {
    const settled: string[] = [];
    const traces = new SettledTraces(1000, (id) => settled.push(id), 2);
    traces.touched(['a', 'b', 'c'], 0);
    expect(settled).toEqual(['a']);
    traces.flush();
    expect(settled).toEqual(['a', 'b', 'c']);
    traces.sweep(10_000);
    expect(settled).toHaveLength(3);
  });
});
