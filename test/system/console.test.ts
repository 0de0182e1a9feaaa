import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { NetworkView, NicView, VpnServiceView } from '@qnet/contracts';
import { waitFor } from '@qnet/stack';
import { launchBrowser, NpmStack, REPO_ROOT } from '@qnet/testing';

const ADMIN = 'console-admin-token-0123456789';
const TENANT = 'console-tenant-token-0123456789';
const HOST = 'console-1';
/** Screenshots of every page, as test artifacts. */
const SHOTS = path.join(REPO_ROOT, 'test-artifacts', 'console');

/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core) against the
 * product started with `npm start`, auth required: seed 003's Networks page end to end, live
 * updates from the event stream, the BGP and VPN pages, a hostile name, another project's token.
 */
describe('web console', () => {
  let stack: NpmStack;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  const call = async <T>(method: string, p: string, body?: object, token = ADMIN): Promise<T> => {
    const res = await fetch(`${stack.base}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const go = async (hash: string) => {
    await page.goto(`${stack.base}/#/${hash}`);
    await page.waitForSelector('main section');
  };
  const row = (table: string, text: string) =>
    page.getByRole('table', { name: table }).getByRole('row').filter({ hasText: text });
  const signIn = async (token: string) => {
    await page.goto(stack.base);
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('nav');
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stack = await NpmStack.start({
      QNET_HOST_ID: HOST,
      GATEWAY_AUTH: 'required',
      QNET_API_TOKENS: `*:${ADMIN},tenant-b:${TENANT}`,
    });
    await stack.ready();
    await waitFor(
      async () => (await call<{ id: string }[]>('GET', '/v1/hosts')).some((h) => h.id === HOST),
      20_000,
      'the local agent',
    );
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      // Every destructive action asks first; the test answers yes. An alert() would be an injection.
      void (d.type() === 'confirm' ? d.accept() : d.dismiss());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('asks for a token when the gateway requires one, and keeps it in session storage only', async () => {
    await page.goto(stack.base);
    await page.getByLabel('Token', { exact: true }).fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The gateway did not take this token.').waitFor();
    await shot('sign-in');
    await signIn(ADMIN);
    expect(await page.evaluate('sessionStorage.getItem("qnet.token")')).toBe(ADMIN);
    expect(await page.evaluate('localStorage.length')).toBe(0);
  });

  it("creates a network through seed 003's dialog, shows the 400 for VLAN 4095 at its field", async () => {
    await go('networks');
    await page.getByRole('button', { name: 'Create network' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create network' });
    await dialog.getByLabel('Name', { exact: true }).fill('bad-vlan');
    await dialog.getByLabel('Bridge name', { exact: true }).fill('qbrbad');
    await dialog.getByLabel('VLAN (1–4094)', { exact: true }).fill('4095');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const vlanField = dialog.locator('.field.invalid', { hasText: 'VLAN' });
    await vlanField.getByRole('alert').waitFor();
    expect(await vlanField.getByRole('alert').textContent()).toMatch(/4094/);
    await shot('networks-create-error');
    // Refused: nothing was created.
    expect(await call<NetworkView[]>('GET', '/v1/networks?name=bad-vlan')).toEqual([]);

    await dialog.getByLabel('Name', { exact: true }).fill('web');
    await dialog.getByLabel('Description', { exact: true }).fill('the web tier');
    await dialog.getByLabel('VLAN (1–4094)', { exact: true }).fill('');
    await dialog.getByLabel('Bridge name', { exact: true }).fill('qbrweb');
    await dialog.getByLabel('Host', { exact: true }).selectOption(HOST);
    await dialog.getByLabel('CIDR', { exact: true }).fill('10.50.0.0/24');
    await dialog.getByLabel('Gateway', { exact: true }).fill('10.50.0.1');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    const web = row('Networks', 'web');
    await web.waitFor();
    expect(await web.textContent()).toMatch(/bridge.*qbrweb.*10\.50\.0\.0\/24.*10\.50\.0\.1/);
    expect(await web.locator('[data-vms]').textContent()).toBe('0');
  });

  it('shows a NIC attached through the API without a reload, refuses the delete while it is there', async () => {
    await go('networks');
    const [web] = await call<NetworkView[]>('GET', '/v1/networks?name=web');
    const vms = row('Networks', 'web').locator('[data-vms]');
    const nic = await call<NicView>('POST', '/v1/nics', {
      network_id: web!.id,
      host_id: HOST,
      vm_id: 'vm-web-1',
    });
    const attached = Date.now();
    await vms.filter({ hasText: '1' }).waitFor({ timeout: 5_000 });
    console.log(`the VM count changed ${Date.now() - attached} ms after the attach, no reload`);
    const del = row('Networks', 'web').getByRole('button', { name: 'Delete' });
    expect(await del.isDisabled()).toBe(true);
    expect(await del.getAttribute('title')).toMatch(/detach its 1 VM/);
    await shot('networks');
    // The API says so too: a network with a VM attached is not deleted.
    await expect(call('DELETE', `/v1/networks/${web!.id}`)).rejects.toThrow(/409/);

    await page.goto(`${stack.base}/#/networks/${web!.id}`);
    await row('NICs', 'vm-web-1').waitFor();
    expect(await row('NICs', 'vm-web-1').textContent()).toContain(nic.guest_mac);
    await shot('network-detail');

    await go('networks');
    await call('DELETE', `/v1/nics/${nic.id}`);
    await vms.filter({ hasText: '0' }).waitFor({ timeout: 5_000 });
    await del.click();
    await row('Networks', 'web').waitFor({ state: 'detached' });
    expect(dialogs.at(-1)).toBe('Delete network web?');
    expect(await call<NetworkView[]>('GET', '/v1/networks?name=web')).toEqual([]);
  });

  it('renders a hostile name as text, never as markup', async () => {
    const name = '<img src=x onerror=alert(1)>';
    await call('POST', '/v1/networks', { name, bridge_name: 'qbrxss' });
    await go('networks');
    await row('Networks', 'onerror').waitFor();
    expect(await row('Networks', 'onerror').getByRole('link').textContent()).toBe(name);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs.filter((d) => d === '1')).toEqual([]);
  });

  it("runs seed 001's BGP page: create a speaker, add a peer with a write-only password, advertise, withdraw", async () => {
    // A speaker advertises its project's networks (and the admin's allow-list).
    await call('POST', '/v1/networks', {
      name: 'bgp-net',
      bridge_name: 'qbrbgp',
      cidr: '10.70.0.0/24',
    });
    await go('bgp');
    await page.getByRole('button', { name: 'Create speaker' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create speaker' });
    await dialog.getByLabel('Name', { exact: true }).fill('tor-speaker');
    await dialog.getByLabel('Node', { exact: true }).selectOption(HOST);
    await dialog.getByLabel('Local ASN', { exact: true }).fill('65001');
    await dialog.getByLabel('Router ID', { exact: true }).fill('192.0.2.10');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await row('BGP speakers', 'tor-speaker').getByRole('link').click();
    await page.getByRole('heading', { name: /tor-speaker/ }).waitFor();

    const peer = page.getByRole('form', { name: 'Add peer' });
    await peer.getByLabel('Peer name', { exact: true }).fill('tor-a');
    await peer.getByLabel('Peer IP', { exact: true }).fill('192.0.2.1');
    await peer.getByLabel('Remote ASN', { exact: true }).fill('65000');
    await peer.getByLabel('MD5 password (write-only)', { exact: true }).fill('s3cret-md5');
    await peer.getByRole('button', { name: 'Add peer' }).click();
    await row('Peers', 'tor-a').waitFor();
    expect(await row('Peers', 'tor-a').textContent()).toMatch(/192\.0\.2\.1.*65000.*set/);
    expect(await page.content()).not.toContain('s3cret-md5');

    const ad = page.getByRole('form', { name: 'Advertise' });
    await ad.getByLabel('Prefix', { exact: true }).fill('10.70.0.0/24');
    await ad.getByLabel('Communities', { exact: true }).fill('65001:100');
    await ad.getByRole('button', { name: 'Advertise' }).click();
    await row('Advertisements', '10.70.0.0/24').waitFor();
    expect(await row('Advertisements', '10.70.0.0/24').textContent()).toContain('65001:100');
    // A bad prefix: the API's message at the field.
    await ad.getByLabel('Prefix', { exact: true }).fill('10.70.0.1/24');
    await ad.getByRole('button', { name: 'Advertise' }).click();
    await ad.locator('.field.invalid', { hasText: 'Prefix' }).getByRole('alert').waitFor();
    await shot('bgp');
    await row('Advertisements', '10.70.0.0/24').getByRole('button', { name: 'Withdraw' }).click();
    await row('Advertisements', '10.70.0.0/24').waitFor({ state: 'detached' });
  });

  it("runs the VPN page: a client's config downloads and shows as a QR code", async () => {
    const lan = await call<NetworkView>('POST', '/v1/networks', {
      name: 'office-lan',
      bridge_name: 'qbroffice',
      cidr: '10.60.0.0/24',
    });
    const vpn = await call<VpnServiceView>('POST', '/api/v1/vpn-services', {
      name: 'office',
      network_id: lan.id,
      external_ip: '203.0.113.10',
      local_subnets: ['10.60.0.0/24'],
    });
    await go(`vpn/${vpn.id}`);
    await page.getByLabel('New client', { exact: true }).fill('alice');
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: /Client config/ });
    await dialog.waitFor();
    const qr = dialog.getByRole('img', { name: 'QR code of the client config' });
    await qr.waitFor();
    const loaded = await qr.evaluate((img) => {
      const i = img as unknown as { complete: boolean; naturalWidth: number };
      return i.complete && i.naturalWidth > 0;
    });
    expect(loaded).toBe(true);
    expect(await dialog.textContent()).toContain('shown this once');
    await shot('vpn');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: /Download/ }).click(),
    ]);
    const file = readFileSync((await download.path())!, 'utf8');
    expect(file).toContain('[Interface]');
    expect(file).toContain(`Endpoint = 203.0.113.10:${vpn.listen_port}`);
    await page.keyboard.press('Escape');
    await row('Connections', 'alice').waitFor();
  });

  it('writes a screenshot of every page', async () => {
    for (const p of ['hosts', 'lbs', 'vpn', 'tunnels', 'topology', 'events']) {
      await go(p);
      await page.waitForTimeout(500);
      await shot(p);
    }
  });

  it("shows a project's token only that project's resources", async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(TENANT);
    await call('POST', '/v1/networks', { name: 'tenant-net', bridge_name: 'qbrten' }, TENANT);
    await go('networks');
    await row('Networks', 'tenant-net').waitFor();
    const names = await page
      .getByRole('table', { name: 'Networks' })
      .getByRole('link')
      .allTextContents();
    expect(names).toEqual(['tenant-net']);
    await go('bgp');
    expect(await page.getByText('No speaker yet.').count()).toBe(1);
  });
});
