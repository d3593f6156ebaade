/**
 * docker-compose.yml and the local service configs must agree with the pins in scripts/env.sh: the same image
 * versions the scripts install, the same default host ports, every published port on 127.0.0.1 only. Static: reads
 * files, needs no Docker engine (`docker-compose config -q` in `make test` checks the file's syntax).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** `export NAME="${NAME:-default}"` or `export NAME="value"` lines of scripts/env.sh, as NAME -> default. */
function envPins(text: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z0-9_]+)="(.*?)"(?:\s|$)/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const withDefault = /^\$\{[A-Z0-9_]+:-(.*)\}$/.exec(m[2]);
    pins.set(m[1], withDefault?.[1] ?? m[2]);
  }
  return pins;
}

const pins = envPins(read('scripts/env.sh'));
function pin(name: string): string {
  const v = pins.get(name);
  if (v === undefined) throw new Error(`scripts/env.sh does not export ${name}`);
  return v;
}

interface ComposeService {
  image?: string;
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const services = compose.services;
function service(name: string): ComposeService {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

describe('scripts/env.sh', () => {
  it.each(['KAFKA_VERSION', 'JAEGER_VERSION', 'REDIS_VERSION', 'OTELCOL_VERSION', 'NODE_PKG_VERSION', 'OPA_VERSION'])(
    'pins %s to an exact version',
    (name) => {
      expect(pin(name)).toMatch(/^v?\d+\.\d+\.\d+$/);
    },
  );
});

describe('docker-compose.yml images match the pins', () => {
  it.each([
    ['kafka', () => `apache/kafka:${pin('KAFKA_VERSION')}`],
    ['jaeger', () => `jaegertracing/jaeger:${pin('JAEGER_VERSION').replace(/^v/, '')}`],
    ['redis', () => `redis:${pin('REDIS_VERSION')}`],
    ['otel-collector', () => `otel/opentelemetry-collector-contrib:${pin('OTELCOL_VERSION')}`],
    ['gateway', () => `node:${pin('NODE_PKG_VERSION')}-slim`],
    ['kafka-1', () => `apache/kafka:${pin('KAFKA_VERSION')}`],
    ['kafka-2', () => `apache/kafka:${pin('KAFKA_VERSION')}`],
    ['kafka-3', () => `apache/kafka:${pin('KAFKA_VERSION')}`],
    ['gateway-ha', () => `node:${pin('NODE_PKG_VERSION')}-slim`],
  ])('%s', (name, expected) => {
    expect(service(name).image).toBe(expected());
  });

  it('has no other service, and no unpinned image', () => {
    const base = Object.entries(services).filter(([, s]) => !s.profiles).map(([name]) => name);
    expect(base.sort()).toEqual(['gateway', 'jaeger', 'kafka', 'otel-collector', 'redis']);
    for (const s of Object.values(services)) expect(s.image).toMatch(/:\d+\.\d+\.\d+(-[a-z]+)?$/);
  });
});

describe('docker-compose.yml ports', () => {
  const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => [name, p] as const));

  it.each(published)('%s publishes %s on 127.0.0.1 with an env.sh port variable and its default', (_name, mapping) => {
    const m = /^127\.0\.0\.1:\$\{([A-Z0-9_]+):-(\d+)\}:(\d+)$/.exec(mapping);
    expect(m, `${mapping} must look like 127.0.0.1:\${TOOLGATE_X_PORT:-N}:PORT`).not.toBeNull();
    const [, variable = '', fallback] = m ?? [];
    expect(fallback).toBe(pin(variable));
  });

  it.each([
    ['kafka', 'TOOLGATE_KAFKA_PORT'],
    ['redis', 'TOOLGATE_REDIS_PORT'],
    ['jaeger', 'TOOLGATE_JAEGER_QUERY_PORT'],
    ['otel-collector', 'TOOLGATE_JAEGER_OTLP_HTTP_PORT'],
    ['otel-collector', 'TOOLGATE_JAEGER_OTLP_GRPC_PORT'],
    ['gateway', 'TOOLGATE_GATEWAY_PORT'],
  ])('%s publishes ${%s}', (name, variable) => {
    expect((service(name).ports ?? []).some((p) => p.includes(`\${${variable}:-`))).toBe(true);
  });

  it('advertises the same host port Kafka publishes', () => {
    expect(service('kafka').environment?.KAFKA_ADVERTISED_LISTENERS).toContain(
      `HOST://127.0.0.1:\${TOOLGATE_KAFKA_PORT:-${pin('TOOLGATE_KAFKA_PORT')}}`,
    );
  });

  it('mounts config files that exist', () => {
    const mounts = Object.values(services).flatMap((s) => s.volumes ?? []);
    for (const mount of mounts) {
      const host = mount.split(':')[0] ?? '';
      expect(existsSync(join(root, host)), `${host} (mounted by docker-compose.yml)`).toBe(true);
    }
  });
});

