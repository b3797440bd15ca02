// Runs one bundled Lambda handler in its own Node process, as the Lambda runtime does: the module
// is loaded once (the cold start reads the environment and builds the client) and then invoked
// once per message. Test-only; errors go back by name and message, as Lambda reports them.
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
const { handler } = await import(pathToFileURL(bundle).href);
process.on('message', async ({ id, event }) => {
  try {
    const result = await handler(event, { awsRequestId: id });
    process.send({ id, result });
  } catch (error) {
    process.send({ id, error: { name: error?.name, message: error?.message } });
  }
});
process.send({ ready: true });
