import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { loadAll } from 'js-yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { type IStatefulSet, StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { type INetworkPolicy, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { type IPodDisruptionBudget, PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { type ISecret, Secret } from 'kubernetes-models/v1/Secret';
import { type IService, Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { type Config, configKeys, configSchema } from '../src/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  scripts: { start: string };
  bin: Record<string, string>;
};
const PLACEHOLDER = 'REPLACE_ME';
const RECEIVER = 'ai-usage-receiver';

// The kinds the manifests may use; anything else fails until a model is added here.
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
}
type Labels = Record<string, string>;
type Workload = { name: string; template: IPodTemplateSpec };

function findKubectl(): string {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const candidates = [process.env.KUBECTL, '/usr/bin/kubectl', ...dirs.map((d) => path.join(d, 'kubectl'))];
  const found = candidates.find((c): c is string => c !== undefined && existsSync(c));
  if (found === undefined) {
    throw new Error(
      'kubectl not found ($KUBECTL, /usr/bin/kubectl, PATH): install kubectl (https://kubernetes.io/docs/tasks/tools/); ' +
        'its built-in kustomize renders k8s/',
    );
  }
  return found;
}

const kustomizations = [
  'k8s/base',
  ...readdirSync(path.join(root, 'k8s/overlays')).map((d) => `k8s/overlays/${d}`),
].filter((d) => existsSync(path.join(root, d, 'kustomization.yaml')));

function render(kubectl: string, dir: string): K8sObject[] {
  const yaml = execFileSync(kubectl, ['kustomize', path.join(root, dir)], { encoding: 'utf8' });
  const objects = loadAll(yaml).filter((d) => d !== null) as K8sObject[];
  // kustomize wraps long base64 values over lines; the API server's decoder skips the newlines, the
  // schema's "byte" format does not.
  for (const o of objects) {
    const data = o.kind === 'Secret' ? (o as ISecret).data : undefined;
    for (const k of Object.keys(data ?? {})) data![k] = data![k]!.replace(/\s+/g, '');
  }
  return objects;
}

const matches = (selector: Labels | undefined, labels: Labels | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function decodedData(secret: ISecret): Record<string, string> {
  const out: Record<string, string> = { ...secret.stringData };
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

/** Reasons a Secret value looks like a real credential rather than a placeholder. */
function credentialProblems(key: string, value: string): string[] {
  const problems: string[] = [];
  if (/PASSWORD|SECRET|TOKEN|KEYFILE|(^|_)KEY$/i.test(key) && value !== PLACEHOLDER) problems.push(`${key} is not ${PLACEHOLDER}`);
  const url = URL.canParse(value) ? new URL(value) : null;
  if (url !== null && url.password !== '' && decodeURIComponent(url.password) !== PLACEHOLDER) {
    problems.push(`${key} has a password in its URL`);
  }
  // Random tokens and keys mix cases and digits; host names, user names and placeholders do not.
  for (const [run] of value.matchAll(/[A-Za-z0-9_+-]{20,}/g)) {
    if (/[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run)) problems.push(`${key} contains a token-like "${run.slice(0, 6)}…"`);
  }
  return problems;
}

class Render {
  constructor(readonly objects: K8sObject[]) {}
  all<T>(kind: string): T[] {
    return this.objects.filter((o) => o.kind === kind) as T[];
  }
  one<T>(kind: string, name: string): T {
    const found = this.objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (found === undefined) throw new Error(`no ${kind} ${name} in the render`);
    return found as T;
  }
  workloads(): Workload[] {
    return [
      ...this.all<IDeployment>('Deployment').map((d) => ({ name: d.metadata!.name!, template: d.spec!.template })),
      ...this.all<IStatefulSet>('StatefulSet').map((s) => ({ name: s.metadata!.name!, template: s.spec!.template })),
    ];
  }
  receiver(): { deployment: IDeployment; container: IContainer; env: Record<string, string>; config: Config } {
    const deployment = this.one<IDeployment>('Deployment', RECEIVER);
    const containers = deployment.spec!.template.spec!.containers;
    expect(containers).to.have.length(1);
    const container = containers[0]!;
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef) Object.assign(env, this.one<IConfigMap>('ConfigMap', from.configMapRef.name!).data);
      if (from.secretRef) Object.assign(env, decodedData(this.one<ISecret>('Secret', from.secretRef.name!)));
    }
    for (const e of container.env ?? []) env[e.name] = e.value ?? '';
    const parsed = configSchema.safeParse(env);
    if (!parsed.success) throw new Error(`the receiver's environment does not parse: ${parsed.error.message}`);
    return { deployment, container, env, config: parsed.data };
  }
  /** A container port, looked up by name or number, as a number. */
  static port(container: IContainer, ref: string | number | undefined): number | undefined {
    if (typeof ref === 'number') return ref;
    return container.ports?.find((p) => p.name === ref)?.containerPort;
  }
}

