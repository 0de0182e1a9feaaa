import { useState } from 'react';
import { useEventLog } from '../events';
import { Status } from '../components/status';
import { Table } from '../components/table';

/** The live event log (the gateway's stream of qnet.evt.>), filtered by type and resource. */
export function EventsPage() {
  const { events, connected } = useEventLog();
  const [type, setType] = useState('');
  const [resource, setResource] = useState('');
  const shown = events.filter(
    (e) => e.type.includes(type) && (!resource || e.resource_id.includes(resource)),
  );
  return (
    <section>
      <header className="page-head">
        <h1>Events</h1>
        <Status value={connected ? 'connected' : 'offline'} />
      </header>
      <div className="filters" role="search">
        <input
          aria-label="Event type"
          placeholder="type, e.g. registry.nic"
          value={type}
          onChange={(e) => setType(e.target.value)}
        />
        <input
          aria-label="Resource"
          placeholder="resource id"
          value={resource}
          onChange={(e) => setResource(e.target.value)}
        />
        <span className="count">
          {shown.length} of {events.length} since this page loaded
        </span>
      </div>
      <Table
        label="Events"
        rows={shown}
        rowKey={(e) => e.id}
        empty="No event yet: they appear as they happen."
        columns={[
          {
            header: 'When',
            width: '110px',
            cell: (e) => new Date(e.occurred_at).toLocaleTimeString(),
          },
          { header: 'Type', width: '1.4fr', cell: (e) => e.type },
          { header: 'Resource', width: '1.2fr', cell: (e) => e.resource_id },
          { header: 'Project', width: '100px', cell: (e) => e.project_id ?? '—' },
          { header: 'Data', width: '3fr', cell: (e) => JSON.stringify(e.data).slice(0, 300) },
        ]}
      />
    </section>
  );
}
