// Given deploy/ and its Temporal Cloud overlays, when `kubectl kustomize` renders each (no cluster
// needed), then every one builds; each overlay changes only the worker's ConfigMap and Deployment;
// the API key reaches the worker only by reference to the tidegate-temporal Secret, the mTLS pair
// only as files mounted from tidegate-temporal-mtls; no manifest carries a secret value; and the
// environment each pod gets, read by the worker's own temporalSettings(), connects as intended.
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { temporalSettings } from '../../src/temporal/connection.js';
import { repoRoot, toolPath } from '../../devkit/toolchain/tools.js';
import { tempDir } from '../../devkit/testing/servers.js';

const run = promisify(execFile);

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string };
}
interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: { template?: { spec?: { containers?: Container[]; volumes?: Volume[] } } };
}

async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run(toolPath('kubectl'), ['kustomize', join(repoRoot, dir)], { timeout: 60_000 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject);
}

const id = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map(id).join(', ')}`);
  return found;
};
const worker = (objects: K8sObject[]): { container: Container; volumes: Volume[] } => {
  const spec = find(objects, 'Deployment', 'tidegate-worker').spec?.template?.spec;
  const container = spec?.containers?.find((c) => c.name === 'worker');
  if (!container) throw new Error('the Deployment has no container named worker');
  return { container, volumes: spec?.volumes ?? [] };
};
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name);

/** Names that hold credentials: they may appear only as Secret references (or set empty). */
const SECRET_NAME = /API_KEY|TOKEN|SECRET|PASSWORD|PAYLOAD_KEYS|WEBHOOK_URL|PRIVATE|CREDENTIAL/i;

/** No Secret object, no credential in a ConfigMap, no credential value in an env var. */
function expectNoSecretValues(objects: K8sObject[]): void {
  expect(objects.filter((o) => o.kind === 'Secret').map(id)).toEqual([]);
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
    expect(Object.keys(cm.data ?? {}).filter((k) => SECRET_NAME.test(k))).toEqual([]);
  }
  for (const e of worker(objects).container.env ?? []) {
    if (SECRET_NAME.test(e.name)) expect(e.value ?? '').toBe('');
  }
}

let base: K8sObject[];
beforeAll(async () => {
  base = await render('deploy');
});

test('deploy/ renders the namespace, RBAC, ConfigMaps, the worker Deployment and its PDB, with no secret in them', () => {
  expect(base.map(id).sort()).toEqual([
    'ClusterRole//tidegate-worker',
    'ConfigMap/tidegate/tidegate-allowed-signers',
    'ConfigMap/tidegate/tidegate-worker',
    'Deployment/tidegate/tidegate-worker',
    'Namespace//tidegate',
    'PodDisruptionBudget/tidegate/tidegate-worker',
    'RoleBinding/prod/tidegate-worker',
    'RoleBinding/staging/tidegate-worker',
    'ServiceAccount/tidegate/tidegate-worker',
  ]);
  expectNoSecretValues(base);
  // the base reads the Secret optionally, by name only
  expect(worker(base).container.envFrom).toEqual([{ configMapRef: { name: 'tidegate-worker' } }, { secretRef: { name: 'tidegate-temporal', optional: true } }]);
});

describe.each(['api-key', 'mtls'])('deploy/temporal-cloud/%s', (overlay) => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await render(`deploy/temporal-cloud/${overlay}`);
  });

  test('builds on deploy/base and changes only the worker ConfigMap and Deployment', () => {
    expect(objects.map(id).sort()).toEqual(base.map(id).sort());
    const changed = objects.filter((o) => JSON.stringify(o) !== JSON.stringify(base.find((b) => id(b) === id(o)))).map(id);
    expect(changed.sort()).toEqual(['ConfigMap/tidegate/tidegate-worker', 'Deployment/tidegate/tidegate-worker']);
  });

  test('points the worker at a Temporal Cloud namespace endpoint over TLS, with placeholders to fill in', () => {
    const data = find(objects, 'ConfigMap', 'tidegate-worker').data ?? {};
    expect(data.TEMPORAL_ADDRESS).toBe('<namespace>.<account>.tmprl.cloud:7233');
    expect(data.TEMPORAL_NAMESPACE).toBe('<namespace>.<account>');
    expect(data.TEMPORAL_TLS).toBe('true');
    // the rest of the worker's configuration is the base's
    expect(data.TIDEGATE_TASK_QUEUE).toBe(find(base, 'ConfigMap', 'tidegate-worker').data?.TIDEGATE_TASK_QUEUE);
  });

  test('carries no secret value', () => {
    expectNoSecretValues(objects);
  });
});

test('api-key: the key comes from the tidegate-temporal Secret by reference, required, and the worker connects with it over TLS', async () => {
  const objects = await render('deploy/temporal-cloud/api-key');
  const { container, volumes } = worker(objects);
  expect(envOf(container, 'TEMPORAL_API_KEY')).toEqual({ name: 'TEMPORAL_API_KEY', valueFrom: { secretKeyRef: { name: 'tidegate-temporal', key: 'TEMPORAL_API_KEY' } } });
  expect(volumes.filter((v) => v.secret)).toEqual([]);
  expect(container.env?.some((e) => e.name.startsWith('TEMPORAL_TLS_CLIENT_'))).toBe(false);

  // the pod's environment as the kubelet builds it (env over envFrom), with the Secret's key filled in
  const data = find(objects, 'ConfigMap', 'tidegate-worker').data ?? {};
  const settings = temporalSettings({ ...data, TEMPORAL_API_KEY: 'key-from-the-secret' });
  expect(settings).toMatchObject({ address: '<namespace>.<account>.tmprl.cloud:7233', namespace: '<namespace>.<account>', apiKey: 'key-from-the-secret', tls: true });
});

test('mtls: the certificate pair is mounted read-only from tidegate-temporal-mtls, no API key is sent, and the worker connects with the pair', async () => {
  const objects = await render('deploy/temporal-cloud/mtls');
  const { container, volumes } = worker(objects);
  const volume = volumes.find((v) => v.secret?.secretName === 'tidegate-temporal-mtls');
  expect(volume?.secret?.items).toEqual([{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }]);
  const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
  expect(mount?.readOnly).toBe(true);
  const certPath = envOf(container, 'TEMPORAL_TLS_CLIENT_CERT_PATH')?.value;
  const keyPath = envOf(container, 'TEMPORAL_TLS_CLIENT_KEY_PATH')?.value;
  expect([certPath, keyPath]).toEqual([`${mount?.mountPath}/tls.crt`, `${mount?.mountPath}/tls.key`]);
  // set empty, so that a key left in the (optional) tidegate-temporal Secret is not sent
  expect(envOf(container, 'TEMPORAL_API_KEY')).toEqual({ name: 'TEMPORAL_API_KEY', value: '' });

  // the pod's environment, with the mounted files standing in a temporary directory
  const dir = tempDir('mtls');
  try {
    writeFileSync(join(dir, 'tls.crt'), 'CERT');
    writeFileSync(join(dir, 'tls.key'), 'KEY');
    const local = (p: string | undefined) => join(dir, (p ?? '').slice(`${mount?.mountPath}/`.length));
    const data = find(objects, 'ConfigMap', 'tidegate-worker').data ?? {};
    const env = { ...data, TEMPORAL_API_KEY: 'a-key-left-in-tidegate-temporal', ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])) };
    const settings = temporalSettings({ ...env, TEMPORAL_TLS_CLIENT_CERT_PATH: local(certPath), TEMPORAL_TLS_CLIENT_KEY_PATH: local(keyPath) });
    expect(settings.apiKey).toBeUndefined();
    expect(settings.address).toBe('<namespace>.<account>.tmprl.cloud:7233');
    expect(settings.tls).toEqual({ clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
