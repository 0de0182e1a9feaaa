/** A status word with its colour: ACTIVE/ONLINE/healthy green, PENDING amber, ERROR/OFFLINE red. */
export function Status(props: { value: string | boolean | null | undefined }) {
  const v = props.value === true ? 'up' : props.value === false ? 'down' : (props.value ?? '—');
  const tone = /^(ACTIVE|ONLINE|healthy|active|ESTABLISHED|up|connected)$/.test(v)
    ? 'good'
    : /PENDING|degraded|pending|CONNECT|OPEN|DEGRADED|NO_MONITOR|registered/.test(v)
      ? 'warn'
      : /ERROR|OFFLINE|offline|error|down|IDLE/.test(v)
        ? 'bad'
        : 'plain';
  return <span className={`status ${tone}`}>{v}</span>;
}

/** Seconds since an ISO time or a unix time, as "12 s", "3 min", "2 h". */
export function ago(t: string | number | null | undefined): string {
  if (!t) return '—';
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/** "1 host", "3 hosts". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
