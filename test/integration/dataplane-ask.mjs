// New connections for the data-plane traffic tests: for each local port given, one HTTP request to
// HOST:80 from that port; prints the answering backends' names as a JSON array. Each connection
// ends with a reset, so no TIME_WAIT keeps the port and the next run can reuse the same 5-tuple.
import { connect } from 'node:net';

const [host, ...ports] = process.argv.slice(2);

function ask(localPort) {
  return new Promise((resolve) => {
    const socket = connect({ host, port: 80, localAddress: '10.90.0.1', localPort });
    let data = '';
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
    socket.on('data', (chunk) => {
      data += chunk;
      const body = data.split('\r\n\r\n')[1];
      if (body?.endsWith('\n')) {
        socket.resetAndDestroy();
        resolve(body.trim());
      }
    });
    socket.on('error', (error) => resolve(`error: ${error.code ?? error.message}`));
  });
}

const names = [];
for (const port of ports) names.push(await ask(Number(port)));
process.stdout.write(`${JSON.stringify(names)}\n`);
