/**
 * The chaos network: one Linux bridge in the root namespace and one network
 * namespace per node, joined by veth pairs. Partitions are nftables rules in
 * the bridge family (frames between two ports are dropped), isolation is a
 * link taken down. The root namespace holds the bridge's own address, so the
 * harness reaches every node's API while nodes are partitioned from each
 * other (bridge forwarding rules do not see traffic to the bridge itself).
 *
 * Traffic goes only to addresses this class assigned, inside namespaces it
 * created: `assertOwnAddress` guards every request the harness makes. There
 * is no default route and no NAT out of the namespaces.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetNode {
  readonly index: number;
  /** Namespace name (`ip netns exec NAME ...`). */
  readonly ns: string;
  /** The bridge-side veth (the port partitions match on). */
  readonly port: string;
  readonly address: string;
}

export class ChaosNetworkError extends Error {
  override readonly name = 'ChaosNetworkError';
}

function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new ChaosNetworkError(
      `${command} ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`,
    );
  }
}

export class ChaosNetwork {
  readonly id: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly hostAddress: string;
  readonly nodes: NetNode[] = [];
  private readonly table: string;
  private up = false;

  private constructor(id: string, subnetIndex: number) {
    this.id = id;
    this.bridge = `uc${id}br`;
    this.subnet = `10.77.${subnetIndex}`;
    this.hostAddress = `${this.subnet}.254`;
    this.table = `utxchaos${id}`;
  }

  /** Creates the bridge and `count` namespaces; tears down what it made if any step fails. */
  static create(count: number): ChaosNetwork {
    if (process.getuid?.() !== 0)
      throw new ChaosNetworkError('the chaos harness needs root (ip netns, nft)');
    const id = randomBytes(2).toString('hex');
    const net = new ChaosNetwork(id, 100 + (Number.parseInt(id, 16) % 100));
    try {
      net.setUp(count);
    } catch (error) {
      net.tearDown();
      throw error;
    }
    return net;
  }

  private setUp(count: number): void {
    this.up = true;
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${this.hostAddress}/24`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    for (let i = 0; i < count; i++) {
      const node: NetNode = {
        index: i,
        ns: `uc${this.id}n${i}`,
        port: `uc${this.id}p${i}`,
        address: `${this.subnet}.${i + 1}`,
      };
      const inside = `uc${this.id}e${i}`;
      run('ip', ['netns', 'add', node.ns]);
      run('ip', ['link', 'add', node.port, 'type', 'veth', 'peer', 'name', inside]);
      run('ip', ['link', 'set', inside, 'netns', node.ns]);
      run('ip', ['link', 'set', node.port, 'master', this.bridge]);
      run('ip', ['link', 'set', node.port, 'up']);
      run('ip', ['-n', node.ns, 'addr', 'add', `${node.address}/24`, 'dev', inside]);
      run('ip', ['-n', node.ns, 'link', 'set', inside, 'up']);
      run('ip', ['-n', node.ns, 'link', 'set', 'lo', 'up']);
      this.nodes.push(node);
    }
    run(
      'nft',
      ['-f', '-'],
      `table bridge ${this.table} {\n chain forward {\n  type filter hook forward priority 0; policy accept;\n }\n}\n`,
    );
  }

  /** Every namespace still exists: checked before any load starts. */
  assertReady(): void {
    const list = run('ip', ['netns', 'list']);
    for (const node of this.nodes) {
      if (!list.includes(node.ns)) throw new ChaosNetworkError(`namespace ${node.ns} is gone`);
    }
  }

  /** Throws unless `address` is one this network assigned to a node. */
  assertOwnAddress(address: string): void {
    if (!this.nodes.some((n) => n.address === address)) {
      throw new ChaosNetworkError(
        `refusing to send to ${address}: not an address of this chaos network`,
      );
    }
  }

  /**
   * Drops frames between the groups (both ways), or only from `groups[0]` to
   * the others when `oneWay`. Nodes in no group keep talking to everyone.
   */
  partition(groups: readonly (readonly number[])[], opts: { oneWay?: boolean } = {}): void {
    this.heal();
    const rules: string[] = [];
    for (let a = 0; a < groups.length; a++) {
      for (let b = 0; b < groups.length; b++) {
        if (a === b || (opts.oneWay === true && a !== 0)) continue;
        for (const i of groups[a]!) {
          for (const j of groups[b]!) {
            rules.push(
              `add rule bridge ${this.table} forward iifname "${this.node(i).port}" oifname "${this.node(j).port}" drop`,
            );
          }
        }
      }
    }
    if (rules.length > 0) run('nft', ['-f', '-'], `${rules.join('\n')}\n`);
  }

  /** Cuts one node off from everyone (its link goes down). */
  isolate(index: number): void {
    run('ip', ['link', 'set', this.node(index).port, 'down']);
  }

  /** Removes every partition and brings every link back up. */
  heal(): void {
    run('nft', ['flush', 'chain', 'bridge', this.table, 'forward']);
    for (const node of this.nodes) run('ip', ['link', 'set', node.port, 'up']);
  }

  node(index: number): NetNode {
    const node = this.nodes[index];
    if (node === undefined) throw new ChaosNetworkError(`no node ${index}`);
    return node;
  }

  /** Removes the rules, namespaces, veths and bridge; safe to call twice and after a partial setup. */
  tearDown(): void {
    if (!this.up) return;
    this.up = false;
    const quiet = (command: string, args: string[]) => {
      try {
        execFileSync(command, args, { stdio: 'ignore' });
      } catch {
        // Teardown goes on past what was never created; what remains is reported by `leftovers`.
      }
    };
    quiet('nft', ['delete', 'table', 'bridge', this.table]);
    for (let i = 0; i < 64; i++) quiet('ip', ['link', 'delete', `uc${this.id}p${i}`]);
    for (const ns of run('ip', ['netns', 'list']).split('\n')) {
      const name = ns.split(' ')[0] ?? '';
      if (name.startsWith(`uc${this.id}n`)) quiet('ip', ['netns', 'delete', name]);
    }
    quiet('ip', ['link', 'delete', this.bridge]);
  }

  /** Names of this network's namespaces or links still present (empty after a clean teardown). */
  leftovers(): string[] {
    const found: string[] = [];
    for (const line of run('ip', ['netns', 'list']).split('\n'))
      if (line.startsWith(`uc${this.id}`)) found.push(line);
    for (const line of run('ip', ['-o', 'link', 'show']).split('\n'))
      if (line.includes(`uc${this.id}`)) found.push(line);
    return found;
  }
}
