// Preloaded (node --import) into the Functions Framework in tests: the framework has no host
// option and listens on every interface; this makes a listen() without a host bind 127.0.0.1, so
// the test server is reachable from loopback only. Test infrastructure; never in the product.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function loopbackListen(...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
