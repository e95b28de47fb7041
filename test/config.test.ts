import { expect } from 'chai';
import { ConfigError, configKeys, loadConfig } from '../src/config.js';

describe('config', () => {
  it('has defaults for everything, frozen', () => {
    const c = loadConfig({});
    expect(c.OTLP_GRPC_PORT).to.equal(4317);
    expect(c.OTLP_HTTP_PORT).to.equal(4318);
    expect(c.API_PORT).to.equal(8080);
    expect(c.DATA_DIR).to.equal('./.data');
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('reads and coerces the environment, ignoring unrelated variables', () => {
    const c = loadConfig({ OTLP_GRPC_PORT: '14317', PIPELINE_ENABLED: 'false', DATABASE_URL: ' postgres://x/y ', HOME: '/root' });
    expect(c.OTLP_GRPC_PORT).to.equal(14317);
    expect(c.PIPELINE_ENABLED).to.equal(false);
    expect(c.DATABASE_URL).to.equal('postgres://x/y');
    expect(configKeys).to.not.include('HOME');
  });

  const message = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('names every bad variable in one clear error', () => {
    const msg = message({ OTLP_GRPC_PORT: 'http', LOG_LEVEL: 'loud', SHUTDOWN_TIMEOUT_MS: '-1' });
    for (const key of ['OTLP_GRPC_PORT', 'LOG_LEVEL', 'SHUTDOWN_TIMEOUT_MS']) expect(msg).to.include(key);
  });

  it('refuses settings that contradict each other', () => {
    expect(message({ DATABASE_URL: 'postgres://a', MONGODB_URL: 'mongodb://b' })).to.match(/MONGODB_URL: set DATABASE_URL or MONGODB_URL, not both/);
    expect(message({ TLS_CERT_FILE: '/x.pem' })).to.include('TLS_KEY_FILE');
    expect(message({ TLS_CLIENT_CA_FILE: '/ca.pem' })).to.include('TLS_CLIENT_CA_FILE');
  });
});
