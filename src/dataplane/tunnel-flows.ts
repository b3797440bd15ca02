import { z } from 'zod';
import { CommandError } from '../system/exec.js';
import type { PlaneBackend, PlaneService } from './model.js';
import { NFT_TABLE } from './nft-table.js';
import { flowMapName } from './render-tunnel.js';
import type { Runner } from './system.js';
import { tunnelMac } from './tunnel.js';

/*
 * `forwarding: tunnel` keeps each flow's backend in the frontend's flow map, not in conntrack:
 * ending a drained backend's flows means deleting its elements there. The flow's next packet then
 * follows the Maglev table to a ready backend, which resets it: the client sees the connection end.
 */

const part = z.union([z.string(), z.number()]);
const key = z.union([
  z.object({ concat: z.array(part) }),
  z.object({ elem: z.object({ val: z.object({ concat: z.array(part) }) }).loose() }),
]);
const listing = z.object({
  nftables: z.array(
    z.looseObject({
      map: z.looseObject({ elem: z.array(z.tuple([key, z.string()])).optional() }).optional(),
    }),
  ),
});

/** The flow map's keys (`saddr . sport . daddr . dport`) whose backend is this MAC. */
export function flowsTo(text: string, mac: string): string[] {
  const parsed = listing.parse(JSON.parse(text));
  const elements = parsed.nftables.flatMap((e) => e.map?.elem ?? []);
  return elements
    .filter(([, value]) => value === mac)
    .map(([k]) => ('concat' in k ? k.concat : k.elem.val.concat).join(' . '));
}

export async function cutTunnelFlows(
  run: Runner,
  service: PlaneService,
  backend: PlaneBackend,
): Promise<number> {
  let total = 0;
  for (const frontend of service.frontends) {
    const map = flowMapName(service.name, frontend);
    let text: string;
    try {
      text = (await run(['nft', '-j', 'list', 'map', 'netdev', NFT_TABLE.name, map])).stdout;
    } catch (error) {
      if (error instanceof CommandError && /No such file or directory/.test(error.stderr)) continue;
      throw error;
    }
    const keys = flowsTo(text, tunnelMac(backend.address));
    if (keys.length === 0) continue;
    // One transaction; an element that timed out meanwhile would fail it, so this repeats once.
    const script = `delete element netdev ${NFT_TABLE.name} ${map} { ${keys.join(', ')} }\n`;
    await run(['nft', '-f', '-'], { input: script }).catch(async () => {
      const again = flowsTo(
        (await run(['nft', '-j', 'list', 'map', 'netdev', NFT_TABLE.name, map])).stdout,
        tunnelMac(backend.address),
      );
      if (again.length > 0)
        await run(['nft', '-f', '-'], {
          input: `delete element netdev ${NFT_TABLE.name} ${map} { ${again.join(', ')} }\n`,
        });
    });
    total += keys.length;
  }
  return total;
}
