// examples/traced.ts
import { createTracer, traced, startSpan, withSpan, MemoryReporter } from 'ziptrace';

const reporter = new MemoryReporter();
createTracer({ serviceName: 'users', reporter });

class UserRepo {
  @traced()
  async find(id: string): Promise<{ id: string }> {
    using span = startSpan('cache lookup'); // finished at the end of the block
    span.tag('cache.hit', false);
    return { id };
  }

  @traced({ name: 'load all users', kind: 'CLIENT', tags: { 'db.type': 'sql' } })
  async *all(): AsyncGenerator<string> {
    yield 'ada';
    yield 'grace';
  }
}

const repo = new UserRepo();
await withSpan('GET /users', async () => {
  await repo.find('42');
  for await (const name of repo.all()) console.log('user', name);
});

for (const span of reporter.spans) console.log(span.name, span.parentId ? `child of ${span.parentId}` : 'root', span.id);