function finalStage(dockerfile: string): Instruction[] {
  const parsed = DockerfileParser.parse(dockerfile);
  const lastFrom = parsed.getFROMs().at(-1)!.getRange().start.line;
  return parsed.getInstructions().filter((i) => i.getRange().start.line >= lastFrom);
}
const dockerfileText = () => readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const jsonArgs = (i: Instruction | undefined) => JSON.parse(i?.getArgumentsContent() ?? 'null') as unknown;
const dockerUser = () => finalStage(dockerfileText()).filter((i) => i.getKeyword() === 'USER').at(-1)?.getArgumentsContent();

describe('deploy: k8s manifests', () => {
  const renders = new Map<string, Render>();
  before(function () {
    this.timeout(60_000);
    const kubectl = findKubectl();
    for (const dir of kustomizations) renders.set(dir, new Render(render(kubectl, dir)));
  });

  it('has a base and the mongodb and external overlays', () => {
    expect(kustomizations).to.include.members(['k8s/base', 'k8s/overlays/mongodb', 'k8s/overlays/external']);
  });

  for (const dir of kustomizations) {
    describe(dir, () => {
      const r = () => renders.get(dir)!;

      it('renders objects that each validate against the Kubernetes schema of their kind', () => {
        expect(r().objects.length).to.be.greaterThan(5);
        for (const o of r().objects) {
          const Model = models[`${o.apiVersion}/${o.kind}`];
          if (Model === undefined) throw new Error(`${dir}: no kubernetes-models class registered for ${o.apiVersion} ${o.kind}`);
          try {
            new Model(o as never).validate();
          } catch (e) {
            throw new Error(`${dir}: ${o.kind} ${o.metadata.name} is invalid: ${(e as Error).message}`);
          }
        }
      });

      it('sets only variables the config schema accepts, with values it accepts', () => {
        const { container, env, deployment } = r().receiver();
        const unknown = Object.keys(env).filter((k) => !configKeys.includes(k));
        expect(unknown, 'variables outside src/config.ts').to.deep.equal([]);
        for (const from of container.envFrom ?? []) expect(from.prefix, 'envFrom prefix').to.equal(undefined);
        // Service links would add <SERVICE>_PORT variables, which can collide with API_PORT and the like.
        expect(deployment.spec!.template.spec!.enableServiceLinks).to.equal(false);
      });

      it('sets GRPC_MAX_CONNECTION_AGE_MS in the ConfigMap so gRPC clients reconnect and spread', () => {
        const { env, config } = r().receiver();
        expect(env).to.have.property('GRPC_MAX_CONNECTION_AGE_MS');
        expect(config.GRPC_MAX_CONNECTION_AGE_MS).to.be.within(60_000, 30 * 60_000);
      });

      it('uses the config ports and the real health endpoints', () => {
        const { container, config } = r().receiver();
        const defaults = configSchema.parse({});
        expect([config.OTLP_GRPC_PORT, config.OTLP_HTTP_PORT, config.API_PORT]).to.deep.equal([
          defaults.OTLP_GRPC_PORT,
          defaults.OTLP_HTTP_PORT,
          defaults.API_PORT,
        ]);
        expect(Render.port(container, 'otlp-grpc')).to.equal(config.OTLP_GRPC_PORT);
        expect(Render.port(container, 'otlp-http')).to.equal(config.OTLP_HTTP_PORT);
        expect(Render.port(container, 'api')).to.equal(config.API_PORT);
        const probes = { readiness: container.readinessProbe, liveness: container.livenessProbe, startup: container.startupProbe };
        const paths = { readiness: '/readyz', liveness: '/healthz', startup: '/healthz' };
        for (const [kind, probe] of Object.entries(probes)) {
          expect(probe?.httpGet?.path, `${kind} probe path`).to.equal(paths[kind as keyof typeof paths]);
          expect(Render.port(container, probe?.httpGet?.port), `${kind} probe port`).to.equal(config.API_PORT);
        }
      });

      it('exposes grpc, http and api on the Service with appProtocol, reaching the right container ports', () => {
        const { container, config, deployment } = r().receiver();
        const service = r().one<IService>('Service', RECEIVER);
        expect(matches(service.spec!.selector, deployment.spec!.template.metadata!.labels)).to.equal(true);
        const byName = new Map((service.spec!.ports ?? []).map((p) => [p.name, p]));
        const expected = [
          ['grpc', config.OTLP_GRPC_PORT, 'grpc'],
          ['http', config.OTLP_HTTP_PORT, 'http'],
          ['api', config.API_PORT, 'http'],
        ] as const;
        expect([...byName.keys()].sort()).to.deep.equal(['api', 'grpc', 'http']);
        for (const [name, port, appProtocol] of expected) {
          const p = byName.get(name)!;
          expect(p.port, name).to.equal(port);
          expect(p.appProtocol, name).to.equal(appProtocol);
          expect(Render.port(container, p.targetPort), `${name} targetPort`).to.equal(port);
        }
      });

      it('runs the image start command with 2+ replicas, the package version and a graceful stop', () => {
        const { deployment, container, config } = r().receiver();
        expect(deployment.spec!.replicas).to.be.at.least(2);
        expect(container.command).to.deep.equal(jsonArgs(finalStage(dockerfileText()).find((i) => i.getKeyword() === 'CMD')));
        expect(container.image).to.equal(`${RECEIVER}:${pkg.version}`);
        const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
        expect(preStop[0]).to.equal('sleep');
        const sleepMs = Number(preStop[1]) * 1000;
        expect(sleepMs).to.be.greaterThan(0);
        expect(deployment.spec!.template.spec!.terminationGracePeriodSeconds! * 1000).to.be.greaterThan(sleepMs + config.SHUTDOWN_TIMEOUT_MS);
        const limit = container.resources?.limits?.memory;
        expect(limit, 'memory limit').to.match(/^\d+(Mi|Gi)$/);
        const bytes = Number.parseInt(limit as string, 10) * (String(limit).endsWith('Gi') ? 2 ** 30 : 2 ** 20);
        expect(bytes, 'memory limit vs MAX_INFLIGHT_BYTES').to.be.greaterThan(2 * config.MAX_INFLIGHT_BYTES);
        expect(container.resources?.requests).to.include.keys('cpu', 'memory');
      });

      it('runs every container non-root with a read-only root filesystem and no capabilities', () => {
        const uid = Number(dockerUser()?.split(':')[0]);
        for (const { name, template } of r().workloads()) {
          const pod = template.spec!;
          expect(pod.securityContext?.runAsNonRoot, `${name} runAsNonRoot`).to.equal(true);
          expect(pod.securityContext?.runAsUser, `${name} runAsUser`).to.be.greaterThan(0);
          expect(pod.securityContext?.seccompProfile?.type, `${name} seccomp`).to.equal('RuntimeDefault');
          expect(pod.automountServiceAccountToken, `${name} service account token`).to.equal(false);
          if (name === RECEIVER) expect(pod.securityContext?.runAsUser, 'the Dockerfile USER').to.equal(uid);
          for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
            expect(c.securityContext?.readOnlyRootFilesystem, `${name}/${c.name} readOnlyRootFilesystem`).to.equal(true);
            expect(c.securityContext?.allowPrivilegeEscalation, `${name}/${c.name} allowPrivilegeEscalation`).to.equal(false);
            expect(c.securityContext?.capabilities?.drop, `${name}/${c.name} capabilities`).to.deep.equal(['ALL']);
            expect(c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser, `${name}/${c.name} uid`).to.not.equal(0);
          }
          const tmp = pod.containers[0]!.volumeMounts?.find((m) => m.mountPath === '/tmp');
          expect(tmp, `${name} /tmp mount`).to.not.equal(undefined);
          expect(pod.volumes?.find((v) => v.name === tmp!.name)?.emptyDir, `${name} /tmp emptyDir`).to.not.equal(undefined);
        }
      });

      it('keeps every Secret to placeholders, and connection strings out of ConfigMaps', () => {
        for (const secret of r().all<ISecret>('Secret')) {
          for (const [key, value] of Object.entries(decodedData(secret))) {
            expect(credentialProblems(key, value), `${secret.metadata!.name} ${key}`).to.deep.equal([]);
          }
        }
        for (const map of r().all<IConfigMap>('ConfigMap')) {
          const urls = Object.keys(map.data ?? {}).filter((k) => k === 'DATABASE_URL' || k === 'MONGODB_URL');
          expect(urls, `${map.metadata!.name} holds a connection string`).to.deep.equal([]);
          for (const [key, value] of Object.entries(map.data ?? {})) {
            expect(credentialProblems(key, value), `${map.metadata!.name} ${key}`).to.deep.equal([]);
          }
        }
      });

      it('selects the pods it means to: Deployment, Service, PDB, HPA and NetworkPolicies', () => {
        const workloads = r().workloads();
        for (const d of r().all<IDeployment | IStatefulSet>('Deployment').concat(r().all('StatefulSet'))) {
          expect(matches(d.spec!.selector.matchLabels, d.spec!.template.metadata!.labels), `${d.metadata!.name} selector`).to.equal(true);
        }
        const selectsSome = (selector: Labels | undefined) => workloads.some((w) => matches(selector, w.template.metadata!.labels));
        for (const s of r().all<IService>('Service')) expect(selectsSome(s.spec!.selector), `Service ${s.metadata!.name}`).to.equal(true);
        for (const p of r().all<IPodDisruptionBudget>('PodDisruptionBudget')) {
          expect(selectsSome(p.spec!.selector!.matchLabels), `PDB ${p.metadata!.name}`).to.equal(true);
        }
        for (const h of r().all<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler')) {
          const target = h.spec!.scaleTargetRef;
          expect(r().one<IDeployment>(target.kind, target.name).apiVersion).to.equal(target.apiVersion);
          expect(h.spec!.minReplicas).to.be.at.least(2);
        }
        const policies = r().all<INetworkPolicy>('NetworkPolicy');
        expect(policies.some((p) => matches(p.spec!.podSelector.matchLabels, r().receiver().deployment.spec!.template.metadata!.labels))).to.equal(true);
        for (const p of policies) {
          expect(selectsSome(p.spec!.podSelector.matchLabels), `NetworkPolicy ${p.metadata!.name}`).to.equal(true);
          const peers = [...(p.spec!.ingress ?? []).flatMap((i) => i.from ?? []), ...(p.spec!.egress ?? []).flatMap((e) => e.to ?? [])];
          for (const peer of peers.filter((x) => x.podSelector)) {
            expect(selectsSome(peer.podSelector!.matchLabels), `NetworkPolicy ${p.metadata!.name} peer`).to.equal(true);
          }
        }
      });

      it('opens only the three listeners to the receiver, and egress to DNS and the database', () => {
        const { deployment, config, env } = r().receiver();
        const own = r().all<INetworkPolicy>('NetworkPolicy').filter((p) => matches(p.spec!.podSelector.matchLabels, deployment.spec!.template.metadata!.labels));
        const ingress = own.flatMap((p) => p.spec!.ingress ?? []);
        expect(own.some((p) => p.spec?.policyTypes?.includes('Ingress') && p.spec.policyTypes.includes('Egress'))).to.equal(true);
        const ingressPorts = ingress.flatMap((i) => (i.ports ?? []).map((p) => p.port)).sort();
        expect(ingressPorts).to.deep.equal([config.OTLP_GRPC_PORT, config.OTLP_HTTP_PORT, config.API_PORT].sort());
        expect(ingress.every((i) => (i.ports ?? []).length > 0), 'no ingress rule without ports').to.equal(true);
        const egress = own.flatMap((p) => p.spec!.egress ?? []);
        expect(egress.every((e) => (e.ports ?? []).length > 0), 'no egress rule without ports').to.equal(true);
        const egressPorts = new Set(egress.flatMap((e) => (e.ports ?? []).map((p) => p.port)));
        expect(egressPorts.has(53), 'DNS').to.equal(true);
        const url = env.MONGODB_URL ?? env.DATABASE_URL;
        if (url !== undefined) {
          const defaultPort = url.startsWith('mongodb') ? 27017 : 5432;
          const ports = url.replace(/^[^@]*@/, '').split('/')[0]!.split(',').map((h) => Number(h.split(':')[1] ?? defaultPort));
          for (const p of ports) expect(egressPorts.has(p), `egress to the database port ${p}`).to.equal(true);
        }
      });
    });
  }

  describe('k8s/overlays/mongodb: the replica set', () => {
    const r = () => renders.get('k8s/overlays/mongodb')!;

    it('points MONGODB_URL at every member of the replica set it runs, as the user the set creates', () => {
      const { env } = r().receiver();
      const sts = r().one<IStatefulSet>('StatefulSet', 'ai-usage-mongodb');
      const headless = r().one<IService>('Service', sts.spec!.serviceName!);
      expect(headless.spec!.clusterIP).to.equal('None');
      expect(headless.spec!.publishNotReadyAddresses).to.equal(true);
      expect(matches(headless.spec!.selector, sts.spec!.template.metadata!.labels)).to.equal(true);
      expect(sts.spec!.replicas).to.equal(3);
      expect(sts.spec!.volumeClaimTemplates?.map((v) => v.metadata!.name)).to.include('data');

      const url = new URL(env.MONGODB_URL!.replace(/@[^/]+\//, '@placeholder/'));
      const hosts = env.MONGODB_URL!.replace(/^[^@]*@/, '').split('/')[0]!.split(',');
      expect(hosts).to.deep.equal([0, 1, 2].map((i) => `${sts.metadata!.name}-${i}.${headless.metadata!.name}:27017`));
      const mongod = sts.spec!.template.spec!.containers.find((c) => c.name === 'mongodb')!;
      expect(url.searchParams.get('replicaSet')).to.equal(mongod.args![mongod.args!.indexOf('--replSet') + 1]);
      const auth = decodedData(r().all<ISecret>('Secret').find((s) => s.metadata!.name!.startsWith('ai-usage-mongodb-auth'))!);
      expect(decodeURIComponent(url.username)).to.equal(auth.MONGO_APP_USERNAME);
      expect(url.pathname).to.equal(`/${auth.MONGO_APP_DATABASE}`);
      expect(url.searchParams.get('authSource')).to.equal('admin');
    });
  });
});

describe('deploy: Dockerfile', () => {
  const stage = () => finalStage(dockerfileText());
  const all = (keyword: string) => stage().filter((i) => i.getKeyword() === keyword);

  it('runs the final stage as a numeric non-root user', () => {
    const user = dockerUser();
    expect(user, 'USER in the final stage').to.match(/^\d+(:\d+)?$/);
    expect(Number(user!.split(':')[0])).to.be.greaterThan(0);
  });

  it('installs production dependencies only, and copies no node_modules from the build stage', () => {
    const installs = all('RUN').map((i) => i.getArgumentsContent() ?? '').filter((c) => /\bnpm (ci|install|i)\b/.test(c));
    expect(installs, 'an npm install in the final stage').to.have.length.greaterThan(0);
    for (const c of installs) expect(c).to.include('--omit=dev');
    for (const c of all('COPY')) expect(c.getArgumentsContent(), 'COPY').to.not.include('node_modules');
  });

  it('starts with the same command as `npm start`, which the README gives', () => {
    const cmd = jsonArgs(all('CMD').at(-1)) as string[];
    expect(cmd).to.deep.equal(pkg.scripts.start.split(' '));
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).to.include(`\`${cmd.join(' ')}\``);
  });

  it('puts the package\'s `ai-usage` bin on the PATH, executable, as the README\'s kubectl exec lines use it', () => {
    const runs = all('RUN').map((i) => i.getArgumentsContent() ?? '').join('\n');
    const bin = pkg.bin['ai-usage']!;
    expect(runs).to.include(`ln -s /app/${bin} /usr/local/bin/ai-usage`);
    expect(runs).to.match(new RegExp(`chmod 755 ${bin.replace(/[.]/g, '\\.')}`));
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).to.match(/kubectl exec \S+ -- ai-usage tokens create/);
    expect(readme).to.not.include('-- node dist/cli/main.js');
  });

  it('exposes the three default ports and checks /healthz', () => {
    const defaults = configSchema.parse({});
    const exposed = all('EXPOSE').flatMap((i) => i.getArguments().map((a) => Number(a.getValue())));
    expect(exposed.sort()).to.deep.equal([defaults.OTLP_GRPC_PORT, defaults.OTLP_HTTP_PORT, defaults.API_PORT].sort());
    const healthchecks = all('HEALTHCHECK');
    expect(healthchecks).to.have.length(1);
    expect(healthchecks[0]!.getArgumentsContent()).to.include('/healthz');
  });

  it('labels the image version from a build argument and keeps DATA_DIR on a volume', () => {
    const label = all('LABEL').map((i) => i.getArgumentsContent() ?? '').join(' ');
    expect(label).to.match(/org\.opencontainers\.image\.version="?\$\{?VERSION\}?/);
    expect(all('ARG').map((i) => i.getArgumentsContent())).to.satisfy((args: string[]) => args.some((a) => a.startsWith('VERSION')));
    expect(all('ENV').map((i) => i.getArgumentsContent()).join(' ')).to.match(/DATA_DIR=\/data\b/);
    expect(jsonArgs(all('VOLUME')[0])).to.deep.equal(['/data']);
  });
});
