/// <reference lib="dom" />
import { h, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api.js';
import type { BarPart } from './capacity.js';
import { signInNeeded } from './state.js';

/**
 * A bar of `used` out of `total` (thousandths): weight in use against capacity. Its width is set
 * through the style property (CSSOM), which the strict CSP allows, unlike style attributes.
 */
export function Bar({ used, total, label }: { used: number; total: number; label: string }) {
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  const level = pct >= 100 ? 'full' : pct >= 75 ? 'high' : 'ok';
  return h(
    'div',
    { class: 'bar', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': total, 'aria-valuenow': used, 'aria-label': label, title: label },
    h('div', { class: `bar-fill ${level}`, style: { width: `${pct}%` } }),
  );
}

/**
 * A capacity bar made of the parts that fill it (the jobs on an agent, each as wide as its weight
 * is of the capacity), each a link to what it stands for; the rest of the bar is free room.
 */
export function SegmentedBar({ parts, total, label }: { parts: BarPart[]; total: number; label: string }) {
  const used = parts.reduce((sum, p) => sum + p.milli, 0);
  return h(
    'div',
    { class: 'bar segmented', role: 'group', 'aria-label': label, title: label },
    parts.map((p, i) => {
      const width = total > 0 ? Math.min(100, (p.milli / total) * 100) : 0;
      const attrs = { key: p.key, class: `seg seg-${i % 6}${p.href ? '' : ' seg-other'}`, style: { width: `${width}%` }, title: p.label, 'aria-label': p.label };
      return p.href ? h('a', { ...attrs, href: p.href }) : h('span', attrs);
    }),
    used > total ? null : h('span', { class: 'seg-free', 'aria-hidden': 'true' }),
  );
}

/**
 * A table cell that names its column (`data-label`): on a narrow window the tables become one
 * block per row, and the stylesheet shows each cell's column name beside it.
 */
export function Cell({ label, class: cls, title, children }: { label: string; class?: string; title?: string; children?: ComponentChildren }) {
  return h('td', { 'data-label': label, ...(cls ? { class: cls } : {}), ...(title ? { title } : {}) }, children);
}

/** A state or health word as a coloured badge (colour from the word, the word always shown). */
export function Badge({ word }: { word: string }) {
  return h('span', { class: `badge badge-${word.replace(/[^a-z_]/g, '')}` }, word.replace(/_/g, ' '));
}

/** The API's message for a failed request. */
export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  return h('p', { class: 'error', role: 'alert' }, (error as Error).message);
}

/** Labels as `key=value` chips (text only). */
export function Labels({ labels }: { labels: [string, string][] }) {
  return h('span', { class: 'labels' }, labels.map(([k, v]) => h('span', { class: 'chip', key: k }, `${k}=${v}`)));
}

export function Section({ title, children, actions }: { title: string; children?: ComponentChildren; actions?: ComponentChildren }) {
  return h('section', { class: 'panel' }, h('header', { class: 'panel-head' }, h('h2', null, title), actions ?? null), children);
}

/** Notes a failed call: an UNAUTHENTICATED answer means this tab must sign in (again). */
export function noteFailure(err: unknown): unknown {
  if (err instanceof ApiFailure && err.status === 401) signInNeeded.value = true;
  return err;
}

/**
 * Loads with `load` now and every `everyMs` (when given), while the component is shown; a change
 * of `key` loads again at once. Errors are kept, not thrown, so the view shows the API's message.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, key: string, everyMs?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ac = new AbortController();
    let timer: number | undefined;
    const run = async () => {
      try {
        setData(await loadRef.current(ac.signal));
        setError(undefined);
      } catch (err) {
        if (!ac.signal.aborted) setError(noteFailure(err));
      }
      if (everyMs && !ac.signal.aborted) timer = window.setTimeout(() => void run(), everyMs);
    };
    void run();
    return () => {
      ac.abort();
      window.clearTimeout(timer);
    };
  }, [key, tick, everyMs]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/**
 * Runs a user's action (a form post, a button): tracks that it is busy, and keeps the API's
 * message when it fails. `run` resolves true when the action succeeded.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (err) {
      setError(noteFailure(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** A button that runs `action`, shows it is busy, and reports the API's message on failure. */
export function ActionButton({ label, action, disabled, kind, onDone }: { label: string; action: () => Promise<unknown>; disabled?: boolean; kind?: 'danger'; onDone?: () => void }) {
  const { busy, error, run } = useAction();
  const click = async () => {
    if (await run(action)) onDone?.();
  };
  return h(
    'span',
    { class: 'action' },
    h('button', { type: 'button', class: kind ?? '', disabled: disabled || busy, onClick: () => void click() }, busy ? `${label}…` : label),
    error ? h('span', { class: 'error', role: 'alert' }, (error as Error).message) : null,
  );
}
