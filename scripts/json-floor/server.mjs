// The "JSON-parse floor" peer of scripts/load.sh compare. It does what the Node reference CDS
// service (cds-hooks' sandbox-cds-services) does with a hook call and nothing more: parse the
// JSON body with express.json({ limit: '1mb' }) and answer {"cards": []}. It reads no
// prefetch, derives no facts, writes no audit. Usage: node server.mjs PORT
import express from 'express';

const port = Number(process.argv[2] ?? 18081);
const app = express();
app.use(express.json({ limit: '1mb' }));
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
app.post('/cds-services/:id', (req, res) => {
  if (typeof req.body?.hook !== 'string') {
    res.status(400).json({ error: 'hook missing' });
    return;
  }
  res.json({ cards: [] });
});
app.listen(port, '127.0.0.1', () => console.log(`port ${port}`));
