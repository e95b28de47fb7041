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

  it('takes the pipeline schedules Agenda can run: durations and cron expressions', () => {
    expect(loadConfig({}).PIPELINE_INTERVAL).to.equal('1 hour');
    expect(loadConfig({}).PIPELINE_DAILY_CRON).to.equal('15 0 * * *');
    for (const interval of ['2 seconds', '30 minutes', '1.5 hours', '3600000', '0 * * * *', '*/10 * * * * *']) {
      expect(loadConfig({ PIPELINE_INTERVAL: interval }).PIPELINE_INTERVAL, interval).to.equal(interval);
    }
    for (const cron of ['15 0 * * *', '0 3 * * 1-5', '* * * * * *', '15 0 1 1 *', '@daily']) {
      expect(loadConfig({ PIPELINE_DAILY_CRON: cron }).PIPELINE_DAILY_CRON, cron).to.equal(cron);
    }
  });

  it('stops start-up on a pipeline schedule Agenda would never run, naming the variable', () => {
    // Neither a duration nor a cron expression: Agenda fails to compute the next run, silently.
    expect(message({ PIPELINE_INTERVAL: 'soon' })).to.match(/PIPELINE_INTERVAL: "soon" is neither a duration .* nor a cron expression/);
    expect(message({ PIPELINE_INTERVAL: '0 25 * * *' })).to.match(/PIPELINE_INTERVAL: .*0-23/);
    // human-interval reads "every hour" as 0 ms, which would run the job in a loop; so are 0 and negatives.
    for (const zero of ['every hour', '0', '0 seconds', '-1 hour']) {
      expect(message({ PIPELINE_INTERVAL: zero }), zero).to.match(/PIPELINE_INTERVAL: ".*" is read as -?\d+ ms; use a duration longer than 0/);
    }
    expect(message({ PIPELINE_DAILY_CRON: '61 0 * * *' })).to.match(/PIPELINE_DAILY_CRON: "61 0 \* \* \*" is not a cron expression .*59/);
    expect(message({ PIPELINE_DAILY_CRON: '0 0 31 2 *' })).to.include('PIPELINE_DAILY_CRON');
    expect(message({ PIPELINE_DAILY_CRON: 'midnight' })).to.include('PIPELINE_DAILY_CRON: "midnight" is not a cron expression');
    // Agenda takes these for durations (from start-up on), not times of day.
    expect(message({ PIPELINE_DAILY_CRON: '1 day' })).to.include('PIPELINE_DAILY_CRON: "1 day" is read by the scheduler as a duration of 86400000 ms');
    expect(message({ PIPELINE_DAILY_CRON: '@weekly' })).to.include('PIPELINE_DAILY_CRON: "@weekly" is read by the scheduler as a duration of 604800000 ms');
    // Both at once, in one error.
    const both = message({ PIPELINE_INTERVAL: 'whenever', PIPELINE_DAILY_CRON: '25 25 * * *' });
    expect(both).to.include('PIPELINE_INTERVAL').and.include('PIPELINE_DAILY_CRON');
  });

  it('refuses settings that contradict each other', () => {
    expect(message({ DATABASE_URL: 'postgres://a', MONGODB_URL: 'mongodb://b' })).to.match(/MONGODB_URL: set DATABASE_URL or MONGODB_URL, not both/);
    expect(message({ TLS_CERT_FILE: '/x.pem' })).to.include('TLS_KEY_FILE');
    expect(message({ TLS_CLIENT_CA_FILE: '/ca.pem' })).to.include('TLS_CLIENT_CA_FILE');
  });
});
