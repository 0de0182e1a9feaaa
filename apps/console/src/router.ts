import { useSyncExternalStore } from 'react';

/** Hash routes (#/networks/<id>): the gateway serves one index.html, whatever the page. */
export interface Route {
  page: string;
  id?: string;
}

function current(): Route {
  const [page = 'networks', id] = location.hash.replace(/^#\/?/, '').split('/');
  return { page: page || 'networks', ...(id ? { id: decodeURIComponent(id) } : {}) };
}

let route = current();
const listeners = new Set<() => void>();
window.addEventListener('hashchange', () => {
  route = current();
  listeners.forEach((l) => l());
});

export function useRoute(): Route {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => route,
  );
}

export const href = (page: string, id?: string) =>
  `#/${page}${id ? `/${encodeURIComponent(id)}` : ''}`;
