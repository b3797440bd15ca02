// New connections for the tunnel tests: for each local port given, one connection from
// 10.90.0.1:PORT to HOST:80, one line, and the answering backend's name; prints them as a JSON
// array ("error: CODE" where none answered). Each connection ends with a reset, so no TIME_WAIT
// keeps the port.
import { connect } from 'node:net';

const [host, ...ports] = process.argv.slice(2);

function ask(localPort) {
  return new Promise((resolve) => {
    const socket = connect({ host, port: 80, localAddress: '10.90.0.1', localPort });
    let data = '';
    socket.setEncoding('utf8');
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), 2000);
    socket.on('connect', () => socket.write('ping\n'));
    socket.on('data', (chunk) => {
      data += chunk;
      if (!data.includes('\n')) return;
      clearTimeout(timer);
      socket.resetAndDestroy();
      resolve(data.split(' ')[0]);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      resolve(`error: ${error.code ?? error.message}`);
    });
  });
}

const names = [];
for (const port of ports) names.push(await ask(Number(port)));
process.stdout.write(`${JSON.stringify(names)}\n`);
