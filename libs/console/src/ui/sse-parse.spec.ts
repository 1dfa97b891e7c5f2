import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-parse.js';

describe('SseParser', () => {
  it('parses events split anywhere across chunks, with ids, skipping comments', () => {
    const p = new SseParser();
    const text = ': stream open\n\nid: c1\nevent: lines\ndata: [{"text":"a"}]\n\nevent: end\ndata: {}\n\n';
    const events = [];
    for (let i = 0; i < text.length; i += 7) events.push(...p.push(text.slice(i, i + 7)));
    expect(events).toEqual([
      { event: 'lines', data: '[{"text":"a"}]', id: 'c1' },
      { event: 'end', data: '{}' },
    ]);
  });

  it('joins multi-line data and reads CRLF streams', () => {
    expect(new SseParser().push('data: one\r\ndata: two\r\n\r\n')).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });
});
