/// <reference lib="dom" />
import { h } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { LogLineView } from '../api-types.js';
import { useStream } from './live.js';
import { formatCount } from './format.js';
import { atBottom, rowWindow } from './log-window.js';
import { ErrorLine } from './widgets.js';

/** Every log row is this tall (CSS `.log-row` says the same), which is what makes windowing exact. */
export const LOG_ROW_HEIGHT = 18;

/**
 * A job's log, followed live while the job runs and resumed from the last cursor after a drop.
 * Only the rows in view are in the DOM (a 100,000-line log renders a screenful), and the view
 * stays at the bottom while the user leaves it there. Every line is text: Preact sets it as a
 * text node, so a line of HTML shows as that HTML, never as markup.
 */
export function LogTail({ jobId, generation }: { jobId: string; generation: number }) {
  const lines = useRef<LogLineView[]>([]);
  const cursor = useRef('');
  const [count, setCount] = useState(0);
  const [ended, setEnded] = useState(false);
  const [scroll, setScroll] = useState({ top: 0, height: 400 });
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);

  useEffect(() => {
    lines.current = [];
    cursor.current = '';
    setCount(0);
    setEnded(false);
    follow.current = true;
  }, [jobId]);

  const error = useStream(
    `logs:${jobId}:${generation}`,
    () => `/api/jobs/${encodeURIComponent(jobId)}/logs${cursor.current ? `?after=${encodeURIComponent(cursor.current)}` : ''}`,
    (e) => {
      if (e.event === 'lines') {
        const batch = JSON.parse(e.data) as LogLineView[];
        for (const l of batch) lines.current.push(l);
        if (batch.length) cursor.current = batch[batch.length - 1]!.cursor;
        setCount(lines.current.length);
      }
      if (e.event === 'end') setEnded(true);
    },
  );

  // New lines keep a view that was at the bottom at the bottom.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [count]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    const el = box.current!;
    follow.current = atBottom(el.scrollTop, el.clientHeight, el.scrollHeight, LOG_ROW_HEIGHT);
    setScroll({ top: el.scrollTop, height: el.clientHeight });
  };

  const win = rowWindow(count, LOG_ROW_HEIGHT, scroll.top, scroll.height);
  const rows = lines.current.slice(win.start, win.end);
  return h(
    'div',
    { class: 'log' },
    h(
      'div',
      { class: 'log-status muted', 'aria-live': 'polite' },
      formatCount(count, 'line'),
      ended ? ' · end of log' : ' · following',
    ),
    h(ErrorLine, { error }),
    h(
      'div',
      { class: 'log-box', ref: box, onScroll, tabIndex: 0, role: 'log', 'aria-label': 'job log', 'data-total': count },
      h('div', { style: { height: `${win.padTop}px` } }),
      rows.map((l, i) => h('div', { key: win.start + i, class: `log-row ${l.stream}`, 'data-line': win.start + i + 1 }, l.text)),
      h('div', { style: { height: `${win.padBottom}px` } }),
    ),
  );
}