describe('docker-compose.yml profile ha: the three-broker Kafka', () => {
  const nodes = ['kafka-1', 'kafka-2', 'kafka-3'];
  const env = (name: string) => service(name).environment ?? {};

  it('is optional: every Kafka node sits in profile ha, and gateway-ha with them', () => {
    for (const name of [...nodes, 'gateway-ha']) expect(service(name).profiles).toEqual(['ha']);
  });

  it.each(nodes.map((name, i) => [name, i + 1] as const))('%s is node %i of one cluster and one quorum, advertising its env.sh port', (name, id) => {
    expect(env(name).KAFKA_NODE_ID).toBe(String(id));
    expect(env(name).KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(nodes.map((n, j) => `${j + 1}@${n}:9093`).join(','));
    expect(env(name).CLUSTER_ID).toBe(env('kafka-1').CLUSTER_ID);
    expect(env(name).KAFKA_ADVERTISED_LISTENERS).toContain(`HOST://127.0.0.1:\${TOOLGATE_KAFKA_NODE${id}_PORT:-${pin(`TOOLGATE_KAFKA_NODE${id}_PORT`)}}`);
    expect(service(name).ports).toEqual([`127.0.0.1:\${TOOLGATE_KAFKA_NODE${id}_PORT:-${pin(`TOOLGATE_KAFKA_NODE${id}_PORT`)}}:19092`]);
  });

  it.each(nodes)('%s replicates: 3 replicas, min.insync.replicas=2, no unclean election', (name) => {
    expect(env(name)).toMatchObject({ KAFKA_DEFAULT_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2', KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false', KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3' });
  });

  it('gateway-ha uses all three brokers and requires the replicated topic', () => {
    expect(env('gateway-ha')).toMatchObject({ TOOLGATE_KAFKA_BROKERS: nodes.map((n) => `${n}:9092`).join(','), TOOLGATE_KAFKA_REPLICATION_FACTOR: '3', TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS: '2', TOOLGATE_AUDIT_DURABILITY: 'kafka' });
  });

  it('scripts/kafka-cluster.sh defaults to the same ports', () => {
    expect(pin('TOOLGATE_KAFKA_CLUSTER_PORTS')).toBe('$TOOLGATE_KAFKA_NODE1_PORT,$TOOLGATE_KAFKA_NODE2_PORT,$TOOLGATE_KAFKA_NODE3_PORT');
  });
});

describe('docker-compose.yml profile ha: Redis with Sentinel', () => {
  const nodes = ['redis-ha-1', 'redis-ha-2', 'redis-ha-3'];
  const sentinels = ['sentinel-1', 'sentinel-2', 'sentinel-3'];
  const command = (name: string) => ((service(name) as { command?: string[] }).command ?? []).join(' ');

  it('is optional, pinned like the single Redis, and publishes nothing', () => {
    for (const name of [...nodes, ...sentinels]) {
      expect(service(name).profiles).toEqual(['ha']);
      expect(service(name).image).toBe(`redis:${pin('REDIS_VERSION')}`);
      expect(service(name).ports).toBeUndefined();
    }
  });

  it('one primary, two replicas of it, each refusing writes without a replica in sync (as scripts/redis-ha.sh)', () => {
    for (const name of nodes) expect(command(name)).toContain('--min-replicas-to-write 1');
    expect(command('redis-ha-1')).not.toContain('--replicaof');
    for (const name of nodes.slice(1)) expect(command(name)).toContain('--replicaof redis-ha-1 6379');
  });

  it.each(sentinels)('%s monitors the primary as "toolgate" with quorum 2 and the script\'s timeouts', (name) => {
    const text = command(name);
    expect(text).toContain('sentinel monitor toolgate redis-ha-1 6379 2');
    expect(text).toContain('sentinel down-after-milliseconds toolgate 2000');
    expect(text).toContain('sentinel failover-timeout toolgate 10000');
    expect(text).toContain('sentinel resolve-hostnames yes');
  });

  it('gateway-ha finds the primary through all three sentinels and waits for a replica on each write', () => {
    expect(service('gateway-ha').environment?.TOOLGATE_REDIS_URL).toBe(`redis+sentinel://${sentinels.map((s) => `${s}:26379`).join(',')}/toolgate?waitReplicas=1`);
  });
});

describe('local service configs match the pins', () => {
  it('services/jaeger.yaml listens on the env.sh ports, on 127.0.0.1 unless told otherwise', () => {
    const text = read('services/jaeger.yaml');
    const refs = [...text.matchAll(/\$\{env:(TOOLGATE_[A-Z0-9_]+_PORT):-(\d+)\}/g)];
    expect(refs.length).toBeGreaterThanOrEqual(6);
    for (const [, variable = '', fallback] of refs) expect(fallback, variable).toBe(pin(variable));
    for (const [, host] of text.matchAll(/(?:endpoint|host): (\S+?)(?::\$\{env:TOOLGATE_[A-Z_]+_PORT|$)/gm)) {
      expect(host).toBe('${env:TOOLGATE_JAEGER_HOST:-127.0.0.1}');
    }
  });

  it('services/jaeger/go.mod builds the pinned Jaeger module version', () => {
    expect(read('services/jaeger/go.mod')).toMatch(
      new RegExp(`github\\.com/jaegertracing/jaeger ${pin('JAEGER_MODULE_VERSION').replace(/\./g, '\\.')}\\b`),
    );
  });

  it('services/kafka/pom.xml defaults to the pinned Kafka version', () => {
    expect(read('services/kafka/pom.xml')).toContain(`<kafka.version>${pin('KAFKA_VERSION')}</kafka.version>`);
  });

  it('otel/collector.yaml binds 127.0.0.1 unless told otherwise', () => {
    const text = read('otel/collector.yaml');
    const listeners = [...text.matchAll(/^\s*(?:endpoint|host): (\S+)$/gm)]
      .map(([, value = '']) => value)
      .filter((value) => !value.includes('JAEGER_OTLP_GRPC_ENDPOINT')); // the exporter's target, not a listener
    expect(listeners.length).toBeGreaterThanOrEqual(4);
    for (const value of listeners) expect(value.startsWith('${env:OTELCOL_LISTEN_HOST:-127.0.0.1}'), value).toBe(true);
    expect(text).toContain('exporters: [otlp/jaeger]');
    expect(text).toContain('exporters: [prometheus]');
  });
});
