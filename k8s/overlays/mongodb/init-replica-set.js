// mongosh script run by the init-replica-set sidecar of member 0, against 127.0.0.1, until it exits 0.
// Before any user exists, MongoDB's localhost exception allows exactly what the first steps need:
// replSetInitiate, replSetGetStatus and creating the first user. Every step is safe to repeat.
const env = process.env;
const setName = env.REPLICA_SET;
const hosts = Array.from(
  { length: Number(env.MEMBERS) },
  (_, i) => `${env.STATEFULSET_NAME}-${i}.${env.SERVICE_NAME}:27017`,
);
const root = { user: env.MONGO_ROOT_USERNAME, pwd: env.MONGO_ROOT_PASSWORD };
const app = { user: env.MONGO_APP_USERNAME, pwd: env.MONGO_APP_PASSWORD, db: env.MONGO_APP_DATABASE };

for (const [name, value] of Object.entries({ MONGO_ROOT_PASSWORD: root.pwd, MONGO_APP_PASSWORD: app.pwd })) {
  if (!value || value === 'REPLACE_ME') {
    print(`${name} is still REPLACE_ME: fill in k8s/overlays/mongodb/mongodb-secrets.env`);
    quit(1);
  }
}

const admin = db.getSiblingDB('admin');

/** Runs an admin command; mongosh throws on some failures and returns ok: 0 on others. */
function command(doc) {
  try {
    const reply = admin.runCommand(doc);
    return reply.ok ? { ok: true, reply } : { ok: false, code: reply.codeName };
  } catch (e) {
    return { ok: false, code: e.codeName || String(e) };
  }
}

function authenticated() {
  try {
    admin.auth(root.user, root.pwd);
    return true;
  } catch (e) {
    if (e.codeName === 'AuthenticationFailed') return false;
    throw e;
  }
}

function waitFor(what, check) {
  for (let second = 0; second < 180; second++) {
    if (check()) return;
    sleep(1000);
  }
  throw new Error(`timed out waiting for ${what}`);
}

if (!authenticated()) {
  const status = command({ replSetGetStatus: 1 });
  if (!status.ok && status.code === 'NotYetInitialized') {
    // Member 0 gets the higher priority so it wins the first election: the first user can only be
    // created on the primary, and only through its own localhost interface.
    const members = hosts.map((host, i) => ({ _id: i, host, priority: i === 0 ? 2 : 1 }));
    const initiated = command({ replSetInitiate: { _id: setName, members } });
    if (!initiated.ok) throw new Error(`replSetInitiate failed: ${initiated.code}`);
  } else if (!status.ok) {
    // Unauthorized here means users exist already and MONGO_ROOT_PASSWORD is not the administrator's.
    throw new Error(`cannot read the replica set status: ${status.code}`);
  }
  waitFor('member 0 to become primary', () => db.hello().isWritablePrimary === true);
  admin.createUser({ user: root.user, pwd: root.pwd, roles: [{ role: 'root', db: 'admin' }] });
  if (!authenticated()) throw new Error('cannot authenticate as the administrator just created');
}

// From here on, as the administrator, through the whole set so that writes reach whichever member is primary.
const uri =
  `mongodb://${encodeURIComponent(root.user)}:${encodeURIComponent(root.pwd)}@${hosts.join(',')}` +
  `/admin?replicaSet=${setName}&authSource=admin`;
const primaryAdmin = new Mongo(uri).getDB('admin');

// The receiver's user; updating it on every run keeps its password in step with the Secret.
const roles = [
  { role: 'readWrite', db: app.db },
  { role: 'dbAdmin', db: app.db },
];
if (primaryAdmin.getUser(app.user) === null) {
  primaryAdmin.createUser({ user: app.user, pwd: app.pwd, roles });
} else {
  primaryAdmin.updateUser(app.user, { pwd: app.pwd, roles });
}

// Member 0's extra priority was only for the first election; equal priorities spare a fail-back election
// every time member 0 restarts.
const { config } = primaryAdmin.runCommand({ replSetGetConfig: 1 });
if (config.members.some((m) => m.priority !== 1)) {
  for (const m of config.members) m.priority = 1;
  config.version += 1;
  primaryAdmin.runCommand({ replSetReconfig: config });
}

print(`replica set ${setName} ready: ${hosts.join(', ')}`);
