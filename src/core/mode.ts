/** The ways portlb routes a VIP range; each is described by its module in `src/modes`. */
export type Mode = 'bgp' | 'aws' | 'gcp';
